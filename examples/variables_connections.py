"""Variables and connections, read by tasks through the Execution API.

The demo sets them first from variables.json and connections.json (Airflow's import formats):
    slipstream variables set greeting "hello from a variable"
    slipstream connections set warehouse postgres://etl:secret@warehouse.example.com:5432/analytics
"""

from slipstream.sdk import Connection, Variable, dag, task


@dag(schedule=None, tags=["example"])
def variables_connections():
    @task
    def read_variable():
        print(f"greeting={Variable.get('greeting')}")
        print(f"limits={Variable.get('limits', deserialize_json=True)}")

    @task
    def read_connection():
        warehouse = Connection.get("warehouse")
        print(f"warehouse={warehouse.conn_type}://{warehouse.host}:{warehouse.port}/{warehouse.schema}")

    @task.bash
    def templated():
        return "echo greeting from a template: {{ var.value.greeting }}"

    read_variable()
    read_connection()
    templated()


variables_connections()
