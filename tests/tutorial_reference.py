"""The tutorial's own generator code, written out once as the tests' reference.

As in "Generator Tricks for Systems Programmers", parts 3 and 4, with two
changes that keep the reference honest: files are closed when consumed, and
``field_map`` builds new dicts instead of changing the ones it is given.
Also where the real logs live: ``../shared/data`` beside the repository.
"""

from __future__ import annotations

import bz2
import gzip
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

logpat = re.compile(r'(\S+) (\S+) (\S+) \[(.*?)\] "(\S+) (\S+) (\S+)" (\S+) (\S+)')
colnames = ("host", "referrer", "user", "datetime", "method", "request", "proto", "status", "bytes")


def gen_open(paths: Iterable[Path]) -> Iterator[Any]:
    for path in paths:
        if path.suffix == ".gz":
            f = gzip.open(path, "rt")
        elif path.suffix == ".bz2":
            f = bz2.open(path, "rt")
        else:
            f = open(path)
        with f:
            yield f


def gen_cat(sources: Iterable[Iterable[Any]]) -> Iterator[Any]:
    for src in sources:
        yield from src


def field_map(
    dictseq: Iterable[dict[str, Any]], name: str, func: Callable[[Any], Any]
) -> Iterator[dict[str, Any]]:
    for d in dictseq:
        yield {**d, name: func(d[name])}


def apache_log(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    groups = (logpat.match(line) for line in lines)
    tuples = (g.groups() for g in groups if g)
    log: Iterator[dict[str, Any]] = (dict(zip(colnames, t, strict=True)) for t in tuples)
    log = field_map(log, "bytes", lambda s: int(s) if s != "-" else 0)
    log = field_map(log, "status", int)
    return log


def tutorial_log(root: Path) -> list[dict[str, Any]]:
    """Every record of the tree under ``root``, the tutorial's way."""
    return list(apache_log(gen_cat(gen_open(sorted(root.rglob("access-log*"))))))
