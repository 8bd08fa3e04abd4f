"""Where applying webhooks spends its time: seconds summed by phase, for the metrics and the bench.

The phases of one webhook's unit of work (:meth:`opbx.telephony.service.CallService.handle`):

* ``signature``: the HMAC checks against the secrets as last read (and, when none matches,
  reading them again);
* ``parsing``: the body into a report (JSON, typed decoding, field rules);
* ``begin``: from there to the unit's first line: the hand-off to SQLite's writer thread and
  its queue, or the check-out of a PostgreSQL connection (:mod:`opbx.db.postgresql`);
* ``statements``: the read, the state machine and the write, with their round trips (on
  PostgreSQL the write commits by itself);
* ``commit``: SQLite's ``COMMIT`` (0 on PostgreSQL).

Wall-clock time: under load it includes waiting for the CPU, which is what a webhook waits for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PHASES", "PhaseTimes"]

PHASES = ("begin", "signature", "parsing", "statements", "commit")


@dataclass(slots=True)
class PhaseTimes:
    """Seconds spent in each of :data:`PHASES`, summed over every webhook applied."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] += seconds
