"""The local stack: Slipstream on one machine, with moto's server standing in for AWS."""
