"""Event worker processes: the serving process acks, N worker processes do the work.

With `TRIAGE_SLACK_PROCESSES=N` (N ≥ 1), `serve` keeps the HTTP front — signature checks,
acks, slash commands, buttons, OAuth, `/healthz`, `/metrics` — and hands each acked Events
API delivery (raw body and headers) to a queue read by N worker processes. Each worker is a
whole bot (its own Bolt app, engine, database pool and job threads) and routes the event
through Bolt exactly as the front would. So acks never wait behind triage work for the
interpreter lock, and triage uses every core. Deduplication needs nothing new: jobs claim
their events in the database, whichever process (or replica) runs them.

Workers are started with `spawn` (no inherited threads or sockets), restarted when they die,
stopped by a sentinel so queued events are finished first, and end by themselves when the
front is killed (they notice their parent is gone within a second). They run at a lower CPU
priority (`nice` +10) so that on a busy machine acks win over triage. Their Prometheus metrics
are written to a shared directory (prometheus_client's multiprocess mode) and summed into
the front's `/metrics`. This module must not contain listener logic.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from queue import Empty
from typing import Any

log = logging.getLogger("prefect_triage.slack")

_CONTEXT = multiprocessing.get_context("spawn")
# Workers run at a lower CPU priority than the front: when the cores are busy, Slack's acks
# (3 s deadline, retried otherwise) go first and triage waits a little.
WORKER_NICENESS = 10


def _worker_main(queue: Any, workspace: bool, front: int) -> None:
    """A worker process: build the bot, then route queued deliveries until the sentinel
    (or until the front process `front` is gone)."""
    from slack_bolt import BoltRequest

    from bot.adapters.slack.build import build_bot
    from bot.config import Settings
    from bot.observability import configure_logging

    settings = Settings()
    configure_logging(logging.INFO, json_lines=settings.log_format == "json")
    bot, db = build_bot(settings, workspace=workspace, verified_upstream=True)  # the front checked
    bot.settle()
    try:
        while True:
            try:
                item = queue.get(timeout=1.0)
            except Empty:
                if os.getppid() != front:  # the front is gone (killed): nobody will send more
                    break
                continue
            if item is None:
                break
            body, query, headers = item
            try:
                bot.app.dispatch(BoltRequest(body=body, query=query, headers=headers))
            except Exception:
                log.exception("dispatching an acked event failed")
    finally:
        bot.shutdown(wait=True)  # finish the jobs already started
        db.dispose()


class EventWorkers:
    """N worker processes reading acked deliveries from one queue, restarted when they die."""

    def __init__(self, count: int, *, workspace: bool = True, check_every: float = 1.0):
        self.count = count
        self.workspace = workspace
        self.check_every = check_every
        self.metrics_dir = tempfile.mkdtemp(prefix="prefect-triage-metrics-")
        self.queue: Any = _CONTEXT.Queue()
        self.processes: list[Any] = []
        self.restarts = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _spawn(self) -> Any:
        # the child imports prometheus_client afresh and, seeing this directory, writes its
        # metrics there; it reads the rest of its configuration from the same environment
        previous = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = self.metrics_dir
        try:
            process = _CONTEXT.Process(
                target=_worker_main, args=(self.queue, self.workspace, os.getpid()), name="triage-worker", daemon=True
            )
            process.start()
            # set from here, before the child has started a thread (on Linux, niceness is per
            # thread and inherited by threads created later)
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, process.pid, os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS)
        finally:
            if previous is None:
                os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            else:
                os.environ["PROMETHEUS_MULTIPROC_DIR"] = previous
        return process

    def start(self) -> EventWorkers:
        with self._lock:
            self.processes = [self._spawn() for _ in range(self.count)]
        threading.Thread(target=self._supervise, name="worker-supervisor", daemon=True).start()
        return self

    def _supervise(self) -> None:
        from prometheus_client import multiprocess

        while not self._stop.wait(self.check_every):
            with self._lock:
                for index, process in enumerate(self.processes):
                    if process.is_alive() or self._stop.is_set():
                        continue
                    log.warning("event worker %s exited with %s; starting another", process.pid, process.exitcode)
                    with contextlib.suppress(Exception):
                        multiprocess.mark_process_dead(process.pid, self.metrics_dir)
                    self.processes[index] = self._spawn()
                    self.restarts += 1

    def submit(self, body: str, query: str, headers: dict[str, list[str]]) -> None:
        """Queue an acked delivery for whichever worker is free (non-blocking)."""
        self.queue.put((body, query, headers))

    def alive(self) -> int:
        return sum(1 for process in self.processes if process.is_alive())

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes if process.pid]

    def stop(self, timeout: float = 8.0) -> None:
        """Let the workers finish what is queued (within `timeout` in all), then end them."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            for _ in self.processes:
                self.queue.put(None)
            for process in self.processes:
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    process.terminate()
                    process.join(2.0)
        shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def collect(self) -> Iterable[Any]:
        """The workers' metric families (summed across processes), for the front's /metrics."""
        from prometheus_client import CollectorRegistry, multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.metrics_dir)
        return registry.collect()
