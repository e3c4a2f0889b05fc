"""`yibao wechat` on the command line: the custom menu, missing settings, menu push."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from paths import ROOT
from wechat_harness import wechat_env


def test_menu_json_and_missing_token(tmp_path: Path) -> None:
    env = wechat_env("memory://", PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "wechat", "menu"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    menu = json.loads(out.stdout)
    names = [b["name"] for b in menu["button"]]
    assert names == ["天津新生儿", "积分入医", "常见问题"]
    assert all(len(n.encode()) <= 16 for n in names)
    assert menu["button"][0] == {"type": "click", "name": "天津新生儿", "key": "f:tianjin"}
    del env["WECHAT_TOKEN"]
    failed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "wechat"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2 and "WECHAT_TOKEN is not set" in failed.stderr
