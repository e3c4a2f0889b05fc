"""`make bench`: run every benchmark and print medians, percentiles and ratios.

`python -m bench` runs all; `python -m bench turns coldstart` runs the named ones.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

SUITES: dict[str, str] = {
    "turns": "bench.bench_turns",
    "coldstart": "bench.bench_coldstart",
    "matcher": "bench.bench_matcher",
    "sessions": "bench.bench_sessions",
    "telegram": "bench.bench_telegram",
    "flows": "bench.bench_flows",
    "multi": "bench.bench_multi",
    "wechat": "bench.bench_wechat",
}


def main(argv: list[str]) -> int:
    names = argv or list(SUITES)
    for name in names:
        module_name = SUITES.get(name)
        if module_name is None:
            print(f"unknown benchmark {name!r}; choose from {', '.join(SUITES)}")
            return 2
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                print(f"== {name}: not available ({module_name} missing)")
                continue
            raise
        print(f"== {name}", flush=True)
        run: Callable[[], object] = module.main
        run()
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
