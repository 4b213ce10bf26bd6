"""Finding files under a root: the tutorial's gen_find, never outside the root.

Names match by glob; order is deterministic; each real file is yielded once;
symlinks that leave the root and symlink loops are counted skips (rejects of
stage ``files``), never followed out and never fatal.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from ..core.context import RunContext

__all__ = ["files", "expand_paths"]


def _validate_pattern(stage: str, pattern: str) -> None:
    if not isinstance(pattern, str) or not pattern:
        raise TypeError(f"{stage}: pattern must be a non-empty str, got {pattern!r}")
    posix = pattern.replace("\\", "/")
    if posix.startswith("/") or os.path.isabs(pattern):
        raise ValueError(
            f"{stage}: pattern must be relative to root, got the absolute {pattern!r}\n\n"
            "Pass the directory as root instead: files('access-log*', root='/var/log')."
        )
    if ".." in PurePosixPath(posix).parts:
        raise ValueError(f"{stage}: pattern must stay inside root, got {pattern!r}")


def files(
    pattern: str = "*",
    root: str | os.PathLike[str] = ".",
    *,
    follow_symlinks: bool = False,
    ctx: RunContext | None = None,
) -> Iterator[Path]:
    """Yield the files under ``root`` whose name matches ``pattern``, recursively.

    Lazy; memory grows only with the set of files seen (to yield each real file
    once). Order is deterministic: a directory's files by name, then its
    subdirectories by name. A pattern with a ``/`` is matched against the end of
    the path relative to root (like ``Path.rglob``); ``..`` and absolute
    patterns are refused.

    Never outside root: a symlink (file or directory) whose target lies
    outside root is skipped and counted as a reject of stage ``files``, with or
    without ``follow_symlinks`` (to read such a target, name it as the root).
    Symlinked directories inside root are entered only with
    ``follow_symlinks=True``; a symlink loop is skipped and counted, never
    fatal, and cannot make a file appear twice. The count goes to ``ctx``, or
    without one to a :class:`~streamql.core.errors.RejectedLinesWarning` at the end.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ["b/access-log", "a/access-log.gz", "a/notes.txt"]:
    ...     (d / name).parent.mkdir(exist_ok=True)
    ...     _ = (d / name).write_text("x")
    >>> [p.relative_to(d).as_posix() for p in files("access-log*", d)]
    ['a/access-log.gz', 'b/access-log']
    """
    _validate_pattern("files", pattern)
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"files: root {str(base)!r} is not a directory")
    posix = pattern.replace("\\", "/")

    if "/" in posix:

        def matches(rel: str, name: str) -> bool:
            return PurePosixPath(rel).match(posix)

    else:

        def matches(rel: str, name: str) -> bool:
            return fnmatch.fnmatchcase(name, posix)

    return _walk(base, matches, follow_symlinks, ctx)


def _inside(target: str, top: str) -> bool:
    return target == top or target.startswith(top.rstrip(os.sep) + os.sep)


def _walk(
    base: Path, matches: Any, follow_symlinks: bool, ctx: RunContext | None
) -> Iterator[Path]:
    own = ctx or RunContext()
    top = os.path.realpath(base)  # the root the user named, links in it resolved

    def skip(path: str, reason: str) -> None:
        own.bad("skip", "files", reason, path, origin=(path, None))

    seen_files: set[tuple[int, int]] = set()
    seen_dirs: set[tuple[int, int]] = set()
    st = base.stat()
    seen_dirs.add((st.st_dev, st.st_ino))
    stack: list[tuple[Path, str]] = [(base, "")]
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except (PermissionError, FileNotFoundError):
            # A folder removed or closed to us after it was listed has no files to give.
            continue
        subdirs: list[tuple[Path, str]] = []
        for entry in entries:
            entry_rel = f"{rel}{entry.name}"
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    st = os.stat(entry.path)  # ELOOP for a loop of links
                    if not _inside(target, top):
                        if stat.S_ISDIR(st.st_mode) or matches(entry_rel, entry.name):
                            skip(entry.path, f"symlink leaves the root: {target}")
                        continue
                    if stat.S_ISDIR(st.st_mode):
                        key = (st.st_dev, st.st_ino)
                        if not follow_symlinks:
                            continue  # inside root: its files are reached by their own path
                        if key in seen_dirs:
                            if _inside(os.path.realpath(folder), target):
                                skip(entry.path, "symlink loop")  # a link to where it is
                            continue
                        seen_dirs.add(key)
                        subdirs.append((folder / entry.name, entry_rel + "/"))
                        continue
                elif entry.is_dir(follow_symlinks=False):
                    subdirs.append((folder / entry.name, entry_rel + "/"))
                    continue
                if not entry.is_file(follow_symlinks=True) or not matches(entry_rel, entry.name):
                    continue
                st = entry.stat(follow_symlinks=True)
            except FileNotFoundError:
                continue  # vanished between listing and looking (or a dangling link)
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise
                skip(entry.path, "symlink loop")
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen_files:
                continue
            seen_files.add(key)
            yield folder / entry.name
        stack.extend(reversed(subdirs))
    if ctx is None:
        own.warn(hint="name a link's target as the root to read it")


def expand_paths(
    args: Iterable[str | os.PathLike[str]], *, ctx: RunContext | None = None
) -> list[Path]:
    """Turn file names, directories and globs into a sorted list of files.

    A directory stands for every file under it; a glob (``*``, ``?``, ``[``,
    ``**``) for its matches. Each argument must name at least one file.

    >>> expand_paths([])
    []
    """
    out: list[Path] = []
    for arg in args:
        if not isinstance(arg, (str, os.PathLike)):
            raise TypeError(f"lines: expected file names or globs, got {arg!r}")
        name = os.fspath(arg)
        if os.path.isdir(name):
            out.extend(files("*", name, ctx=ctx))
        elif os.path.exists(name) or not glob.has_magic(name):
            out.append(Path(name))  # a missing plain name fails, naming it, when opened
        else:
            found = sorted(p for p in glob.glob(name, recursive=True) if os.path.isfile(p))
            if not found:
                raise FileNotFoundError(f"lines: no file matches {name!r}")
            out.extend(Path(p) for p in found)
    return out
