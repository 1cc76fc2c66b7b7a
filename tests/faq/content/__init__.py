"""Tests of seller content: loading, checking, scaffolding, catalog import (faq/content)."""
