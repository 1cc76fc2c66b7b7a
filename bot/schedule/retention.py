"""What the desk keeps no longer than it needs: sent messages' texts, handled update ids.

An outbox row keeps the text it sent (a buyer's words copied to staff, a reply) until
it is deleted; once sent, only the crash check of the next send in its chat reads it,
and that looks back minutes, not weeks. Handled update ids guard against Telegram
delivering an update twice, which it does within a day at most. Both are deleted
here, on the scheduler's tick, at most once an hour; several processes doing it at
once only delete the same rows.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sellerdesk.bot.database import Database
from sellerdesk.storage.repo import outbox, updates
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)

#: Sent outbox rows are deleted this long after they were sent.
SENT_KEPT = timedelta(days=30)
#: Handled update ids are forgotten this long after they were handled (Telegram keeps
#: undelivered updates for 24 hours).
UPDATES_KEPT = timedelta(days=7)
#: How often the deletions run.
EVERY = timedelta(hours=1)


class RetentionSweep:
    """Deletes sent outbox rows and old update ids; one per process."""

    def __init__(
        self, db: Database, sent_kept: timedelta = SENT_KEPT, updates_kept: timedelta = UPDATES_KEPT
    ) -> None:
        self.db = db
        self.sent_kept = sent_kept
        self.updates_kept = updates_kept
        self._last: datetime | None = None

    def tick(self, now: datetime | None = None) -> int:
        """Delete what is past keeping, unless that ran within the hour; returns how
        many rows went."""
        now = now or utcnow()
        if self._last is not None and now - self._last < EVERY:
            return 0
        with self.db.transaction() as session:
            sent = outbox.purge_sent(session, now - self.sent_kept)
            handled = updates.purge_processed(session, now - self.updates_kept)
        self._last = now
        if sent or handled:
            log.info("retention: %d sent message(s) and %d update id(s) deleted", sent, handled)
        return sent + handled
