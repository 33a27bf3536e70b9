"""Configuration and AWS plumbing shared by every Lambda function."""
