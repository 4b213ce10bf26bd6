"""Wait for a followed file to change: inotify where available, a plain poll otherwise.

With inotify (Linux, and the optional ``inotify_simple`` package: ``pip install
streamql[inotify]``) a follow watches the folders of its files and wakes at
once when one is written, renamed, created, deleted or truncated — which
shrinks the window in which a copytruncate rotation can cut lines the follower
had not read yet — and an idle follow looks at its files only once a
:data:`RESCAN` seconds instead of every poll. Without it, or if a folder
cannot be watched, it polls. Either way it looks at its shutdown Event at
least every poll interval.

Limits: any change in a watched folder wakes the follow (a busy ``/var/log``
makes it look as often as polling would); a watched folder that is removed
and made again sends no more events, so changes there are then seen within
:data:`RESCAN` seconds; inotify does not see writes made on another machine
(NFS), where the rescan is again the safety net.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["Waiter", "inotify_available", "RESCAN"]

RESCAN = 1.0
"""With inotify, seconds between two looks at idle files anyway (a safety net)."""

try:  # pragma: no cover - depends on the platform and the optional package
    import inotify_simple as _inotify
except ImportError:  # pragma: no cover
    _inotify = None


def inotify_available() -> bool:
    """Say whether follows can use inotify here.

    >>> isinstance(inotify_available(), bool)
    True
    """
    return _inotify is not None and hasattr(os, "pread")


class Waiter:
    """Sleep between two rounds of a follow until a file changes, the poll ends, or shutdown.

    ``use_inotify``: True requires it (``ValueError`` if unavailable), False
    polls, None uses it when available.
    """

    def __init__(self, paths: Sequence[str], use_inotify: bool | None) -> None:
        if use_inotify and not inotify_available():
            raise ValueError(
                "follow: inotify=True but inotify is not available here\n\n"
                "Install the optional package: pip install 'streamql[inotify]'"
            )
        self.notify: Any = None
        if use_inotify is False or not inotify_available():
            return
        notify = _inotify.INotify(nonblocking=True)
        f = _inotify.flags
        mask = f.MODIFY | f.CREATE | f.DELETE | f.MOVED_FROM | f.MOVED_TO | f.ATTRIB | f.CLOSE_WRITE
        try:
            for folder in dict.fromkeys(os.path.dirname(os.path.abspath(p)) for p in paths):
                notify.add_watch(folder, mask)
        except OSError:
            notify.close()  # a folder that cannot be watched (missing, NFS): poll
            return
        self.notify = notify

    @property
    def uses_inotify(self) -> bool:
        return self.notify is not None

    def wait(self, seconds: float, shutdown: threading.Event | None) -> bool:
        """Wait up to ``seconds``; say whether a file may have changed (always, when polling)."""
        if self.notify is None:
            if shutdown is not None:
                shutdown.wait(seconds)
            else:
                threading.Event().wait(seconds)
            return True
        ready, _, _ = select.select([self.notify.fileno()], [], [], seconds)
        if not ready:
            return False
        try:
            while os.read(self.notify.fileno(), 1 << 16):
                pass
        except BlockingIOError:
            pass
        return True

    def close(self) -> None:
        if self.notify is not None:
            notify, self.notify = self.notify, None
            notify.close()
