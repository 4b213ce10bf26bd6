# The C scanner (streamql/_scanner.c); streamql.scan holds its Python face.
from typing import Any

def scan(
    block: str, format: int, fields: int, needles: tuple[str, ...] = (), /
) -> tuple[Any, ...] | None: ...
