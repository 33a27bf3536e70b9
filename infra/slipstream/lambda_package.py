"""Finishes `sam build`'s output into the packages Lambda should load (`make sam-build` runs it).

Usage, under the Lambda runtime's Python (`.sam-venv`), with `infra` and `functions` on the path:

    python -B -m slipstream.lambda_package BUILD_DIR

Two steps, in each function's folder:

- botocore's models are kept for the services the functions call (`slipstream.core.aws.SERVICES`)
  and dropped for the other 440-odd (each function's folder goes from 58 MB to 37 MB).
  Creating a client also lists every service's folder, so a cold start paid for them too (about
  18 ms for the API function's two clients, measured). Lambda code makes its clients in
  `slipstream.core.aws` only (ruff's banned-api rule in pyproject.toml keeps it so).
- Everything is compiled to bytecode. Lambda's package is read-only, so a module without bytecode
  is compiled again by every cold start that imports it (2.65 s to a first heartbeat instead of
  1.0 s). `unchecked-hash` bytecode is valid whatever the files' times are once unpacked.
"""

from __future__ import annotations

import compileall
import py_compile
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from slipstream.core.aws import SERVICES


def functions_in(build: Path) -> list[Path]:
    """The built functions' folders: each holds its own copy of the dependencies."""
    return sorted(path.parent.parent for path in build.glob("*/botocore/data"))


def keep_models(function: Path, services: Iterable[str]) -> list[str]:
    """Remove botocore's models of every service not named; returns the services removed."""
    data = function / "botocore" / "data"
    wanted = set(services)
    missing = wanted - {path.name for path in data.iterdir()}
    if missing:
        raise SystemExit(f"{function}: botocore has no models for {sorted(missing)}")
    removed = []
    for path in sorted(data.iterdir()):
        if path.is_dir() and path.name not in wanted:
            shutil.rmtree(path)
            removed.append(path.name)
    return removed


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -B -m slipstream.lambda_package BUILD_DIR")
    build = Path(argv[0])
    functions = functions_in(build)
    if not functions:
        raise SystemExit(f"{build} holds no built function: run `sam build` first")
    for function in functions:
        removed = keep_models(function, SERVICES)
        print(f"{function.name}: botocore models kept for {', '.join(SERVICES)}; {len(removed)} removed")
    compiled = compileall.compile_dir(
        build, quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )
    if not compiled:
        raise SystemExit(f"{build}: some modules did not compile")


if __name__ == "__main__":
    main(sys.argv[1:])
