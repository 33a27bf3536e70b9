"""A task that uses a secret variable and a connection's password without printing either."""

from slipstream.sdk import DAG, Connection, Variable, task

with DAG("secrets", tags=["security"]):

    @task
    def use_secrets():
        password = Connection.get("warehouse").password
        api_key = Variable.get("api_secret")
        print(f"password has {len(password)} characters, the key {len(api_key)}")

    use_secrets()
