"""Airflow's Execution API (version 2026-06-30), served from Lambda. Paths live under `/execution`."""
