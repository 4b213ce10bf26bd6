"""Generated, reproducible sample logs: an Apache tree, JSON and logfmt application logs, syslog."""
