"""`yibao kb check` and `/reload` validate the same way, here: the knowledge files, the
lexicon and the guided flows built from them.

The knowledge-level checks (entries, keywords, coverage, ui templates, the lexicon) live in
`knowledge.check`; the flows' wording (`flow_text`), the actions that name a flow and the
dated notes an entry asks a flow for can only be checked by building the flows, which is
this layer's job. Every problem is `file:line: reason`, and nothing half-checked is served.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from dialogs.flows.base import DatedNotes, Flow
from dialogs.flows.registry import build_flows
from knowledge.check import Findings, coverage_lines, dump, load_all, run_checks
from knowledge.errors import Problem
from knowledge.loader import DATA_DIR, KnowledgeBase
from knowledge.yamlfile import LineDict, read_yaml


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome of one check: what was built (None when it could not be) and findings."""

    kb: KnowledgeBase | None
    flows: dict[str, Flow]
    findings: Findings

    @property
    def ok(self) -> bool:
        return self.kb is not None and not self.findings.errors


def check_knowledge(data_dir: Path, lexicon_dir: Path | None, selftest: bool = True) -> Checked:
    """Load and check everything; every problem of every file in one run (a curator fixing
    one file sees the others too). `selftest`: route each entry's questions (slow: jieba)."""
    kb, problems = load_all(data_dir, lexicon_dir)
    findings = Findings(errors=list(problems))
    if kb is None or problems:
        return Checked(kb, {}, findings)
    checked = run_checks(kb, data_dir, selftest=selftest)
    findings.errors.extend(checked.errors)
    findings.warnings.extend(checked.warnings)
    flows, flow_problems = flows_of(kb, data_dir)
    findings.errors.extend(flow_problems)
    return Checked(kb, flows, findings)


def flows_of(kb: KnowledgeBase, data_dir: Path) -> tuple[dict[str, Flow], list[Problem]]:
    """The guided flows and the problems of their wording, their actions and dated notes."""
    try:
        flows = build_flows(kb)
    except (ValidationError, KeyError, ValueError) as exc:
        file, line = _flow_text_place(data_dir)
        return {}, [Problem(file, line, f"flow_text: {_detail(exc)}")]
    problems = [
        Problem(file, line, f"{where}: action {action!r}: no such flow")
        for file, line, where, action in kb.actions
        if action.startswith("flow:") and action.partition(":")[2] not in flows
    ]
    provided = {
        name
        for flow in flows.values()
        if isinstance(flow, DatedNotes)
        for name in flow.dated_notes()
    }
    for entry in kb.entries.values():
        if entry.dated and entry.dated not in provided:
            file, line = kb.origin[entry.id]
            problems.append(
                Problem(
                    file, line, f"entry {entry.id!r}: no flow provides dated note {entry.dated!r}"
                )
            )
    return flows, problems


def _detail(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r} that the guided flows need"
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _flow_text_place(data_dir: Path) -> tuple[str, int]:
    """The file and line of the `flow_text` section (through the line-aware reader)."""
    for path in sorted(data_dir.glob("*.yaml")):
        root, _ = read_yaml(path)
        if isinstance(root, LineDict) and "flow_text" in root:
            return path.name, root.key_lines["flow_text"]
    return "flow_text", 1


def run_kb(args: argparse.Namespace) -> int:
    """CLI entry: exit 0 when clean, 1 on any error (each printed as `file:line: message`)."""
    data_dir = Path(args.data) if getattr(args, "data", None) else DATA_DIR
    lexicon_dir = Path(args.lexicon) if getattr(args, "lexicon", None) else None
    if args.kb_command == "dump":
        kb, problems = load_all(data_dir, lexicon_dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        if kb is None or problems:
            return 1
        print(dump(kb))
        return 0
    quiet = bool(getattr(args, "quiet", False))
    selftest = not bool(getattr(args, "no_selftest", False))
    checked = check_knowledge(data_dir, lexicon_dir, selftest=selftest)
    kb, findings = checked.kb, checked.findings
    if kb is None:
        for error in findings.errors:
            print(error, file=sys.stderr)
        return 1
    if not quiet:
        for line in coverage_lines(kb):
            print(line)
        for warning in findings.warnings:
            print(f"{warning} (warning)")
    for error in findings.errors:
        print(error, file=sys.stderr)
    if findings.errors:
        print(f"{len(findings.errors)} error(s)", file=sys.stderr)
        return 1
    if not quiet:
        extra = "" if selftest else ", self-test skipped"
        print(
            f"ok: {len(kb.entries)} entries, {len(kb.out_of_scope)} out-of-scope topics, "
            f"{len(findings.warnings)} warning(s){extra}, version {kb.version}"
        )
    return 0
