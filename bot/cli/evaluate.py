"""`yibao eval`: run conversation files through the engine and report failures.

File format (see shared/eval/dev_questions.yaml): `cases:` with `id`, `turns`, `must`,
`must_not` and optional `today`. `must` patterns match the last turn's reply texts plus
the labels of its buttons; `must_not` patterns match the reply texts only.

Each case ends in one of three outcomes, because for a public-service clerk a wrong answer
is worse than none: *right* (every pattern holds), *abstained* (it failed, but the last
reply stated no facts: an honest "not covered", a clarifying question, a scope guard, a
menu) and *wrong* (it failed and the last reply stated facts: an answer to another
question). Totals are printed per outcome and for the multi-turn cases separately.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.settings import Settings
from bot.wiring import build_engine, engine_for
from dialogs.engine import Engine
from dialogs.outcomes import NO_FACTS, outcome_of
from dialogs.types import Incoming, Reply
from knowledge.errors import KnowledgeError, Problem
from knowledge.yamlfile import line_of, read_yaml


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    turns: list[str] = Field(min_length=1)
    must: list[str] = Field(default_factory=list)
    must_not: list[str] = Field(default_factory=list)
    today: date | None = None


RIGHT, ABSTAINED, WRONG = "right", "abstained", "wrong"


@dataclass(frozen=True)
class Outcome:
    file: str
    case: Case
    failures: tuple[str, ...]
    last_text: str
    abstained: bool = False

    @property
    def verdict(self) -> str:
        if not self.failures:
            return RIGHT
        return ABSTAINED if self.abstained else WRONG

    @property
    def multi_turn(self) -> bool:
        return len(self.case.turns) > 1


def is_abstention(replies: list[Reply]) -> bool:
    """True when no reply of the turn states a fact (`dialogs.outcomes.NO_FACTS`)."""
    return all(
        outcome_of(r.state) in NO_FACTS or (r.entry or "").startswith("oos.") for r in replies
    )


def load_cases(path: Path) -> list[Case]:
    """Read one conversation file; any problem is reported as file:line."""
    data, problems = read_yaml(path, display=str(path))
    if problems:
        raise KnowledgeError(problems)
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise KnowledgeError([Problem(str(path), 1, "expected a mapping with a 'cases' list")])
    cases: list[Case] = []
    errors: list[Problem] = []
    for raw in data["cases"]:
        try:
            case = Case.model_validate(raw)
            for pattern in case.must + case.must_not:
                re.compile(pattern)
            cases.append(case)
        except ValidationError as exc:
            for err in exc.errors():
                errors.append(
                    Problem(
                        str(path), line_of(raw, tuple(err["loc"])), f"{err['loc']}: {err['msg']}"
                    )
                )
        except re.error as exc:
            errors.append(Problem(str(path), line_of(raw), f"bad regular expression: {exc}"))
    if errors:
        raise KnowledgeError(errors)
    return cases


def _reply_text(replies: list[Reply]) -> str:
    return "\n".join(r.plain() for r in replies)


def _reply_labels(replies: list[Reply]) -> str:
    return "\n".join(b.text for r in replies for row in r.buttons for b in row)


async def run_case(engine: Engine, chat_id: int, case: Case, file: str) -> Outcome:
    replies: list[Reply] = []
    for turn in case.turns:
        replies = await engine.handle(chat_id, Incoming(text=turn, today=case.today))
    text = _reply_text(replies)
    with_labels = text + "\n" + _reply_labels(replies)
    failures = [f"missing /{p}/" for p in case.must if not re.search(p, with_labels)]
    failures += [f"forbidden /{p}/" for p in case.must_not if re.search(p, text)]
    return Outcome(file, case, tuple(failures), text, is_abstention(replies))


async def evaluate(files: list[Path], engine: Engine | None = None) -> list[Outcome]:
    engine = engine or build_engine("memory://")
    outcomes: list[Outcome] = []
    chat_id = 10_000_000
    for path in files:
        for case in load_cases(path):
            chat_id += 1
            outcomes.append(await run_case(engine, chat_id, case, str(path)))
    return outcomes


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    files = [Path(f) for f in args.files]
    missing = [f for f in files if not f.is_file()]
    if missing:
        for f in missing:
            print(f"{f}: no such file", file=sys.stderr)
        return 2
    try:
        outcomes = asyncio.run(evaluate(files, engine_for(settings, "memory://")))
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    failed = [o for o in outcomes if o.failures]
    for o in failed:
        print(f"FAIL[{o.verdict}] {o.file}:{o.case.id}: {'; '.join(o.failures)}")
        if args.verbose:
            print("  turns: " + " | ".join(o.case.turns))
            print("  reply: " + o.last_text.replace("\n", " ⏎ ")[:300])
    print(summary("all", outcomes))
    multi = [o for o in outcomes if o.multi_turn]
    if multi:
        print(summary("multi-turn", multi))
    print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def summary(label: str, outcomes: list[Outcome]) -> str:
    """'all: 120 cases (100%): 118 right, 1 abstained, 1 wrong' with shares."""
    n = len(outcomes) or 1
    counts = {v: sum(1 for o in outcomes if o.verdict == v) for v in (RIGHT, ABSTAINED, WRONG)}
    parts = ", ".join(f"{c} {v} ({100 * c / n:.1f}%)" for v, c in counts.items())
    return f"{label}: {len(outcomes)} cases: {parts}"
