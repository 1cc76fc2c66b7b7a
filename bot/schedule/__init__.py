"""What runs on the clock: reply deadlines, the SLA sweep, the daily digest.

Deadlines live in the database; a sweep only asks it what is due, so a restart loses
nothing and two processes never send one reminder twice.

May import: ``bot.desk``, ``bot.reports``, ``bot.i18n``, ``bot.database``, ``faq``,
``storage``.
"""
