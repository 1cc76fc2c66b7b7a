"""Reports for sellers and admins: statistics, charts, unanswered questions.

May import: ``bot.desk``, ``bot.i18n``, ``bot.database``, ``faq``, ``storage``; and
``telegram`` with ``bot.telegram_io.pacing`` for the /stats chart, sent at once (paced)
rather than through the outbox.
"""
