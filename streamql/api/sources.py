"""Stream constructors: files under a root, lines of files, binary records, XML elements.

Each source holds a recipe (a pattern and root, paths, a file), so every run
opens its files afresh; a one-shot source (an open file) refuses a second run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, TypeVar

from ..core._lazy import lazy
from ..core.plan import Step
from ..ops import blocks, files
from ..ops.files import MAX_LINE
from .base import Source, StreamBase, check_path

if TYPE_CHECKING:
    from ..ops import binary, command, markup
    from .stream import Stream
else:  # imported when such a source is first made
    binary, markup = lazy("streamql.ops.binary"), lazy("streamql.ops.markup")
    command = lazy("streamql.ops.command")

__all__ = ["SourceMethods"]

T = TypeVar("T")
U = TypeVar("U")


def _records(struct_format: str, source: Source) -> Iterator[Any]:
    return binary.records(struct_format, source.take("records"))


def _xml(source: Source, tag: str) -> Iterator[Any]:
    return markup.xml_elements(source.take("xml"), tag)


class SourceMethods(StreamBase[T]):
    """Constructors of a Stream from files, records and XML."""

    __slots__ = ()

    @classmethod
    def files(
        cls,
        pattern: str = "*",
        root: str | os.PathLike[str] = ".",
        *,
        follow_symlinks: bool = False,
    ) -> Stream[Any]:
        """Start from the files under ``root`` matching ``pattern``, recursively, as Paths.

        Sorted, each real file once, never outside root; see :func:`streamql.ops.files.files`.

        >>> from streamql import Stream

        >>> Stream.files("access-log*", "www")
        Stream.files('access-log*', 'www')
        """
        files._validate_pattern("files", pattern)
        check_path("files", root)
        kwargs = {"follow_symlinks": True} if follow_symlinks else {}
        shown = None
        if root == ".":
            shown = ", ".join([repr(pattern)] + [f"{k}=True" for k in kwargs])
        step = Step(
            "files",
            files.files,
            (pattern, root),
            tuple(kwargs.items()),
            source=True,
            shown=shown,
            uses_ctx=True,  # symlinks that leave root are counted rejects of the run
        )
        return cls._of((step,))

    @classmethod
    def lines(
        cls,
        *paths: str | os.PathLike[str],
        encoding: str = "utf-8",
        decode_errors: str = "backslashreplace",
        max_line: int | None = MAX_LINE,
    ) -> Stream[str]:
        """Start from the lines of files: names, directories or globs (files+open+cat).

        Every run lists and opens the files afresh; one file is open at a time.
        A line over ``max_line`` characters is a counted reject (None: no cap).

        >>> from streamql import Stream

        >>> Stream.lines("www/*/access-log*")
        Stream.lines('www/*/access-log*')
        """
        if not paths:
            raise TypeError("lines: name at least one file, directory or glob")
        for p in paths:
            check_path("lines", p)
        kwargs: dict[str, Any] = {}
        if encoding != "utf-8":
            kwargs["encoding"] = encoding
        if decode_errors != "backslashreplace":
            kwargs["decode_errors"] = decode_errors
        if files.check_max_line("lines", max_line) != files.MAX_LINE:
            kwargs["max_line"] = max_line
        step = Step(
            "lines",
            files.lines,
            paths,
            tuple(kwargs.items()),
            source=True,
            uses_ctx=True,
            reads_files=True,
            variants=(("blocks", blocks.lines_blocks),),
            files_read=files.files_of_lines,
        )
        return cls._of((step,))

    @classmethod
    def records(
        cls, struct_format: str, file_or_path: str | os.PathLike[str] | IO[bytes]
    ) -> Stream[tuple[Any, ...]]:
        """Start from fixed-size binary records unpacked with ``struct`` (tutorial part 10).

        >>> from streamql import Stream

        >>> import io, struct
        >>> data = io.BytesIO(struct.pack("<ii", 1, 2) + struct.pack("<ii", 3, 4))
        >>> Stream.records("<ii", data).list()
        [(1, 2), (3, 4)]
        """
        binary.records(struct_format, file_or_path)  # checks the arguments now
        one_shot = not isinstance(file_or_path, (str, os.PathLike))
        source = Source(file_or_path, one_shot)
        step = Step("records", _records, (struct_format, source), source=True, one_shot=one_shot)
        return cls._of((step,))

    @classmethod
    def xml(cls, path_or_file: str | os.PathLike[str] | IO[bytes], tag: str) -> Stream[Any]:
        """Start from each ``tag`` element of a (large) XML file, in flat memory.

        >>> from streamql import Stream

        >>> import io
        >>> doc = io.BytesIO(b"<log><hit ip='1'/><hit ip='2'/></log>")
        >>> Stream.xml(doc, "hit").map(lambda e: e.get("ip")).list()
        ['1', '2']
        """
        markup.xml_elements(path_or_file, tag)  # checks the arguments now; reads nothing
        one_shot = not isinstance(path_or_file, (str, os.PathLike))
        step = Step(
            "xml", _xml, (Source(path_or_file, one_shot), tag), source=True, one_shot=one_shot
        )
        return cls._of((step,))

    @classmethod
    def command(
        cls,
        argv: list[str | os.PathLike[str]] | tuple[str | os.PathLike[str], ...],
        *,
        check: bool = True,
        grace: float | None = None,
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
        encoding: str = "utf-8",
        decode_errors: str = "backslashreplace",
        max_line: int | None = MAX_LINE,
    ) -> Stream[str]:
        """Start from the lines a command writes to its standard output (no shell), as they come.

        Every run starts the command afresh; an early stop (``take``,
        ``first``, ``until``) ends it (SIGTERM, SIGKILL after ``grace`` s,
        default 5, always reaped); a non-zero exit raises
        :class:`~streamql.ops.command.CommandError` with its standard error's end
        (``check=False`` accepts it). See :func:`streamql.ops.command.command`.

        >>> import sys
        >>> from streamql import Stream

        >>> Stream.command([sys.executable, "-c", "print('a b'); print('c d')"]).field(1).list()
        ['b', 'd']
        >>> Stream.command(["journalctl", "-o", "json", "-n", "100"])
        Stream.command(['journalctl', '-o', 'json', '-n', '100'])
        """
        args = command.check_argv("command", argv)
        given: dict[str, Any] = {
            "check": check,
            "grace": grace,
            "cwd": cwd,
            "env": env,
            "encoding": encoding,
            "decode_errors": decode_errors,
            "max_line": max_line,
        }
        defaults = {"check": True, "encoding": "utf-8", "decode_errors": "backslashreplace"}
        defaults["max_line"] = MAX_LINE
        kwargs = {
            k: v
            for k, v in given.items()
            if v != defaults.get(k) and not (v is None and k in ("grace", "cwd", "env"))
        }
        command.command(args, **kwargs)  # checks the arguments now; starts nothing
        step = Step(
            "command",
            command.command,
            (args,),
            tuple(kwargs.items()),
            source=True,
            uses_ctx=True,
            pure=False,
        )
        return cls._of((step,))
