"""The one place that talks to DynamoDB: typed calls, error translation, round-trip discipline.

Every method is exactly one DynamoDB request. Throttling and service errors become `Retryable`
(the API answers 503 so that clients back off and retry; this request wrote nothing). A failed condition
is returned to the caller, with the item as it was, so that one round trip both attempts a
transition and explains a refusal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from slipstream.core import aws
from slipstream.core.settings import get_settings
from slipstream.store.codec import Item, from_item, to_attr, to_item
from slipstream.store.errors import Rejected, Retryable

_RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}


@dataclass
class ConditionFailed(Exception):
    """A conditional write was refused; `item` is the item as it stood (None if absent)."""

    item: Item | None


class Conflicted(Retryable):
    """A transaction met another one in flight on one of its items; nothing was written."""


@dataclass
class TransactionCancelled(Exception):
    """A transaction was refused by a condition; `items[i]` is the current item of action i
    when that action's condition failed, else None."""

    items: list[Item | None]
    failed: list[bool]


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def values(**kwargs: Any) -> dict[str, Any]:
    """Expression attribute values: `values(state="running")` -> `{":state": {"S": "running"}}`."""
    return {f":{k}": to_attr(v) for k, v in kwargs.items()}


@contextmanager
def translated() -> Iterator[None]:
    """AWS errors as the store's: throttling and server errors (any service's 5xx, after the
    client's own retries) become `Retryable`, a refused value `Rejected`: among them text that is
    not valid Unicode (a lone surrogate, which JSON's `\\ud800` escape can carry)."""
    try:
        yield
    except UnicodeEncodeError as exc:
        raise Rejected(f"text is not valid Unicode: {exc.reason}") from exc
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _RETRYABLE or status >= 500:
            raise Retryable(str(code)) from exc
        if code == "ValidationException":
            raise Rejected(str(exc.response["Error"].get("Message", ""))) from exc
        raise


class Table:
    def __init__(self, name: str | None = None) -> None:
        self.name = name or get_settings().table_name

    @property
    def client(self) -> Any:
        return aws.dynamodb()

    def get(
        self, pk: str, sk: str, *, consistent: bool = True, attributes: Sequence[str] = ()
    ) -> Item | None:
        """The item, or only its `attributes` when named: fewer bytes to send and parse (the read
        is charged for the whole item all the same)."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk), "ConsistentRead": consistent}
        if attributes:
            names = {f"#a{i}": name for i, name in enumerate(attributes)}
            kwargs.update(ProjectionExpression=", ".join(names), ExpressionAttributeNames=names)
        with translated():
            response = self.client.get_item(**kwargs)
        raw = response.get("Item")
        return from_item(raw) if raw else None

    def put(
        self,
        item: Item,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        returns: str = "NONE",
    ) -> Item | None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": to_item(item), "ReturnValues": returns}
        _add_condition(kwargs, condition, names, values, return_old=True)
        with translated():
            try:
                response = self.client.put_item(**kwargs)
            except self.client.exceptions.ConditionalCheckFailedException as exc:
                raise _condition_failed(exc) from None
        attrs = response.get("Attributes")
        return from_item(attrs) if attrs else None

    def update(
        self,
        pk: str,
        sk: str,
        update: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        returns: str = "NONE",
    ) -> Item | None:
        """One UpdateItem. On a failed condition raises `ConditionFailed` carrying the old item."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": key(pk, sk),
            "UpdateExpression": update,
            "ReturnValues": returns,
        }
        _add_condition(kwargs, condition, names, values, return_old=True)
        with translated():
            try:
                response = self.client.update_item(**kwargs)
            except self.client.exceptions.ConditionalCheckFailedException as exc:
                raise _condition_failed(exc) from None
        attrs = response.get("Attributes")
        return from_item(attrs) if attrs else None

    def delete(
        self,
        pk: str,
        sk: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        returns: str = "NONE",
    ) -> Item | None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk), "ReturnValues": returns}
        _add_condition(kwargs, condition, names, values, return_old=True)
        with translated():
            try:
                response = self.client.delete_item(**kwargs)
            except self.client.exceptions.ConditionalCheckFailedException as exc:
                raise _condition_failed(exc) from None
        attrs = response.get("Attributes")
        return from_item(attrs) if attrs else None

    def query(
        self,
        pk: str,
        *,
        prefix: str | None = None,
        between: tuple[str, str] | None = None,
        below: str | None = None,
        index: str | None = None,
        consistent: bool = True,
        forward: bool = True,
        limit: int | None = None,
        projection: str | None = None,
        names: dict[str, str] | None = None,
    ) -> list[Item]:
        """All items of a partition (optionally a key prefix, range or upper bound), paginated."""
        pk_name, sk_name = (f"{index}PK", f"{index}SK") if index else ("PK", "SK")
        expr = "#pk = :pk"
        attr_names = {"#pk": pk_name, **(names or {})}
        attr_values: dict[str, Any] = {":pk": {"S": pk}}
        if prefix is not None:
            expr += " AND begins_with(#sk, :prefix)"
            attr_names["#sk"] = sk_name
            attr_values[":prefix"] = {"S": prefix}
        elif between is not None:
            expr += " AND #sk BETWEEN :lo AND :hi"
            attr_names["#sk"] = sk_name
            attr_values[":lo"] = {"S": between[0]}
            attr_values[":hi"] = {"S": between[1]}
        elif below is not None:
            expr += " AND #sk < :hi"
            attr_names["#sk"] = sk_name
            attr_values[":hi"] = {"S": below}
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": expr,
            "ExpressionAttributeNames": attr_names,
            "ExpressionAttributeValues": attr_values,
            "ScanIndexForward": forward,
        }
        if index:
            kwargs["IndexName"] = index
        else:
            kwargs["ConsistentRead"] = consistent
        if projection:
            kwargs["ProjectionExpression"] = projection
        items: list[Item] = []
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(items)
            with translated():
                response = self.client.query(**kwargs)
            items.extend(from_item(i) for i in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = last

    def apply(self, action: dict[str, Any]) -> None:
        """One `Put` or `Update` action (as `put_action` / `update_action` build them) as a single
        request of its own, outside a transaction. A failed condition raises `ConditionFailed`."""
        ((kind, body),) = action.items()
        call = {"Put": self.client.put_item, "Update": self.client.update_item}[kind]
        with translated():
            try:
                call(TableName=self.name, **body)
            except self.client.exceptions.ConditionalCheckFailedException as exc:
                raise _condition_failed(exc) from None

    def transact(self, actions: Sequence[dict[str, Any]]) -> None:
        """One TransactWriteItems. Each action is `{"Put": {...}}`, `{"Update": {...}}`, ... with
        the table name filled in here. Refusals raise `TransactionCancelled`."""
        items = []
        for action in actions:
            ((kind, body),) = action.items()
            items.append(
                {kind: {"TableName": self.name, "ReturnValuesOnConditionCheckFailure": "ALL_OLD", **body}}
            )
        with translated():
            try:
                self.client.transact_write_items(TransactItems=items)
            except self.client.exceptions.TransactionCanceledException as exc:
                reasons = exc.response.get("CancellationReasons", [])
                if any(r.get("Code") == "TransactionConflict" for r in reasons):
                    raise Conflicted("transaction conflict") from exc
                if any(r.get("Code") in _RETRYABLE for r in reasons):
                    raise Retryable("throttled in a transaction") from exc
                failed = [r.get("Code") == "ConditionalCheckFailed" for r in reasons]
                old = [from_item(r["Item"]) if r.get("Item") else None for r in reasons]
                raise TransactionCancelled(items=old, failed=failed) from None

    def batch_get(self, keys: Sequence[tuple[str, str]], *, consistent: bool = True) -> list[Item]:
        out: list[Item] = []
        pending = [key(pk, sk) for pk, sk in keys]
        while pending:
            chunk, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {self.name: {"Keys": chunk, "ConsistentRead": consistent}}
            while request:
                with translated():
                    response = self.client.batch_get_item(RequestItems=request)
                out.extend(from_item(i) for i in response.get("Responses", {}).get(self.name, []))
                request = response.get("UnprocessedKeys") or {}
        return out


def _add_condition(
    kwargs: dict[str, Any],
    condition: str | None,
    names: dict[str, str] | None,
    values: dict[str, Any] | None,
    *,
    return_old: bool,
) -> None:
    if condition:
        kwargs["ConditionExpression"] = condition
        if return_old:
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    if names:
        kwargs["ExpressionAttributeNames"] = names
    if values:
        kwargs["ExpressionAttributeValues"] = values


def _condition_failed(exc: Any) -> ConditionFailed:
    raw = exc.response.get("Item")
    return ConditionFailed(item=from_item(raw) if raw else None)


def put_action(item: Item, condition: str | None = None, **expr: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Item": to_item(item)}
    _add_condition(body, condition, expr.get("names"), expr.get("values"), return_old=False)
    return {"Put": body}


def update_action(pk: str, sk: str, update: str, condition: str | None = None, **expr: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Key": key(pk, sk), "UpdateExpression": update}
    _add_condition(body, condition, expr.get("names"), expr.get("values"), return_old=False)
    return {"Update": body}


def delete_action(pk: str, sk: str, condition: str | None = None, **expr: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Key": key(pk, sk)}
    _add_condition(body, condition, expr.get("names"), expr.get("values"), return_old=False)
    return {"Delete": body}


def check_action(pk: str, sk: str, condition: str, **expr: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Key": key(pk, sk)}
    _add_condition(body, condition, expr.get("names"), expr.get("values"), return_old=False)
    return {"ConditionCheck": body}
