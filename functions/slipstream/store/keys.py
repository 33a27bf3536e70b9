"""Key scheme of the single Slipstream table (see docs/data-model.md).

Everything about one dag run lives in one partition, `RUN#<dag_id>#<run_id>`, so the scheduler
reads a run and all its live task instances with one strongly consistent Query (`begins_with
"RUN"`), and a task token's claims (`ti` = the natural key) address a TI's item directly.
Map indexes are stored shifted by one and zero-padded so that they sort (`-1` -> `00000000`).
User-supplied parts that may contain `#` go through `codec.escape`.
"""

from __future__ import annotations

from slipstream.store.codec import escape

PK = "PK"
SK = "SK"
GSI1 = "GSI1"
GSI1PK = "GSI1PK"
GSI1SK = "GSI1SK"
GSI2 = "GSI2"
GSI2PK = "GSI2PK"
GSI2SK = "GSI2SK"

RUN_SK = "RUN"
TI_PREFIX = "RUN#TI#"
TRY_PREFIX = "TRY#"
XCOM_PREFIX = "XCOM#"
DAG_SK = "DAG"
DAGS_INDEX_PK = "DAGS"
VARIABLE_PK = "VARIABLE"
CONNECTION_PK = "CONNECTION"


MAX_MAP_INDEX = 10**8 - 2
"""The largest map index a key sorts right with (`mi` pads to eight digits); Airflow's
`max_map_length` is 1024 by default."""


def mi(map_index: int) -> str:
    return f"{map_index + 1:08d}"


def run_pk(dag_id: str, run_id: str) -> str:
    return f"RUN#{dag_id}#{run_id}"


def dag_pk(dag_id: str) -> str:
    return f"DAG#{dag_id}"


def ti_sk(task_id: str, map_index: int) -> str:
    return f"{TI_PREFIX}{escape(task_id)}#{mi(map_index)}"


def try_sk(task_id: str, map_index: int, try_number: int) -> str:
    return f"{TRY_PREFIX}{escape(task_id)}#{mi(map_index)}#{try_number:05d}"


def xcom_task_prefix(task_id: str) -> str:
    return f"{XCOM_PREFIX}{escape(task_id)}#"


def xcom_key_prefix(task_id: str, key: str) -> str:
    return f"{xcom_task_prefix(task_id)}{escape(key)}#"


def xcom_sk(task_id: str, key: str, map_index: int) -> str:
    return f"{xcom_key_prefix(task_id, key)}{mi(map_index)}"


def rtif_sk(task_id: str, map_index: int) -> str:
    return f"RTIF#{escape(task_id)}#{mi(map_index)}"


def task_store_prefix(task_id: str, map_index: int) -> str:
    return f"STORE#{escape(task_id)}#{mi(map_index)}#"


def reschedule_prefix(ti_id: str) -> str:
    return f"RESCHEDULE#{ti_id}#"


def asset_pk(name: str) -> str:
    return f"ASSET#{escape(name)}"


def asset_uri_pk(uri: str) -> str:
    return f"ASSETURI#{escape(uri)}"


def alias_pk(name: str) -> str:
    return f"ALIAS#{escape(name)}"


def status_pk(state: str) -> str:
    """GSI2 partition of task instances in a waiting state (queued, running, up_for_retry, ...)."""
    return f"STATUS#{state}"
