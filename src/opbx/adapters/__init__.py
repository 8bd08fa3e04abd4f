"""Adapters: how realtime nodes share messages and state. Chosen by name.

Implementations are imported only when selected, so a single-process server never
imports a Redis client.
"""

from __future__ import annotations

import importlib
from typing import Any

from opbx.adapters.base import Adapter

__all__ = ["ADAPTERS", "load_adapter"]

ADAPTERS: dict[str, str] = {
    "local": "opbx.adapters.local:LocalAdapter",
    "redis": "opbx.adapters.redis:RedisAdapter",
}
"""Adapter names mapped to ``module:class`` import strings."""


def load_adapter(name: str, **options: Any) -> Adapter:
    """Build the adapter called ``name`` (a key of :data:`ADAPTERS`)."""
    try:
        target = ADAPTERS[name]
    except KeyError:
        raise ValueError(f"Unknown adapter {name!r}; choose one of {', '.join(ADAPTERS)}") from None
    module_name, _, class_name = target.partition(":")
    adapter: Adapter = getattr(importlib.import_module(module_name), class_name)(**options)
    return adapter
