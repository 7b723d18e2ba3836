"""Prints JSON: the fuzzing properties of tests/unit/fuzz run for SECONDS in all (default 60), split
evenly among them, with how many examples each tried and how many failed.

    python bench/fuzz.py 600        # from the repository root, with the `test` extra installed

Exits 1 when a property failed; its falsifying example and traceback go to stderr.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, reporting, settings  # noqa: E402

from tests.unit.fuzz.properties import PROPERTIES, Property  # noqa: E402

BATCH = 500          # examples per hypothesis run; runs repeat until the time is up


def fuzz(prop: Property, seconds: float) -> dict[str, int]:
    """Run one property for `seconds`; examples tried and failures found."""
    examples = failures = 0

    def counted(value: object) -> None:
        nonlocal examples
        examples += 1
        prop.check(value)

    run = settings(max_examples=BATCH, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))(given(prop.strategy)(counted))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            run()
        except Exception as exc:  # a property failed: report it and go on with the others
            failures += 1
            print(f"--- {prop.name} failed", file=sys.stderr)
            traceback.print_exception(exc, file=sys.stderr)
    return {"examples": examples, "failures": failures}


def main(seconds: float = 60.0) -> int:
    share = seconds / len(PROPERTIES)
    results: dict[str, dict[str, int]] = {}
    with reporting.with_reporter(lambda text: print(text, file=sys.stderr)):
        for name, prop in sorted(PROPERTIES.items()):
            results[name] = fuzz(prop, share)
    print(json.dumps({"bench": "fuzz", "seconds": seconds, "properties": results,
                      "examples": sum(r["examples"] for r in results.values()),
                      "failures": sum(r["failures"] for r in results.values())}))
    return 1 if any(r["failures"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0))
