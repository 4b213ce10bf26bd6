"""The ``streamql`` command: one-off queries, the demo, and how results print."""
