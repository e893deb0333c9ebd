"""A long fuzzing run: the properties of tests/test_fuzz.py with many more (random) examples.

    uv run python bench/fuzz.py [--examples N] [--minutes M] [--only NAME] [--seed S]

Each target (tests/test_fuzz.py TARGETS: URLs, feeds, HTML extraction, GOV.UK, Rijksoverheid,
process_page, vocabulary files) gets up to N examples (default 2000) or its share of M minutes
(default 5), whichever comes first. Unlike the tests, a failing example does not stop the run:
each is counted, the first of each kind (exception type and place) is printed with its recipe,
and the run goes on. Ends with a table: target, inputs tried, failures, kinds, time, slowest.
Exit status 1 where anything failed. Needs ../shared (the real samples the mutations start from).
"""

from __future__ import annotations

import argparse
import builtins
import os
import re
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from conftest import SHARED  # noqa: E402
from test_fuzz import IGNORED_WARNINGS, TARGETS, Target  # noqa: E402

CHUNK = 100  # examples per hypothesis run (each run draws afresh: no database, random seed)


@dataclass
class Tally:
    tried: int = 0
    failed: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    slowest_input: str = ""
    kinds: dict[str, str] = field(default_factory=dict)  # "Type at file:line" -> first failing input


def _kind(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"


def fuzz(target: Target, examples: int, seconds: float, seed: int | None) -> Tally:
    tally = Tally()
    strategy = target.arguments(SHARED)
    deadline = time.monotonic() + seconds

    def one(args: tuple) -> None:
        started = time.perf_counter()
        try:
            target.check(*args)
        except Exception as exc:  # the run goes on: count it, keep the first of its kind
            tally.failed += 1
            kind = _kind(exc)
            if kind not in tally.kinds:
                tally.kinds[kind] = f"{args!r:.300} -> {type(exc).__name__}: {str(exc)[:300]}"
                print(f"  FAIL {target.name}: {kind}\n       {tally.kinds[kind]}", flush=True)
        finally:
            took = time.perf_counter() - started
            tally.tried += 1
            tally.seconds += took
            if took > tally.slowest:
                tally.slowest, tally.slowest_input = took, f"{args!r:.200}"

    run = 0
    while tally.tried < examples and time.monotonic() < deadline:
        n = min(CHUNK, examples - tally.tried)
        test = settings(max_examples=n, deadline=None, database=None, derandomize=False, phases=[Phase.generate],
                        suppress_health_check=list(HealthCheck), print_blob=False)(given(strategy)(one))
        if seed is not None:
            from hypothesis import seed as with_seed

            test = with_seed(seed + run)(test)
        before = tally.tried
        test()
        run += 1
        if tally.tried == before:  # the strategy has nothing new to give
            break
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="at most this many inputs per target")
    parser.add_argument("--minutes", type=float, default=5.0, help="time for the whole run, shared by the targets")
    parser.add_argument("--only", action="append", help="run only targets whose name contains this (repeatable)")
    parser.add_argument("--seed", type=int, help="make the run reproducible")
    args = parser.parse_args()
    if not (SHARED / "corpus").is_dir():
        sys.exit(f"needs the real samples in {SHARED / 'corpus'} (or set SOCWATCH_SHARED)")
    warnings.simplefilter("error")  # as pytest runs the tests (filterwarnings = error)
    for spec in IGNORED_WARNINGS:
        action, message, category = spec.split(":")
        warnings.filterwarnings(action, message=re.escape(message), category=getattr(builtins, category))
    targets = [t for t in TARGETS if not args.only or any(o in t.name for o in args.only)]
    if not targets:
        sys.exit(f"no target matches {args.only}; targets: {', '.join(t.name for t in TARGETS)}")
    budget = args.minutes * 60 / len(targets)
    print(f"fuzzing {len(targets)} target(s): up to {args.examples} inputs or {budget:.0f} s each "
          f"(pid {os.getpid()})", flush=True)
    results = []
    for target in targets:
        started = time.monotonic()
        tally = fuzz(target, args.examples, budget, args.seed)
        results.append((target.name, tally, time.monotonic() - started))
        print(f"  {target.name}: {tally.tried} inputs, {tally.failed} failures in {results[-1][2]:.1f} s "
              f"(slowest {tally.slowest:.2f} s: {tally.slowest_input})", flush=True)

    print(f"\n{'target':<20} {'inputs':>8} {'failures':>9} {'kinds':>6} {'time':>9} {'slowest':>9}")
    for name, tally, wall in results:
        print(f"{name:<20} {tally.tried:>8} {tally.failed:>9} {len(tally.kinds):>6} {wall:>8.1f}s {tally.slowest:>8.2f}s")
    kinds = [(name, kind, first) for name, tally, _ in results for kind, first in tally.kinds.items()]
    for name, kind, first in kinds:
        print(f"\n{name}: {kind}\n  first: {first}")
    sys.exit(1 if kinds else 0)


if __name__ == "__main__":
    main()
