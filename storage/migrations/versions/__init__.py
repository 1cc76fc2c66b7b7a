"""Numbered revisions: ``0001_initial.py``, ``0002_...``; each revises the one before."""
