"""The Dockerfile and deploy/ example only use commands and settings that really exist.

There is no Docker engine here, so the files are parsed instead: every `yibao` command in
them is run (or parsed by the real CLI parser) exactly as the container would run it, and
every environment variable they set is one the program reads.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from net import free_port
from paths import ROOT

from bot.cli.main import _parser
from bot.settings import Settings

DOCKERFILE = ROOT / "Dockerfile"
DEPLOY = ROOT / "deploy"
PACKAGES = ("bot", "dialogs", "knowledge")
VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in dockerfile_instructions():
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return data


def env_example() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


def bot_services() -> dict[str, dict[str, Any]]:
    """The Telegram instances: built from the Dockerfile, running its CMD."""
    return {
        name: svc
        for name, svc in compose()["services"].items()
        if "build" in svc and "command" not in svc
    }


def container_env() -> dict[str, str]:
    """What a bot container sees: Dockerfile ENV, then env_file, then compose environment."""
    (first, *_) = bot_services().values()
    return {
        **dockerfile_env(),
        **env_example(),
        **{k: str(v) for k, v in first["environment"].items()},
    }


def cmd_argv(env: dict[str, str]) -> list[str]:
    """The CMD's command line after the shell expands the variables, `exec` dropped."""
    (cmd,) = [json.loads(rest) for word, rest in dockerfile_instructions() if word == "CMD"]
    assert cmd[:2] == ["sh", "-c"], "exec-form CMD through sh, so variables expand"
    script = VAR.sub(lambda m: env[m.group(1)], cmd[2])
    argv = shlex.split(script)
    assert argv[0] == "exec"
    return argv[1:]


def variables_read_by_the_program() -> set[str]:
    """Settings fields (case-insensitive) and every "YIBAO_..." literal in the packages."""
    names = {field.upper() for field in Settings.model_fields}
    literal = re.compile(r"[\"']((?:YIBAO|TELEGRAM)_[A-Z0-9_]+)[\"']")
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            names.update(literal.findall(path.read_text(encoding="utf-8")))
    return names


# ---------------------------------------------------------------------- Dockerfile
def test_dockerfile_base_user_and_install() -> None:
    steps = dockerfile_instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [rest for word, rest in steps if word == "USER"]
    assert users and users[-1] not in ("root", "0"), "the bot must not run as root"
    runs = [rest for word, rest in steps if word == "RUN"]
    assert any(r.startswith("pip install -c requirements.lock .") for r in runs)
    copied = {name for word, rest in steps if word == "COPY" for name in rest.split()[:-1]}
    assert set(PACKAGES) <= copied and {"pyproject.toml", "requirements.lock"} <= copied


def test_every_yibao_command_in_dockerfile_runs_as_written() -> None:
    """`RUN yibao ...` lines are executed here with the project's own `yibao`."""
    commands = [
        rest
        for word, rest in dockerfile_instructions()
        if word == "RUN" and rest.startswith("yibao ")
    ]
    assert commands, "the build validates the knowledge base"
    for command in commands:
        argv = shlex.split(command)
        proc = subprocess.run(
            [sys.executable, "-m", "bot.cli", *argv[1:]],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
            check=False,
            env={
                **os.environ,
                **dockerfile_env(),
                "YIBAO_CACHE_DIR": os.environ["YIBAO_CACHE_DIR"],
            },
        )
        assert proc.returncode == 0, f"{command}: {proc.stderr}"


def test_cmd_is_a_valid_yibao_run_webhook_command() -> None:
    env = container_env()
    argv = cmd_argv(env)
    assert argv[:3] == ["yibao", "run", "--webhook"]
    args = _parser().parse_args(argv[1:])
    assert args.command == "run"
    assert args.webhook == env["YIBAO_WEBHOOK_URL"].strip()
    assert (args.listen, args.port) == ("0.0.0.0", int(env["YIBAO_PORT"]))
    # All instances share one webhook secret, read from the environment: never in argv (ps).
    assert args.secret_token is None and env["YIBAO_WEBHOOK_SECRET"] == ""
    assert "YIBAO_WEBHOOK_SECRET" in env_example()
    help_text = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    ).stdout
    for option in (a for a in argv[2:] if a.startswith("--")):
        assert option in help_text


def test_cmd_variables_are_all_defined() -> None:
    (cmd,) = [json.loads(rest) for word, rest in dockerfile_instructions() if word == "CMD"]
    used = set(VAR.findall(cmd[2]))
    defined = set(dockerfile_env()) | set(env_example())
    assert used <= defined, used - defined


# ---------------------------------------------------------------------- compose
def test_compose_runs_two_webhook_instances_on_one_redis_behind_nginx() -> None:
    services = compose()["services"]
    assert {"redis", "nginx"} <= set(services)
    bots = bot_services()
    assert len(bots) == 2
    for svc in bots.values():
        assert svc["environment"]["YIBAO_STORE"] == "redis://redis:6379/0"
        assert svc["build"]["dockerfile"] == "Dockerfile"
        assert (DEPLOY / svc["build"]["context"] / "Dockerfile").resolve() == DOCKERFILE
        assert "command" not in svc, "instances run the Dockerfile's CMD, tested above"
        assert svc["env_file"] == ".env"
    assert set(bots) <= set(services["nginx"]["depends_on"])


# ---------------------------------------------------------------------- issue 12
HEALTH_ONE_LINER = re.compile(r"urlopen\('http://127\.0\.0\.1:' \+ os\.environ\.get")


def healthcheck_argv() -> list[str]:
    (check,) = [rest for word, rest in dockerfile_instructions() if word == "HEALTHCHECK"]
    options, _, cmd = check.partition(" CMD ")
    assert "--interval" in options and "--retries" in options
    argv: list[str] = json.loads(cmd)
    return argv


async def test_the_dockerfile_healthcheck_probes_healthz(tmp_path: Path) -> None:
    """The HEALTHCHECK one-liner as Docker runs it: 0 on 200, non-zero on 503 or silence."""
    import asyncio

    from aiohttp import web

    argv = healthcheck_argv()
    assert argv[:2] == ["python", "-c"] and HEALTH_ONE_LINER.search(argv[2])
    status = {"code": 200}

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": status["code"] == 200}, status=status["code"])

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()

    async def probe(on_port: int) -> int:
        env = {**os.environ, "YIBAO_PORT": str(on_port)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *argv[1:], env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        return await asyncio.wait_for(proc.wait(), 30)

    try:
        assert await probe(port) == 0
        status["code"] = 503
        assert await probe(port) != 0
        assert await probe(free_port()) != 0
    finally:
        await runner.cleanup()


def test_compose_health_gates_nginx_and_restarts_are_bounded() -> None:
    services = compose()["services"]
    probe = healthcheck_argv()[2]
    for name, svc in services.items():
        if "build" in svc:
            test = svc["healthcheck"]["test"]
            assert test[0] == "CMD" and test[-1] == probe, name
        policy = svc.get("deploy", {}).get("restart_policy", {})
        assert svc.get("restart") == "on-failure:5" or policy.get("max_attempts"), name
    waits = services["nginx"]["depends_on"]
    assert {name: waits[name]["condition"] for name in bot_services()} == {
        name: "service_healthy" for name in bot_services()
    }


def test_the_wechat_service_runs_behind_nginx_at_wechat() -> None:
    wechat = compose()["services"]["wechat"]
    assert wechat["build"]["dockerfile"] == "Dockerfile" and wechat["env_file"] == ".env"
    env = {**dockerfile_env(), **env_example(), **wechat["environment"]}
    assert wechat["command"][:2] == ["sh", "-c"]
    argv = shlex.split(VAR.sub(lambda m: env[m.group(1)], wechat["command"][2]))
    assert argv[:3] == ["exec", "yibao", "wechat"]
    args = _parser().parse_args(argv[2:])
    assert (args.command, args.listen, args.path) == ("wechat", "0.0.0.0", "/wechat")
    assert args.port == int(env["YIBAO_PORT"]) and args.action is None
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    block = conf.split("location = /wechat {", 1)[1].split("\n        }", 1)[0]
    assert f"http://wechat:{args.port}" in block and "proxy_pass" in block
    assert {"WECHAT_TOKEN", "WECHAT_APP_ID"} <= set(env_example())


def test_the_lock_file_pins_every_runtime_dependency_within_pyproject() -> None:
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lock_text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert "pip-compile" in lock_text  # `make lock`
    pins = dict(
        line.split("==", 1) for line in lock_text.splitlines() if "==" in line and line[0] != "#"
    )
    pins = {name.lower().replace("_", "-"): version.strip() for name, version in pins.items()}
    for spec in project["dependencies"]:
        req = Requirement(spec)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in requirements.lock: run `make lock`"
        assert req.specifier.contains(pins[name]), f"{name}=={pins[name]} outside {spec}"
    assert "tornado" not in pins, "the unused webhooks extra is back"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\nlock:" in makefile and "pip-compile" in makefile
    assert "-c $(LOCK)" in makefile  # make test and CI install at the locked versions


def test_a_pypi_mirror_is_a_build_argument() -> None:
    args = [rest for word, rest in dockerfile_instructions() if word == "ARG"]
    assert "PIP_INDEX_URL" in args
    assert "PIP_INDEX_URL" not in dockerfile_env(), "a build setting, not the image's"


def test_every_variable_set_for_the_bot_is_read_by_the_program() -> None:
    read = variables_read_by_the_program()
    (cmd,) = [json.loads(rest) for word, rest in dockerfile_instructions() if word == "CMD"]
    consumed_by_cmd = set(VAR.findall(cmd[2]))
    for name in container_env():
        if name.startswith(("PYTHON", "PIP_")):
            continue  # the interpreter's and pip's own
        assert name in read or name in consumed_by_cmd, f"{name} is set but nothing reads it"


def test_compose_store_url_opens_the_redis_store() -> None:
    from dialogs.stores import open_store

    store = open_store(container_env()["YIBAO_STORE"])
    assert type(store).__name__ == "RedisStore"


# ---------------------------------------------------------------------- nginx
def test_nginx_routes_the_webhook_path_and_healthz_to_both_instances() -> None:
    from bot.telegram.app import webhook_path

    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    path = "/" + webhook_path(env_example()["YIBAO_WEBHOOK_URL"])
    locations = re.findall(r"location\s+=\s+(\S+)\s*\{", conf)
    assert path in locations and "/healthz" in locations
    upstream = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", conf)
    assert upstream is not None
    servers = re.findall(r"server\s+([\w.-]+):(\d+)", upstream.group(2))
    port = container_env()["YIBAO_PORT"]
    assert sorted(servers) == sorted((name, port) for name in bot_services())
    assert conf.count(f"proxy_pass http://{upstream.group(1)};") == 2
    assert conf.count("{") == conf.count("}")


@pytest.mark.parametrize("name", ["Dockerfile", "deploy/compose.yaml", "deploy/nginx.conf"])
def test_no_secret_is_committed_in_deploy_files(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    assert not re.search(r"\d{5,}:[A-Za-z0-9_-]{30,}", text)
    assert all(
        not value
        for key, value in env_example().items()
        if "TOKEN" in key or "SECRET" in key or "SALT" in key
    )


# ---------------------------------------------------------------------- the CMD, running


async def wait_listening(port: int, attempts: int = 300) -> None:
    """Until something accepts connections on 127.0.0.1:port (PTB sets the webhook first)."""
    import asyncio

    for _ in range(attempts):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError(f"nothing listens on port {port}")


async def test_the_container_command_serves_a_webhook_update(tmp_path: Path) -> None:
    """The CMD as the container runs it (loopback instead of 0.0.0.0), against a fake Bot API."""
    import asyncio
    import signal

    import aiohttp
    from fake_bot_api import FakeBotAPI

    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    fake = FakeBotAPI(token)
    await fake.start()
    port = free_port()
    env = {
        **os.environ,
        **container_env(),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "YIBAO_STORE": f"sqlite:///{tmp_path / 'state.db'}",
        "YIBAO_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "YIBAO_WEBHOOK_SECRET": "s3cret-for-both-instances",
        "YIBAO_HASH_SALT": "pepper-for-both-instances",
        "YIBAO_PORT": str(port),
    }
    argv = ["127.0.0.1" if a == "0.0.0.0" else a for a in cmd_argv(env)]  # tests stay on loopback
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *argv[1:],
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        (hook,) = await fake.wait_calls("setWebhook", timeout=60)
        assert hook["url"] == env["YIBAO_WEBHOOK_URL"]
        update = {"update_id": 1, "message": fake.message_dict(5, text="/start")}
        url = env["YIBAO_WEBHOOK_URL"]
        await wait_listening(port)
        async with aiohttp.ClientSession() as http:
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
            async with http.post(url, json=update, headers=wrong) as resp:
                assert resp.status == 403
            right = {"X-Telegram-Bot-Api-Secret-Token": env["YIBAO_WEBHOOK_SECRET"]}
            async with http.post(url, json=update, headers=right) as resp:
                assert resp.status == 200
        (reply,) = await fake.wait_messages(5, 1, timeout=30)
        assert reply.text
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        await fake.stop()
    assert proc.returncode == 0, err.decode()
    lines = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    assert lines and all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    assert token not in err.decode()
