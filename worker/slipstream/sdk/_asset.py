"""Assets: what tasks produce (`outlets`) and what asset-scheduled DAGs wait for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Asset:
    """An asset named `name` at `uri`; either may be omitted and then defaults to the other."""

    name: str = ""
    uri: str = ""

    def __post_init__(self) -> None:
        if not (self.name or self.uri):
            raise ValueError("an Asset needs a name or a uri")
        object.__setattr__(self, "name", self.name or self.uri)
        object.__setattr__(self, "uri", self.uri or self.name)
