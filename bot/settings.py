"""The program's settings, read from the environment and `.env` (pydantic-settings).

The only place any command reads its configuration: `bot.cli.main` calls `load_settings`
once and passes the `Settings` down (store, lifetimes, salt, time zone, cache directory,
knowledge directories); nothing below the edges reads `os.environ`. An empty value
(`YIBAO_HASH_SALT=` as the examples ship it) means "unset", never an empty secret. Secrets
are `SecretStr`s, so they never show up in a repr, a validation error or a log line;
`load_settings` turns every problem into a `SettingsError` whose message names the
variable, never its value. Every field is listed in README's table and `.env.example`
(tests/bot/test_settings.py checks that the three agree).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dialogs.clock import DEFAULT_TIMEZONE, Clock, clock_in, zone
from dialogs.stores.settings import DAY, StoreSettings, default_store_url

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
# <bot id>:<35 url-safe characters>; a little slack on the second part for the future.
TOKEN_PATTERN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")

HOW_TO_GET_A_TOKEN = (
    "To get a token: open Telegram, talk to @BotFather, send /newbot and follow the steps; "
    "it answers with a token like 123456789:AAH...\n"
    "Put it in .env (copy .env.example) as TELEGRAM_BOT_TOKEN=<token>, or export it, "
    "then run `make run` again."
)


class SettingsError(Exception):
    """A configuration problem the operator can fix; the message is safe to print."""


class Settings(BaseSettings):
    """Environment variables (case-insensitive), with `.env` as a fallback."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = ""
    yibao_store: str = ""
    yibao_admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    yibao_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    yibao_log_format: Literal["text", "json"] = "text"
    # "off" lifts the flood limiter (load tests against a local fake API only).
    yibao_rate_limit: bool = True
    # Seconds a reply may take before the user sees "typing…".
    yibao_typing_after: float = Field(default=0.3, ge=0)
    # Knowledge and lexicon directories served and hot-reloaded (default: the packaged ones).
    yibao_kb_dir: str = ""
    yibao_lexicon_dir: str = ""
    # Webhook mode: the public URL (`--webhook` without a value, as the Dockerfile runs it),
    # the port, and the secret token, from the environment so it never shows in `ps`
    # (--secret-token wins).
    yibao_webhook_url: str = ""
    yibao_port: int = Field(default=8443, ge=1, le=65535)
    yibao_webhook_secret: SecretStr | None = None
    # An http:// proxy for the Bot API (aiohttp tunnels HTTPS through CONNECT); without it
    # HTTPS_PROXY / ALL_PROXY / NO_PROXY from the environment are honoured.
    telegram_proxy: str = ""
    # Lifetimes and the chat-hash salt of the store (`store_settings`).
    yibao_session_ttl_days: float | None = Field(default=None, gt=0)
    yibao_record_retention_days: float | None = Field(default=None, gt=0)
    yibao_hash_salt: SecretStr | None = None
    # Development only: accept the public built-in salt with a persistent store.
    yibao_allow_default_salt: bool = False
    # jieba's dictionary cache, the trimmed dictionary and the KB index cache.
    yibao_cache_dir: str = ""
    # The WeChat edge (`yibao wechat`, bot/wechat/settings.py): the server Token (required
    # there), the account's AppID, AppSecret (customer-service API and menu push), the
    # 43-character EncodingAESKey (safe mode) and the API base (a local fake in tests).
    wechat_token: SecretStr | None = None
    wechat_app_id: str = ""
    wechat_app_secret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_api_base: str = ""
    # Milliseconds a turn may take before the passive reply gives up ("success") and the
    # answer goes out through the customer-service API; 0 sends every answer that way
    # (tests of the slow path). WeChat waits 5 s.
    wechat_reply_budget_ms: int = Field(default=4000, ge=0, le=4800)
    # Numbered choices as weixin://bizmsgmenu links (tappable in WeChat's clients that
    # support them); off: plain numbered lines.
    wechat_menu_links: bool = False
    # Whose date is "today" (every command, every edge, the report's days).
    yibao_timezone: str = DEFAULT_TIMEZONE
    # With a SQLite store already served by another process: wait to take over when it
    # stops or dies (a hot standby) instead of exiting 4.
    yibao_standby: bool = False

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, values: object) -> object:
        """A value of spaces only is "unset" too (`env_ignore_empty` covers "")."""
        if isinstance(values, dict):
            return {k: v for k, v in values.items() if not (isinstance(v, str) and not v.strip())}
        return values

    @field_validator("yibao_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value.strip()

    @field_validator("yibao_admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @field_validator("yibao_log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("yibao_log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def token(self) -> str:
        """The raw token, for the one place that needs it (ApplicationBuilder)."""
        if self.telegram_bot_token is None:
            raise SettingsError("TELEGRAM_BOT_TOKEN is not set.\n" + HOW_TO_GET_A_TOKEN)
        return self.telegram_bot_token.get_secret_value().strip()

    @property
    def api_base_url(self) -> str:
        return self.telegram_api_base_url.strip() or DEFAULT_API_BASE_URL

    @property
    def kb_dir(self) -> Path | None:
        return _path(self.yibao_kb_dir)

    @property
    def lexicon_dir(self) -> Path | None:
        return _path(self.yibao_lexicon_dir)

    @property
    def cache_dir(self) -> Path | None:
        return _path(self.yibao_cache_dir)

    @property
    def webhook_secret(self) -> str | None:
        return _secret(self.yibao_webhook_secret)

    @property
    def hash_salt(self) -> str | None:
        return _secret(self.yibao_hash_salt)

    def clock(self) -> Clock:
        """The program's clock, in YIBAO_TIMEZONE."""
        return clock_in(self.yibao_timezone)

    def store_settings(self) -> StoreSettings:
        """The store's lifetimes and salt (the built-in salt when none is set)."""
        defaults = StoreSettings()
        ttl, keep = self.yibao_session_ttl_days, self.yibao_record_retention_days
        return StoreSettings(
            session_ttl=ttl * DAY if ttl is not None else defaults.session_ttl,
            record_retention=keep * DAY if keep is not None else defaults.record_retention,
            hash_salt=self.hash_salt or defaults.hash_salt,
            timezone=self.yibao_timezone,
            standby=self.yibao_standby,
        )

    def store_url(self, persistent: bool = True) -> str:
        """YIBAO_STORE, or the command's default: a SQLite file (`persistent`) or memory."""
        return default_store_url(persistent=persistent, environ={"YIBAO_STORE": self.yibao_store})


def _path(raw: str) -> Path | None:
    return Path(raw.strip()) if raw.strip() else None


def _secret(raw: SecretStr | None) -> str | None:
    return raw.get_secret_value().strip() or None if raw is not None else None


def check_token(token: SecretStr | None) -> None:
    """Raise SettingsError (without the token in it) unless `token` looks like a bot token."""
    raw = token.get_secret_value().strip() if token is not None else ""
    if not raw:
        raise SettingsError("TELEGRAM_BOT_TOKEN is not set.\n" + HOW_TO_GET_A_TOKEN)
    if not TOKEN_PATTERN.match(raw):
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN is malformed (expected digits, a colon, then about 35 "
            "letters, digits, '-' or '_'; check for quotes or spaces).\n" + HOW_TO_GET_A_TOKEN
        )


PERSISTENT_SCHEMES = ("sqlite://", "redis://", "rediss://", "unix://")


def check_salt(settings: Settings, store_url: str) -> None:
    """SettingsError when a persistent store would key its records by the public built-in
    salt (chat ids are guessable, so such hashes can be reversed), unless
    YIBAO_ALLOW_DEFAULT_SALT allows it for development."""
    if settings.hash_salt or settings.yibao_allow_default_salt:
        return
    if store_url.startswith(PERSISTENT_SCHEMES):
        raise SettingsError(
            "YIBAO_HASH_SALT is not set: a persistent store needs a secret salt for its turn "
            'records (e.g. `python3 -c "import secrets; print(secrets.token_urlsafe(32))"`); '
            "for development only, set YIBAO_ALLOW_DEFAULT_SALT=1."
        )


def load_settings(env_file: str | None = ".env") -> Settings:
    """Read and validate the settings; every failure is a printable SettingsError."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        # Name the variables only: pydantic's own message would echo the input values.
        names = sorted({str(err["loc"][0]).upper() for err in exc.errors() if err["loc"]})
        raise SettingsError(f"invalid setting(s): {', '.join(names)}") from None


def webhook_settings(args: argparse.Namespace, settings: Settings) -> tuple[str, str] | None:
    """(URL, secret) in webhook mode, None for long polling; SettingsError when `--webhook`
    is given without a URL (flag or YIBAO_WEBHOOK_URL) or without a secret: an empty URL
    must not fall back to polling (instances would fight over getUpdates), and a random
    secret per instance would make the others reject what nginx sends them."""
    if args.webhook is None:
        return None
    url = args.webhook.strip() or settings.yibao_webhook_url.strip()
    if not url:
        raise SettingsError("--webhook needs a URL: pass one or set YIBAO_WEBHOOK_URL.")
    secret = (args.secret_token or "").strip() or settings.webhook_secret
    if not secret:
        raise SettingsError(
            "--webhook needs a secret token shared by every instance: set "
            "YIBAO_WEBHOOK_SECRET (or pass --secret-token)."
        )
    return url, secret
