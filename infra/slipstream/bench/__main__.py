"""Run every benchmark area, print one table, write bench-results.json."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from slipstream.local.moto import use_offline_credentials

RESULTS = Path("bench-results.json")


def main() -> int:
    use_offline_credentials()
    from slipstream.bench import api

    areas: list[tuple[str, Callable[[], dict[str, float]]]] = [
        ("Execution API, warm (Mangum in-process, moto)", api.warm),
        ("Execution API, cold start (fresh interpreter, moto server)", api.cold),
    ]
    results: dict[str, float] = {}
    for title, run in areas:
        print(f"\n{title}", flush=True)
        figures = run()
        for name, value in figures.items():
            print(f"  {name:<42} {value:>10}")
        results.update(figures)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {RESULTS} ({len(results)} figures)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
