"""Import on first use: heavy modules and optional dependencies.

``import streamql`` and a one-line CLI query should not pay for sockets,
threads, HTML tables or Dask they never use. A module that only some methods
need is named with :func:`lazy` (and imported normally for the type checker);
its import runs the first time one of its attributes is read.

>>> json = lazy("json")
>>> json.dumps([1])
'[1]'
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["lazy", "optional"]

_EXTRAS = {
    "pandas": "pandas",
    "matplotlib.pyplot": "plot",
    "tqdm.auto": "progress",
    "tqdm.std": "progress",
    "pyarrow": "arrow",
    "pyarrow.parquet": "arrow",
    "polars": "polars",
}


class _Lazy(ModuleType):
    """A stand-in for a module that imports it when an attribute is first read."""

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__name__)
        return getattr(module, attr)


def lazy(name: str) -> Any:
    """Return a stand-in for module ``name``, imported when first used."""
    return _Lazy(name)


def optional(module: str) -> Any:
    """Import an optional dependency, or say which extra to install.

    >>> optional("no_such_module_here")
    Traceback (most recent call last):
    ...
    ImportError: no_such_module_here is not installed: pip install no_such_module_here
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = _EXTRAS.get(module)
        fix = f"pip install streamql[{extra}]" if extra else f"pip install {module}"
        raise ImportError(f"{module.split('.')[0]} is not installed: {fix}") from exc
