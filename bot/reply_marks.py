"""Which transport message (Slack `ts`) is each conversation's newest bot reply.

The id is needed later, to update that reply in place when an answer refines it. Marks are
kept in memory at once and written to the database by one background thread in batches
(every `interval` seconds, or sooner when many are waiting), so posting a reply costs no
transaction of its own; lookups see unwritten marks first. A mark still unwritten when a
process dies is lost, and the next update of that conversation is posted as a new reply
instead of an edit — a cosmetic loss, never a lost answer. Database outages are ridden out
by keeping the marks and trying again. This module must not know about Slack.
"""

from __future__ import annotations

import logging
import threading

from bot.store import repo
from bot.store.db import Database

log = logging.getLogger("prefect_triage.store")


class ReplyMarks:
    def __init__(self, db: Database, *, interval: float = 0.05, batch: int = 64):
        self.db = db
        self.interval = interval
        self.batch = batch
        self._pending: dict[str, str] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, conversation_id: str, external_id: str) -> None:
        with self._lock:
            self._pending[conversation_id] = external_id
            waiting = len(self._pending)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="reply-marks", daemon=True)
                self._thread.start()
        if waiting >= self.batch:
            self._wake.set()

    def pending(self, conversation_id: str) -> str | None:
        with self._lock:
            return self._pending.get(conversation_id)

    def flush(self) -> int:
        """Write every waiting mark in one transaction; returns how many were written."""
        with self._lock:
            snapshot = dict(self._pending)
        if not snapshot:
            return 0
        with self.db.session() as session:
            for conversation_id, external_id in snapshot.items():
                if not repo.mark_last_reply(session=session, conversation_id=conversation_id, external_id=external_id):
                    repo.add_message(
                        session=session, conversation_id=conversation_id, direction="out", text="",
                        external_id=external_id,
                    )
        with self._lock:  # keep marks that changed while we wrote: they go in the next batch
            for conversation_id, external_id in snapshot.items():
                if self._pending.get(conversation_id) == external_id:
                    del self._pending[conversation_id]
        return len(snapshot)

    def _run(self) -> None:
        delay = self.interval
        while not self._stop.is_set():
            self._wake.wait(delay)
            self._wake.clear()
            try:
                self.flush()
                delay = self.interval
            except Exception as exc:  # the database is away: keep the marks, try again later
                log.warning("cannot record reply ids yet (%s); retrying", exc.__class__.__name__)
                delay = min(max(delay * 2, 0.5), 8.0)

    def close(self) -> None:
        """Stop the writer and write what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.flush()
        except Exception as exc:
            log.warning("could not record %d reply ids on shutdown (%s)", len(self._pending), exc.__class__.__name__)
