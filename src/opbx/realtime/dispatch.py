"""Carrying out what sessions answer, in order per connection: the one dispatcher.

Spec: https://pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol

A :class:`~opbx.protocol.session.Session` answers each message with actions; a
connection's own life adds two steps, :class:`~opbx.realtime.connection.Open` and
:class:`~opbx.realtime.connection.Release`. :meth:`Dispatcher._step` is the one place
that tells steps apart. Those that need no adapter (``Send``, ``Close``, ``Refused``)
happen at once; the first that does starts a short-lived task that carries it and every
later step out in order, while steps arriving meanwhile wait in the connection's
backlog. With the local adapter those tasks never suspend; with a networked adapter,
ordering per connection still holds.

The dispatcher is each connection's :class:`~opbx.realtime.connection.ConnectionOwner`,
and runs the heartbeat (:meth:`Dispatcher.sweep`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from functools import partial
from typing import Any, assert_never

from opbx.clock import Clock
from opbx.protocol.session import ClientEvent, Close, Join, Leave, Refused, Send, Session, SignIn
from opbx.realtime.connection import Open, Release, Step, WebSocketConnection
from opbx.realtime.membership import Membership

__all__ = ["Dispatcher"]

log = logging.getLogger("opbx.realtime")

Spawn = Callable[[Coroutine[Any, Any, None]], None]
"""Runs a coroutine as a task its owner waits for when stopping."""
Later = Callable[[], Awaitable[None]]
"""A step that needs the adapter, ready to run in the connection's task."""


class Dispatcher:
    """Carries out every connection's steps, in order per connection."""

    def __init__(self, membership: Membership[WebSocketConnection], clock: Clock, spawn: Spawn) -> None:
        self._membership = membership
        self._clock = clock
        self._spawn = spawn

    # -- ConnectionOwner ----------------------------------------------------------------

    def perform(self, connection: WebSocketConnection, actions: Sequence[Step]) -> None:
        """Carry out ``actions`` in order; from the first needing the adapter on, in a task."""
        backlog = connection.backlog
        if backlog is not None:
            backlog.extend(actions)
            return
        for index, action in enumerate(actions):
            later = self._step(connection, action)
            if later is not None:
                connection.backlog = deque(actions[index + 1 :])
                self._spawn(self._drain(connection, action, later))
                return

    def disconnect(self, connection: WebSocketConnection) -> None:
        """The socket closed: stop delivering to it now, release its state in order."""
        if connection.released:
            return
        connection.released = True
        session = connection.session
        if session is None:
            return  # refused at the handshake: it never had state
        self._membership.detach(connection, session)
        self.perform(connection, [Release()])

    # -- the heartbeat ------------------------------------------------------------------

    def sweep(self) -> None:
        """Ping silent clients and close those that never answered (see Session.tick)."""
        now = self._clock.monotonic()
        for connection in list(self._membership.connected()):
            session = connection.session
            if session is not None and not connection.closed:
                actions = session.tick(now)
                if actions:
                    self.perform(connection, actions)

    # -- steps ----------------------------------------------------------------------------

    async def _drain(self, connection: WebSocketConnection, step: Step, later: Later) -> None:
        """Finish ``step`` (``later``), then the steps waiting behind it, each in turn."""
        backlog = connection.backlog
        assert backlog is not None
        try:
            try:
                await later()
            except Exception:
                log.exception("failed to carry out %s", type(step).__name__)
            while backlog:
                step = backlog.popleft()
                try:
                    rest = self._step(connection, step)
                    if rest is not None:
                        await rest()
                except Exception:
                    log.exception("failed to carry out %s", type(step).__name__)
        finally:
            connection.backlog = None

    def _step(self, connection: WebSocketConnection, step: Step) -> Later | None:
        """Carry out ``step`` now, or return what carries it out when it needs the adapter."""
        session = connection.session
        assert session is not None, "only an admitted socket has steps"
        membership = self._membership
        match step:
            case Send():
                connection.send(step.message)
            case Close():
                connection.close(step.code, step.reason)
            case Refused():
                _log_refusal(session, step)
            case Join():
                return partial(membership.join, connection, session, step)
            case Leave():
                return partial(membership.leave, connection, session, step)
            case ClientEvent():
                return partial(membership.relay, session, step)
            case SignIn():
                return partial(membership.sign_in, connection, session, step)
            case Open():
                return partial(membership.open, connection, session)
            case Release():
                return partial(membership.release, connection, session)
            case _:
                assert_never(step)
        return None


def _log_refusal(session: Session, refused: Refused) -> None:
    log.info("refused from socket %s (app %s): %s", session.socket_id, session.app.id, refused.reason)
