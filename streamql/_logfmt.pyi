# logfmt lines cut in C (streamql/_logfmt.c); streamql.logfmt holds its Python face.
from typing import Any

def record(line: str, keys: tuple[str, ...] | None, /) -> dict[str, Any] | str | None: ...
