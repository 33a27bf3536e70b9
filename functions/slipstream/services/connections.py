"""Connection formats: Airflow's connection URI and its JSON form, both ways."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit


def parse_uri(uri: str) -> dict[str, Any]:
    """`scheme://login:password@host:port/schema?extra` as Airflow reads it (`-` in the scheme
    becomes `_`; an `__extra__` query parameter holds JSON extras)."""
    parts = urlsplit(uri)
    if not parts.scheme:
        raise ValueError("a connection URI needs a scheme (the connection type)")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra: Any = json.loads(query.pop("__extra__")) if "__extra__" in query else (query or None)
    return {
        "conn_type": parts.scheme.replace("-", "_"),
        "host": unquote(parts.hostname or "") or None,
        "schema": unquote(parts.path.lstrip("/")) or None,
        "login": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "port": parts.port,
        "extra": json.dumps(extra) if extra is not None else None,
    }


def to_uri(fields: dict[str, Any]) -> str:
    conn_type = str(fields.get("conn_type") or "").replace("_", "-")
    auth = ""
    if fields.get("login") or fields.get("password"):
        auth = quote(fields.get("login") or "", safe="")
        if fields.get("password"):
            auth += ":" + quote(fields["password"], safe="")
        auth += "@"
    host = quote(fields.get("host") or "", safe="")
    port = f":{fields['port']}" if fields.get("port") else ""
    schema = "/" + quote(fields["schema"], safe="") if fields.get("schema") else ""
    extra = fields.get("extra")
    query = "?" + urlencode({"__extra__": extra}) if extra else ""
    return f"{conn_type}://{auth}{host}{port}{schema}{query}"


def parse_secret(secret: str) -> dict[str, Any]:
    """A Secrets Manager value: a connection URI, or JSON with the connection's fields."""
    text = secret.strip()
    if not text.startswith("{"):
        return parse_uri(text)
    data = json.loads(text)
    extra = data.get("extra")
    return {
        "conn_type": data.get("conn_type"),
        "host": data.get("host"),
        "schema": data.get("schema"),
        "login": data.get("login"),
        "password": data.get("password"),
        "port": data.get("port"),
        "extra": json.dumps(extra) if isinstance(extra, dict) else extra,
    }
