"""Where things are, for tests at any depth of the tests/ tree (which mirrors the packages)."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
CONVERSATIONS = TESTS / "conversations"
TEST_DATA = TESTS / "data"
