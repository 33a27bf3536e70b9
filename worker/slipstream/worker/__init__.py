"""The Slipstream worker: a Supervisor per task that talks to the Execution API, and the Task Runner
it forks to run user code. See `comms` for the protocol between the two."""
