"""Importing a DAG file and collecting the DAGs it defines."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

from slipstream.sdk._dag import DAG, collecting


def load_dags(path: Path) -> dict[str, DAG]:
    """Import `path` as a fresh module and return its DAGs by id.

    Every DAG the file creates counts, whether or not it ends up in a global. The module gets a
    name unique to its path so two bundles' `etl.py` do not shadow each other in `sys.modules`,
    and the file's folder is importable for its helper modules, as in Airflow's dags folder.
    """
    path = path.resolve()
    name = "slipstream_dag_" + hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:16]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import DAG file {path}")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.append(folder)
    sys.modules[name] = module
    with collecting() as created:
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    dags: dict[str, DAG] = {}
    for dag in created:
        if dags.setdefault(dag.dag_id, dag) is not dag:
            raise ValueError(f"{path} defines DAG {dag.dag_id!r} twice")
    return dags
