"""Classic operators: Bash and Python, with templates and `>>` dependencies."""

from slipstream.sdk import DAG, BashOperator, PythonOperator


def _greet(name, ds=None):
    print(f"hello {name}, today is {ds}")
    return name.upper()


with DAG("operators", schedule=None, tags=["example"]):
    say = BashOperator(task_id="say", bash_command="echo 'run {{ run_id }} on {{ ds }}'")
    greet = PythonOperator(task_id="greet", python_callable=_greet, op_kwargs={"name": "slipstream"})
    shout = BashOperator(task_id="shout", bash_command="echo {{ ti.xcom_pull(task_ids='greet') }}")
    say >> greet >> shout
