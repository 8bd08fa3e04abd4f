"""Sign-in throttling on SQLite and PostgreSQL, with a clock that moves only when told."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from opbx.accounts.throttle import (
    ACCOUNT_LIMITS,
    ADDRESS_LIMITS,
    CLEANUP_EVERY,
    FORGET_AFTER,
    SignInThrottle,
    account_key,
    address_key,
    retry_after,
)
from opbx.db.engine import Database
from opbx.db.models import SignInThrottleKey
from tests.helpers.clock import ManualClock
from tests.helpers.world import World

pytestmark = pytest.mark.integration

EMAIL = "agent@acme.example"
ADDRESS = "198.51.100.7"
OTHER_ADDRESS = "203.0.113.9"
DAY = FORGET_AFTER.total_seconds()
WAITS = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 900.0, 900.0, 900.0]
"""The waits after the 6th, 7th ... failure of an account: doubling from 1 s, capped at 15 minutes."""

Row = tuple[int, datetime, datetime]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def throttle(database: Database, clock: ManualClock) -> SignInThrottle:
    return SignInThrottle(database, clock)


def now_of(clock: ManualClock) -> datetime:
    return datetime.fromtimestamp(clock.time(), UTC)


async def stored(database: Database) -> dict[str, Row]:
    """Every key in the table: its failures, last failure and the end of its wait."""
    async with database.session() as session:
        found = (await session.execute(select(SignInThrottleKey))).scalars().all()
    return {row.key: (row.failures, row.last_failure_at, row.blocked_until) for row in found}


async def fail(throttle: SignInThrottle, times: int, email: str = EMAIL, address: str = ADDRESS) -> None:
    """``times`` accepted attempts that never succeed."""
    for _ in range(times):
        assert await throttle.attempt(email, address) is None


async def ramp(throttle: SignInThrottle, clock: ManualClock, failures: int) -> None:
    """``failures`` failures on EMAIL from ADDRESS, waiting out every wait but the last one's."""
    for n in range(1, failures + 1):
        assert await throttle.attempt(EMAIL, ADDRESS) is None
        if n < failures:
            clock.advance(ACCOUNT_LIMITS.wait_after(n))


def test_keys_waits_and_the_retry_after_header() -> None:
    """The policy's numbers, the keys' shape and the header value, without a database."""
    assert [ACCOUNT_LIMITS.wait_after(n) for n in range(1, 6)] == [0.0] * 5
    assert [ACCOUNT_LIMITS.wait_after(n) for n in range(6, 6 + len(WAITS))] == WAITS
    assert ACCOUNT_LIMITS.wait_after(10_000) == 900.0
    assert ADDRESS_LIMITS.wait_after(20) == 0.0
    assert ADDRESS_LIMITS.wait_after(21) == 1.0
    key = account_key(" Agent@ACME.example ")
    assert key == account_key(EMAIL)
    assert key.startswith("account:")
    assert "acme" not in key
    assert len(key) == len("account:") + 64
    assert account_key("\ud800@acme.example") != key  # a lone surrogate hashes, it does not raise
    assert address_key(" 198.51.100.7 ") == address_key("::ffff:198.51.100.7") == "address:198.51.100.7"
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:1") == "address:2001:db8::/64"
    assert address_key("2001:db8:0:1::1") == "address:2001:db8:0:1::/64"
    assert address_key("fe80::1%eth0") == "address:fe80::/64"
    assert address_key("testclient").startswith("address:?")
    assert max(len(address_key(text)) for text in ("", "x" * 1000, "ffff:" * 7 + "ffff")) <= 80
    assert [retry_after(wait) for wait in (0.001, 1.0, 1.25, 899.5, 900.0)] == ["1", "1", "2", "900", "900"]


async def test_the_first_failures_are_free_then_the_account_waits(
    database: Database, throttle: SignInThrottle, clock: ManualClock
) -> None:
    await fail(throttle, 5)
    assert await throttle.attempt(EMAIL, ADDRESS) is None  # the 6th is accepted, and starts the first wait
    assert await throttle.attempt(EMAIL, ADDRESS) == 1.0
    assert await throttle.attempt(EMAIL, OTHER_ADDRESS) == 1.0  # the account waits from any address
    assert await throttle.attempt("admin@acme.example", ADDRESS) is None  # the address does not, yet
    now = now_of(clock)
    assert (await stored(database))[account_key(EMAIL)] == (6, now, now + timedelta(seconds=1))


async def test_each_failure_doubles_the_wait_up_to_15_minutes(
    database: Database, throttle: SignInThrottle, clock: ManualClock
) -> None:
    await fail(throttle, 5)
    for failures, wait in enumerate(WAITS, start=6):
        assert await throttle.attempt(EMAIL, ADDRESS) is None
        assert await throttle.attempt(EMAIL, ADDRESS) == wait
        clock.advance(wait - 0.25)
        assert await throttle.attempt(EMAIL, ADDRESS) == 0.25
        clock.advance(0.25)
        assert (await stored(database))[account_key(EMAIL)][0] == failures


async def test_refused_attempts_count_nothing(database: Database, throttle: SignInThrottle, clock: ManualClock) -> None:
    await fail(throttle, 6)
    before = await stored(database)
    for _ in range(10):
        assert await throttle.attempt(EMAIL, ADDRESS) == 1.0
    assert await throttle.attempt("someone@else.example", ADDRESS) is None  # the address is not waiting
    after = await stored(database)
    assert after[account_key(EMAIL)] == before[account_key(EMAIL)]
    assert after[address_key(ADDRESS)][0] == 7
    clock.advance(1)
    assert await throttle.attempt(EMAIL, ADDRESS) is None
    assert await throttle.attempt(EMAIL, ADDRESS) == 2.0


async def test_the_right_password_after_the_wait_works_and_clears_the_account(
    database: Database, throttle: SignInThrottle, clock: ManualClock
) -> None:
    await ramp(throttle, clock, 8)
    assert await throttle.attempt(EMAIL, ADDRESS) == 4.0
    clock.advance(4)
    assert await throttle.attempt(EMAIL, ADDRESS) is None
    await throttle.succeeded(EMAIL, ADDRESS)
    assert account_key(EMAIL) not in await stored(database)
    await fail(throttle, 5)  # the next typos are free again
    assert (await stored(database))[account_key(EMAIL)][0] == 5
    await throttle.succeeded("never.tried@acme.example", OTHER_ADDRESS)  # nothing to clear: no change
    assert len(await stored(database)) == 2


async def test_a_success_takes_only_its_accounts_failures_off_the_address(
    database: Database, throttle: SignInThrottle
) -> None:
    """One person's success, or an attacker's on their own account, never unlocks an address's guesses."""
    for n in range(18):  # someone sprays the address's shared NAT
        await fail(throttle, 1, email=f"victim{n}@acme.example")
    await fail(throttle, 2)  # a colleague's two typos: the address is at 20, its last free one
    assert await throttle.attempt(EMAIL, ADDRESS) is None  # the right password: counted (21) until it succeeds
    assert (await stored(database))[address_key(ADDRESS)][0] == 21
    await throttle.succeeded(EMAIL, ADDRESS)
    assert (await stored(database))[address_key(ADDRESS)][0] == 18  # the colleague's 3 attempts are forgiven

    attacker = "mallory@globex.example"  # an account of the attacker's own
    assert await throttle.attempt(attacker, ADDRESS) is None
    await throttle.succeeded(attacker, ADDRESS)
    assert (await stored(database))[address_key(ADDRESS)][0] == 18  # only the attempt that succeeded comes back
    for n in range(18, 21):
        await fail(throttle, 1, email=f"victim{n}@acme.example")
    assert await throttle.attempt("victim21@acme.example", ADDRESS) == 1.0


async def test_an_unknown_email_is_stored_and_answered_exactly_like_a_known_one(
    database: Database, world: World, throttle: SignInThrottle, clock: ManualClock
) -> None:
    known, unknown = world.acme.emails[0], "nobody@acme.example"
    answers: dict[str, list[float | None]] = {known: [], unknown: []}
    for step in range(9):
        for email, address in ((known, ADDRESS), (unknown, OTHER_ADDRESS)):
            answers[email].append(await throttle.attempt(email, address))
        clock.advance(0.5 if step % 2 else 1.5)
    assert answers[known] == answers[unknown] == [None] * 6 + [0.5, None, 1.5]
    keys = await stored(database)
    assert keys[account_key(known)] == keys[account_key(unknown)]
    assert keys[address_key(ADDRESS)] == keys[address_key(OTHER_ADDRESS)]
    assert not any("acme" in key for key in keys)  # no email in clear


async def test_a_password_spraying_address_waits_whatever_the_email(
    database: Database, throttle: SignInThrottle, clock: ManualClock
) -> None:
    for n in range(21):  # one guess each: no account reaches its limit, the address does
        assert await throttle.attempt(f"user{n}@acme.example", ADDRESS) is None
    assert await throttle.attempt("user21@acme.example", ADDRESS) == 1.0
    assert account_key("user21@acme.example") not in await stored(database)  # refused: nothing stored
    assert await throttle.attempt("user21@acme.example", OTHER_ADDRESS) is None  # that account is not waiting
    clock.advance(1)
    assert await throttle.attempt("user22@acme.example", ADDRESS) is None
    assert await throttle.attempt("user23@acme.example", ADDRESS) == 2.0
    assert (await stored(database))[address_key(ADDRESS)][0] == 22


async def test_concurrent_failures_all_count(database: Database, clock: ManualClock) -> None:
    """Processes sharing the database: every parallel attempt counts, and a burst gets no more through."""
    throttles = [SignInThrottle(database, clock) for _ in range(4)]
    answers = await asyncio.gather(*(throttle.attempt(EMAIL, ADDRESS) for throttle in throttles))
    assert answers == [None] * 4
    keys = await stored(database)
    assert keys[account_key(EMAIL)][0] == keys[address_key(ADDRESS)][0] == 4

    burst = [SignInThrottle(database, clock) for _ in range(16)]
    target = "admin@globex.example"
    answers = await asyncio.gather(*(throttle.attempt(target, OTHER_ADDRESS) for throttle in burst))
    assert sorted(answers, key=lambda wait: wait or 0.0) == [None] * 6 + [1.0] * 10  # 5 free, 1 starting the wait
    assert (await stored(database))[account_key(target)][0] == 6


async def test_quiet_keys_are_forgotten_then_deleted_at_most_once_a_minute(
    database: Database, throttle: SignInThrottle, clock: ManualClock
) -> None:
    await ramp(throttle, clock, 8)  # 3 s of waits
    clock.advance(DAY - 13)  # first clean-up ran with the first attempt; none since
    assert await throttle.attempt("b@acme.example", OTHER_ADDRESS) is None  # a clean-up: EMAIL is not quiet enough
    assert account_key(EMAIL) in await stored(database)
    clock.advance(CLEANUP_EVERY / 2)
    assert await throttle.attempt("c@acme.example", OTHER_ADDRESS) is None  # no clean-up due yet
    assert (await stored(database))[account_key(EMAIL)][0] == 8  # quiet for a day, still stored...
    assert await throttle.attempt(EMAIL, "192.0.2.1") is None  # ...but forgotten: counted from zero
    assert (await stored(database))[account_key(EMAIL)][0] == 1
    await fail(throttle, 1, email="d@acme.example", address="192.0.2.2")
    clock.advance(CLEANUP_EVERY / 2)
    assert await throttle.attempt("e@acme.example", OTHER_ADDRESS) is None  # a clean-up
    assert address_key(ADDRESS) not in await stored(database)  # quiet since the first day
    assert len(await stored(database)) == 8
    clock.advance(DAY)
    assert await throttle.forget_quiet_keys() == 8
    assert await stored(database) == {}
