"""Store settings: which backend, how long things live, how chat ids are hashed.

Nothing here reads the process environment: the edge reads the settings once
(`bot.settings`) and passes them down; stores are configured by constructor arguments.
`from_env` and `default_store_url` read a mapping of variables given to them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from dialogs.types import ChatId

DAY = 86_400.0
DEFAULT_SESSION_TTL_DAYS = 30.0
DEFAULT_RECORD_RETENTION_DAYS = 90.0
# A deployment should set YIBAO_HASH_SALT; the default still keeps raw ids out of records.
DEFAULT_HASH_SALT = "yibao-default-salt-set-YIBAO_HASH_SALT"
CHAT_HASH_HEX = 16  # 64 bits: no collisions at any realistic number of chats, 16 bytes stored
# Turn records kept per chat and day (the users' day): a flooder at 1 msg/s would otherwise
# write ~86k a day, kept for the whole retention. Identical unanswered texts of one chat and
# day are kept once.
DEFAULT_RECORDS_PER_CHAT_DAY = 200
DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Lifetimes (seconds) and the hashing key shared by every backend."""

    session_ttl: float = DEFAULT_SESSION_TTL_DAYS * DAY
    record_retention: float = DEFAULT_RECORD_RETENTION_DAYS * DAY
    hash_salt: str = DEFAULT_HASH_SALT
    records_per_chat_day: int = DEFAULT_RECORDS_PER_CHAT_DAY
    timezone: str = DEFAULT_TIMEZONE  # whose days the cap counts (YIBAO_TIMEZONE)
    # A serving process finding its SQLite file in use waits for it (a hot standby that
    # takes over when the serving process dies: YIBAO_STANDBY) instead of being refused.
    standby: bool = False

    def day_of(self, at: float) -> tuple[float, float]:
        """The users' day holding the moment `at`: its start and end (epoch seconds)."""
        return _day_of(self.timezone, int(at // QUARTER))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoreSettings:
        """From variables such as YIBAO_SESSION_TTL_DAYS; none given: the defaults."""
        env = environ or {}
        return cls(
            session_ttl=_days(env, "YIBAO_SESSION_TTL_DAYS", DEFAULT_SESSION_TTL_DAYS) * DAY,
            record_retention=DAY
            * _days(env, "YIBAO_RECORD_RETENTION_DAYS", DEFAULT_RECORD_RETENTION_DAYS),
            hash_salt=env.get("YIBAO_HASH_SALT") or DEFAULT_HASH_SALT,
        )

    def chat_hash(self, chat_id: ChatId) -> str:
        """Keyed hash of a chat id: records can be grouped per chat without naming it.

        Over the id's decimal (Telegram) or namespaced (`wx:<openid>`) text form, so the
        hashes of Telegram chats are the same as before string ids existed."""
        return _chat_hash(self.hash_salt, chat_id)


def _chat_hash(salt: str, chat_id: ChatId) -> str:
    """One-shot `hmac.digest` (a WeChat turn asks twice: its record, its kept reply). Not
    cached: a cache would keep erased chats' ids in memory after /forget."""
    digest = hmac.digest(salt.encode(), str(chat_id).encode(), hashlib.sha256)
    return digest.hex()[:CHAT_HASH_HEX]


QUARTER = 900  # seconds: today's zones all begin their days (and DST) on a quarter hour


@lru_cache(maxsize=64)
def _day_of(timezone: str, quarter: int) -> tuple[float, float]:
    """The day of a quarter hour (no day begins inside one), computed once per quarter:
    every turn record asks for it."""
    zone = ZoneInfo(timezone)
    moment = datetime.fromtimestamp(quarter * QUARTER, zone)
    start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=1, hours=3)).replace(hour=0)  # DST-proof next midnight
    return start.timestamp(), end.timestamp()


def _days(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    value = float(raw)
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of days, got {raw!r}")
    return value


def default_state_path() -> Path:
    """The SQLite file used when nothing else is configured."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("yibao")) / "state.db"


def default_store_url(*, persistent: bool = True, environ: Mapping[str, str] | None = None) -> str:
    """The store URL a command uses: `YIBAO_STORE` in `environ` if set, else its own default.

    `chat` and `run` are persistent (a SQLite file under the user's data directory);
    `replay` passes `persistent=False` and gets `memory://`. A `--store` flag overrides both.
    """
    env = environ or {}
    configured = env.get("YIBAO_STORE", "").strip()
    if configured:
        return configured
    if not persistent:
        return "memory://"
    return f"sqlite://{default_state_path().as_posix()}"
