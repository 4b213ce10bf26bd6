"""Large XML documents as a stream of elements, in flat memory (``iterparse``)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import IO

__all__ = ["xml_elements"]


def xml_elements(source: str | os.PathLike[str] | IO[bytes], tag: str) -> Iterator[ET.Element]:
    """Yield each element named ``tag``, complete, as the document is read.

    Each yielded element is detached from the tree, and every finished
    element that is not part of one is dropped, so memory stays flat however
    large the document. Nested matches are yielded inside their outer match
    only. Lazy. A malformed document raises ``xml.etree.ElementTree.ParseError``
    naming the file, line and column.

    >>> import io
    >>> doc = io.BytesIO(b"<log><hit ip='1'/><skip/><hit ip='2'>x</hit></log>")
    >>> [e.get("ip") for e in xml_elements(doc, "hit")]
    ['1', '2']
    """
    if not isinstance(tag, str) or not tag:
        raise TypeError(f"xml: tag must be a non-empty str, got {tag!r}")
    if not (isinstance(source, (str, os.PathLike)) or hasattr(source, "read")):
        raise TypeError(f"xml: expected a path or a binary file, got {source!r}")
    return _elements(source, tag)


def _elements(source: str | os.PathLike[str] | IO[bytes], tag: str) -> Iterator[ET.Element]:
    if isinstance(source, (str, os.PathLike)):
        owned, name = True, os.fspath(source)
        f: IO[bytes] = open(source, "rb")  # noqa: SIM115 - closed in finally
    else:
        owned, name, f = False, getattr(source, "name", "<xml>"), source
    stack: list[ET.Element] = []
    inside = 0  # how many open elements named tag enclose the current one
    try:
        for event, elem in ET.iterparse(f, events=("start", "end")):
            if event == "start":
                stack.append(elem)
                if elem.tag == tag:
                    inside += 1
                continue
            stack.pop()
            if elem.tag == tag:
                inside -= 1
                if inside:
                    continue  # nested: stays part of its enclosing match
                if stack:
                    stack[-1].remove(elem)
                yield elem
            elif not inside and stack:
                stack[-1].remove(elem)  # finished and wanted by no match: drop it
    except ET.ParseError as exc:
        named = ET.ParseError(f"xml: {name}: {exc}")
        named.position = exc.position
        raise named from exc
    finally:
        if owned:
            f.close()
