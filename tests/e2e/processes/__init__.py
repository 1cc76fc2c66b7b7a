"""End-to-end runs of whole bot processes: crashes, restarts, webhooks, faults, deadlines."""
