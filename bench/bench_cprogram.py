"""Time the line-program interpreter against the hand-written C scanner, on the same blocks.

``_scanner.scan`` is written for Apache common and combined lines;
``_scanner.program_scan`` runs any format's line program
(:mod:`streamql.formats.access.cprogram`). Both run here over the same blocks of lines
(about ``BLOCK_CHARS`` each, as streamql reads them), cutting the same
fields, interleaved in rounds; the best (min) round counts and the ratio
program / hand-written is printed (target: at most 1.10). Every block is
first checked to be accepted by both, and the answers compared (bytes ``-``
is 0 for the one, None for the other), so the two do the same work. A
second table runs formats only a program can scan (nginx's main, combined
with ``%D``, with ``%T.%D``) on the same lines with that field appended,
against combined by hand (the issue's target: within 1.15).

Blocks: the tutorial's access-log (common) and Elastic's apache_logs
(combined) from the shared data folder when present (``--data``), each
repeated to ``--mb`` megabytes; else the generated common lines of
``makebig.py``, and the same lines with a referer and an agent for combined.

Run from the repository root, with the extension built::

    python bench/bench_cprogram.py              # 8 MB of each, 7 rounds
    python bench/bench_cprogram.py --mb 32 --rounds 9 --generated
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

from makebig import sample_lines  # noqa: E402

from streamql.formats.access import _scanner, cprogram  # noqa: E402
from streamql.formats.access.apache_schema import BLOCK_FIELDS  # noqa: E402
from streamql.ops.batches import BLOCK_CHARS  # noqa: E402

DATA_DIRS = [REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data"]
CODES = {"auto": 0, "common": 1, "combined": 2}
AGENT = (
    ' "http://www.example.com/start.html" "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Firefox/119.0"'
)
COMMON_FIELDS = BLOCK_FIELDS[:6]
CAPTURES: list[tuple[str, ...]] = [
    (),
    ("bytes",),
    ("status",),
    ("host", "req", "status", "bytes"),
    COMMON_FIELDS,
]
NEEDLES = ("robots",)


def mask(capture: tuple[str, ...]) -> int:
    return sum(1 << BLOCK_FIELDS.index(name) for name in capture)


def blocks_of(lines: list[str], mb: int) -> list[str]:
    """``lines`` repeated to about ``mb`` megabytes, cut into blocks of whole lines."""
    blocks, piece, size, total = [], [], 0, 0
    while total < mb << 20:
        for line in lines:
            piece.append(line)
            size += len(line)
            if size >= BLOCK_CHARS:
                blocks.append("".join(piece))
                total += size
                piece, size = [], 0
    if piece:
        blocks.append("".join(piece))
    return blocks


def accepted(lines: list[str], fmt: str) -> list[str]:
    """The lines both scanners accept (the bench times good blocks only)."""
    prog = cprogram.compile(cprogram.APACHE_PROGRAMS[fmt])
    return [
        line
        for line in lines
        if _scanner.scan(line, CODES[fmt], 0) is not None
        and _scanner.program_scan(line, prog, ()) is not None
    ]


def datasets(data: Path | None, generated: bool) -> dict[str, list[str]]:
    """Lines for common and for combined blocks, and where they come from."""
    if not generated and data is not None:
        common = (data / "dabeaz" / "access-log").read_text(encoding="latin-1")
        combined = (data / "elastic" / "apache_logs").read_text(encoding="latin-1")
        return {
            "common": accepted(common.splitlines(keepends=True), "common"),
            "combined": accepted(combined.splitlines(keepends=True), "combined"),
        }
    lines = list(sample_lines())
    return {
        "common": accepted(lines, "common"),
        "combined": accepted([line[:-1] + AGENT + "\n" for line in lines], "combined"),
    }


def best(
    scanner: Callable[..., Any], blocks: list[str], args: tuple[Any, ...], rounds: list[float]
) -> None:
    """Time one round of ``scanner`` over every block (CPU time: the machine may be shared)."""
    start = time.process_time()
    for block in blocks:
        scanner(block, *args)
    rounds.append(time.process_time() - start)


def same(hand: tuple[Any, ...] | None, prog: Any, capture: tuple[str, ...], needles: bool) -> bool:
    """Whether the two scanners' answers for a block agree (bytes "-": 0 against None)."""
    if hand is None or prog is None:
        return hand is prog
    columns, rows = prog if needles else (prog, None)
    order = [name for name in BLOCK_FIELDS if name in capture]
    want = dict(zip(order, hand[1 : 1 + len(order)], strict=True))
    got = {
        k: ([0 if v is None else v for v in c] if k == "bytes" else c) for k, c in columns.items()
    }
    return want == got and (rows is None or rows == hand[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=8, help="megabytes of blocks per data set")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None, help="the shared data folder")
    parser.add_argument("--generated", action="store_true", help="generated lines, not real logs")
    args = parser.parse_args()
    if not cprogram.available():
        sys.exit("bench_cprogram: the C scanner is not in use (build it; STREAMQL_PURE unset)")
    data = args.data or next((d for d in DATA_DIRS if (d / "elastic").is_dir()), None)
    sets = datasets(data, args.generated)
    source = "generated lines" if args.generated or data is None else f"real logs in {data}"
    print(f"blocks of about {BLOCK_CHARS:,} chars, {args.mb} MB per data set, from {source}")
    print(f"best of {args.rounds} rounds; ratio = program / hand-written (target <= 1.10)\n")
    print(f"{'blocks':9} {'format':9} {'capture':48} {'hand ms':>8} {'prog ms':>8} {'ratio':>6}")
    ratios = []
    for kind, lines in sets.items():
        blocks = blocks_of(lines, args.mb)
        for fmt in ("common", "auto") if kind == "common" else ("combined", "auto"):
            ops = cprogram.APACHE_PROGRAMS[fmt]
            prog = cprogram.compile(ops)
            fields = BLOCK_FIELDS if kind == "combined" and fmt == "combined" else COMMON_FIELDS
            captures = [*CAPTURES[:-1], fields]
            for capture in captures:
                for needles in ((), NEEDLES):
                    order = tuple(name for name in BLOCK_FIELDS if name in capture)
                    code, bits = CODES[fmt], mask(order)
                    args_hand = (code, bits, *((needles,) if needles else ()))
                    args_prog = (prog, order, *((needles,) if needles else ()))
                    for block in blocks[:2]:
                        hand = _scanner.scan(block, *args_hand)
                        if hand is None or not same(
                            hand, _scanner.program_scan(block, *args_prog), order, bool(needles)
                        ):
                            sys.exit(f"bench_cprogram: the scanners disagree on {kind} {fmt}")
                    hand_t: list[float] = []
                    prog_t: list[float] = []
                    for _ in range(args.rounds):
                        best(_scanner.scan, blocks, args_hand, hand_t)
                        best(_scanner.program_scan, blocks, args_prog, prog_t)
                    ratio = min(prog_t) / min(hand_t)
                    ratios.append(ratio)
                    label = ",".join(order) if order != BLOCK_FIELDS else "all 8"
                    label = (label or "(check only)") + (
                        f" +needle {needles[0]}" if needles else ""
                    )
                    print(
                        f"{kind:9} {fmt:9} {label:48} {min(hand_t) * 1e3:8.1f} "
                        f"{min(prog_t) * 1e3:8.1f} {ratio:6.2f}"
                    )
    ratios.sort()
    print(
        f"\nratio: median {ratios[len(ratios) // 2]:.2f}, worst {ratios[-1]:.2f}, "
        f"best {ratios[0]:.2f} over {len(ratios)} rows"
    )
    other_formats(sets["combined"], args.mb, args.rounds)


# Formats only a program can scan, each a combined line with more after it.
OTHERS: dict[str, tuple[str, cprogram.Program]] = {
    "nginx main": (' "-"', (("lit", ' "'), ("run", "xff", '"', True, False), ("lit", '"'))),
    "combined %D": (" 1234", (("lit", " "), ("int", "usecs", False))),
    "combined %T.%D": (" 0.001234", (("lit", " "), ("float", "secs", False))),
}


def other_formats(lines: list[str], mb: int, rounds: int) -> None:
    """The issue's new formats through the interpreter, against combined by hand (target 1.15)."""
    print("\nother formats by program, against the same lines in combined by hand-written scan")
    print(f"{'format':16} {'capture':28} {'hand ms':>8} {'prog ms':>8} {'ratio':>6}")
    plain = blocks_of(lines, mb)
    for name, (extra, tail) in OTHERS.items():
        ops = (*cprogram.APACHE_PROGRAMS["combined"][:-1], *tail, ("end",))
        prog = cprogram.compile(ops)
        longer = [  # the same lines, each with the format's extra field
            "".join(line[:-1] + extra + "\n" for line in block.splitlines(keepends=True))
            for block in plain
        ]
        for capture in [("status", "bytes"), ("status",), ("host", "req", "status", "bytes")]:
            if cprogram.columns(longer[0], ops, capture) is None:
                sys.exit(f"bench_cprogram: the {name} program refuses its own lines")
            hand_t: list[float] = []
            prog_t: list[float] = []
            for _ in range(rounds):
                best(_scanner.scan, plain, (CODES["combined"], mask(capture)), hand_t)
                best(_scanner.program_scan, longer, (prog, capture), prog_t)
            ratio = min(prog_t) / min(hand_t)
            print(
                f"{name:16} {','.join(capture):28} {min(hand_t) * 1e3:8.1f} "
                f"{min(prog_t) * 1e3:8.1f} {ratio:6.2f}"
            )


if __name__ == "__main__":
    main()
