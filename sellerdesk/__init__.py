"""sellerdesk: a Telegram help desk for marketplace sellers.

The one import name of the installed project. The repository keeps its top-level
folders (``bot/``, ``faq/``, ``handlers/``, ``storage/``); each is linked into this
package, so ``sellerdesk.faq`` is the folder ``faq/`` and nothing generic such as
``bot`` lands in site-packages. Always import through this name.

Here live only the two modules that know every part:

- :mod:`sellerdesk.app`: the composition root (the Telegram application, the desk
  service, the handlers, the sender and the schedules, wired together);
- :mod:`sellerdesk.cli`: the ``sellerdesk`` command, one module per subcommand.

Imports run one way: ``app``/``cli`` → ``handlers`` → ``bot`` → ``faq``, ``storage``.
"""
