"""Access logs as data: a format compiles to a line program, a regex, a schema and C.

Apache ``LogFormat``, nginx ``log_format``, W3C extended and AWS ALB formats, the presets, and
the block path that checks and cuts many lines at once in C (``_scanner.c``).
"""
