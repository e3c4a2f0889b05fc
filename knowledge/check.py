"""`yibao kb check` / `yibao kb dump`. (Interim: full checks arrive with the KB work.)"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from knowledge.errors import KnowledgeError
from knowledge.loader import load_kb


def run_kb(args: argparse.Namespace) -> int:
    data = Path(args.data) if getattr(args, "data", None) else None
    try:
        kb = load_kb(data)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    if args.kb_command == "dump":
        json.dump([e.model_dump() for e in kb.entries.values()], sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    if not args.quiet:
        print(f"ok: {len(kb.entries)} entries, version {kb.version}")
    return 0
