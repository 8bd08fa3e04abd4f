"""The apps a server hosts, found by id (HTTP API) or by key (WebSocket path)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from opbx.protocol.app import App

__all__ = ["AppRegistry"]


class AppRegistry:
    """A fixed set of apps loaded from configuration."""

    def __init__(self, apps: Iterable[App]) -> None:
        self._by_id: dict[str, App] = {app.id: app for app in apps}
        self._by_key = {app.key: app for app in self._by_id.values()}

    def by_id(self, app_id: str) -> App | None:
        return self._by_id.get(app_id)

    def by_key(self, key: str) -> App | None:
        return self._by_key.get(key)

    def __iter__(self) -> Iterator[App]:
        return iter(self._by_id.values())
