"""Reports for sellers and admins: statistics, charts, unanswered questions.

May import: ``bot.desk``, ``bot.i18n``, ``bot.database``, ``faq``, ``storage``.
"""
