"""Settings of the Telegram edge, read from the environment and `.env` (pydantic-settings).

This is the only place `yibao run` reads its configuration. The bot token is a `SecretStr`
so it never shows up in a repr, a validation error or a log line; `load_settings` turns every
problem into a `SettingsError` whose message names the variable, never its value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dialogs.stores.settings import StoreSettings

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

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

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
    # Webhook secret token; from the environment so it never shows in `ps` (--secret-token wins).
    yibao_webhook_secret: SecretStr | None = None
    # Lifetimes and the chat-hash salt of the store. Read here too (not only by the store
    # package from os.environ) so that values written in `.env` take effect.
    yibao_session_ttl_days: float | None = Field(default=None, gt=0)
    yibao_record_retention_days: float | None = Field(default=None, gt=0)
    yibao_hash_salt: SecretStr | None = None
    # The WeChat edge (`yibao wechat`, bot/wechat/settings.py): the server Token (required
    # there), the account's AppID, AppSecret (customer-service API and menu push), the
    # 43-character EncodingAESKey (safe mode), the API base (a local fake in tests), and the
    # timezone whose date is "today" for its users.
    wechat_token: SecretStr | None = None
    wechat_app_id: str = ""
    wechat_app_secret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_api_base: str = ""
    yibao_timezone: str = "Asia/Shanghai"

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
        return Path(self.yibao_kb_dir.strip()) if self.yibao_kb_dir.strip() else None

    @property
    def lexicon_dir(self) -> Path | None:
        return Path(self.yibao_lexicon_dir.strip()) if self.yibao_lexicon_dir.strip() else None

    @property
    def webhook_secret(self) -> str | None:
        raw = self.yibao_webhook_secret
        return raw.get_secret_value().strip() or None if raw is not None else None

    def store_settings(self) -> StoreSettings:
        """The store's lifetimes and salt, from the environment or `.env`."""
        env: dict[str, str] = {}
        if self.yibao_session_ttl_days is not None:
            env["YIBAO_SESSION_TTL_DAYS"] = str(self.yibao_session_ttl_days)
        if self.yibao_record_retention_days is not None:
            env["YIBAO_RECORD_RETENTION_DAYS"] = str(self.yibao_record_retention_days)
        if self.yibao_hash_salt is not None:
            env["YIBAO_HASH_SALT"] = self.yibao_hash_salt.get_secret_value()
        return StoreSettings.from_env(env)

    def store_url(self) -> str:
        """YIBAO_STORE, or the store package's persistent default (a SQLite file)."""
        if self.yibao_store.strip():
            return self.yibao_store.strip()
        from dialogs.stores.settings import default_store_url

        return default_store_url(environ={})


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


def load_settings(env_file: str | None = ".env") -> Settings:
    """Read and validate the settings; every failure is a printable SettingsError."""
    try:
        settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        # Name the variables only: pydantic's own message would echo the input values.
        names = sorted({str(err["loc"][0]).upper() for err in exc.errors() if err["loc"]})
        raise SettingsError(f"invalid setting(s): {', '.join(names)}") from None
    check_token(settings.telegram_bot_token)
    return settings
