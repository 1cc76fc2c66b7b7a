"""What the desk keeps no longer than it needs: texts people wrote and ids that guard
against doubles, each for its own period (``RETENTION_*_DAYS``, see
:class:`bot.settings.Retention` and docs/security.md).

Run on the scheduler's tick, at most once an hour; several processes doing it at once
only delete the same rows:

* sent outbox rows (the texts sent, a buyer's words copied to staff included; once
  sent, only the crash check of the next send in the chat reads them, and that looks
  back minutes);
* handled update ids (Telegram delivers an update twice within a day at most) and
  polled updates parked for as long as sent rows are kept;
* the FAQ question log (masked questions, no Telegram ids);
* rating comments (the ratings themselves stay, for statistics);
* return requests' photo references (message ids in the buyer's chat);
* the ids of Ozon buyer messages taken up (no text of the buyer's is kept).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sellerdesk.bot.database import Database
from sellerdesk.bot.settings import Retention
from sellerdesk.storage.repo import cases, channels, outbox, questions, returns, updates
from sellerdesk.storage.types import utcnow

log = logging.getLogger(__name__)

#: Days the ids of Ozon buyer messages taken up are kept: past Ozon's reply windows
#: (48-72 h), after which the desk never answers a message anyway.
OZON_IDS_DAYS = 7
#: How often the deletions run.
EVERY = timedelta(hours=1)


class RetentionSweep:
    """Deletes what is past its retention period; one per process."""

    def __init__(self, db: Database, keep: Retention | None = None) -> None:
        self.db = db
        self.keep = keep or Retention()
        self._last: datetime | None = None

    def tick(self, now: datetime | None = None) -> int:
        """Delete what is past keeping, unless that ran within the hour; returns how
        many rows went or were cleared."""
        now = now or utcnow()
        if self._last is not None and now - self._last < EVERY:
            return 0
        keep = self.keep

        def before(days: float) -> datetime:
            return now - timedelta(days=days)

        with self.db.transaction() as session:
            done = {
                "sent messages": outbox.purge_sent(session, before(keep.sent_days)),
                "update ids": updates.purge_processed(session, before(keep.updates_days)),
                "parked updates": updates.purge_parked(session, before(keep.sent_days)),
                "questions": questions.purge_questions(session, before(keep.questions_days)),
                "rating comments": cases.clear_rating_comments(session, before(keep.comments_days)),
                "return photos": returns.clear_photos(session, before(keep.photos_days)),
                "Ozon message ids": channels.purge(session, before(OZON_IDS_DAYS)),
                # A buyer's business chat (their Telegram id) goes with the sent messages
                # of the chat, unless an open case still writes to it.
                "business chats": channels.purge_business_chats(session, before(keep.sent_days)),
                # Settled Ozon questions (ids and answers, no buyer data); drafts left
                # undecided that long are Ozon's cabinet's business.
                "Ozon questions": channels.purge_ozon_questions(session, before(keep.sent_days)),
                "Ozon chats with staff": channels.purge_ozon_chats(session, before(keep.sent_days)),
            }
        self._last = now
        if any(done.values()):
            log.info("retention: %s", ", ".join(f"{n} {what}" for what, n in done.items() if n))
        return sum(done.values())
