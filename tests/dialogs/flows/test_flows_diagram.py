"""`yibao flows --mermaid` draws each flow from its machine spec; docs/flows stays current."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from paths import ROOT

from dialogs.flows.diagram import mermaid, run_flows
from dialogs.flows.suzhou import SPEC as SUZHOU
from dialogs.flows.tianjin import SPEC as TIANJIN

DOCS = ROOT / "docs" / "flows"


def test_tianjin_diagram_shows_the_branches() -> None:
    text = mermaid(TIANJIN)
    assert text.startswith("---\ntitle: ")
    assert "stateDiagram-v2" in text
    assert "hukou --> permit: next [chose_nonlocal]" in text
    assert "hukou --> variant: next [chose_other]" in text
    assert "[*] --> hukou" in text


def test_suzhou_diagram_has_a_failing_exit_from_every_condition() -> None:
    text = mermaid(SUZHOU)
    for state in ("permit", "insurance", "years", "district", "school", "approved", "firsttime"):
        assert f"{state} --> ineligible: next [fails]" in text


def test_cli_writes_stdout_and_files(tmp_path: Path) -> None:
    out = io.StringIO()
    code = run_flows(argparse.Namespace(mermaid=True, out=str(tmp_path)), out)
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["suzhou.mmd", "tianjin.mmd"]
    assert "%% flow: tianjin" in out.getvalue() and "%% flow: suzhou" in out.getvalue()
    assert run_flows(argparse.Namespace(mermaid=False, out=None), io.StringIO()) == 2


def test_committed_diagrams_match_the_machines() -> None:
    """Regenerate with: yibao flows --mermaid --out docs/flows"""
    assert (DOCS / "tianjin.mmd").read_text(encoding="utf-8") == mermaid(TIANJIN)
    assert (DOCS / "suzhou.mmd").read_text(encoding="utf-8") == mermaid(SUZHOU)
