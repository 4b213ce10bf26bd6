"""The module paths of streamql 0.1's flat layout, kept importable.

streamql 0.1 kept every module at the top of the package (``streamql.files``,
``streamql.follow``...). They now live in subpackages by area; an import of an
old path still works, gives the module at its new path, and warns once with a
:class:`DeprecationWarning` naming it. Old paths that are now packages
(``streamql.display``, ``streamql.live``, ``streamql.engine``) hand on the
names their modules had, through :func:`forward`; the command's entry point
is ``streamql.cli.main:main``.

>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     from streamql.files import lines
>>> lines.__module__, str(caught[0].message)
('streamql.ops.files', 'streamql.files moved to streamql.ops.files')
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

__all__ = ["MOVED", "forward", "install"]

MOVED = {
    "apache": "streamql.formats.access.apache",
    "apache_diagnose": "streamql.formats.access.apache_diagnose",
    "apache_format": "streamql.formats.access.apache_format",
    "apache_schema": "streamql.formats.access.apache_schema",
    "apache_time": "streamql.formats.access.apache_time",
    "aws_alb": "streamql.formats.access.aws_alb",
    "base": "streamql.api.base",
    "batches": "streamql.ops.batches",
    "binary": "streamql.ops.binary",
    "block_parse": "streamql.formats.access.block_parse",
    "blocks": "streamql.ops.blocks",
    "cancel": "streamql.core.cancel",
    "channel": "streamql.routing.channel",
    "checkpoint": "streamql.live.checkpoint",
    "command": "streamql.ops.command",
    "compress": "streamql.ops.compress",
    "console": "streamql.cli.console",
    "context": "streamql.core.context",
    "coroutines": "streamql.routing.coroutines",
    "cprogram": "streamql.formats.access.cprogram",
    "dask_engine": "streamql.engine.dask_engine",
    "defaults": "streamql.core.defaults",
    "demo": "streamql.cli.demo",
    "display_methods": "streamql.api.display",
    "engines": "streamql.engine.registry",
    "errors": "streamql.core.errors",
    "explain": "streamql.api.explain",
    "expr": "streamql.core.expr",
    "expr_funcs": "streamql.core.expr_funcs",
    "expr_tree": "streamql.core.expr_tree",
    "field_types": "streamql.core.field_types",
    "files": "streamql.ops.files",
    "flow": "streamql.ops.flow",
    "follow": "streamql.live.follow",
    "forkpool": "streamql.engine.forkpool",
    "format_fields": "streamql.formats.access.format_fields",
    "interop": "streamql.display.interop",
    "json_decode": "streamql.formats.json_decode",
    "json_lines": "streamql.formats.json_lines",
    "live_methods": "streamql.api.live",
    "liveview": "streamql.display.liveview",
    "log_parse": "streamql.formats.access.log_parse",
    "log_presets": "streamql.formats.access.log_presets",
    "logfile": "streamql.live.logfile",
    "logfmt": "streamql.formats.logfmt",
    "logformat": "streamql.formats.access.logformat",
    "logname": "streamql.live.logname",
    "markup": "streamql.ops.markup",
    "net": "streamql.routing.net",
    "netsources": "streamql.routing.netsources",
    "nginx_format": "streamql.formats.access.nginx_format",
    "optimize": "streamql.planner.optimize",
    "output": "streamql.cli.output",
    "parallel": "streamql.engine.processes",
    "parser_methods": "streamql.api.parsers",
    "pattern": "streamql.formats.pattern",
    "plan": "streamql.core.plan",
    "pool": "streamql.routing.pool",
    "prescan": "streamql.planner.prescan",
    "program_scan": "streamql.formats.access.program_scan",
    "progress": "streamql.engine.progress",
    "receiver": "streamql.routing.receiver",
    "records": "streamql.ops.records",
    "report": "streamql.core.report",
    "request_line": "streamql.formats.access.request_line",
    "rotation": "streamql.live.rotation",
    "routing_methods": "streamql.api.routing",
    "sample": "streamql.samples.tree",
    "sample_data": "streamql.samples.material",
    "sample_json": "streamql.samples.applogs",
    "sample_syslog": "streamql.samples.syslogs",
    "scan": "streamql.formats.access.scan",
    "schema": "streamql.core.schema",
    "shutdown": "streamql.live.shutdown",
    "source_methods": "streamql.api.sources",
    "stream": "streamql.api.stream",
    "syslog": "streamql.formats.syslog",
    "syslog_schema": "streamql.formats.syslog_schema",
    "syslog_time": "streamql.formats.syslog_time",
    "tables": "streamql.display.tables",
    "tail": "streamql.live.tail",
    "terminal_methods": "streamql.api.terminals",
    "text": "streamql.ops.text",
    "threads": "streamql.routing.threads",
    "transform_methods": "streamql.api.transforms",
    "transport": "streamql.routing.transport",
    "w3c": "streamql.formats.access.w3c",
    "walk": "streamql.ops.walk",
    "watch": "streamql.live.watch",
    "windows": "streamql.live.windows",
    "writers": "streamql.ops.writers",
}


class _Alias:
    """Finds an old path and loads the module at its new one (a meta path finder and loader).

    Not a subclass of importlib.abc's classes: importing those costs 10 ms on every
    ``import streamql``.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        old = fullname.partition("streamql.")[2] if fullname.startswith("streamql.") else ""
        if old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(
            fullname, cast(Any, self)
        )  # a loader without load_module

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        new = MOVED[spec.name.partition(".")[2]]
        # stacklevel 2 is the importing line: warnings skips importlib's own frames
        warnings.warn(f"{spec.name} moved to {new}", DeprecationWarning, stacklevel=2)
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """The module ran at its new path already."""


def install() -> None:
    """Let the old paths import (once per process)."""
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())


def forward(package: str, module: str, names: Sequence[str]) -> Callable[[str], Any]:
    """A package ``__getattr__`` that hands on ``names`` from ``module``, as the old path did."""

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        warnings.warn(
            f"{package}.{name} moved to {module}.{name}", DeprecationWarning, stacklevel=2
        )
        return getattr(importlib.import_module(module), name)

    return __getattr__
