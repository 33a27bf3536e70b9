"""JWT issuing and validation: task tokens (Airflow's workload and execution scopes) and admin tokens."""
