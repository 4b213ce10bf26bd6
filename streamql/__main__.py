"""``python -m streamql``: the ``streamql`` command (see :mod:`streamql.cli.main`)."""

from __future__ import annotations

from .cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
