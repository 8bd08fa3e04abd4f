"""Sign-in throttling per account and per client address, shared by every API process.

Why: hundreds of wrong passwords in a row on one account used to go through at full speed.
Several API processes may run behind a load balancer, so the counts live in the database
(table ``sign_in_throttle``), not in a process.

Policy (the numbers are :data:`ACCOUNT_LIMITS`, :data:`ADDRESS_LIMITS` and the constants below):

- Two keys are counted for every attempt: the account, ``account:<sha256 of the normalized
  email>``, and the client address, ``address:<IPv4>`` or ``address:<IPv6 /64 network>`` (one
  host usually owns a whole /64). The email is hashed so the table is no list of addresses, and
  so an email that exists is stored exactly like one that does not: this module never looks at
  users at all.
- An account gets 5 failures for free, an address 20 (an office behind one NAT shares it, and
  a password-spraying address trying one password on many emails must still be slowed down).
  After that each further failure makes the key wait longer, counted from that failure: 1 s
  after the first one past the free ones, then 2, 4, 8 ... 512 s, capped at 15 minutes (900 s)
  from the 11th one past them on (an account's 16th failure, an address's 31st).
  An attempt is refused (429 with ``Retry-After``) while either key waits; the wait answered is
  the larger of the two. A refused attempt counts nothing and does not lengthen the wait.
- An attempt counts as a failure from the moment it is accepted (:meth:`SignInThrottle.attempt`)
  until it is reported a success (:meth:`SignInThrottle.succeeded`). Counting first is what makes
  a burst of parallel attempts, on one or on several processes, get no more than the free ones
  (plus the one that starts the first wait) through: a check-then-count scheme lets every
  request of the burst pass the check before any failure is recorded.
- A success deletes the account's key: the right password after the wait works, and the next
  typo starts from zero. On the address it only lowers the count, by that account's own failures
  (at most 6: the success's own attempt and 5 earlier typos), which were the person typing, not
  someone else's guesses. Clearing the address instead would let an attacker who has any account
  of their own unlock their address at will by signing in to it between guesses; forgiving only
  the failures of the account that succeeded gives them nothing back for guesses on others.
- A key with no failure for a day is forgotten (counted from zero again), and deleted by a
  clean-up that runs at most once a minute per process, after an accepted attempt. A day is far
  longer than the longest wait: an attacker gets 16 guesses in the first 17 minutes on an
  account, then 4 an hour.

Every call opens and commits its own transaction, so a failure stays counted whatever the
sign-in answers (a 401 raised in the login's transaction would otherwise roll it back). On
PostgreSQL the rows of an attempt are locked in key order (an upsert, then ``SELECT ... FOR
UPDATE``), so concurrent attempts on one key all count and never deadlock; on SQLite transactions
already begin with ``BEGIN IMMEDIATE`` and so run one at a time.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from opbx.clock import Clock
from opbx.db.engine import Database
from opbx.db.models import SignInThrottleKey

__all__ = [
    "ACCOUNT_LIMITS",
    "ADDRESS_LIMITS",
    "CLEANUP_EVERY",
    "FORGET_AFTER",
    "FORGIVEN_ON_SUCCESS",
    "Limits",
    "SignInThrottle",
    "account_key",
    "address_key",
    "retry_after",
]


@dataclass(frozen=True, slots=True)
class Limits:
    """How many consecutive failures a key gets for free, and how long each further one makes it wait."""

    free_failures: int
    first_wait: float = 1.0
    """Seconds waited after the first failure past the free ones; each further failure doubles it."""
    max_wait: float = 15 * 60.0

    def wait_after(self, failures: int) -> float:
        """Seconds a key waits after its ``failures``-th consecutive failure (0: none)."""
        beyond = failures - self.free_failures
        if beyond <= 0:
            return 0.0
        return min(self.max_wait, self.first_wait * 2.0 ** min(beyond - 1, 64))


ACCOUNT_LIMITS = Limits(free_failures=5)
ADDRESS_LIMITS = Limits(free_failures=20)
FORGIVEN_ON_SUCCESS = ACCOUNT_LIMITS.free_failures + 1
"""At most this many failures of the account that signed in are taken off its address's count."""
FORGET_AFTER = timedelta(days=1)
"""A key with no failure for this long is forgotten (longer than any wait, so no wait is cut short)."""
CLEANUP_EVERY = 60.0
"""Seconds (monotonic) between two clean-ups of forgotten keys by one process."""

_ACCOUNT = "account:"
_ADDRESS = "address:"


def _sha256(text: str) -> str:
    # surrogatepass: a JSON body may carry lone surrogates; they must hash, not raise.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def account_key(email: str) -> str:
    """The account's key: the SHA-256 of the email as sign-in normalizes it (stripped, lower case)."""
    return _ACCOUNT + _sha256(email.strip().lower())


def address_key(address: str) -> str:
    """The client address's key: an IPv4 address, an IPv6 address's /64, or a hash of anything else."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return f"{_ADDRESS}?{_sha256(address)}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"{_ADDRESS}{ip.ipv4_mapped}"
        return f"{_ADDRESS}{ipaddress.IPv6Address(int(ip) >> 64 << 64)}/64"
    return f"{_ADDRESS}{ip}"


def retry_after(wait: float) -> str:
    """The ``Retry-After`` value for a wait: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(wait)))


class SignInThrottle:
    """Counts sign-in attempts per account and per address in the database; see the module's policy.

    Keep one per process: it remembers when it last cleaned up.
    """

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        account: Limits = ACCOUNT_LIMITS,
        address: Limits = ADDRESS_LIMITS,
    ) -> None:
        self._database = database
        self._clock = clock
        self._account = account
        self._address = address
        self._last_cleanup: float | None = None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.time(), UTC)

    def _limits(self, key: str) -> Limits:
        return self._account if key.startswith(_ACCOUNT) else self._address

    @staticmethod
    def _wait(rows: Sequence[SignInThrottleKey], now: datetime) -> float | None:
        wait = max((max(0.0, (row.blocked_until - now).total_seconds()) for row in rows), default=0.0)
        return wait or None

    async def attempt(self, email: str, address: str) -> float | None:
        """Before checking a password: None to go ahead (the attempt now counts as a failure until
        :meth:`succeeded`), or the seconds to wait (nothing counted: answer 429 at once).

        The same for an email that exists and one that does not.
        """
        now = self._now()
        keys = sorted((account_key(email), address_key(address)))
        async with self._database.reader() as session:
            # A refused attempt only reads: a flood of them writes nothing.
            waiting = await session.execute(select(SignInThrottleKey).where(SignInThrottleKey.key.in_(keys)))
            wait = self._wait(waiting.scalars().all(), now)
            await session.rollback()
            if wait is not None:
                return wait
            async with session.begin():
                rows = await self._lock(session, keys, now)
                wait = self._wait(rows, now)
                if wait is not None:  # another attempt started a wait since the read
                    return wait
                for row in rows:
                    failures = 0 if row.last_failure_at <= now - FORGET_AFTER else row.failures
                    row.failures = failures + 1
                    row.last_failure_at = now
                    row.blocked_until = now + timedelta(seconds=self._limits(row.key).wait_after(row.failures))
        await self._clean_up_if_due()
        return None

    async def succeeded(self, email: str, address: str) -> None:
        """After the right password: clear the account's key, and take its failures off the address's."""
        now = self._now()
        account, place = account_key(email), address_key(address)
        async with self._database.session() as session, session.begin():
            rows = {
                row.key: row
                for row in (
                    await session.execute(
                        select(SignInThrottleKey)
                        .where(SignInThrottleKey.key.in_((account, place)))
                        .order_by(SignInThrottleKey.key)
                        .with_for_update()
                    )
                ).scalars()
            }
            forgiven = 0
            if (account_row := rows.get(account)) is not None:
                if account_row.last_failure_at > now - FORGET_AFTER:
                    forgiven = min(account_row.failures, FORGIVEN_ON_SUCCESS)
                await session.delete(account_row)
            if (address_row := rows.get(place)) is not None and forgiven:
                address_row.failures = max(0, address_row.failures - forgiven)
                # Lower the wait to what the lower count gives, never raise it.
                lowered = address_row.last_failure_at + timedelta(
                    seconds=self._limits(place).wait_after(address_row.failures)
                )
                address_row.blocked_until = min(address_row.blocked_until, lowered)

    async def forget_quiet_keys(self) -> int:
        """Delete the keys with no failure for :data:`FORGET_AFTER`; return how many were deleted."""
        cutoff = self._now() - FORGET_AFTER
        # SKIP LOCKED (PostgreSQL; SQLite runs one transaction at a time): never wait for, nor
        # deadlock with, an attempt holding a row.
        quiet = (
            select(SignInThrottleKey.key)
            .where(SignInThrottleKey.last_failure_at <= cutoff)
            .with_for_update(skip_locked=True)
        )
        async with self._database.session() as session, session.begin():
            deleted = await session.execute(
                delete(SignInThrottleKey).where(SignInThrottleKey.key.in_(quiet)).returning(SignInThrottleKey.key)
            )
            return len(deleted.all())

    async def _clean_up_if_due(self) -> None:
        moment = self._clock.monotonic()
        if self._last_cleanup is not None and moment - self._last_cleanup < CLEANUP_EVERY:
            return
        self._last_cleanup = moment
        await self.forget_quiet_keys()

    async def _lock(self, session: AsyncSession, keys: Sequence[str], now: datetime) -> Sequence[SignInThrottleKey]:
        """The keys' rows, created if missing, locked in key order until the transaction ends.

        On PostgreSQL the upsert's no-op update is what locks an existing row, in the order of
        ``keys``; it also waits out a concurrent delete and then inserts, so the rows exist.
        """
        values = [{"key": key, "failures": 0, "last_failure_at": now, "blocked_until": now} for key in keys]
        if self._database.is_sqlite:  # the transaction holds the database's write lock already
            await session.execute(sqlite.insert(SignInThrottleKey).values(values).on_conflict_do_nothing())
        else:
            upsert = postgresql.insert(SignInThrottleKey).values(values)
            await session.execute(
                upsert.on_conflict_do_update(index_elements=["key"], set_={"failures": SignInThrottleKey.failures})
            )
        found = await session.execute(
            select(SignInThrottleKey)
            .where(SignInThrottleKey.key.in_(keys))
            .order_by(SignInThrottleKey.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return found.scalars().all()
