"""The outbox relay: in order per organization, retried until it lands, logged as JSON."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from opbx.broadcasting.base import BATCH_LIMIT
from opbx.broadcasting.relay import READ_EVERY, SYNC_EVENT, SYNC_INTERVAL, Backlog, OutboxRelay, backoff
from opbx.db.engine import Database
from opbx.telephony.ingest import WebhookKind, sign_body
from opbx.telephony.service import CallService
from tests.helpers.broadcasters import RecordingBroadcaster
from tests.helpers.clock import ManualClock
from tests.helpers.world import Org, World

T0 = 1_800_000_000


async def post(service: CallService, secret: str, kind: WebhookKind, **fields: Any) -> None:
    body = json.dumps(fields).encode()
    await service.handle(kind, body, sign_body(secret, body))


async def initiated(service: CallService, organization: Org, call_id: str) -> None:
    """A new call to the organization's first number (which rings an extension)."""
    await post(
        service, organization.secret, WebhookKind.CALL_INITIATED, call_id=call_id, to=organization.did_numbers[0]
    )


async def life(service: CallService, secret: str, call_id: str, did: str) -> None:
    await post(service, secret, WebhookKind.CALL_INITIATED, call_id=call_id, to=did, timestamp=T0)
    await post(service, secret, WebhookKind.CALL_STATUS, callIds=[call_id], status="answered")
    await post(service, secret, WebhookKind.CALL_STATUS, callIds=[call_id], status="completed")


def rig(
    database: Database, *, handing: bool = False
) -> tuple[ManualClock, RecordingBroadcaster, OutboxRelay, CallService]:
    """A clock, a fake realtime server, the relay to it and the service feeding the outbox.

    ``handing``: the service hands the relay what it commits, as in a running system; without,
    the relay learns of events only by reading the outbox, as of those another process commits.
    """
    clock = ManualClock(wall=T0 + 60)
    broadcaster = RecordingBroadcaster()
    relay = OutboxRelay(database, broadcaster, clock=clock)
    service = CallService(database, clock=clock, on_commit=relay.committed if handing else None)
    return clock, broadcaster, relay, service


Rig = tuple[ManualClock, RecordingBroadcaster, OutboxRelay, CallService]


@pytest.fixture
async def handing(database: Database) -> AsyncIterator[Rig]:
    """A rig whose service hands its commits to the relay, the relay leading (as its loop would make it)."""
    parts = rig(database, handing=True)
    assert await parts[2].leadership.hold()
    yield parts
    await parts[2].leadership.release()


def test_backoff_doubles_to_a_ceiling() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 8, 20)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


async def test_events_go_out_in_order_and_are_logged_as_json(
    database: Database, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="opbx.broadcast")
    _clock, broadcaster, relay, service = rig(database)
    await life(service, world.acme.secret, "c1", world.acme.did_numbers[0])
    assert await relay.send_due() == 3
    assert [event for _, event, _ in broadcaster.sent] == ["call.initiated", "call.answered", "call.ended"]
    assert await relay.pending() == 0
    assert await relay.send_due() == 0  # nothing sent twice
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "opbx.broadcast"]
    assert {
        "message": "broadcast",
        "event": "call.initiated",
        "channel": f"presence-org.{world.acme.id}",
        "organization": world.acme.id,
        "call_id": "c1",
    }.items() <= lines[0].items()
    assert len(lines) == 5  # initiated on one channel, answered and ended on two each


async def test_a_failing_organization_waits_in_order_while_others_go_on(database: Database, world: World) -> None:
    clock, broadcaster, relay, service = rig(database)
    broadcaster.down_for = {f"presence-org.{world.acme.id}"}
    await life(service, world.acme.secret, "a1", world.acme.did_numbers[0])
    await life(service, world.globex.secret, "g1", world.globex.did_numbers[0])
    assert await relay.send_due() == 3  # Globex's three; Acme's first failed and holds the rest
    assert {payload["call_id"] for _, _, payload in broadcaster.sent} == {"g1"}
    assert await relay.pending() == 3

    broadcaster.down_for = set()
    assert await relay.send_due() == 0  # not due yet: backing off
    clock.advance(backoff(1).total_seconds())
    assert await relay.send_due() == 3
    acme_events = [(event, payload["call_id"]) for _, event, payload in broadcaster.sent if payload["call_id"] == "a1"]
    assert acme_events == [("call.initiated", "a1"), ("call.answered", "a1"), ("call.ended", "a1")]
    assert await relay.pending() == 0


async def test_queued_events_go_out_in_batches_of_at_most_ten_channel_events(database: Database, world: World) -> None:
    _clock, broadcaster, relay, service = rig(database)
    for n in range(12):  # twelve calls, one channel-event each (no extension on the DID)
        body = {"call_id": f"c{n}", "to": world.acme.did_numbers[1], "timestamp": T0}
        await post(service, world.acme.secret, WebhookKind.CALL_INITIATED, **body)
    assert await relay.send_due() == 12
    assert broadcaster.batches == [BATCH_LIMIT, 2]
    assert [payload["call_id"] for _, _, payload in broadcaster.sent] == [f"c{n}" for n in range(12)]
    assert [payload["seq"] for _, _, payload in broadcaster.sent] == list(range(1, 13))
    assert await relay.pending() == 0


async def test_a_refused_batch_is_sent_again_one_by_one(database: Database, world: World) -> None:
    """The whole batch is refused (one organization's channel is down); the others' events still go."""
    _clock, broadcaster, relay, service = rig(database)
    await initiated(service, world.globex, "g1")
    await initiated(service, world.acme, "a1")
    await initiated(service, world.globex, "g2")
    broadcaster.down_for = {f"presence-org.{world.acme.id}"}
    assert await relay.send_due() == 2
    assert broadcaster.batches == []  # the batch of three was refused whole
    assert [payload["call_id"] for _, _, payload in broadcaster.sent] == ["g1", "g2"]
    assert await relay.pending() == 1


async def test_retries_back_off_for_as_long_as_it_takes(database: Database, world: World) -> None:
    clock, broadcaster, relay, service = rig(database)
    broadcaster.down_for = {f"presence-org.{world.acme.id}"}
    await initiated(service, world.acme, "c1")
    for attempt in range(1, 12):
        assert await relay.send_due() == 0
        clock.advance(backoff(attempt).total_seconds())
    broadcaster.down_for = set()
    assert await relay.send_due() == 1
    assert broadcaster.sent[0][2]["call_id"] == "c1"


def broadcast_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == "opbx.broadcast"]


async def test_a_stall_and_its_recovery_are_one_line_each_with_the_lag(
    database: Database, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="opbx.broadcast")
    clock, broadcaster, relay, service = rig(database)
    broadcaster.down_for = {f"presence-org.{world.acme.id}"}
    await life(service, world.acme.secret, "s1", world.acme.did_numbers[0])
    for attempt in range(1, 4):
        await relay.send_due()
        clock.advance(backoff(attempt).total_seconds())
    stalled = [line for line in broadcast_lines(caplog) if line["message"] == "delivery stalled"]
    assert len(stalled) == 1  # said once, not at every retry
    assert stalled[0]["organization"] == world.acme.id
    backlog = await relay.measure_backlog()
    assert (backlog.depth, backlog.stalled) == (3, (world.acme.id,))
    assert backlog.oldest_age == pytest.approx(backoff(1).total_seconds() * 7, abs=0.01)  # 0.5 + 1 + 2 s

    broadcaster.down_for = set()
    assert await relay.send_due() == 3
    recovered = [line for line in broadcast_lines(caplog) if line["message"] == "delivery recovered"]
    assert len(recovered) == 1
    assert recovered[0]["organization"] == world.acme.id
    assert recovered[0]["stalled_s"] == 3.5
    assert recovered[0]["lag_ms"] == 3500.0
    assert await relay.measure_backlog() == Backlog(0, None, ())


async def test_every_organization_hears_its_latest_committed_seq(database: Database, world: World) -> None:
    _clock, broadcaster, relay, service = rig(database)
    await life(service, world.acme.secret, "q1", world.acme.did_numbers[0])
    await initiated(service, world.acme, "q2")
    assert await relay.send_sync() == 2
    syncs = {channels[0]: payload for channels, event, payload in broadcaster.sent if event == SYNC_EVENT}
    assert syncs == {
        f"presence-org.{world.acme.id}": {
            "seq": 4,
            "interval": SYNC_INTERVAL,
            "server_time": "2027-01-15T08:01:00.000Z",
        },
        f"presence-org.{world.globex.id}": {
            "seq": 0,
            "interval": SYNC_INTERVAL,
            "server_time": "2027-01-15T08:01:00.000Z",
        },
    }
    await relay.send_due()
    assert [payload["seq"] for _, event, payload in broadcaster.sent if event != SYNC_EVENT] == [1, 2, 3, 4]
    broadcaster.down_for = {f"presence-org.{world.globex.id}"}
    assert await relay.send_sync() == 1  # one organization's failure does not stop the others'


def sent_calls(broadcaster: RecordingBroadcaster) -> list[tuple[str, str]]:
    return [(payload["call_id"], event) for _, event, payload in broadcaster.sent if event != SYNC_EVENT]


async def test_handed_events_in_seq_order_are_sent_without_reading_the_outbox(handing: Rig, world: World) -> None:
    _clock, broadcaster, relay, service = handing
    await initiated(service, world.acme, "h1")
    assert await relay.send_due() == 1
    assert relay.outbox_reads == 1  # the first of an organization: only the outbox says nothing comes before it

    await life(service, world.acme.secret, "h2", world.acme.did_numbers[0])
    assert await relay.send_due() == 3
    assert relay.outbox_reads == 1  # seq 2, 3, 4 follow the 1 sent: nothing can be missing
    assert sent_calls(broadcaster) == [
        ("h1", "call.initiated"),
        ("h2", "call.initiated"),
        ("h2", "call.answered"),
        ("h2", "call.ended"),
    ]
    assert await relay.pending() == 0  # marked sent all the same


async def test_an_event_committed_elsewhere_is_read_before_a_handed_one_after_it(
    handing: Rig, database: Database, world: World
) -> None:
    clock, broadcaster, relay, service = handing
    await initiated(service, world.acme, "e1")
    await relay.send_due()
    elsewhere = CallService(database, clock=clock)  # another API process: its commits are not handed here
    await initiated(elsewhere, world.acme, "e2")
    await initiated(service, world.acme, "e3")

    assert await relay.send_due() == 2
    assert relay.outbox_reads == 2  # e3's seq 3 is not the 2 expected: read, and e2 goes first
    assert [call for call, _ in sent_calls(broadcaster)] == ["e1", "e2", "e3"]
    assert await relay.send_due() == 0  # e3, handed and read, goes once


async def test_the_outbox_is_read_at_least_every_read_every_seconds(
    handing: Rig, database: Database, world: World
) -> None:
    """However many events are handed over, what other processes commit is found within a second."""
    clock, broadcaster, relay, service = handing
    await initiated(service, world.acme, "r1")
    await relay.send_due()
    elsewhere = CallService(database, clock=clock)
    await initiated(elsewhere, world.globex, "g1")
    await initiated(service, world.acme, "r2")
    assert await relay.send_due() == 1  # r2 follows r1; Globex's event is not known yet
    clock.advance(READ_EVERY)
    await initiated(service, world.acme, "r3")
    assert await relay.send_due() == 2
    assert relay.outbox_reads == 2
    assert [call for call, _ in sent_calls(broadcaster)] == ["r1", "r2", "g1", "r3"]


async def test_a_handed_event_that_fails_waits_in_the_outbox_and_its_followers_wait_behind_it(
    handing: Rig, world: World
) -> None:
    clock, broadcaster, relay, service = handing
    await initiated(service, world.acme, "f1")
    await relay.send_due()
    broadcaster.down_for = {f"presence-org.{world.acme.id}"}
    await initiated(service, world.acme, "f2")
    assert await relay.send_due() == 0
    broadcaster.down_for = set()
    await initiated(service, world.acme, "f3")
    assert await relay.send_due() == 0  # f3 is handed, but f2 comes first and is backing off
    clock.advance(backoff(1).total_seconds())
    assert await relay.send_due() == 2
    assert [call for call, _ in sent_calls(broadcaster)] == ["f1", "f2", "f3"]
    assert await relay.pending() == 0
