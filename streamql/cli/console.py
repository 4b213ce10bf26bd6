"""What the command line's parts share: exit statuses, the one-line error, safe output."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

__all__ = [
    "EXIT_OK",
    "EXIT_RUNTIME",
    "EXIT_USAGE",
    "EXIT_INTERRUPTED",
    "EXIT_BROKEN_PIPE",
    "CliError",
    "write",
    "sorted_values",
    "split_message",
]

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


class CliError(Exception):
    """An error to report in one line (plus an optional hint) with an exit status."""

    def __init__(self, message: str, status: int, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.hint = hint


def write(out: IO[str], text: str) -> None:
    """Write text, escaping what the output's encoding cannot show instead of failing."""
    try:
        out.write(text)
    except UnicodeEncodeError:
        encoding = getattr(out, "encoding", None) or "ascii"
        out.write(text.encode(encoding, "backslashreplace").decode(encoding))


def sorted_values(values: Iterable[Any]) -> list[Any]:
    items = list(values)
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


def split_message(text: str) -> tuple[str, str]:
    """Split a streamql message into its problem (one line) and its hint."""
    problem, _, hint = text.partition("\n\n")
    return " ".join(problem.split("\n")), hint.strip()
