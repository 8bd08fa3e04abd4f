"""The parts a configuration names: the adapter, and the webhook sink that goes with it.

The adapter is loaded by name (:data:`opbx.adapters.ADAPTERS`), so the Redis client is
imported only when the Redis adapter is chosen. The webhook sink is none when no app has
a webhook URL; otherwise a :class:`~opbx.realtime.webhooks.WebhookSender` whose
deliveries are kept beside the cluster's state (in Redis for a Redis cluster, so a
delivery outlives its node) or in memory for one process.
"""

from __future__ import annotations

from opbx.adapters import load_adapter
from opbx.adapters.base import Adapter
from opbx.realtime.config import ServerConfig
from opbx.realtime.webhook_sink import NoWebhooks, WebhookSink
from opbx.realtime.webhook_store import DeliveryStore, MemoryDeliveryStore
from opbx.realtime.webhooks import WebhookSender

__all__ = ["adapter_for", "webhooks_for"]


def webhooks_for(config: ServerConfig, adapter: Adapter) -> WebhookSink:
    """A sender when an app has webhook targets; deliveries in Redis when the cluster is."""
    if not any(app.webhooks for app in config.apps):
        return NoWebhooks()
    store: DeliveryStore = MemoryDeliveryStore()
    if adapter.node_id is not None:  # a cluster: only then is a Redis client imported
        from opbx.adapters.redis import RedisAdapter
        from opbx.realtime.webhook_store_redis import RedisDeliveryStore

        if isinstance(adapter, RedisAdapter):
            store = RedisDeliveryStore(
                adapter.url, prefix=adapter.prefix, sentinels=adapter.sentinels, sentinel_master=adapter.sentinel_master
            )
    return WebhookSender(list(config.apps), store, retry_window=config.webhook_retry_window)


def adapter_for(config: ServerConfig) -> Adapter:
    """The adapter ``config.adapter`` names, with its settings."""
    if config.adapter == "redis":
        return load_adapter(
            "redis",
            url=config.redis_url,
            prefix=config.redis_prefix,
            node_timeout=config.node_timeout,
            sentinels=config.redis_sentinels,
            sentinel_master=config.redis_sentinel_master,
        )
    return load_adapter(config.adapter)
