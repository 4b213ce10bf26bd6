"""Say what a run rejected, every run, where the user looks: a warning, or a note in a notebook.

Python shows a warning once per place it is attributed to. Attributed to the
library's own line, a second ``log.count()`` would say nothing about its bad
lines; so a rejects warning is attributed to the first frame outside
streamql, the user's own line, and a REPL or a script shows it at every place
a query runs. In a Jupyter notebook the same text is displayed under the cell
as a note (not a warning on stderr), every time the cell runs. Quiet is the
user's choice: ``warnings.simplefilter("ignore", streamql.RejectedLinesWarning)``
silences both.

>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     report_rejects("rejected items: field 1")
>>> caught[0].filename == __file__ or caught[0].filename.startswith("<doctest")
True
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from typing import Any

from .errors import RejectedLinesWarning

__all__ = ["report_rejects", "in_notebook", "user_stacklevel"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # streamql/
_PLUMBING = ("contextlib.py",)


def in_notebook() -> bool:
    """Tell whether this process is a Jupyter kernel (IPython with a kernel)."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and hasattr(shell, "kernel")


def user_stacklevel() -> int:
    """The ``stacklevel`` that attributes a warning raised here to the user's frame."""
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith(_PACKAGE) or name.endswith(_PLUMBING)):
            return level
        frame, level = frame.f_back, level + 1
    return level


class RejectsNote:
    """A rejects summary displayed under a notebook cell."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        import html

        return f'<div style="color:#8a6d3b">&#9888; {html.escape(self.text)}</div>'


def _ignored() -> bool:
    """Tell whether the user's warning filters silence rejects warnings."""
    with warnings.catch_warnings(record=True) as caught:
        # The user's filters stay in force; "always" below them only replaces "once" rules.
        warnings.filterwarnings("always", category=RejectedLinesWarning, append=True)
        try:
            warnings.warn("probe", RejectedLinesWarning, stacklevel=2)
        except RejectedLinesWarning:  # turned into errors: not silenced
            return False
    return not caught


def report_rejects(text: str) -> None:
    """Report a run's rejects: a note in a notebook, else a warning at the user's line."""
    if in_notebook() and not _ignored():
        display: Any = getattr(sys.modules.get("IPython.display"), "display", None)
        if display is None:
            display = importlib.import_module("IPython.display").display
        display(RejectsNote(text))
        return
    warnings.warn(text, RejectedLinesWarning, stacklevel=user_stacklevel())
