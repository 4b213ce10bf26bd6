"""The material the sample log writer draws on: sites, time zones, resources, agents, hosts.

Kept apart from :mod:`streamql.samples.tree`, which writes the files and keeps the
books, so each fits on a screen.
"""

from __future__ import annotations

import bz2
import calendar
import gzip
import lzma
from collections.abc import Callable

GREP_PATTERN = "/ply/"
"""The tutorial's part 3 pattern: the ``grep`` whose bytes ``SampleTree.grep_bytes`` sums."""
GREP_DIR = "www"
"""The folder of common-format logs that part 3 reads (the tutorial's ``www``)."""
PLAIN_LOG = "www/foo/access-log"
"""The one plain common-format log of part 2."""
DOWNLOAD = "/ply/ply-2.3.tar.gz"
"""The file whose downloads part 4 counts."""
BIG = 1_000_000
"""Part 4's "transfers over a megabyte" threshold, in bytes."""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _utc(year: int, month: int, day: int = 1, hour: int = 0) -> int:
    return calendar.timegm((year, month, day, hour, 0, 0))


# Each site's UTC offset in minutes: before and after its 2008 daylight-saving switch.
_ZONES = {
    "www/foo": (-360, _utc(2008, 3, 9, 8), -300),  # Chicago, like dabeaz.com
    "www/bar": (0, _utc(2008, 3, 30, 1), 60),  # London
    "blog": (-480, _utc(2008, 3, 9, 10), -420),  # San Francisco
}

# (path, compression, format, (year, month) it covers, malformed lines it holds).
# "truncated" is always the last line, without its newline: a log cut while written.
_LAYOUT: tuple[tuple[str, str | None, str, tuple[int, int], tuple[str, ...]], ...] = (
    ("www/foo/access-log", None, "common", (2008, 3), ("blank",)),
    ("www/foo/access-log-0108.gz", "gzip", "common", (2008, 1), ("garbage",)),
    ("www/foo/access-log-0208.gz", "gzip", "common", (2008, 2), ()),
    ("www/bar/access-log", None, "common", (2008, 3), ("garbage", "truncated")),
    ("www/bar/access-log-0108.bz2", "bz2", "common", (2008, 1), ("binary",)),
    ("www/bar/access-log-0208.bz2", "bz2", "common", (2008, 2), ("blank",)),
    ("www/bar/old/access-log-1207.xz", "xz", "common", (2007, 12), ()),
    ("blog/access-log", None, "combined", (2008, 3), ("binary", "truncated")),
    ("blog/access-log-0208.gz", "gzip", "combined", (2008, 2), ("garbage",)),
)
# The file that is sure to hold one full download of the largest resource, so
# that the largest transfer is one request, whatever the seed and size.
_LARGEST_IN = "www/foo/access-log-0208.gz"

_COMPRESS: dict[str | None, Callable[[bytes], bytes]] = {
    None: lambda data: data,
    "gzip": lambda data: gzip.compress(data, mtime=0),  # no timestamp: reproducible
    "bz2": bz2.compress,
    "xz": lzma.compress,
}

# What can be asked for: (method, request, protocol, bytes, weight, kind). The
# kind decides the reply; "odd" lines are written as they stand. Every size is
# distinct, and the last big file is the largest by far (see _LARGEST_IN).
_Resource = tuple[str, str, str, int, float, str]
_CATALOG: tuple[_Resource, ...] = (
    ("GET", "/", "HTTP/1.1", 4447, 30, "page"),
    ("GET", "/index.html", "HTTP/1.1", 4412, 12, "page"),
    ("GET", "/ply/", "HTTP/1.1", 7587, 25, "page"),
    ("GET", "/ply/ply.html", "HTTP/1.1", 97238, 15, "page"),
    ("GET", "/ply/example.html", "HTTP/1.1", 2359, 6, "page"),
    ("GET", "/python.html", "HTTP/1.1", 12150, 6, "page"),
    ("GET", "/ply/bookplug.gif", "HTTP/1.1", 23903, 14, "page"),
    ("GET", "/images/Davetubes.jpg", "HTTP/1.1", 60025, 10, "page"),
    ("GET", "/images/dave-small.png", "HTTP/1.1", 8731, 10, "page"),
    ("GET", "/favicon.ico", "HTTP/1.1", 133, 22, "missing"),
    ("GET", "/ply/PLY.html", "HTTP/1.1", 284, 1, "missing"),
    ("GET", "/wp-login.php", "HTTP/1.1", 285, 1, "missing"),
    ("GET", "/phpmyadmin/index.php", "HTTP/1.1", 291, 1, "missing"),
    ("GET", "/cgi-bin/awstats.pl", "HTTP/1.0", 287, 0.5, "missing"),
    ("GET", DOWNLOAD, "HTTP/1.1", 142350, 6, "file"),
    ("GET", "/ply/ply-2.2.tar.gz", "HTTP/1.1", 139102, 1, "file"),
    ("GET", "/papers/generators.pdf", "HTTP/1.1", 871433, 2, "file"),
    ("GET", "/talks/GeneratorsUK.pdf", "HTTP/1.1", 1287461, 2, "file"),
    ("GET", "/cgi-bin/search.py?q=generators", "HTTP/1.1", 3312, 3, "cgi"),
    ("GET", '/search?q=\\"generators\\"', "HTTP/1.1", 3409, 1, "page"),
    ("POST", "/cgi-bin/comment.py", "HTTP/1.1", 512, 1, "cgi"),
    ("GET", "/private/notes.html", "HTTP/1.1", 5120, 1, "private"),
    ("GET", "/ply", "HTTP/1.1", 231, 2, "redirect"),
    ("", "-", "", 0, 0.4, "odd"),  # a client that connected and said nothing
    ("GET", "/", "", 4446, 0.2, "odd"),  # HTTP/0.9: no protocol
    ("", "\\x16\\x03\\x01\\x00\\xa5\\x01\\x00\\x00\\xa1\\x03\\x03", "", 226, 0.3, "odd"),  # TLS
    ("GET", "/talks/pycon2008/generators.mov", "HTTP/1.1", 48523117, 0.3, "file"),
)
_LARGEST = _CATALOG[-1]
_ROBOTS: _Resource = ("GET", "/robots.txt", "HTTP/1.0", 68, 0, "page")
_TRUNCATED: _Resource = ("GET", "/images/Davetubes.jpg", "HTTP/1.1", 60025, 0, "page")
_ODD_STATUS = {"-": 408, "/": 200}  # the TLS handshake gets 400

_CRAWLERS = (
    ("66.249.72.134", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    ("65.55.208.149", "msnbot/1.1 (+http://search.msn.com/msnbot.htm)"),
    (
        "74.6.22.132",
        "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
    ),
)
_AGENTS = (
    "Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.8.1.12) Gecko/20080201 Firefox/2.0.0.12",
    "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_5_2; en-us) AppleWebKit/525.13 "
    "(KHTML, like Gecko) Version/3.1 Safari/525.13",
    "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0; SLCC1; .NET CLR 2.0.50727)",
    "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)",
    "Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.8.1.12) Gecko/20080207 "
    "Ubuntu/7.10 Firefox/2.0.0.12",
    "Opera/9.26 (Windows NT 5.1; U; en)",
    "Wget/1.10.2",
    "curl/7.16.3 (powerpc-apple-darwin9.0) libcurl/7.16.3 OpenSSL/0.9.7l zlib/1.2.3",
    "Python-urllib/2.5",
    'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; \\"Toolbar 4.2\\")',
    'Java/1.6.0_04 \\"crawler\\"',
)
_REFERERS = (
    "http://www.dabeaz.com/",
    "http://www.dabeaz.com/ply/",
    "http://www.google.com/search?q=python+lex+yacc&ie=utf-8",
    "http://www.google.com/search?q=python+generators",
    "http://reddit.com/r/programming/",
    "http://www.python.org/",
    "http://www.google.ru/search?q=\\xd0\\xb3\\xd0\\xb5\\xd0\\xbd\\xd0\\xb5\\xd1\\x80\\xd0\\xb0\\xd1\\x82\\xd0\\xbe\\xd1\\x80",
    'http://example.com/forum?topic=\\"ply\\"',
)
_IPV6 = ("2001:db8::17", "2001:db8:4f1a::2", "2001:db8:85a3::8a2e:370:7334")
_REGULARS = ("81.107.39.38", "140.180.132.213", "75.54.118.139", "71.201.176.194")
