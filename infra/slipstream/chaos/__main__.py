"""`python -m slipstream.chaos` (`make soak`): the full soak on a local stack of its own."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

from slipstream.chaos.soak import SERVER_SETTINGS, Plan, soak
from slipstream.local.moto import free_port


def main(argv: list[str] | None = None) -> int:
    defaults = Plan()
    parser = argparse.ArgumentParser(prog="python -m slipstream.chaos", description=__doc__)
    parser.add_argument("--runs", type=int, default=defaults.runs)
    parser.add_argument("--tasks-per-run", type=int, default=defaults.tasks_per_run)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    plan = Plan(runs=args.runs, tasks_per_run=args.tasks_per_run, workers=args.workers, seed=args.seed)
    os.environ.update(SERVER_SETTINGS)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from slipstream.local.stack import LocalStack

    with tempfile.TemporaryDirectory(prefix="slipstream-soak-") as scratch:
        root = Path(scratch)
        print(
            f"soak: {plan.tasks} tasks, {plan.workers} workers, SIGKILL every {plan.kill_every} s", flush=True
        )
        with LocalStack(free_port(), 0, root, state_dir=root / ".slipstream") as info:
            figures = soak(info, root, plan, sys.stdout)
    print("\n".join(figures.lines()), flush=True)
    return 0 if figures.ok else 1


if __name__ == "__main__":
    sys.exit(main())
