"""The desk's storage: models, repositories and migrations. Knows nothing of Telegram.

- :mod:`storage.models`: the tables; :mod:`storage.types`: the UTC datetime type.
- :mod:`storage.db`: engines, sessions, one transaction per unit of work.
- :mod:`storage.repo`: every query, one module per aggregate.
- :mod:`storage.migrate`: Alembic migrations run from code.
"""
