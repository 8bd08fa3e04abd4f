"""The apps every test server hosts."""

from __future__ import annotations

import dataclasses

from opbx.protocol.app import App, AppId, Limits

TEST_APP = App(id=AppId("100"), key="test-key", secret="test-secret", client_events=True)
"""Client events on; hosted Pusher's limits."""

QUIET_APP = App(id=AppId("101"), key="quiet-key", secret="quiet-secret")
"""Client events off (the default)."""

DISABLED_APP = App(id=AppId("102"), key="disabled-key", secret="disabled-secret", enabled=False)

SMALL_APP = App(
    id=AppId("103"),
    key="small-key",
    secret="small-secret",
    client_events=True,
    subscription_count_events=True,
    limits=dataclasses.replace(
        Limits(), max_connections=4, max_presence_members=2, client_events_per_second=3, max_event_payload_bytes=100
    ),
)
"""Tiny limits, to reach them in a test."""

ALL_APPS = (TEST_APP, QUIET_APP, DISABLED_APP, SMALL_APP)
