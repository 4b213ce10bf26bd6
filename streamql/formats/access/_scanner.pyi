# The C scanner (streamql/formats/access/_scanner.c);
# streamql.formats.access.scan holds its Python face.
from typing import Any

def scan(
    block: str, format: int, fields: int, needles: tuple[str, ...] = (), /
) -> tuple[Any, ...] | None: ...
def records(
    block: str,
    start: int,
    max_lines: int,
    format: int,
    requests: Any,
    timezone: Any,
    needles: tuple[str, ...] = (),
    /,
) -> tuple[list[Any], list[int], int, int] | None: ...
def compile_program(ops: tuple[tuple[Any, ...], ...], /) -> object: ...
def program_scan(
    block: str,
    program: object,
    capture: tuple[str, ...],
    needles: tuple[str, ...] = (),
    /,
) -> Any: ...
