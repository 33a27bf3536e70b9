"""What the worker masks in a try's log: Airflow's rules for connections and variables."""

from __future__ import annotations

import json

from slipstream.management_api import redaction
from slipstream.worker.masking import MASK, SENSITIVE_WORDS, Masker


def test_connection_password_and_secret_sounding_extras_are_masked() -> None:
    masker = Masker()
    masker.connection("hunter22", json.dumps({"api_key": "k-123456", "region": "eu-west-1"}))
    line = "login hunter22 with k-123456 in eu-west-1"
    assert masker.redact(line) == f"login {MASK} with {MASK} in eu-west-1"


def test_only_variables_whose_key_sounds_secret_are_masked() -> None:
    masker = Masker()
    masker.variable("db_password", "s3cr3t-value")
    masker.variable("environment", "production")
    record = {"event": "s3cr3t-value in production", "args": ["s3cr3t-value"], "n": 3}
    assert masker.redact(record) == {"event": f"{MASK} in production", "args": [MASK], "n": 3}


def test_short_values_are_left_alone_and_the_longest_secret_wins() -> None:
    masker = Masker()
    masker.variable("token", "abc")  # too short to mask without hiding every "abc"
    masker.variable("secret", "abcdef")
    masker.variable("api_key", "abcdefgh")
    assert masker.redact("abc abcdef abcdefgh") == f"abc {MASK} {MASK}"


def test_the_worker_and_the_api_mask_the_same_words() -> None:
    assert SENSITIVE_WORDS == redaction.SENSITIVE_WORDS
    assert MASK == redaction.MASK
