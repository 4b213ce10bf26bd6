"""Write a realistic, reproducible tree of Apache access logs to try streamql on.

The tutorial's queries ran on the logs of dabeaz.com. :func:`write_sample_tree`
writes a tree like them from a seeded random generator, without the network:
the tutorial's ``www/foo`` and ``www/bar`` folders of common-format logs (plain,
gzip, bzip2, and an xz archive in a nested folder), plus a ``blog`` site logging
in the combined format. The lines are what real servers write: sessions of
page, images and ``/favicon.ico`` 404s, crawlers reading ``/robots.txt``, IPv4
and IPv6 hosts, ``304 -`` replies, partial downloads, daylight-saving offset
changes, ``\\"`` and ``\\xhh`` escapes in quoted fields, ``"-"`` requests and
HTTP/0.9 requests without a protocol. Each file also holds a known few
malformed lines: a blank line, an error-log line, binary junk, a truncated
last line.

While it writes, the generator keeps its own books: the answers the
tutorial's queries should give (total bytes, the 404s, the largest transfer,
the hosts...), computed from what it wrote rather than by reading it back, so
the demo and the tests can check streamql against a reference that is not
streamql.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from .material import (
    _AGENTS,
    _CATALOG,
    _COMPRESS,
    _CRAWLERS,
    _DAYS,
    _IPV6,
    _LARGEST,
    _LARGEST_IN,
    _LAYOUT,
    _MONTHS,
    _ODD_STATUS,
    _REFERERS,
    _REGULARS,
    _ROBOTS,
    _TRUNCATED,
    _ZONES,
    BIG,
    DOWNLOAD,
    GREP_DIR,
    GREP_PATTERN,
    PLAIN_LOG,
    _Resource,
    _utc,
)

__all__ = [
    "BIG",
    "DOWNLOAD",
    "GREP_DIR",
    "GREP_PATTERN",
    "PLAIN_LOG",
    "SampleFile",
    "SampleTree",
    "write_sample_tree",
]


@dataclass(frozen=True)
class SampleFile:
    """One log file of a sample tree, and what the generator wrote into it."""

    path: Path
    relpath: str
    compression: str | None
    format: str
    lines: int
    good: int
    malformed: int
    bytes: int
    """The sum of the bytes column over its good lines (``-`` counts as 0)."""


@dataclass(frozen=True)
class SampleTree:
    """What :func:`write_sample_tree` wrote, with the answers the tutorial's queries should give.

    Every answer is counted over the good (well-formed) lines of all files,
    unless its description says otherwise.
    """

    root: Path
    files: tuple[SampleFile, ...]
    good_lines: int
    malformed_lines: int
    malformed_kinds: dict[str, int]
    """Malformed lines by kind: blank, garbage, binary, truncated."""
    total_bytes: int
    not_found: frozenset[str]
    """The requests answered 404."""
    largest: tuple[int, str]
    """The largest transfer, as the tutorial prints it: (bytes, request)."""
    large_transfers: dict[str, int]
    """Transfers of more than ``BIG`` bytes, counted by request."""
    hosts: frozenset[str]
    downloads: int
    """Requests for ``DOWNLOAD``."""
    robots_hosts: frozenset[str]
    """The hosts that asked for a robots.txt."""
    grep_bytes: int
    """Part 3: the bytes of the lines under ``GREP_DIR`` containing ``GREP_PATTERN``."""

    @property
    def lines(self) -> int:
        """Every line written, good and malformed."""
        return self.good_lines + self.malformed_lines

    def file(self, relpath: str) -> SampleFile:
        """Return the file at ``relpath`` (e.g. ``"www/foo/access-log"``)."""
        for f in self.files:
            if f.relpath == relpath:
                return f
        raise KeyError(f"sample tree has no file {relpath!r}")


@dataclass
class _Books:
    """The running answers, kept while lines are written."""

    good: int = 0
    total_bytes: int = 0
    not_found: set[str] = field(default_factory=set)
    largest: tuple[int, str] = (-1, "")
    large: Counter[str] = field(default_factory=Counter)
    hosts: set[str] = field(default_factory=set)
    downloads: int = 0
    robots: set[str] = field(default_factory=set)
    grep_bytes: int = 0

    def record(self, host: str, request: str, status: int, nbytes: int, in_grep: bool) -> None:
        self.good += 1
        self.total_bytes += nbytes
        self.hosts.add(host)
        if status == 404:
            self.not_found.add(request)
        if (nbytes, request) > self.largest:
            self.largest = (nbytes, request)
        if nbytes > BIG:
            self.large[request] += 1
        if request == DOWNLOAD:
            self.downloads += 1
        if "robots.txt" in request:
            self.robots.add(host)
        if in_grep:
            self.grep_bytes += nbytes


class _Hosts:
    """The visitors: regulars, a crowd, a few IPv6 hosts and the crawlers, each with its agent."""

    def __init__(self, rng: random.Random) -> None:
        crowd = {
            f"{rng.randint(12, 222)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}."
            f"{rng.randint(1, 254)}"
            for _ in range(240)
        }
        humans = list(_REGULARS) + [h for h in sorted(crowd) if h not in _REGULARS]
        rng.shuffle(humans)
        for i, host in enumerate(_IPV6):
            humans.insert(3 + 5 * i, host)
        self.names = [h for h, _ in _CRAWLERS] + humans
        # Crawlers come often; people by a Zipf-like law (a few regulars, a long tail).
        weights = [6.0] * len(_CRAWLERS) + [3.0 / (rank + 1) + 0.01 for rank in range(len(humans))]
        self.cum_weights = list(accumulate(weights))
        self.crawlers = {h for h, _ in _CRAWLERS}
        self.agent = dict(_CRAWLERS)
        self.proto10: set[str] = set()
        for host in humans:
            self.agent[host] = rng.choice(_AGENTS)
            if rng.random() < 0.1:
                self.proto10.add(host)


def _timestamp(local: int, offset: int) -> str:
    t = time.gmtime(local)
    sign = "-" if offset < 0 else "+"
    hh, mm = divmod(abs(offset), 60)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {sign}{hh:02d}{mm:02d}"
    )


def _reply(rng: random.Random, resource: _Resource) -> tuple[str, int, str]:
    """Decide the user, status and bytes column for a request."""
    _, request, _, size, _, kind = resource
    r = rng.random()
    if kind == "page":
        return ("-", 304, "-") if r < 0.12 else ("-", 200, str(size))
    if kind == "missing":
        return "-", 404, str(size)
    if kind == "file":
        if r < 0.1:
            return "-", 206, str(rng.randint(1, size - 1))
        return ("-", 304, "-") if r < 0.15 else ("-", 200, str(size))
    if kind == "cgi":
        return ("-", 500, "612") if r < 0.2 else ("-", 200, str(size))
    if kind == "private":
        return ("dave", 200, str(size)) if r < 0.5 else ("-", 401, "401")
    if kind == "redirect":
        return "-", 301, str(size)
    status = _ODD_STATUS.get(request, 400)
    return "-", status, str(size) if size else "-"


def _junk(rng: random.Random) -> bytes:
    """Bytes no decoder likes: a TLS record header and random high bytes, no line breaks."""
    return b"\x16\x03\x01" + bytes(rng.randint(0x80, 0xFF) for _ in range(rng.randint(20, 60)))


def _write_file(
    rng: random.Random,
    hosts: _Hosts,
    books: _Books,
    relpath: str,
    fmt: str,
    month: tuple[int, int],
    malformed: tuple[str, ...],
    n: int,
) -> tuple[bytes, int]:
    """Build one file's bytes, recording its good lines in ``books``; return (data, bytes)."""
    site = relpath.split("/access-log")[0].removesuffix("/old")
    before, switch, after = _ZONES[site]
    year, mon = month
    start = _utc(year, mon) - before * 60
    end = _utc(year + mon // 12, mon % 12 + 1) - before * 60
    in_grep = relpath.startswith(GREP_DIR + "/")
    combined = fmt == "combined"

    # Where the malformed lines go; a truncated line is always the last.
    middle = [k for k in malformed if k != "truncated"]
    bad_at = dict(zip(rng.sample(range(n - 1), len(middle)), middle, strict=True))
    if "truncated" in malformed:
        bad_at[n - 1] = "truncated"
    largest_at = rng.randrange(n - 1) if relpath == _LARGEST_IN else -1
    while largest_at in bad_at:
        largest_at = rng.randrange(n - 1)

    # Half the lines continue a visit within seconds; the rest spread over the month.
    gap = max(0, int((0.97 * (end - start) / n - 0.675) / 0.55))
    choose = rng.choices
    weights = [r[4] for r in _CATALOG]
    resources = choose(_CATALOG, weights=weights, k=n)
    visitors = choose(hosts.names, cum_weights=hosts.cum_weights, k=n)
    out: list[bytes] = []
    file_bytes = 0
    t = start
    host = visitors[0]
    for i in range(n):
        if rng.random() < 0.45:
            t += rng.randint(0, 3)
        else:
            t += rng.randint(0, 2 * gap)
            host = visitors[i]
        t = min(t, end - 1)
        offset = before if t < switch else after
        kind = bad_at.get(i)
        if kind == "blank":
            out.append(b"")
            continue
        if kind == "binary":
            out.append(_junk(rng))
            continue
        if kind == "garbage":
            # An error-log line written to the access log by a misconfigured server.
            g = time.gmtime(t + offset * 60)
            out.append(
                f"[{_DAYS[g.tm_wday]} {_MONTHS[g.tm_mon - 1]} {g.tm_mday:02d} "
                f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d} {g.tm_year}] [error] "
                f"[client {host}] File does not exist: /usr/www/favicon.ico".encode()
            )
            continue

        resource = resources[i]
        if kind == "truncated":
            resource = _TRUNCATED  # not a GREP_PATTERN request, whatever the cut
        elif rng.random() < (0.15 if host in hosts.crawlers else 0.002):
            resource = _ROBOTS
        method, request, proto, size, _, rkind = resource
        if i == largest_at:
            method, request, proto, size, _, rkind = _LARGEST
            user, status, nbytes = "-", 200, str(size)
        else:
            user, status, nbytes = _reply(rng, resource)
        if method == "GET" and rkind == "page" and rng.random() < 0.02:
            method, nbytes = "HEAD", "-"
        if proto == "HTTP/1.1" and host in hosts.proto10:
            proto = "HTTP/1.0"
        req = " ".join(part for part in (method, request, proto) if part)
        line = f'{host} - {user} [{_timestamp(t + offset * 60, offset)}] "{req}" {status} {nbytes}'
        if combined:
            crawler = host in hosts.crawlers
            referer = "-" if crawler or rng.random() < 0.4 else rng.choice(_REFERERS)
            line += f' "{referer}" "{hosts.agent[host]}"'
        if kind == "truncated":
            # Cut inside the request (common) or the agent (combined): never a valid line.
            cut = line.rindex('"') - 5 if combined else line.index('"') + 12
            out.append(line[:cut].encode())
            continue
        value = 0 if nbytes == "-" else int(nbytes)
        books.record(host, request, status, value, in_grep and GREP_PATTERN in line)
        file_bytes += value
        out.append(line.encode())
    data = b"\n".join(out)
    if bad_at.get(n - 1) != "truncated":
        data += b"\n"
    return data, file_bytes


def write_sample_tree(root: str | Path, *, lines_per_file: int = 2000, seed: int = 0) -> SampleTree:
    """Write a tree of Apache access logs under ``root`` and return what was written.

    Writes 9 files of ``lines_per_file`` lines each (about 18,000 lines by
    default, in a fraction of a second): ``www/foo`` (plain and gzip),
    ``www/bar`` (plain, bzip2, and xz in ``www/bar/old``) in the common format,
    ``blog`` (plain and gzip) in the combined format. Nine of the lines are
    malformed. Uses ``random.Random(seed)`` only: the same seed writes the
    same bytes. ``root`` is created if needed; files of the same names are
    replaced, others left alone.

    >>> import tempfile
    >>> from streamql import Stream
    >>> with tempfile.TemporaryDirectory() as d:
    ...     tree = write_sample_tree(d, lines_per_file=100)
    ...     log = Stream.files("access-log*", d).open().cat().parse_apache()
    ...     print(len(tree.files), tree.lines, tree.malformed_lines, log.rejects.count())
    9 900 9 9
    >>> tree.file("www/bar/old/access-log-1207.xz").compression
    'xz'
    """
    if not isinstance(lines_per_file, int) or isinstance(lines_per_file, bool):
        raise TypeError(f"write_sample_tree: lines_per_file must be an int, got {lines_per_file!r}")
    if lines_per_file < 10:
        raise ValueError(
            f"write_sample_tree: lines_per_file must be at least 10, got {lines_per_file}"
        )
    base = Path(root)
    rng = random.Random(seed)
    hosts = _Hosts(rng)
    books = _Books()
    written: list[SampleFile] = []
    kinds: Counter[str] = Counter()
    for relpath, compression, fmt, month, malformed in _LAYOUT:
        data, nbytes = _write_file(
            rng, hosts, books, relpath, fmt, month, malformed, lines_per_file
        )
        path = base / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_COMPRESS[compression](data))
        kinds.update(malformed)
        written.append(
            SampleFile(
                path=path,
                relpath=relpath,
                compression=compression,
                format=fmt,
                lines=lines_per_file,
                good=lines_per_file - len(malformed),
                malformed=len(malformed),
                bytes=nbytes,
            )
        )
    return SampleTree(
        root=base,
        files=tuple(written),
        good_lines=books.good,
        malformed_lines=sum(kinds.values()),
        malformed_kinds=dict(sorted(kinds.items())),
        total_bytes=books.total_bytes,
        not_found=frozenset(books.not_found),
        largest=books.largest,
        large_transfers=dict(books.large.most_common()),
        hosts=frozenset(books.hosts),
        downloads=books.downloads,
        robots_hosts=frozenset(books.robots),
        grep_bytes=books.grep_bytes,
    )
