"""Signing keys: a key ring loaded from AWS Secrets Manager, cached, rotatable by `kid`.

The secret is a JSON document::

    {"keys": [{"kid": "2026-11", "secret": "<at least 32 random bytes, base64url>"},
              {"kid": "2026-10", "secret": "..."}]}

The first key signs; every key listed verifies. A single key may also be stored flat,
`{"kid": "k1", "secret": "..."}`, as template.yaml generates it at deploy time.

Rotation: prepend a new key, wait for the cache (`SLIPSTREAM_SIGNING_KEY_CACHE_SECONDS`) to expire
everywhere, drop the old key once the longest token lifetime has passed. No request fails during
the switch because tokens name their `kid`.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from slipstream.core import aws
from slipstream.core.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

ALGORITHM = "HS512"


@dataclass(frozen=True)
class KeyRing:
    signing_kid: str
    keys: dict[str, bytes]

    @classmethod
    def from_document(cls, document: str | bytes) -> KeyRing:
        data = json.loads(document)
        entries = data.get("keys", [data])
        if not entries:
            raise ValueError("the signing key secret lists no keys")
        keys = {str(e["kid"]): _decode_secret(e["secret"]) for e in entries}
        return cls(signing_kid=str(entries[0]["kid"]), keys=keys)

    @property
    def signing_key(self) -> bytes:
        return self.keys[self.signing_kid]


def _decode_secret(value: str) -> bytes:
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if len(raw) < 32:
        raise ValueError("signing keys must be at least 32 bytes")
    return raw


def new_key_document(kid: str = "k1") -> str:
    """A fresh secret document with one random key (used by the local stack and `sam deploy` docs)."""
    secret = base64.urlsafe_b64encode(secrets.token_bytes(64)).decode().rstrip("=")
    return json.dumps({"keys": [{"kid": kid, "secret": secret}]})


@cache
def _provider() -> SecretsProvider:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=aws.secretsmanager())


def prepare_provider() -> None:
    """Build the key provider without reading the secret, for a SnapStart snapshot: Powertools'
    parameters module and the boto3 it imports (about 0.1 s) are then restored, not imported,
    while the provider itself is rebuilt after each restore (`forget_keys`)."""
    _provider()


@lru_cache(maxsize=4)
def _parse(document: str) -> KeyRing:
    return KeyRing.from_document(document)


def key_ring() -> KeyRing:
    """The current key ring (Secrets Manager through Powertools, cached for
    `SLIPSTREAM_SIGNING_KEY_CACHE_SECONDS`)."""
    settings = get_settings()
    document = _provider().get(settings.signing_key_secret, max_age=settings.signing_key_cache_seconds)
    return _parse(str(document))


def forget_keys() -> None:
    """Drop cached keys and the provider (tests; a SnapStart restore must re-read the secret)."""
    _provider.cache_clear()
    _parse.cache_clear()
