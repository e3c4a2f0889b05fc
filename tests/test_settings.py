"""Settings come from the environment or `.env`, and `.env` reaches every part that uses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings
from dialogs.stores.settings import DAY, DEFAULT_HASH_SALT

TOKEN = "123456789:AAEabcdefghijklmnopqrstuvwxyz0123456"
STORE_VARS = ("YIBAO_SESSION_TTL_DAYS", "YIBAO_RECORD_RETENTION_DAYS", "YIBAO_HASH_SALT")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*STORE_VARS, "TELEGRAM_BOT_TOKEN", "YIBAO_STORE"):
        monkeypatch.delenv(name, raising=False)


def test_store_lifetimes_and_salt_in_dotenv_reach_the_store(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nYIBAO_SESSION_TTL_DAYS=2\n"
        "YIBAO_RECORD_RETENTION_DAYS=7\nYIBAO_HASH_SALT=pepper\n",
        encoding="utf-8",
    )
    store = load_settings(str(env_file)).store_settings()
    assert store.session_ttl == 2 * DAY
    assert store.record_retention == 7 * DAY
    assert store.hash_salt == "pepper"


def test_store_defaults_without_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    store = load_settings(str(tmp_path / "missing.env")).store_settings()
    assert store.session_ttl == 30 * DAY and store.record_retention == 90 * DAY
    assert store.hash_salt == DEFAULT_HASH_SALT


def test_a_non_positive_lifetime_is_refused_by_name(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nYIBAO_SESSION_TTL_DAYS=0\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="YIBAO_SESSION_TTL_DAYS"):
        load_settings(str(env_file))


def test_the_salt_is_secret_in_reprs() -> None:
    settings = Settings(telegram_bot_token=TOKEN, yibao_hash_salt="pepper")  # type: ignore[arg-type]
    assert "pepper" not in repr(settings)
