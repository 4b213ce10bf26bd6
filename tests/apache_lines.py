"""Hypothesis strategies for Apache log lines: good ones, near misses and garbage.

Shared by the block tests (planned against plain runs) and the scanner tests
(the C scanner against the regex).
"""

from __future__ import annotations

from hypothesis import strategies as st

months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
timestamps = st.builds(
    lambda d, m, y, h, mm, ss, sign, oh, om: (
        f"{d:02d}/{m}/{y:04d}:{h:02d}:{mm:02d}:{ss:02d} {sign}{oh:02d}{om:02d}"
    ),
    st.sampled_from([1, 9, 28, 29, 30, 31, 0, 32]),
    st.sampled_from([*months, "feb", "Foo"]),
    st.sampled_from([2008, 2007, 1900, 2000, 0, 4, 9999]),
    st.sampled_from([0, 23, 24]),
    st.sampled_from([0, 59, 60]),
    st.sampled_from([0, 59, 61]),
    st.sampled_from("+-"),
    st.sampled_from([0, 6, 23, 24]),
    st.sampled_from([0, 30, 60]),
)
tokens = st.sampled_from(["1.2.3.4", "::1", "-", "bob", "h\u00e9", "x\x1cy", "a\u00a0b"])
requests = st.sampled_from(
    [
        "GET / HTTP/1.1",
        "GET /robots.txt HTTP/1.0",
        "GET /ply/ply-2.3.tar.gz HTTP/1.1",
        "-",
        "GET /a  b HTTP/1.1",
        "POST /x",
        'GET /q\\"uote HTTP/1.1',
        "GET /back\\\\slash HTTP/1.1",
        "\\x16\\x03\\x01",
        "GET /x\u2028y HTTP/1.1",
        "GET /\u00e9t\u00e9 HTTP/1.1",  # not ASCII: undecodable when the file is Latin-1
        "GET /a\rb HTTP/1.1",  # a lone CR ends a line when read (universal newlines)
        " 404 12 ",  # a request that looks like a status
    ]
)
tails = st.sampled_from(
    ["", ' "-" "curl/8.0"', ' "http://a/" "Mozilla \\"x\\""', ' "-"', " ", "\t", " \u00a0", " junk"]
)
good = st.builds(
    lambda host, ident, user, ts, req, status, size, tail: (
        f'{host} {ident} {user} [{ts}] "{req}" {status} {size}{tail}'
    ),
    tokens,
    tokens,
    tokens,
    timestamps,
    requests,
    st.sampled_from(["200", "404", "304", "99", "5000"]),
    st.sampled_from(["-", "0", "133", "97238", "x"]),
    tails,
)
bad = st.sampled_from(["", "garbage 404 robots", '1.2.3.4 - - [x] "GET /robots.txt" 404 1', '"'])


def mostly(valid: st.SearchStrategy[str], invalid: list[str]) -> st.SearchStrategy[str]:
    """Nine times in ten a valid value, else one of ``invalid``."""
    chosen = st.tuples(st.integers(0, 9), valid, st.sampled_from(invalid))
    return chosen.map(lambda c: c[2] if c[0] == 9 else c[1])


# Lines each part of which is valid most of the time, so that whole blocks of
# good lines are common and each check (a day past the month's end, hour 24,
# a tab for a space...) is met alone.
dates = st.one_of(
    st.tuples(
        st.integers(0, 32), mostly(st.sampled_from(months), ["feb", "Foo"]), st.integers(0, 9999)
    ),
    # the end of February, in years that are leap years or are not, for each rule
    st.tuples(
        st.sampled_from([28, 29, 30]),
        st.just("Feb"),
        st.sampled_from([1900, 2000, 2001, 2004, 2100, 2400, 0, 4, 400, 9996]),
    ),
)
likely_good = st.builds(
    lambda host, ident, user, date, h, mi, s, sign, oh, om, req, status, size, tail: (
        f"{host} {ident} {user} [{date[0]:02d}/{date[1]}/{date[2]:04d}:{h:02d}:{mi:02d}:{s:02d} "
        f'{sign}{oh:02d}{om:02d}] "{req}" {status} {size}{tail}'
    ),
    *[mostly(st.sampled_from(["1.2.3.4", "-", "h\u00e9", "\u2603"]), ["x\ty", "a\u00a0b"])] * 3,
    dates,
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 60),
    st.sampled_from("+-"),
    st.integers(0, 24),
    st.integers(0, 60),
    mostly(st.sampled_from(["GET / HTTP/1.1", r"GET /a\"b", "-", ""]), ['a"b', "a\\", "a\nb"]),
    mostly(st.integers(100, 999).map(str), ["99", "1000", "2x0"]),
    mostly(st.sampled_from(["-", "0", "1234", "9" * 25]), ["", "--", "1-"]),
    mostly(
        st.sampled_from(["", ' "-" "curl/8.0"', r' "http://a/" "M \"x\""', " ", "\t "]),
        [' "-"', ' "a" "b" x', ' "a"  "b"', " junk", "\r"],
    ),
)

# Lines the fast check passes, every part valid (the day at most 28).
valid_line = st.builds(
    lambda host, d, m, y, h, mi, s, sign, oh, om, req, status, size, tail: (
        f"{host} - {host} [{d:02d}/{m}/{y:04d}:{h:02d}:{mi:02d}:{s:02d} "
        f'{sign}{oh:02d}{om:02d}] "{req}" {status} {size}{tail}'
    ),
    st.sampled_from(["1.2.3.4", "-", "h\u00e9", "\u2603", "::1"]),
    st.integers(1, 28),
    st.sampled_from(months),
    st.integers(1, 9999),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.sampled_from("+-"),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(["GET / HTTP/1.1", r"GET /a\"b", "-", "", "GET /robots.txt HTTP/1.0"]),
    st.integers(100, 999).map(str),
    st.sampled_from(["-", "0", "1234", "9" * 25]),
    st.sampled_from(["", ' "-" "curl/8.0"', r' "http://a/" "M \"x\""', " ", "\t "]),
)
