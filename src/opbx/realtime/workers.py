"""``opbx realtime --workers N``: N processes on one port, so one machine uses all its cores.

The parent forks N workers before any event loop exists. Each binds the same port with
``SO_REUSEPORT`` (the kernel spreads new connections among them) and runs a complete
server on the Redis adapter, which is what makes them one cluster: a process cannot
share the local adapter's dictionaries. The parent restarts a worker that dies, and
passes SIGTERM/SIGINT on so each worker shuts down gracefully (clients get 4200).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import select
import signal
import sys
import time
from collections.abc import Callable

from opbx.configuration import ConfigError
from opbx.realtime.config import ServerConfig

__all__ = ["run_workers"]

log = logging.getLogger("opbx.realtime.workers")

_RESTART_DELAY = 1.0
_REFUSED = 2
"""A worker's exit status when its start-up was refused (a taken port, a bad setting)."""


def _check(config: ServerConfig, count: int) -> None:
    if count < 1:
        raise ConfigError(f"--workers: must be at least 1, not {count}")
    if count > 1 and config.adapter != "redis":
        raise ConfigError("--workers: several workers share state only through Redis; set OPBX_ADAPTER=redis")
    if count > 1 and config.port == 0:
        raise ConfigError("--workers: several workers need a fixed --port to share")


def run_workers(config: ServerConfig, count: int, run_worker: Callable[[ServerConfig, int], None]) -> int:
    """Run ``run_worker(config, index)`` in ``count`` forked processes until signalled."""
    _check(config, count)
    if count == 1:
        run_worker(config, 0)
        return 0
    shared = dataclasses.replace(config, reuse_port=True)
    workers: dict[int, int] = {}
    stopping = False
    refused = False
    refusals_out, refusals_in = os.pipe()  # workers' start-up refusals, said once by the parent
    os.set_blocking(refusals_out, False)

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 0
            try:
                run_worker(shared, index)
            except ConfigError as exc:  # a start-up refusal: the same in every worker, so no restart
                os.write(refusals_in, f"opbx: {exc}".encode()[: select.PIPE_BUF - 1] + b"\n")  # atomic
                code = _REFUSED
            except BaseException:
                log.exception("worker %d failed", index)
                code = 1
            os._exit(code)
        workers[pid] = index

    def forward(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for index in range(count):
        spawn(index)
    log.info("%d workers sharing port %d", count, config.port)
    while workers:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        index = workers.pop(pid, -1)
        if index < 0 or stopping:
            continue
        code = os.waitstatus_to_exitcode(status)
        if code == _REFUSED:
            if not refused:
                first = os.read(refusals_out, 65536).decode(errors="replace").splitlines()[:1]
                print(*first, file=sys.stderr, flush=True)
            refused = True
            forward(signal.SIGTERM, None)  # the others would be refused too, or serve alone
            continue
        log.error("worker %d (pid %d) exited with %s; restarting it", index, pid, code)
        time.sleep(_RESTART_DELAY)
        if not stopping:  # a signal during the delay stops instead
            spawn(index)
    os.close(refusals_out)
    os.close(refusals_in)
    return _REFUSED if refused else 0
