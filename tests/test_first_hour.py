"""A newcomer's mistakes get errors that point at the fix; the REPL offers the query's own names."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamql import Stream
from streamql.windows import Window

LINE = '1.2.3.4 - - [24/Feb/2008:00:08:59 -0600] "GET /a HTTP/1.1" 404 7\n'


def test_parsing_paths_says_to_open_them(tmp_path: Path) -> None:
    (tmp_path / "access-log").write_text(LINE)
    with pytest.raises(TypeError, match=r"got PosixPath.*\n\nOpen the files first: \.open\(\)"):
        Stream.files("access-log", tmp_path).parse_apache().count()


def test_field_of_records_says_to_name_the_field() -> None:
    records = Stream([LINE]).parse_apache()
    with pytest.raises(TypeError, match=r"field: items must be lines \(str\), got dict"):
        records.field(2).list()
    with pytest.raises(TypeError, match=r"take a field by name"):
        records.field(2).list()


def test_window_results_read_by_field_name() -> None:
    windows = [Window(0, 60, 3), Window(60, 120, 9), Window(120, 180, 1)]
    assert Stream(windows).top(1, by="value") == [Window(60, 120, 9)]
    assert Stream(windows).max(key="value").start == 60
    with pytest.raises(KeyError):
        Window(0, 1, 2)["nope"]
    start, end, value = Window(0, 1, 2)  # still a tuple
    assert (start, end, value) == (0, 1, 2)


def test_tab_on_a_query_offers_its_own_names_only() -> None:
    names = dir(Stream.lines("log").parse_apache())
    for constructor in ("lines", "files", "follow", "logfile", "udp_messages", "multiplex"):
        assert constructor not in names
        assert constructor in dir(Stream)
    for method in ("where", "count_by", "explain", "rejects", "last_run", "schema"):
        assert method in names


@pytest.mark.parametrize("constructor", [Stream.logfile, Stream.follow])
def test_following_a_directory_says_so_at_once(tmp_path: Path, constructor: object) -> None:
    www = tmp_path / "www"
    www.mkdir()
    # Before, this waited forever for a file that can never appear.
    with pytest.raises(IsADirectoryError, match=r"(?s)'.*www' is a directory.*www/\*\.log"):
        constructor(www).take(1).list()  # type: ignore[operator]
