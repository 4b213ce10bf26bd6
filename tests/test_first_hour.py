"""A newcomer's mistakes get errors that point at the fix; the REPL offers the query's own names."""

from __future__ import annotations

import io
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import streamql
from streamql import Stream
from streamql.live.windows import Window

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


class _CtrlC:
    """Items that end in a Ctrl-C, the way a long run meets one."""

    def __iter__(self) -> Iterator[int]:
        yield from range(5)
        raise KeyboardInterrupt


def _library_frames(exc: BaseException) -> list[str]:
    package = str(Path(streamql.__file__).parent)
    frames = traceback.extract_tb(exc.__traceback__)
    return [f"{f.filename}:{f.name}" for f in frames if f.filename.startswith(package)]


@pytest.mark.parametrize(
    "run",
    [
        lambda s: s.map(lambda x: x + 1).where(lambda x: x > 0).count(),
        lambda s: list(s.map(lambda x: x + 1).where(lambda x: x > 0)),
        lambda s: s.map(str).write(io.StringIO()),
    ],
    ids=["terminal", "iteration", "sink"],
)
def test_ctrl_c_shows_the_users_line_not_the_librarys_internals(run: Any) -> None:
    # Before, Ctrl-C in a terminal showed ~10 frames of engine and stage internals.
    with pytest.raises(KeyboardInterrupt) as caught:
        run(Stream(_CtrlC()))
    assert "interrupted: stopped early" in str(caught.value)
    assert caught.value.__suppress_context__
    assert len(_library_frames(caught.value)) <= 2, _library_frames(caught.value)
