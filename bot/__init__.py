"""The desk: what happens to a buyer's message, a staff reply and a deadline.

Rooms (each says at its top what it may import):

- :mod:`bot.desk`: conversation rules (buyers, staff, admins, cases, returns,
  escalation, flood control) and the plain data they take and give;
- :mod:`bot.telegram_io`: the Bot API side (HTTP client, outbox sender, pacing,
  per-chat ordering, webhook and health servers, command menus);
- :mod:`bot.schedule`: what runs on the clock (deadlines, SLA sweep, daily digest);
- :mod:`bot.reports`: statistics, charts and unanswered questions;
- :mod:`bot.i18n`: the texts in every language and their gettext catalogs;
- the wiring beside them: :mod:`bot.settings`, :mod:`bot.database`,
  :mod:`bot.service` (the facade the handlers call) and :mod:`bot.reload`.

``bot`` imports ``faq`` and ``storage``, never ``handlers`` nor the composition root
(:mod:`sellerdesk.app`).
"""
