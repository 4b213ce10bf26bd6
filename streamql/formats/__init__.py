"""Parsers: a line format in, records and counted rejects out, each declaring the schema it yields.

JSON lines, logfmt, syslog and patterns here; access logs (Apache, nginx, W3C, ALB) and
their block scanners in :mod:`streamql.formats.access`.
"""
