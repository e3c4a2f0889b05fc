"""`yibao` command line: chat, ask, replay, eval, kb, flows, run, wechat, report."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

STORE_IN_USE = 4  # exit code: another process serves the SQLite file


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="yibao", description="医保助手 — child medical insurance assistant"
    )
    sub = p.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="talk to the assistant in the terminal")
    chat.add_argument("--store", help="session store URL (default: YIBAO_STORE or SQLite)")
    chat.add_argument("--today", help="pretend today is YYYY-MM-DD")

    ask = sub.add_parser("ask", help="one answer and exit")
    ask.add_argument("question")
    ask.add_argument("--today", help="pretend today is YYYY-MM-DD")

    replay = sub.add_parser("replay", help="JSON lines in, JSON lines out")
    replay.add_argument("--today", help="pretend today is YYYY-MM-DD")
    replay.add_argument("--store", help="session store URL (default: YIBAO_STORE or memory://)")

    ev = sub.add_parser("eval", help="run conversation files through the engine")
    ev.add_argument("files", nargs="+")
    ev.add_argument("-v", "--verbose", action="store_true")

    kb = sub.add_parser("kb", help="knowledge base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_sub.add_parser("check", help="validate the knowledge files")
    check.add_argument("--quiet", action="store_true")
    check.add_argument("--data", help="knowledge data directory (default: the packaged one)")
    check.add_argument("--lexicon", help="matcher lexicon directory (default: the packaged one)")
    check.add_argument(
        "--no-selftest", action="store_true", help="skip routing every sample question"
    )
    kb_sub.add_parser("dump", help="the whole KB as JSON")

    flows = sub.add_parser("flows", help="flow diagrams")
    flows.add_argument("--mermaid", action="store_true")
    flows.add_argument("--out", metavar="DIR", help="also write DIR/<flow>.mmd (e.g. docs/flows)")

    run = sub.add_parser("run", help="start the Telegram bot")
    run.add_argument(
        "--webhook",
        metavar="URL",
        nargs="?",
        const="",
        help="webhook mode at this public URL (without a value: YIBAO_WEBHOOK_URL)",
    )
    run.add_argument("--listen", default="127.0.0.1")
    run.add_argument("--port", type=int, help="default: YIBAO_PORT, else 8443")
    run.add_argument("--secret-token")

    from bot.wechat.cli import add_parser as add_wechat

    add_wechat(sub)

    report = sub.add_parser("report", help="what was asked, answered and not answered")
    report.add_argument(
        "--since", type=date.fromisoformat, help="first day (YIBAO_TIMEZONE), YYYY-MM-DD"
    )
    report.add_argument("--store", help="store URL (default: YIBAO_STORE or the SQLite file)")
    report.add_argument("--html", metavar="FILE", help="also write a one-page HTML report")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, read the settings once (environment, then `.env`), run."""
    args = _parser().parse_args(argv)
    if args.command in ("chat", "replay") and isinstance(sys.stdin, io.TextIOWrapper):
        # Bytes that are not UTF-8 become U+FFFD, line by line, instead of ending the run.
        sys.stdin.reconfigure(errors="replace")
    from bot.settings import SettingsError, load_settings
    from knowledge import segment

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"yibao {args.command}: {exc}", file=sys.stderr)
        return 2
    segment.use_cache_dir(settings.cache_dir)
    from dialogs.stores.sqlite import StoreInUse

    try:
        return _dispatch(args, settings)
    except StoreInUse as exc:
        # A second process on a SQLite file the bot serves: one sentence, no traceback.
        print(f"yibao {args.command}: {exc}", file=sys.stderr)
        return STORE_IN_USE


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "chat":
        from bot.cli.terminal import run_chat

        return run_chat(args, settings)
    if args.command == "ask":
        from bot.cli.terminal import run_ask

        return run_ask(args, settings)
    if args.command == "replay":
        from bot.cli.replay import run_replay

        return asyncio.run(run_replay(args, settings, sys.stdin, sys.stdout))
    if args.command == "eval":
        from bot.cli.evaluate import run_eval

        return run_eval(args, settings)
    if args.command == "kb":
        from dialogs.kb_check import run_kb

        return run_kb(args)
    if args.command == "flows":
        from dialogs.flows.diagram import run_flows

        return run_flows(args)
    if args.command == "run":
        from bot.telegram.app import run_bot

        return run_bot(args, settings)
    if args.command == "wechat":
        from bot.wechat.cli import run_wechat

        return run_wechat(args, settings)
    if args.command == "report":
        from bot.cli.report_cmd import run_report

        return run_report(args, settings)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
