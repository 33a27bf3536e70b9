"""The Slipstream Task SDK: what DAG files import.

    from slipstream.sdk import DAG, dag, task, chain, Variable, Connection

DAGs and tasks are declared as in Airflow 3 (`with DAG(...)`, `@dag`, `@task`, operators, `>>`).
Inside a running task, `Variable`, `Connection` and XComs reach the Execution API through the
worker's Supervisor, never directly.
"""

from slipstream.sdk._asset import Asset
from slipstream.sdk._baseoperator import BaseOperator, EmptyOperator, TriggerRule
from slipstream.sdk._bash import BashOperator
from slipstream.sdk._connection import Connection
from slipstream.sdk._context import Context, get_current_context
from slipstream.sdk._dag import DAG, dag
from slipstream.sdk._decorators import task
from slipstream.sdk._dependencies import chain
from slipstream.sdk._exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowRuntimeError,
    AirflowSkipException,
    AirflowTaskTerminated,
)
from slipstream.sdk._python import BranchPythonOperator, PythonOperator, ShortCircuitOperator
from slipstream.sdk._variable import Variable
from slipstream.sdk._xcom_arg import XComArg

__all__ = [
    "DAG",
    "AirflowException",
    "AirflowFailException",
    "AirflowRuntimeError",
    "AirflowSkipException",
    "AirflowTaskTerminated",
    "Asset",
    "BaseOperator",
    "BashOperator",
    "BranchPythonOperator",
    "Connection",
    "Context",
    "EmptyOperator",
    "PythonOperator",
    "ShortCircuitOperator",
    "TriggerRule",
    "Variable",
    "XComArg",
    "chain",
    "dag",
    "get_current_context",
    "task",
]
