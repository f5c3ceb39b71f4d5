"""The IdempotencyLedger over a DynamoDB table: string partition key `key`, TTL attribute
`expires_at` (epoch seconds). Every write is conditional, so two replicas can never both own
one request_id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polysync_batch.aws.calls import AwsCaller
from polysync_batch.service.ports import Claim


class DynamoDBLedger:
    def __init__(self, dynamodb_client: Any, table: str, ttl_seconds: float, call: AwsCaller) -> None:
        self._dynamodb = dynamodb_client
        self._table = table
        self._ttl = ttl_seconds
        self._call = call
        self._context = {"idempotency_table": table}

    def _conditional(self, write: Callable[..., Any], **kwargs: Any) -> Callable[[], bool]:
        """A conditional write: True if it happened, False if its condition did not hold."""

        def attempt() -> bool:
            try:
                write(TableName=self._table, **kwargs)
            except self._dynamodb.exceptions.ConditionalCheckFailedException:
                return False
            return True

        return attempt

    async def claim(self, key: str, owner: str, now: float, fingerprint: str = "") -> Claim:
        item = {
            "key": {"S": key},
            "owner": {"S": owner},
            "claimed_at": {"N": repr(now)},
            "expires_at": {"N": str(int(now + self._ttl))},
        }
        if fingerprint:  # what was asked: a different request under this key is refused on any replica
            item["fingerprint"] = {"S": fingerprint}
        won = await self._call(
            "PutItem",
            self._conditional(
                self._dynamodb.put_item,
                Item=item,
                ConditionExpression="attribute_not_exists(#k)",
                ExpressionAttributeNames={"#k": "key"},
            ),
            self._context,
        )
        if won:
            return Claim(key, owner, now, fingerprint=fingerprint)
        found = await self.read(key)
        # Expired and removed between the two calls: claim again.
        return found if found is not None else await self.claim(key, owner, now, fingerprint)

    async def read(self, key: str) -> Claim | None:
        response = await self._call(
            "GetItem",
            self._dynamodb.get_item,
            self._context,
            TableName=self._table,
            Key={"key": {"S": key}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            return None
        return Claim(
            key,
            item["owner"]["S"],
            float(item["claimed_at"]["N"]),
            item.get("run_id", {}).get("S", ""),
            item.get("fingerprint", {}).get("S", ""),
        )

    async def renew(self, claim: Claim, now: float) -> bool:
        return await self._call(
            "UpdateItem",
            self._conditional(
                self._dynamodb.update_item,
                Key={"key": {"S": claim.key}},
                UpdateExpression="SET claimed_at = :now",
                ConditionExpression="#o = :me AND attribute_not_exists(run_id)",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"N": repr(now)}, ":me": {"S": claim.owner}},
            ),
            self._context,
        )

    async def take_over(self, claim: Claim, owner: str, now: float) -> bool:
        return await self._call(
            "UpdateItem",
            self._conditional(
                self._dynamodb.update_item,
                Key={"key": {"S": claim.key}},
                UpdateExpression="SET #o = :new, claimed_at = :now",
                ConditionExpression="#o = :old AND claimed_at = :then AND attribute_not_exists(run_id)",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={
                    ":new": {"S": owner},
                    ":old": {"S": claim.owner},
                    ":now": {"N": repr(now)},
                    ":then": {"N": repr(claim.claimed_at)},
                },
            ),
            self._context,
        )

    async def record(self, claim: Claim, run_id: str, now: float) -> None:
        await self._call(
            "UpdateItem",
            self._dynamodb.update_item,
            self._context,
            TableName=self._table,
            Key={"key": {"S": claim.key}},
            UpdateExpression="SET run_id = :run, expires_at = :expires",
            ExpressionAttributeValues={":run": {"S": run_id}, ":expires": {"N": str(int(now + self._ttl))}},
        )
