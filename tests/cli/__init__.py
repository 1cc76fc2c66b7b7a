"""Tests of the command line (sellerdesk/cli)."""
