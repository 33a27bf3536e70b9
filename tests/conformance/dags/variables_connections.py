"""Variable and Connection reads through the Execution API, as Airflow's task context makes them."""

from __future__ import annotations

from airflow.sdk import Connection, Variable, dag, task


@dag(schedule=None, tags=["conformance"])
def variables_connections():
    @task
    def read() -> None:
        connection = Connection.get("conformance_db")
        print(Variable.get("conformance_greeting"))
        print(Variable.get("conformance_settings", deserialize_json=True)["answer"])
        print(Variable.get("conformance_missing", default="fallback"))
        where = f"{connection.host}:{connection.port}/{connection.schema}"
        print(f"{connection.conn_type} {connection.login}@{where}")

    read()


variables_connections()
