"""Alembic migrations of the desk's schema (run through :mod:`storage.migrate`)."""
