"""`yibao flows --mermaid`: each flow's diagram, drawn by transitions from the flow's own spec.

The runtime Machine and the GraphMachine here are built from the same `MachineSpec`, so the
diagram cannot drift from the code. Output goes to stdout; with `--out DIR` each flow is
also written to DIR/<flow>.mmd (the README embeds docs/flows/*.mmd).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import TextIO

from transitions.extensions.diagrams import GraphMachine

from dialogs.flows.registry import FLOW_CLASSES
from dialogs.flows.spec import MachineSpec


def mermaid(spec: MachineSpec) -> str:
    """The Mermaid stateDiagram of one flow, conditions shown on the arrows."""
    machine = GraphMachine(
        model=SimpleNamespace(),
        graph_engine="mermaid",
        show_conditions=True,
        title=f"title: {spec.title}",  # transitions writes the front matter line as given
        **spec.kwargs(),
    )
    drawn = machine.get_combined_graph().draw(None)
    if not isinstance(drawn, str):
        raise TypeError("the mermaid engine returns the diagram as text")
    return drawn.rstrip() + "\n"


def run_flows(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    if not getattr(args, "mermaid", False):
        print("usage: yibao flows --mermaid [--out DIR]", file=sys.stderr)
        return 2
    target = getattr(args, "out", None)
    folder = Path(target) if target else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    for cls in FLOW_CLASSES:
        text = mermaid(cls.spec)
        out.write(f"%% flow: {cls.spec.name}\n{text}\n")
        if folder is not None:
            (folder / f"{cls.spec.name}.mmd").write_text(text, encoding="utf-8")
    return 0
