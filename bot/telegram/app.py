"""Composition root of the Telegram bot: `yibao run` builds and runs this application.

`build_application` is the single place where the bot is put together — settings, engine,
flood limiter, per-chat ordering and every handler in priority order — and the tests build
the very same application, pointed at a fake Bot API through `TELEGRAM_API_BASE_URL`.

Edited messages are not answered: the bot does not even ask Telegram for them
(`ALLOWED_UPDATES`). Re-answering an edit would send a second reply and, inside a guided
flow, advance it twice; a user who mistyped simply sends the message again.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.ops.logging_setup import NOISY_LOGGERS, configure_logging
from bot.ops.operations import install_operations, operations_of
from bot.settings import (
    HOW_TO_GET_A_TOKEN,
    Settings,
    SettingsError,
    check_salt,
    check_token,
    webhook_settings,
)
from bot.telegram.acknowledge import (
    AcknowledgingBot,
    LedgerProcessor,
    UpdateLedger,
    filter_raw_bodies,
)
from bot.telegram.handlers import AddressedToBot, ChatHandlers, answered
from bot.telegram.reach import UNREACHABLE, BootstrapAbortFilter, telegram_proxy, unreachable
from bot.telegram.request import REQUESTS_KEY, AiohttpRequest, close_requests
from bot.telegram.runtime import RetryingRateLimiter
from bot.telegram.webhook import WebhookConfig, run_webhook
from bot.wiring import engine_for
from dialogs.engine import Engine
from dialogs.stores.sqlite import StoreInUse
from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)

ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY)
# Shown by Telegram's "/" menu, in this order; descriptions are ui keys tg_cmd_<name>.
COMMANDS = ("start", "menu", "help", "cancel", "forget", "about")  # plus one per flow (city)
MAX_CONCURRENT_UPDATES = 256
STOPPED_IN_START_UP = "Event loop stopped before Future completed"
CONNECTION_POOL = 256
POOL_TIMEOUT = 30.0  # under a burst, requests queue for a connection rather than fail

NON_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.VENUE
    | filters.CONTACT
    | filters.POLL
    | filters.Dice.ALL
)


def command_list(engine: Engine) -> list[BotCommand]:
    """Telegram's "/" menu: start and menu, one command per guided flow (a city), then the
    rest; descriptions are ui keys tg_cmd_<name> (a flow without one shows its title)."""
    names = [*COMMANDS[:2], *engine.flows, *COMMANDS[2:]]
    kb = engine.kb
    return [BotCommand(n, kb.ui.get(f"tg_cmd_{n}") or kb.text(f"tg_cmd_{n}")) for n in names]


def add_chat_handlers(app: Application, chat: ChatHandlers) -> None:  # type: ignore[type-arg]
    """The chat handlers, in priority order (first match wins; all in group 0), after the
    "too fast" notice of a chat over its queue cap (group -2)."""
    app.add_handler(TypeHandler(Update, chat.on_too_fast), group=-2)
    # Handlers, in priority order (first match wins; all in group 0):
    # 1. Button presses, in any chat: they answer the bot's own messages.
    app.add_handler(CallbackQueryHandler(chat.on_button))
    # 2. Private chats: every text, commands included, straight to the engine.
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT,
            chat.on_private_text,
        )
    )
    # 3. Groups: only commands for us, @mentions and replies to the bot; the rest is silence.
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.GROUPS & filters.TEXT & AddressedToBot(),
            chat.on_group_text,
        )
    )
    # 4. Private non-text (stickers, photos, voice, files, locations…): a hint and the menu.
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & NON_TEXT, chat.on_non_text
        )
    )


def build_application(settings: Settings, engine: Engine | None = None) -> Application:  # type: ignore[type-arg]
    """The bot exactly as `yibao run` starts it; `engine` defaults to one on YIBAO_STORE."""
    _quiet_url_loggers()
    filter_raw_bodies()  # PTB's records quoting raw update bodies never reach the log
    ptb = logging.getLogger("telegram.ext")
    if not any(isinstance(f, BootstrapAbortFilter) for f in ptb.filters):
        ptb.addFilter(BootstrapAbortFilter())
    clock = settings.clock()
    if engine is None:
        engine = engine_for(settings, settings.store_url(), clock=clock)
    # Updates are acknowledged to Telegram only once handled; a chat's backlog is capped.
    ledger = UpdateLedger(counts=answered)
    typing_after = settings.yibao_typing_after
    chat = ChatHandlers(engine, typing_after=typing_after, throttled=ledger.throttled)

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        await app.bot.set_my_commands(command_list(engine))
        log.info("bot @%s ready (store %s)", app.bot.username, type(engine.store).__name__)

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        # PTB has finished every in-flight update by now: the store can be closed safely.
        await engine.store.close()
        log.info("store closed")

    base_url = settings.api_base_url
    proxy = telegram_proxy(settings)
    requests = (
        AiohttpRequest(CONNECTION_POOL, pool_timeout=POOL_TIMEOUT, proxy=proxy),
        AiohttpRequest(1, proxy=proxy),  # getUpdates: one long poll at a time
    )
    app = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(base_url)
        .base_file_url(base_url.removesuffix("bot") + "file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .rate_limiter(RetryingRateLimiter(limited=settings.yibao_rate_limit))
        .concurrent_updates(LedgerProcessor(ledger, MAX_CONCURRENT_UPDATES))
        .request(requests[0])
        .get_updates_request(requests[1])
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data["admin_ids"] = settings.yibao_admin_ids
    app.bot_data[REQUESTS_KEY] = requests
    app.bot_data["clock"] = clock  # /stats counts the users' days
    if app.updater is not None:
        app.updater.bot = AcknowledgingBot(app.bot, ledger)  # type: ignore[assignment]

    add_chat_handlers(app, chat)
    # Any exception in the handlers above: log it with the update id, apologise to the user.
    app.add_error_handler(chat.on_error)
    # Operations: /reload and /stats for admins (group -1, before the chats), SIGHUP reload,
    # reload propagation between instances, hourly retention purge, /healthz (bot.ops.operations).
    install_operations(app, engine, settings.yibao_admin_ids, settings.kb_dir, settings.lexicon_dir)
    return app


def requests_of(app: Application) -> tuple[AiohttpRequest, ...]:  # type: ignore[type-arg]
    requests: tuple[AiohttpRequest, ...] = app.bot_data.get(REQUESTS_KEY, ())
    return requests


def _quiet_url_loggers() -> None:
    """Request URLs carry the token: unless logging was configured (and redacts), keep the
    libraries that log them at WARNING."""
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


def webhook_path(url: str) -> str:
    """The local path the webhook server listens on: the path of the public URL."""
    return urlparse(url).path.strip("/")


def hidden_in_logs(token: str, *webhook_secrets: str | None) -> list[str]:
    """What log lines must never show: the token and every webhook secret in use, the one
    from the command line included (PTB logs setWebhook's parameters at DEBUG)."""
    return [token, *dict.fromkeys(s for s in webhook_secrets if s)]


def run_bot(args: argparse.Namespace, settings: Settings) -> int:
    """`yibao run`: long polling by default, a webhook server with `--webhook URL`.

    Exit codes (README): 0 after a clean stop (SIGINT/SIGTERM); 2 for a settings problem
    (missing, malformed or rejected token, missing salt for a persistent store, webhook
    without URL or secret); 3 when Telegram cannot be reached at start-up; 4 when another
    process serves the SQLite file (said by `yibao`, bot.cli.main); 1 for anything else
    (logged, token redacted).
    """
    try:
        check_token(settings.telegram_bot_token)
        check_salt(settings, settings.store_url())
        webhook = webhook_settings(args, settings)
    except SettingsError as exc:
        print(f"yibao run: {exc}", file=sys.stderr)
        return 2
    configure_logging(
        settings.yibao_log_level,
        settings.yibao_log_format,
        hidden_in_logs(settings.token, settings.webhook_secret, webhook and webhook[1]),
    )
    if settings.hash_salt is None:
        # Chat ids are guessable, so hashes keyed by the public default salt can be reversed.
        log.warning(
            "YIBAO_HASH_SALT is not set: turn records use the built-in salt; set a secret one"
        )
    try:
        _serve(build_application(settings), args, settings, webhook)
    except InvalidToken:
        print(
            f"yibao run: Telegram rejected TELEGRAM_BOT_TOKEN.\n{HOW_TO_GET_A_TOKEN}",
            file=sys.stderr,
        )
        return 2
    except NetworkError as exc:
        # At start-up (getMe, setWebhook): while running, PTB retries network errors itself.
        print(unreachable(settings, exc), file=sys.stderr)
        return UNREACHABLE
    except KnowledgeError as exc:
        # The curator's view: one `file:line: reason` per problem, no traceback.
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"yibao run: not started: {len(exc.problems)} knowledge problem(s)", file=sys.stderr)
        return 1
    except StoreInUse:
        raise  # `yibao` says it in one sentence and exits 4
    except RuntimeError as exc:
        if STOPPED_IN_START_UP in str(exc):
            # Ctrl-C (or SIGTERM) while PTB was still starting: PTB stops the loop before its
            # start-up future completes. A stop the operator asked for is a clean exit.
            log.info("stopped during start-up")
            return 0
        log.exception("the bot stopped because of an error")
        return 1
    except Exception:
        log.exception("the bot stopped because of an error")
        return 1
    return 0


def _serve(
    app: Application,  # type: ignore[type-arg]
    args: argparse.Namespace,
    settings: Settings,
    webhook: tuple[str, str] | None,
) -> None:
    """Run until stopped: our aiohttp webhook server (it also serves /healthz,
    bot.telegram.webhook) with `--webhook`, else long polling."""
    if webhook is not None:
        url, secret = webhook
        config = WebhookConfig(
            listen=args.listen,
            port=args.port or settings.yibao_port,
            url_path=webhook_path(url),
            webhook_url=url,
            secret_token=secret,
            allowed_updates=list(ALLOWED_UPDATES),
        )
        run_webhook(app, config, operations_of(app).healthz())
        return
    try:
        app.run_polling(allowed_updates=list(ALLOWED_UPDATES), close_loop=False)
    finally:
        loop = asyncio.get_event_loop()
        loop.run_until_complete(close_requests(requests_of(app)))
        loop.close()
