"""Templated fields, variables and connections."""

from slipstream.sdk import DAG, Connection, PythonOperator, Variable, get_current_context, task

with DAG("templating", params={"who": "world"}, tags=["example", "templates"]):

    def greet(greeting, name, templates_dict=None):
        return f"{greeting}, {name}! ({templates_dict['when']})"

    PythonOperator(
        task_id="greet",
        python_callable=greet,
        op_args=["Hello"],
        op_kwargs={"name": "{{ params.who }}"},
        templates_dict={"when": "{{ ds }}"},
    )

    @task
    def config():
        conn = Connection.get("warehouse")
        Variable.set("last_run", get_current_context()["run_id"])
        return {
            "bucket": Variable.get("bucket"),
            "missing": Variable.get("nope", default="fallback"),
            "uri": conn.get_uri(),
            "region": conn.extra_dejson["region"],
        }

    config()

    @task
    def from_template(value):
        return value

    from_template("{{ var.value.bucket }}/{{ ti.try_number }}")
