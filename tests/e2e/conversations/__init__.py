"""End-to-end conversations of buyers, staff and admins against the Bot API double."""
