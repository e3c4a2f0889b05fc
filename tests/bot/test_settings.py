"""Settings come from the environment or `.env`, and `.env` reaches every part that uses them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from paths import ROOT
from telegram_harness import TOKEN, environ_with

from bot.settings import Settings, SettingsError, load_settings
from dialogs.stores.settings import DAY, DEFAULT_HASH_SALT

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


# ---------------------------------------------------------------------- issue 12


def yibao(cwd: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    cache = os.environ["YIBAO_CACHE_DIR"]
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ_with({"YIBAO_CACHE_DIR": cache, **env}),
        timeout=120,
        check=False,
    )


def test_empty_values_are_unset(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "YIBAO_HASH_SALT=\nYIBAO_WEBHOOK_SECRET=  \nYIBAO_STORE=\nYIBAO_PORT=\n"
        "YIBAO_SESSION_TTL_DAYS=\nYIBAO_TIMEZONE=\n",
        encoding="utf-8",
    )
    settings = load_settings(str(env_file))
    assert settings.hash_salt is None and settings.webhook_secret is None
    assert settings.store_settings().hash_salt == DEFAULT_HASH_SALT
    assert settings.yibao_port == 8443 and settings.yibao_timezone == "Asia/Shanghai"
    assert settings.store_url().startswith("sqlite:///")


def test_the_store_in_dotenv_is_the_one_chat_writes_and_report_reads(tmp_path: Path) -> None:
    """The bug of issue 12: `yibao report` silently read another SQLite file."""
    db = tmp_path / "data" / "state.db"
    (tmp_path / ".env").write_text(
        f"YIBAO_STORE=sqlite:///{db}\nYIBAO_HASH_SALT=pepper\n", encoding="utf-8"
    )
    missing = yibao(tmp_path, "report")
    assert missing.returncode == 1 and str(db) in missing.stderr
    chat = yibao(tmp_path, "chat", stdin="asdf qwer\n退出\n")
    assert chat.returncode == 0, chat.stderr
    assert db.is_file()
    report = yibao(tmp_path, "report")
    assert report.returncode == 0, report.stderr
    assert "asdf qwer" in report.stdout
    # Another chat (one chat's identical unanswered questions of a day are kept once).
    replay = yibao(tmp_path, "replay", stdin='{"chat_id": 7, "text": "asdf qwer"}\n')
    assert replay.returncode == 0, replay.stderr
    assert "· asdf qwer (2)" in yibao(tmp_path, "report").stdout  # the same file again


def test_the_cache_dir_in_dotenv_holds_jiebas_cache(tmp_path: Path) -> None:
    cache = tmp_path / "my-cache"
    (tmp_path / ".env").write_text(f"YIBAO_CACHE_DIR={cache}\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "天津新生儿医保交多少钱"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ_with({}),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert list(cache.glob("jieba*.cache")) and list(cache.glob("index-*.marshal"))


def test_nothing_below_the_edges_reads_the_environment() -> None:
    for package in ("dialogs", "knowledge"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "os.environ" not in text and "getenv" not in text, path


@pytest.mark.parametrize("command", ["run", "wechat"])
@pytest.mark.parametrize("store", ["sqlite:///{tmp}/state.db", "redis://127.0.0.1:1/0"])
def test_a_persistent_store_without_a_salt_is_refused(
    tmp_path: Path, command: str, store: str
) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "WECHAT_TOKEN": "wechat-token",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:1/bot",
        "YIBAO_STORE": store.format(tmp=tmp_path),
        "YIBAO_HASH_SALT": "",
    }
    proc = yibao(tmp_path, command, **env)
    assert proc.returncode == 2, proc.stderr
    (line,) = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "YIBAO_HASH_SALT is not set" in line and "YIBAO_ALLOW_DEFAULT_SALT" in line
    assert not (tmp_path / "state.db").exists()


def test_the_default_salt_is_allowed_for_development_only() -> None:
    from bot.settings import check_salt

    dev = Settings(yibao_allow_default_salt=True)
    check_salt(dev, "sqlite:///x.db")
    check_salt(Settings(), "memory://")  # nothing persists: nothing to reverse
    with pytest.raises(SettingsError, match="YIBAO_HASH_SALT"):
        check_salt(Settings(), "redis://r:6379/0")


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--webhook"], {"YIBAO_WEBHOOK_SECRET": "s3cret"}, "YIBAO_WEBHOOK_URL"),
        (["--webhook", ""], {"YIBAO_WEBHOOK_SECRET": "s3cret"}, "YIBAO_WEBHOOK_URL"),
        (["--webhook", "https://bot.example.org/telegram"], {}, "YIBAO_WEBHOOK_SECRET"),
        (["--webhook"], {"YIBAO_WEBHOOK_URL": "https://b.example/t"}, "YIBAO_WEBHOOK_SECRET"),
    ],
)
def test_webhook_mode_needs_a_url_and_a_secret(
    tmp_path: Path, args: list[str], env: dict[str, str], says: str
) -> None:
    base = {"TELEGRAM_BOT_TOKEN": TOKEN, "YIBAO_STORE": "memory://"}
    proc = yibao(tmp_path, "run", *args, **base, **env)
    assert proc.returncode == 2, proc.stderr
    (line,) = [line for line in proc.stderr.splitlines() if line.strip()]
    assert says in line and line.startswith("yibao run: --webhook needs")


# ------------------------------------------------- README table = .env.example = model
def readme_variables() -> set[str]:
    """Every variable named in the first column of README's configuration table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first))
    return names


def env_example_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"(?m)^#? ?([A-Z][A-Z0-9_]+)=", text))


def test_readme_env_example_and_settings_name_the_same_variables() -> None:
    model = {name.upper() for name in Settings.model_fields}
    assert readme_variables() == model, readme_variables() ^ model
    assert env_example_variables() == model, env_example_variables() ^ model
