"""A task that uses a secret variable and a connection's password, and prints both (carelessly,
as tasks do): the worker's log must show them masked."""

import logging

from slipstream.sdk import DAG, Connection, Variable, task

with DAG("secrets", tags=["security"]):

    @task
    def use_secrets():
        password = Connection.get("warehouse").password
        api_key = Variable.get("api_secret")
        print(f"password has {len(password)} characters, the key {len(api_key)}")
        print(f"connecting with {password}")
        logging.getLogger("secrets").warning("the key is %s", api_key)

    use_secrets()
