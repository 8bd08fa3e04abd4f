"""Webhook deliveries in Redis: they survive a restart, and each is sent by one node.

Used with the Redis adapter (see ``docs/scaling.md``). Keys, under the deployment's
prefix ``P``:

* ``P:webhooks:queue:{lane}``: a sorted set per target, delivery id -> due (Unix time);
* ``P:webhooks:deliveries``: a hash, delivery id -> the delivery (JSON);
* ``P:webhooks:claims``: a hash, delivery id -> the token of the claim that holds it;
* ``P:webhooks:dead``: a list of dead letters (JSON), newest first.

Claiming is one Lua script: it takes the due ids of a lane and moves their score to
*now + visibility timeout*, so no other node sees them meanwhile, and records the claim's
token. Finishing (done, retry, bury) is another script that acts only while the token
still holds. A node that dies mid-request leaves its claims to expire; the deliveries
then fall due again and another node (or the same one, restarted) sends them. The
timeout (60 s) is far above a request's (5 s), so a live node always finishes first.
Due times are on the senders' clocks (keep nodes NTP-synchronized; skew only shifts
when a retry happens).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence

from opbx.realtime.webhook_store import ClaimLost, DeadLetter, Delivery
from opbx.redis_client import open_redis

__all__ = ["RedisDeliveryStore"]

_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local claimed = {}
for _, id in ipairs(ids) do
  local item = redis.call('HGET', KEYS[2], id)
  if item then
    redis.call('ZADD', KEYS[1], ARGV[3], id)
    redis.call('HSET', KEYS[3], id, ARGV[4])
    claimed[#claimed + 1] = item
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return claimed
"""

_FINISH = """
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[3] == 'retry' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
  return 1
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[3] == 'bury' then
  redis.call('LPUSH', KEYS[4], ARGV[5])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[6]) - 1)
end
return 1
"""


class RedisDeliveryStore:
    """The delivery queue in Redis, shared by every node of a deployment (one prefix)."""

    durable = True

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "opbx",
        visibility_timeout: float = 60.0,
        dead_letter_limit: int = 100_000,
        sentinels: Sequence[str] = (),
        sentinel_master: str | None = None,
    ) -> None:
        self._redis = open_redis(url, sentinels=sentinels, sentinel_master=sentinel_master)
        self._prefix = f"{prefix}:webhooks"
        self._visibility = visibility_timeout
        self._dead_letter_limit = dead_letter_limit
        self._claimer = secrets.token_hex(6)
        self._claim_numbers = itertools.count()
        self._tokens: dict[str, str] = {}
        """The token of each delivery this store holds a claim on."""
        self._claim = self._redis.register_script(_CLAIM)
        self._finish = self._redis.register_script(_FINISH)

    def _queue(self, lane: str) -> str:
        return f"{self._prefix}:queue:{lane}"

    @property
    def _deliveries(self) -> str:
        return f"{self._prefix}:deliveries"

    @property
    def _claims(self) -> str:
        return f"{self._prefix}:claims"

    @property
    def _dead(self) -> str:
        return f"{self._prefix}:dead"

    async def push(self, deliveries: Sequence[Delivery], due: float) -> None:
        if not deliveries:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._deliveries, mapping={delivery.id: delivery.encode() for delivery in deliveries})
            for delivery in deliveries:
                pipe.zadd(self._queue(delivery.lane), {delivery.id: due})
            await pipe.execute()

    async def claim(self, lane: str, now: float, limit: int) -> list[Delivery]:
        token = f"{self._claimer}:{next(self._claim_numbers)}"
        keys = [self._queue(lane), self._deliveries, self._claims]
        raw = await self._claim(keys=keys, args=[repr(now), limit, repr(now + self._visibility), token])
        claimed = [Delivery.decode(item) for item in raw]
        for delivery in claimed:
            self._tokens[delivery.id] = token
        return claimed

    async def _finish_claim(self, delivery: Delivery, action: str, *args: str | bytes | int) -> None:
        token = self._tokens.pop(delivery.id, "")
        keys = [self._queue(delivery.lane), self._deliveries, self._claims, self._dead]
        held = await self._finish(keys=keys, args=[delivery.id, token, action, *args])
        if not held:
            raise ClaimLost(f"the claim on webhook delivery {delivery.id} expired before it was finished")

    async def retry(self, delivery: Delivery, due: float) -> None:
        await self._finish_claim(delivery, "retry", repr(due), delivery.encode())

    async def done(self, delivery: Delivery) -> None:
        await self._finish_claim(delivery, "done")

    async def bury(self, delivery: Delivery, dead: DeadLetter) -> None:
        await self._finish_claim(delivery, "bury", 0, dead.encode(), self._dead_letter_limit)

    async def pending(self, lane: str) -> int:
        count: int = await self._redis.zcard(self._queue(lane))
        return count

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return [DeadLetter.decode(raw) for raw in await self._redis.lrange(self._dead, 0, limit - 1)]

    async def close(self) -> None:
        await self._redis.aclose()
