"""Build the tutorial's big Apache log: the real access-log repeated N times.

The tutorial (Part 2, "Performance") times its pipelines on ``big-access-log``,
made by ``python3 makebig.py 2000``: the 651,619-byte ``access-log`` written
2000 times, 1,303,238,000 bytes. This does the same, streaming: the source is
read once (it is small) and written ``repeat`` times, so memory stays flat
however big the output.

Run::

    python bench/makebig.py --out /tmp/big-access-log            # 200 copies, ~130 MB
    python bench/makebig.py --repeat 2000 --out /tmp/big-access-log   # ~1.3 GB
    python bench/makebig.py --source other-log --repeat 10 --out big.log

Without the real log (``/work/shared/data/dabeaz/access-log``, or ``--source``),
or with ``--generated``, it repeats a generated log of the same shape instead:
the plain common-format lines of ``streamql.samples.tree``'s part 2 log if that
module is there, else those of a small deterministic generator here.

Import it too::

    from makebig import make_big
    make_big("/tmp/big-access-log", repeat=200)
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "dabeaz" / "access-log"
DEFAULT_REPEAT = 200
# The generated fallback is built to about the real log's size, then repeated.
BLOCK_BYTES = 651_619


def sample_lines(n_bytes: int = BLOCK_BYTES, seed: int = 2008) -> Iterator[str]:
    """Yield Apache common-format lines like the dabeaz log, about ``n_bytes`` in all.

    Deterministic for a seed. Includes 404s, ``-`` byte counts, downloads of
    /ply/ply-2.3.tar.gz and robots.txt hits, so every benchmark query has an answer.
    """
    rng = random.Random(seed)
    hosts = [
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{h % 254 + 1}"
        for h in range(400)
    ]
    pages = [
        ("/ply/", 7587),
        ("/ply/ply.html", 97238),
        ("/ply/ply-2.3.tar.gz", 188_894),
        ("/ply/bookplug.gif", 23903),
        ("/index.html", 4447),
        ("/robots.txt", 68),
        ("/favicon.ico", 133),
        ("/swig/", 2359),
        ("/python/", 8123),
        ("/missing.html", 0),
    ]
    written = 0
    second = 0
    while written < n_bytes:
        second += rng.randint(0, 40)
        day, rest = divmod(second, 86_400)
        hh, rest = divmod(rest, 3600)
        mm, ss = divmod(rest, 60)
        page, size = rng.choice(pages)
        roll = rng.random()
        if page == "/missing.html" or (page == "/favicon.ico" and roll < 0.5):
            status, nbytes = 404, "133" if page == "/favicon.ico" else "-"
        elif roll < 0.15:
            status, nbytes = 304, "-"
        else:
            status, nbytes = 200, str(size)
        when = f"{24 + day % 4:02d}/Feb/2008:{hh:02d}:{mm:02d}:{ss:02d} -0600"
        line = f'{rng.choice(hosts)} - - [{when}] "GET {page} HTTP/1.1" {status} {nbytes}\n'

        written += len(line)
        yield line


# A plain common-format line, as the tutorial's regex and streamql's parser both
# read it the same way. streamql.samples.tree also writes the odd lines real servers
# write ("-" requests, escapes, junk), on which the two legitimately differ and
# the tutorial's bytes sum crashes: the benchmark keeps to the lines they share.
_CLEAN = re.compile(
    rb'\S+ \S+ \S+ \[[^]]+\] "[A-Z]+ [^\s"\\]+ HTTP/[0-9.]+" [0-9]{3} (?:[0-9]+|-)\n\Z'
)


def generated_block(n_bytes: int = BLOCK_BYTES) -> bytes:
    """Return about ``n_bytes`` of clean generated log, as one block to repeat.

    From ``streamql.samples.tree.write_sample_tree`` (its plain part 2 log) when that
    module is there, else from :func:`sample_lines`.
    """
    try:
        if str(REPO) not in sys.path:
            sys.path.insert(0, str(REPO))
        from streamql.samples import tree as sample

        with tempfile.TemporaryDirectory(prefix="makebig-") as tmp:
            # About 90 bytes a line; a fifth more for the lines _CLEAN drops.
            sample.write_sample_tree(tmp, lines_per_file=max(10, n_bytes * 6 // (90 * 5)))
            raw = (Path(tmp) / sample.PLAIN_LOG).read_bytes()
        block = b"".join(x for x in raw.splitlines(keepends=True) if _CLEAN.match(x))
        if block:
            return block
    except Exception as exc:  # another module's API: any failure means use our own
        print(
            f"makebig: streamql.samples.tree unusable ({exc!r}); generating here", file=sys.stderr
        )
    return "".join(sample_lines(n_bytes)).encode()


def make_big(
    out: str | os.PathLike[str],
    repeat: int = DEFAULT_REPEAT,
    source: str | os.PathLike[str] | None = None,
    *,
    generated: bool = False,
) -> Path:
    """Write ``source`` (default: the dabeaz access-log) ``repeat`` times to ``out``.

    Streams: holds one copy of the source (651 KB for the real log), never the
    output. The file is written under a temporary name and renamed, so a
    half-written file never passes for a finished one. Returns ``out`` as a Path.
    """
    if not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"make_big: repeat must be an int >= 1, got {repeat!r}")
    src = Path(source) if source is not None else DEFAULT_SOURCE
    if generated:
        block = generated_block()
    elif src.is_file():
        block = src.read_bytes()
    elif source is not None:
        raise FileNotFoundError(f"make_big: no source log at {str(src)!r}")
    else:
        block = generated_block()
    if block and not block.endswith(b"\n"):
        block += b"\n"  # so copies don't glue the last and first lines together
    target = Path(out)
    part = target.with_name(target.name + ".part")
    try:
        with open(part, "wb") as f:
            for _ in range(repeat):
                f.write(block)
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="copies (default 200)")
    parser.add_argument("--out", required=True, help="path of the big log to write")
    parser.add_argument("--source", help=f"log to repeat (default {DEFAULT_SOURCE})")
    parser.add_argument(
        "--generated", action="store_true", help="use a generated log even if the real one is there"
    )
    args = parser.parse_args(argv)
    path = make_big(args.out, args.repeat, args.source, generated=args.generated)
    print(f"{path}: {path.stat().st_size:,} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
