"""Fault injection on the local stack with real processes: workers killed and stopped as ECS does it
(`fleet`), an Execution API that fails on demand (`proxy`), tasks that leave a trace of every try
(`ledger`), and the soak that combines them (`soak`; `python -m slipstream.chaos`)."""
