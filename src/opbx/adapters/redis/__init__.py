"""The Redis adapter: many processes and machines, one cluster-wide truth (``adapter.py``)."""

from __future__ import annotations

from opbx.adapters.redis.adapter import RedisAdapter

__all__ = ["RedisAdapter"]
