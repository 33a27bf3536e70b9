"""Request and response bodies, named and shaped after Airflow's `core_api/datamodels`."""
