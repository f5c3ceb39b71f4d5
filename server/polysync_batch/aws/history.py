"""The feed's durable history (SPEC §12) in a DynamoDB table shared by every replica: string
partition key `pk`, string sort key `sk`, TTL attribute `expires_at` (docs/events.md has the
design and its reasoning).

- One writer per platform at a time, the holder of a lease (the `head` item, taken and renewed
  with conditional writes). It numbers the changes it sees (positions 1, 2, … with no gap) and
  versions each run's changes (`generation << 32 | count`, so a later writer's versions are
  higher), and writes them with the head in one transaction (99 changes + the head per
  TransactWriteItems, conditional on still owning the lease and on the head it read): a writer
  that lost its lease writes nothing, and no change is recorded twice.
- Every replica (the writer too) tails the table: the head (GetItem, ConsistentRead), then the
  changes up to it (Query, ConsistentRead), and serves its feeds from that. A cursor names a
  position, which every replica understands; the cursors' key lives in the table too.
- Changes are spread over `SHARDS` partitions per `PAGE` positions (pk =
  `<platform>#c#<position // PAGE>#<position % SHARDS>`, sk = the position, zero-padded), so a
  burst is written to 8 partitions at once and no partition takes more than 1/8 of the writes.
- The latest change of each run is kept too (pk = `<platform>#r#<crc32(run id) % RUN_SHARDS>`,
  sk = the run id): the snapshot of a replica that just started, and the runs AWS forgot.
- A replica that is not the writer keeps the latest change it saw of each run until the table
  has it (or something newer); if it becomes the writer, it records those first, so a change
  only it saw is not lost with the old writer.
- What a replica tails also reaches its watch core (bootstrap.py: the listener applies each
  change as an event), so a change recorded by the writer reaches every replica's watchers; a
  change that comes back from the watch core is not recorded again (`record` drops what is not
  newer than the table's latest change of that run).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import uuid
import zlib
from collections import OrderedDict, deque
from datetime import datetime
from typing import Any

from polysync_batch.aws.calls import AwsCaller
from polysync_batch.domain import errors
from polysync_batch.domain.errors import cursor_expired
from polysync_batch.domain.models import Run
from polysync_batch.domain.ordering import Verdict, compare
from polysync_batch.feed.cursor import CursorCodec
from polysync_batch.feed.history import MAX_CHANGES, READ_LIMIT, BatchListener, Change
from polysync_batch.feed.serial import run_from_json, to_json

log = logging.getLogger(__name__)
PAGE = 100_000  # positions per partition range
SHARDS = 8  # partitions per range
RUN_SHARDS = 16  # partitions of the latest-change-per-run items
TRANSACT_CHANGES = 99  # + the head update: DynamoDB's 100 items per transaction
LEASE_SECONDS = 10.0
TAIL_SECONDS = 0.2
MAX_UNRECORDED = 100_000


def _pad(position: int) -> str:
    return f"{position:016d}"


def _pack(run: Run) -> bytes:
    return zlib.compress(json.dumps(to_json(run), separators=(",", ":")).encode())


def _unpack(blob: Any) -> Run:
    return run_from_json(json.loads(zlib.decompress(blob)))


class DynamoHistory:
    def __init__(
        self,
        platform: str,
        dynamodb_client: Any,
        table: str,
        retention_seconds: float,
        call: AwsCaller,
        *,
        tail_seconds: float = TAIL_SECONDS,
        lease_seconds: float = LEASE_SECONDS,
        max_changes: int = MAX_CHANGES,
    ) -> None:
        self.platform = platform
        self._db = dynamodb_client
        self._table = table
        self._retention = retention_seconds
        self._call = call
        self._context = {"history_table": table}
        self._tail_seconds = tail_seconds
        self._lease_seconds = lease_seconds
        self._owner = uuid.uuid4().hex
        self.codec: CursorCodec = CursorCodec(platform, "", b"")  # replaced by start()
        self._recent: deque[Change] = deque(maxlen=max_changes)
        self._head = 0  # what this replica has tailed
        self._listeners: list[BatchListener] = []
        self._unrecorded: OrderedDict[str, tuple[Run, datetime]] = OrderedDict()
        self._tailed: OrderedDict[str, Run] = OrderedDict()  # the latest tailed change of each run
        self.tail_ok = False  # the last read of the head succeeded
        self.writer_alive = False  # and some replica held the lease then
        self._queue: list[list[tuple[Run, datetime]]] = []
        self.leader = False
        self._generation = 0
        self._written = 0  # the head as the writer last wrote it
        self._versions: dict[str, int] = {}
        self._tasks: list[asyncio.Task] = []
        self._wake_writer: asyncio.Event | None = None
        self._wake_tail: asyncio.Event | None = None
        self._tail_lock: asyncio.Lock | None = None
        self.writes = 0  # transactions written (for tests and the bench)

    # -- keys ----------------------------------------------------------------------------------

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    def _head_key(self) -> dict[str, Any]:
        return self._key(f"{self.platform}#head", "head")

    def _change_pk(self, position: int) -> str:
        return f"{self.platform}#c#{position // PAGE}#{position % SHARDS}"

    def _run_pk(self, run_id: str) -> str:
        return f"{self.platform}#r#{zlib.crc32(run_id.encode()) % RUN_SHARDS}"

    # -- the History port ----------------------------------------------------------------------

    @property
    def head(self) -> int:
        return self._head

    def subscribe(self, listener: BatchListener) -> None:
        self._listeners.append(listener)

    def record(self, batch: list[tuple[Run, datetime]]) -> None:
        """Changes this replica saw: the writer writes them; any replica keeps them until the
        table has them (or something newer), in case it becomes the writer. A change the table
        already has (it came from the tail, through the watch core) is dropped."""
        batch = [(run, seen_at) for run, seen_at in batch if self._new(run)]
        if not batch:
            return
        for run, seen_at in batch:
            self._unrecorded[run.run_id] = (run, seen_at)
            self._unrecorded.move_to_end(run.run_id)
        while len(self._unrecorded) > MAX_UNRECORDED:
            self._unrecorded.popitem(last=False)
        if self.leader:
            self._queue.append(batch)
            self._wake(self._wake_writer)

    def _new(self, run: Run) -> bool:
        tailed = self._tailed.get(run.run_id)
        return tailed is None or compare(run, None, tailed, None) is Verdict.NEWER

    def _remember(self, changes: list[Change]) -> None:
        for change in changes:
            self._tailed[change.run.run_id] = change.run
            self._tailed.move_to_end(change.run.run_id)
        while len(self._tailed) > MAX_UNRECORDED:
            self._tailed.popitem(last=False)

    async def start(self) -> None:
        """Reads (or creates) the cursors' key, the head and the runs not yet terminal, then
        tails, holds or waits for the lease, and writes while it holds it."""
        self._wake_writer, self._wake_tail, self._tail_lock = asyncio.Event(), asyncio.Event(), asyncio.Lock()
        history_id, key = await self._meta()
        self.codec = CursorCodec(self.platform, history_id, key)
        head = await self._read_head()
        self._head = int(head.get("head", 0))
        active = await self._active_runs()
        self._remember(active)
        if active:
            self._notify(active)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(t) for t in (self._tailing(), self._leasing(), self._writing())]

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        if self.leader:  # let another replica take over at once
            self.leader = False
            asyncio.ensure_future(self._release())

    async def after(self, position: int, limit: int = READ_LIMIT) -> list[Change]:
        if position > self._head:
            await self._tail_once()  # another replica's cursor may be ahead of this one's tail
        if position > self._head:
            raise cursor_expired(self.platform, "it is ahead of the history table")
        first = self._recent[0].position if self._recent else self._head + 1
        if position >= first - 1:
            start = position - first + 1
            return [self._recent[i] for i in range(start, min(len(self._recent), start + limit))]
        return await self._read(position, min(self._head, position + limit))

    async def run(self, run_id: str) -> Run | None:
        """The latest recorded state of a run (for runs AWS no longer returns)."""
        response = await self._call(
            "GetItem",
            self._db.get_item,
            self._context,
            TableName=self._table,
            Key=self._key(self._run_pk(run_id), run_id),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _unpack(item["run"]["B"]) if item is not None else None

    # -- set-up --------------------------------------------------------------------------------

    async def _meta(self) -> tuple[str, bytes]:
        key = self._key(f"{self.platform}#meta", "meta")
        item = {**key, "history_id": {"S": uuid.uuid4().hex[:16]}, "key": {"B": secrets.token_bytes(32)}}
        create = self._conditional(self._db.put_item, Item=item, ConditionExpression="attribute_not_exists(pk)")
        await self._call("PutItem", create, self._context)
        response = await self._call(
            "GetItem", self._db.get_item, self._context, TableName=self._table, Key=key, ConsistentRead=True
        )
        found = response["Item"]
        return found["history_id"]["S"], bytes(found["key"]["B"])

    async def _read_head(self) -> dict[str, Any]:
        response = await self._call(
            "GetItem",
            self._db.get_item,
            self._context,
            TableName=self._table,
            Key=self._head_key(),
            ConsistentRead=True,
        )
        item = response.get("Item") or {}
        return {name: (float(value["N"]) if "N" in value else value.get("S")) for name, value in item.items()}

    async def _active_runs(self) -> list[Change]:
        changes = []
        for shard in range(RUN_SHARDS):
            for item in await self._query(
                KeyConditionExpression="pk = :pk",
                FilterExpression="active = :yes",
                ExpressionAttributeValues={":pk": {"S": f"{self.platform}#r#{shard}"}, ":yes": {"N": "1"}},
            ):
                changes.append(self._change(item))
        return sorted(changes, key=lambda change: change.position)

    # -- tailing -------------------------------------------------------------------------------

    async def _tailing(self) -> None:
        assert self._wake_tail is not None
        while True:
            try:
                await self._tail_once()
                self.tail_ok = True
            except errors.PlatformError as error:
                self.tail_ok = False
                log.warning("history table %s of platform %s: tail failed: %s", self._table, self.platform, error)
            except Exception:  # a bug must not stop the tail for good
                self.tail_ok = False
                log.exception("history table %s of platform %s: tail failed", self._table, self.platform)
            self._wake_tail.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_tail.wait(), self._tail_seconds)

    async def _tail_once(self) -> None:
        assert self._tail_lock is not None
        async with self._tail_lock:
            item = await self._read_head()
            self.writer_alive = float(item.get("until") or 0) > time.time()
            head = int(item.get("head", 0))
            while head > self._head:
                changes = await self._read(self._head, min(head, self._head + READ_LIMIT), tailing=True)
                self._recent.extend(changes)
                self._head = changes[-1].position if changes else min(head, self._head + READ_LIMIT)
                self._forget_recorded(changes)
                self._remember(changes)
                if changes:
                    self._notify(changes)

    def _forget_recorded(self, changes: list[Change]) -> None:
        for change in changes:
            mine = self._unrecorded.get(change.run.run_id)
            if mine is not None and compare(mine[0], None, change.run, None) is not Verdict.NEWER:
                del self._unrecorded[change.run.run_id]

    def _notify(self, changes: list[Change]) -> None:
        for listener in self._listeners:
            listener(changes)

    async def _read(self, after: int, upto: int, tailing: bool = False) -> list[Change]:
        """The changes in (after, upto], oldest first; CURSOR_EXPIRED when some expired."""
        if upto <= after:
            return []
        items: list[dict[str, Any]] = []
        first, last = after + 1, upto
        for page in range(first // PAGE, last // PAGE + 1):
            low, high = max(first, page * PAGE), min(last, page * PAGE + PAGE - 1)
            for position in range(low, low + min(SHARDS, high - low + 1)):  # one per shard
                items += await self._query(
                    KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                    ExpressionAttributeValues={
                        ":pk": {"S": self._change_pk(position)},
                        ":low": {"S": _pad(low)},
                        ":high": {"S": _pad(high)},
                    },
                )
        now = time.time()
        changes = sorted(
            (self._change(item) for item in items if int(item["expires_at"]["N"]) > now), key=lambda c: c.position
        )
        if [c.position for c in changes] != list(range(first, last + 1)):
            if tailing:  # expired before this replica read it: nothing to do but go on
                log.warning("history table %s: changes %d-%d expired before they were read", self._table, first, last)
                return changes
            raise cursor_expired(self.platform, "older than the history table keeps")
        return changes

    async def _query(self, **request: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            response = await self._call(
                "Query", self._db.query, self._context, TableName=self._table, ConsistentRead=True, **request
            )
            items += response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @staticmethod
    def _change(item: dict[str, Any]) -> Change:
        return Change(
            _unpack(item["run"]["B"]),
            int(item["version"]["N"]),
            datetime.fromisoformat(item["time"]["S"]),
            int(item["position"]["N"]),
        )

    # -- the lease -----------------------------------------------------------------------------

    async def _leasing(self) -> None:
        while True:
            try:
                await self._hold_lease()
            except errors.PlatformError as error:
                log.warning("history table %s of platform %s: lease failed: %s", self._table, self.platform, error)
                self.leader = False
            except Exception:  # a bug must not stop the lease for good
                log.exception("history table %s of platform %s: lease failed", self._table, self.platform)
                self.leader = False
            await asyncio.sleep(self._lease_seconds / 3)

    async def _hold_lease(self) -> None:
        now = time.time()
        if self.leader:
            self.leader = await self._call(
                "UpdateItem",
                self._conditional(
                    self._db.update_item,
                    Key=self._head_key(),
                    UpdateExpression="SET #until = :until",
                    ConditionExpression="#owner = :me",
                    ExpressionAttributeNames={"#until": "until", "#owner": "owner"},
                    ExpressionAttributeValues={
                        ":until": {"N": repr(now + self._lease_seconds)},
                        ":me": {"S": self._owner},
                    },
                ),
                self._context,
            )
            return
        taken = await self._call(
            "UpdateItem",
            self._conditional(
                self._db.update_item,
                Key=self._head_key(),
                UpdateExpression=(
                    "SET #owner = :me, #until = :until, generation = if_not_exists(generation, :zero) + :one, "
                    "head = if_not_exists(head, :zero)"
                ),
                ConditionExpression="attribute_not_exists(pk) OR #until < :now",
                ExpressionAttributeNames={"#until": "until", "#owner": "owner"},
                ExpressionAttributeValues={
                    ":me": {"S": self._owner},
                    ":until": {"N": repr(now + self._lease_seconds)},
                    ":now": {"N": repr(now)},
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                },
            ),
            self._context,
        )
        if taken:
            head = await self._read_head()
            if head.get("owner") != self._owner:
                return
            self._generation, self._written, self._versions = int(head["generation"]), int(head["head"]), {}
            await self._tail_once()  # what the table has is not recorded again
            self.leader = True
            log.info("history table %s: this replica writes platform %s's changes", self._table, self.platform)
            # What this replica saw that the table does not have: first.
            self._queue.insert(0, list(self._unrecorded.values()))
            self._wake(self._wake_writer)

    async def _release(self) -> None:
        with contextlib.suppress(errors.PlatformError):  # else it expires by itself
            await self._call(
                "UpdateItem",
                self._conditional(
                    self._db.update_item,
                    Key=self._head_key(),
                    UpdateExpression="SET #until = :zero",
                    ConditionExpression="#owner = :me",
                    ExpressionAttributeNames={"#until": "until", "#owner": "owner"},
                    ExpressionAttributeValues={":zero": {"N": "0"}, ":me": {"S": self._owner}},
                ),
                self._context,
            )

    # -- writing -------------------------------------------------------------------------------

    async def _writing(self) -> None:
        assert self._wake_writer is not None
        while True:
            await self._wake_writer.wait()
            self._wake_writer.clear()
            while self.leader and self._queue:
                batch = self._queue[0]
                try:
                    await self._write(batch)
                except Exception as error:  # AWS (retried), or a bug: logged, retried, never fatal
                    log.warning("history table %s: write failed (retried): %s", self._table, error, exc_info=True)
                    await asyncio.sleep(1.0)
                    continue
                self._queue.pop(0)
            if not self.leader:
                self._queue.clear()  # the new writer records them (they stay in _unrecorded)

    async def _write(self, batch: list[tuple[Run, datetime]]) -> None:
        expires = str(int(time.time() + self._retention))
        while batch:
            chunk, rest = batch[:TRANSACT_CHANGES], batch[TRANSACT_CHANGES:]
            changes = []
            versions = dict(self._versions)
            for offset, (run, seen_at) in enumerate(chunk, start=1):
                count = versions.get(run.run_id, 0) + 1
                versions[run.run_id] = count
                changes.append(Change(run, (self._generation << 32) | count, seen_at, self._written + offset))
            puts = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **self._key(self._change_pk(c.position), _pad(c.position)),
                            **self._attributes(c, expires),
                        },
                    }
                }
                for c in changes
            ]
            head = {
                "Update": {
                    "TableName": self._table,
                    "Key": self._head_key(),
                    "UpdateExpression": "SET head = :new",
                    "ConditionExpression": "#owner = :me AND head = :old",
                    "ExpressionAttributeNames": {"#owner": "owner"},
                    "ExpressionAttributeValues": {
                        ":new": {"N": str(self._written + len(changes))},
                        ":old": {"N": str(self._written)},
                        ":me": {"S": self._owner},
                    },
                }
            }
            written = await self._call("TransactWriteItems", self._transaction([*puts, head]), self._context)
            if not written:  # the lease moved on: this replica no longer writes
                self.leader = False
                return
            self.writes += 1
            self._written += len(changes)
            self._versions = versions
            await self._write_runs(changes, expires)
            batch = rest
        self._wake(self._wake_tail)

    def _attributes(self, change: Change, expires: str) -> dict[str, Any]:
        return {
            "run": {"B": _pack(change.run)},
            "version": {"N": str(change.version)},
            "time": {"S": change.time.isoformat()},
            "position": {"N": str(change.position)},
            "expires_at": {"N": expires},
        }

    async def _write_runs(self, changes: list[Change], expires: str) -> None:
        latest = {c.run.run_id: c for c in changes}
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        **self._key(self._run_pk(c.run.run_id), c.run.run_id),
                        **self._attributes(c, expires),
                        "active": {"N": "0" if c.run.terminal else "1"},
                    }
                }
            }
            for c in latest.values()
        ]
        for start in range(0, len(requests), 25):
            pending = {self._table: requests[start : start + 25]}
            while pending:
                response = await self._call(
                    "BatchWriteItem", self._db.batch_write_item, self._context, RequestItems=pending
                )
                pending = response.get("UnprocessedItems") or {}
                if pending:
                    await asyncio.sleep(0.05)

    # -- helpers -------------------------------------------------------------------------------

    def _conditional(self, write: Any, **kwargs: Any) -> Any:
        def attempt() -> bool:
            try:
                write(TableName=self._table, **kwargs)
            except self._db.exceptions.ConditionalCheckFailedException:
                return False
            return True

        return attempt

    def _transaction(self, items: list[dict[str, Any]]) -> Any:
        def attempt() -> bool:
            try:
                self._db.transact_write_items(TransactItems=items)
            except self._db.exceptions.TransactionCanceledException as error:
                reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons:
                    return False
                raise
            return True

        return attempt

    @staticmethod
    def _wake(event: asyncio.Event | None) -> None:
        if event is not None:
            event.set()
