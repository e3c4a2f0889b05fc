"""`yibao report` as a command: which store, then the text report and the optional HTML page.

Kept apart from `bot.cli.report` (the report itself) so that the HTML renderer, which reads
the report's model, and the command, which needs both renderers, import in one direction.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cli.report import build_report, default_tokenizer, render_text
from bot.cli.report_html import render_html
from bot.settings import Settings


def run_report(args: argparse.Namespace, settings: Settings) -> int:
    """`yibao report`: 0 on success, 1 when there is no store to read. The store is the
    bot's (`--store`, else YIBAO_STORE from the environment or `.env`)."""
    url = args.store or settings.store_url()
    missing = missing_sqlite_file(url)
    if missing:
        print(f"yibao report: no state database at {missing}", file=sys.stderr)
        return 1
    return asyncio.run(_run(args, url, settings))


def missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite store that does not exist (a report must not create one)."""
    if not url.startswith("sqlite://"):
        return None
    from dialogs.stores.sqlite import path_from_url

    path = path_from_url(url)
    return None if path == ":memory:" or Path(path).exists() else path


async def _run(args: argparse.Namespace, url: str, settings: Settings) -> int:
    from dialogs.stores import open_store
    from knowledge.loader import load_kb

    kb = load_kb(settings.kb_dir)
    store = open_store(url, settings.store_settings())
    try:
        tokenize, stopwords = default_tokenizer()
        report = await build_report(store, args.since, tokenize, stopwords, settings.clock())
    finally:
        await store.close()
    sys.stdout.write(render_text(report, kb))
    if args.html:
        Path(args.html).write_text(render_html(report, kb), encoding="utf-8")
    return 0
