"""The shared development conversations: ../shared/eval when it is beside the checkout (the
newest version), else the copy kept in tests/data, so no test depends on ../shared."""

from __future__ import annotations

from pathlib import Path

from paths import ROOT, TEST_DATA

SHARED_DEV = ROOT.parent / "shared" / "eval" / "dev_questions.yaml"
IN_REPO_DEV = TEST_DATA / "dev_questions.yaml"


def dev_questions() -> Path:
    return SHARED_DEV if SHARED_DEV.is_file() else IN_REPO_DEV
