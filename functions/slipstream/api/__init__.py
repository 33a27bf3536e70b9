"""The HTTP surface behind API Gateway: the Execution API under `/execution`, the management API
under `/api/v2` (issue: scheduler and DAG runs)."""
