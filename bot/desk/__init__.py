"""Conversation rules: buyers, staff, admins, cases, returns, escalation, flood.

Each module turns one kind of :class:`~bot.desk.inbound.Incoming` into database
changes and outgoing messages (:mod:`bot.desk.outgoing`), in one transaction.
Nothing here speaks HTTP or knows python-telegram-bot.

May import: ``bot.i18n``, ``bot.schedule.deadlines`` (deadline arithmetic),
``bot.database``, ``bot.settings``, ``faq``, ``storage``.
"""
