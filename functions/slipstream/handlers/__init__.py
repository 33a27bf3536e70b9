"""Lambda entry points: one module per function, named in template.yaml."""
