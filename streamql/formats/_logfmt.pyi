# logfmt lines cut in C (streamql/formats/_logfmt.c); streamql.formats.logfmt holds its Python face.
from typing import Any

def record(line: str, keys: tuple[str, ...] | None, /) -> dict[str, Any] | str | None: ...
