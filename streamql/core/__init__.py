"""The core every area stands on: plans, run context, schemas, F expressions, errors, defaults.

Nothing here imports another area of streamql.
"""
