"""Fan-out, fan-in: independent tasks run in parallel and one task combines their results."""

from slipstream.sdk import dag, task


@dag(schedule=None, tags=["example"])
def fan_out_fan_in():
    @task
    def square(n):
        return n * n

    @task
    def combine(squares):
        print(f"sum of squares: {sum(squares)}")
        return sum(squares)

    combine([square.override(task_id=f"square_{n}")(n) for n in range(1, 5)])


fan_out_fan_in()
