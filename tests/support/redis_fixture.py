"""A real redis-server for the tests, on a free 127.0.0.1 port, with nothing on disk.

Registered from tests/conftest.py via `pytest_plugins`. One server per test session;
`redis_url` hands each test a freshly flushed database. When the binary is absent (and
.ci/run could not install it) every test using it is skipped with the reason below.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from net import free_port as _free_port

from dialogs.stores.redis import RedisStore

SKIP_REASON = (
    "redis-server is not installed (apt-get install redis-server; .ci/run does it): "
    "Redis store tests skipped"
)
START_TIMEOUT = 10.0


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(binary: str, workdir: Path, port: int | None = None) -> subprocess.Popen[bytes]:
    """A redis-server on `port` (restarting one on the same port) or on a free port; the
    port is `redis_port(proc)`. A free port another process grabbed meanwhile is retried."""
    for _ in range(1 if port is not None else 5):
        chosen = port if port is not None else _free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(chosen), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if _ping(chosen):
                _PORTS[proc.pid] = chosen
                return proc
            time.sleep(0.02)
        proc.kill()
        proc.wait()
    raise RuntimeError("redis-server did not start")


_PORTS: dict[int, int] = {}


def redis_port(proc: subprocess.Popen[bytes]) -> int:
    return _PORTS[proc.pid]


def redis_binary() -> str:
    """The redis-server binary, or the test is skipped saying how to install it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(SKIP_REASON)
    return binary


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A private redis-server (the shared one must not be restarted under other tests):
    its port, and the list of its processes (a test that restarts it appends the new one)."""
    proc = start_redis(redis_binary(), tmp_path)
    procs = [proc]
    yield redis_port(proc), procs
    for each in procs:
        each.kill()
        each.wait()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of a private redis-server, stopped at the end of the session."""
    proc = start_redis(redis_binary(), tmp_path_factory.mktemp("redis"))
    port = redis_port(proc)
    try:
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def redis_url(redis_server: int) -> str:
    """URL of an empty database on the test server."""
    with socket.create_connection(("127.0.0.1", redis_server), timeout=5) as s:
        s.sendall(b"FLUSHALL\r\n")
        assert s.recv(16).startswith(b"+OK")
    return f"redis://127.0.0.1:{redis_server}/0"


async def redis_dump(store: RedisStore) -> bytes:
    """Every key and every value on the server, whatever its type."""
    client = store.client
    out: list[bytes] = []

    def raw(value: object) -> bytes:
        return value if isinstance(value, bytes) else str(value).encode()

    async for key in client.scan_iter(match="*"):
        out.append(raw(key))
        kind = raw(await client.type(key)).decode()
        if kind == "string":
            out.append(raw(await client.get(key) or b""))
        elif kind == "zset":
            for pair in await client.zrange(key, 0, -1, withscores=True):
                member, score = pair[0], pair[1]
                out += [raw(member), str(score).encode()]
        elif kind == "set":
            out += [raw(m) for m in await client.smembers(key)]
        elif kind == "hash":
            for k, v in (await client.hgetall(key)).items():
                out += [raw(k), raw(v)]
        elif kind == "list":
            out += [raw(v) for v in await client.lrange(key, 0, -1)]
        else:
            raise AssertionError(f"unexpected key type {kind}")
    return b"\n".join(out)
