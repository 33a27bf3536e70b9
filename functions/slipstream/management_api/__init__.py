"""The management API (`/api/v2`): Airflow's public REST API shapes for operators, admin tokens only."""
