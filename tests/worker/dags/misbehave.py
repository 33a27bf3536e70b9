"""Tasks that test the Supervisor's and the runner's defences."""

import os
import signal
import sys
import time
from datetime import timedelta

from slipstream.sdk import DAG, AirflowFailException, AirflowSkipException, task

with DAG("misbehave"):

    @task
    def noop():
        return None

    @task
    def chatty(megabytes: int = 4):
        line = "x" * 1023
        for _ in range(megabytes * 1024):
            print(line)
            print(line, file=sys.stderr)
        return "still talking"

    @task
    def boom():
        raise ValueError("boom")

    @task
    def give_up():
        raise AirflowFailException("no retry for this")

    @task
    def skip():
        raise AirflowSkipException("nothing to do")

    @task
    def hard_exit():
        os._exit(3)

    @task
    def sys_exit():
        sys.exit(0)

    @task
    def killed():
        os.kill(os.getpid(), signal.SIGKILL)

    @task
    def sleepy(seconds: float = 60):
        time.sleep(seconds)
        return "woke up"

    @task
    def nap(seconds: float = 9.5):
        time.sleep(seconds)

    @task(execution_timeout=timedelta(seconds=1))
    def too_slow():
        time.sleep(60)

    @task
    def stubborn():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)

    @task
    def lingers():
        # Reports success, then a non-daemon thread keeps a spawned runner's interpreter alive.
        import threading

        threading.Thread(target=time.sleep, args=(60,)).start()
        return "done"

    noop()
    chatty()
    boom()
    give_up()
    skip()
    hard_exit()
    sys_exit()
    killed()
    sleepy()
    nap()
    too_slow()
    stubborn()
    lingers()
