"""Wire models of the Execution API: defined once, here. The worker's copy is checked against the
OpenAPI schema these produce (tests/test_wire_models.py)."""
