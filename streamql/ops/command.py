"""A command's output as a stream of lines: ``journalctl -o json``, ``kubectl logs -f``...

:func:`command` runs a program (never through a shell: ``argv`` is the list
of its arguments) and yields its standard output line by line as the lines
come, decoded as files are (``\\r\\n`` reads as ``\\n``, undecodable bytes as
``\\xNN``), a line over ``max_line`` characters a counted reject. Its
standard error is read at the same time, so the child never blocks on a
full pipe, and its last 64 KiB are kept for the report.

The process ends with the stream, whatever ends it: when the consumer stops
early (``take``, ``first``, ``until``, a closed pipe) it is sent SIGTERM
(with every process it started: the command runs in its own process group),
then SIGKILL after ``grace`` seconds if it is still there, and it is always
waited for, so no zombie and no open pipe is left. A command that ends by
itself with a non-zero status raises :class:`CommandError`, naming the
command, its status and the end of its standard error (``check=False``
accepts any status); one that succeeds but wrote to standard error issues a
:class:`CommandStderrWarning` with what it wrote.

>>> import sys
>>> list(command([sys.executable, "-c", "print('a'); print('b')"]))
['a\\n', 'b\\n']
"""

from __future__ import annotations

import codecs
import contextlib
import os
import selectors
import shlex
import signal
import subprocess
import warnings
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..core.context import RunContext
from ..core.defaults import MAX_LINE, POLL, REJECT_HEAD
from ..core.errors import StreamError
from ..live.shutdown import stop_requested
from .batches import check_max_line

__all__ = [
    "command",
    "check_argv",
    "CommandError",
    "CommandStderrWarning",
    "GRACE",
    "STDERR_TAIL",
]

GRACE = 5.0
"""Seconds a command has to end after SIGTERM on an early stop, before SIGKILL."""

STDERR_TAIL = 64 * 1024
"""How many of the last bytes of a command's standard error are kept for its report."""

_CHUNK = 1 << 16


class CommandError(StreamError):
    """A command that ended by itself with a non-zero status (or was killed by a signal).

    Carries ``argv``, ``returncode`` and ``stderr`` (the end of its standard error, as text).
    """

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str) -> None:
        self.argv, self.returncode, self.stderr = list(argv), returncode, stderr
        if returncode < 0:
            try:
                how = f"was killed by {signal.Signals(-returncode).name}"
            except ValueError:
                how = f"was killed by signal {-returncode}"
        else:
            how = f"exited with status {returncode}"
        text = f"command {shlex.join(argv)!r} {how}"
        text += f"; its standard error ended with:\n{stderr}" if stderr else " (no standard error)"
        text += "\n\nPass check=False to accept any exit status."
        super().__init__(text)


class CommandStderrWarning(UserWarning):
    """A command that succeeded wrote to its standard error: what it wrote."""


def check_argv(stage: str, argv: object) -> list[str]:
    """Validate a command's ``argv`` when the step is added: a non-empty list of str or paths.

    >>> check_argv("command", "journalctl -o json")
    Traceback (most recent call last):
    ...
    TypeError: command: argv must be a list of arguments, not a str: there is no shell
    <BLANKLINE>
    Split it: ['journalctl', '-o', 'json'] (shlex.split does it for you).
    """
    if isinstance(argv, (str, bytes)):
        split = shlex.split(argv) if isinstance(argv, str) else None
        raise TypeError(
            f"{stage}: argv must be a list of arguments, not a {type(argv).__name__}: "
            f"there is no shell\n\nSplit it: {split!r} (shlex.split does it for you)."
        )
    if not isinstance(argv, Sequence) or not argv:
        raise TypeError(f"{stage}: argv must be a non-empty list of arguments, got {argv!r}")
    args = []
    for arg in argv:
        if not isinstance(arg, (str, os.PathLike)):
            raise TypeError(f"{stage}: each argument must be a str or a path, got {arg!r}")
        args.append(os.fspath(arg))
    return [str(a) for a in args]


def _check(grace: object, poll: object, env: object, max_line: object) -> None:
    for name, value in (("grace", grace), ("poll", poll)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"command: {name} must be a positive number of seconds, got {value!r}")
    if env is not None and not isinstance(env, Mapping):
        raise TypeError(f"command: env must be a mapping of str to str, got {env!r}")
    check_max_line("command", max_line)


def command(
    argv: Sequence[str | os.PathLike[str]],
    *,
    check: bool = True,
    grace: float = GRACE,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    encoding: str = "utf-8",
    decode_errors: str = "backslashreplace",
    max_line: int | None = MAX_LINE,
    poll: float = POLL,
    ctx: RunContext | None = None,
) -> Iterator[str]:
    """Run ``argv`` (no shell) and yield the lines of its standard output as they come.

    Lazy: the process starts at the first ``next()``, and ends (SIGTERM, then
    SIGKILL after ``grace`` s, always reaped) when the stream is closed.
    Idle, it looks every ``poll`` seconds whether a later stage asked it to
    stop (``until``). Rejects (lines over ``max_line``) name the command as
    their file and the line number. See :mod:`streamql.ops.command`.

    >>> import sys
    >>> endless = "import itertools\\nfor i in itertools.count(): print(i)"
    >>> lines = command([sys.executable, "-c", endless])
    >>> next(lines), next(lines)
    ('0\\n', '1\\n')
    >>> lines.close()  # the endless child is ended and reaped here
    """
    args = check_argv("command", argv)
    _check(grace, poll, env, max_line)
    codecs.lookup(encoding)
    codecs.lookup_error(decode_errors)
    return _run(args, check, grace, cwd, env, encoding, decode_errors, max_line, poll, ctx)


class _Cursor:
    """Where a command's output is: the command (as its file) and the line number."""

    __slots__ = ("n", "name")

    def __init__(self, name: str) -> None:
        self.name, self.n = name, 0

    def position(self) -> tuple[str | None, int | None]:
        return self.name, self.n or None


def _run(
    args: list[str],
    check: bool,
    grace: float,
    cwd: str | os.PathLike[str] | None,
    env: Mapping[str, str] | None,
    encoding: str,
    decode_errors: str,
    max_line: int | None,
    poll: float,
    ctx: RunContext | None,
) -> Iterator[str]:
    own = ctx or RunContext()
    name = shlex.join(args)
    cursor = _Cursor(name)
    if ctx is not None and ctx.track:
        ctx.cursor = cursor
    decoder = codecs.getincrementaldecoder(encoding)(decode_errors)
    stderr: deque[bytes] = deque()
    stderr_size = 0
    pending = ""  # the start of a line whose newline has not come
    skipping: list[Any] | None = None  # an over-long line: [its head, its length]
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=None if env is None else dict(env),
        start_new_session=True,  # its own process group: an early stop ends its children too
    )
    assert proc.stdout is not None and proc.stderr is not None
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    ended_by_itself = False
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(out_fd, selectors.EVENT_READ)
            sel.register(err_fd, selectors.EVENT_READ)
            open_fds = 2
            while open_fds:
                if stop_requested(ctx):
                    return
                for key, _ in sel.select(poll):
                    fd = key.fd
                    data = os.read(fd, _CHUNK)
                    if not data:
                        sel.unregister(fd)
                        open_fds -= 1
                        if fd != out_fd:
                            continue
                        text = decoder.decode(b"", final=True)
                    elif fd == err_fd:
                        stderr.append(data)
                        stderr_size += len(data)
                        while stderr_size - len(stderr[0]) >= STDERR_TAIL:
                            stderr_size -= len(stderr.popleft())
                        continue
                    else:
                        text = decoder.decode(data)
                    if not text and data:
                        continue
                    parts = text.split("\n")
                    last = parts.pop()  # after the last newline: the start of the next line
                    for part in parts:
                        if skipping is not None:
                            skipping[1] += len(part)
                            _refuse(own, cursor, skipping, max_line)
                            skipping = None
                            continue
                        line = pending + part
                        pending = ""
                        if line[-1:] == "\r":
                            line = line[:-1]
                        if max_line is not None and len(line) > max_line:
                            _refuse(own, cursor, [line[:REJECT_HEAD], len(line)], max_line)
                            continue
                        cursor.n += 1
                        yield line + "\n"
                    if skipping is not None:
                        skipping[1] += len(last)
                    else:
                        pending += last
                        if max_line is not None and len(pending) > max_line:
                            skipping = [pending[:REJECT_HEAD], len(pending)]
                            pending = ""
                    if not data:  # the end of its output: a last line without a newline
                        if skipping is not None:
                            _refuse(own, cursor, skipping, max_line)
                            skipping = None
                        elif pending:
                            cursor.n += 1
                            line, pending = pending, ""
                            yield line
        returncode = proc.wait()
        ended_by_itself = True
    finally:
        if not ended_by_itself:
            _end(proc, grace)
        proc.stdout.close()
        proc.stderr.close()
    tail = b"".join(stderr)[-STDERR_TAIL:].decode(encoding, "backslashreplace")
    if returncode != 0 and check:
        raise CommandError(args, returncode, tail)
    if tail.strip():
        warnings.warn(
            f"command {name!r} wrote to its standard error:\n{tail}",
            CommandStderrWarning,
            stacklevel=2,
        )
    if ctx is None:
        own.warn(hint="pass max_line=None to lift the cap")


def _refuse(own: RunContext, cursor: _Cursor, skipped: list[Any], max_line: int | None) -> None:
    """Count one line over the cap as a reject of stage ``command``."""
    cursor.n += 1
    head, chars = skipped
    reason = f"line longer than max_line={max_line:,} ({chars:,} characters)"
    own.bad("skip", "command", reason, head, origin=(cursor.name, cursor.n))


def _end(proc: subprocess.Popen[bytes], grace: float) -> None:
    """End a command the consumer no longer reads: SIGTERM to its group, SIGKILL later; reap it."""
    if proc.poll() is not None:
        return  # it ended by itself (and is reaped now)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:  # deaf to SIGTERM
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
