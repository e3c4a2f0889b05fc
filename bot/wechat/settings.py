"""`yibao wechat`'s settings: the account's token and keys, read with the Telegram edge's
pydantic-settings model (`bot.settings.Settings`: environment, then `.env`).

Secrets are `SecretStr`: never in a repr, a validation error or a log line; problems are
`SettingsError`s that name the variable, never its value.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings, SettingsError
from bot.wechat.crypto import decode_aes_key

DEFAULT_API_BASE = "https://api.weixin.qq.com"

HOW_TO_SET_A_TOKEN = (
    "WECHAT_TOKEN is not set. In the 公众号 admin (设置与开发 → 基本配置 → 服务器配置) choose a "
    "Token, put the same value in .env as WECHAT_TOKEN=<token> (or export it), and point the "
    "server URL at this server's --path; then run `yibao wechat` again."
)


@dataclass(frozen=True, slots=True)
class WeChatSettings:
    """What the WeChat edge needs, validated; secrets as plain strings for the one place
    that uses each (signatures, the envelope, the API client)."""

    token: str
    app_id: str
    app_secret: str | None
    aes_key: str | None
    api_base: str
    reply_budget: float = 4.0  # seconds (WECHAT_REPLY_BUDGET_MS)
    menu_links: bool = False  # WECHAT_MENU_LINKS

    def __repr__(self) -> str:  # never print the secrets
        return f"WeChatSettings(app_id={self.app_id!r}, api_base={self.api_base!r})"


def wechat_settings(settings: Settings) -> WeChatSettings:
    """The WeChat part of `settings`; SettingsError when the token is missing or a key is
    malformed."""
    token = settings.wechat_token.get_secret_value().strip() if settings.wechat_token else ""
    if not token:
        raise SettingsError(HOW_TO_SET_A_TOKEN)
    aes_key = settings.wechat_aes_key.get_secret_value().strip() if settings.wechat_aes_key else ""
    app_id = settings.wechat_app_id.strip()
    if aes_key:
        try:
            decode_aes_key(aes_key)
        except ValueError as exc:
            raise SettingsError(f"WECHAT_AES_KEY is malformed: {exc}.") from None
        if not app_id:
            raise SettingsError("WECHAT_AES_KEY needs WECHAT_APP_ID (the envelope names it).")
    secret = settings.wechat_app_secret
    app_secret = secret.get_secret_value().strip() if secret is not None else ""
    return WeChatSettings(
        token=token,
        app_id=app_id,
        app_secret=app_secret or None,
        aes_key=aes_key or None,
        api_base=(settings.wechat_api_base.strip() or DEFAULT_API_BASE).rstrip("/"),
        reply_budget=settings.wechat_reply_budget_ms / 1000,
        menu_links=settings.wechat_menu_links,
    )
