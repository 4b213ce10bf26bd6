"""Time streamql against the tools a user would otherwise pick: polars, DuckDB, chDB and mawk.

Every question runs, as a whole fresh process per variant and per round, in:

- ``tutorial``: the tutorial's generators (its ``apache_log`` regex pipeline),
  the reference answer;
- ``streamql`` (default engine) and ``processes`` (``engine="processes"``),
  whose answers must equal the reference exactly (the script stops if not);
- the peers, each splitting lines on a separator as their users would:
  ``polars`` (``scan_csv``), ``duckdb`` (``read_csv``), ``chdb`` (embedded
  ClickHouse, ``file(..., 'LineAsString')`` and ``splitByChar``) and ``mawk``
  where the question fits awk. A peer's answer that differs from the
  reference marks its cell ``≠`` (they split, they do not parse); a peer that
  is not installed is skipped.

Rounds are interleaved (every variant of every question once per round, the
variants' order rotating), the best (min) wall time of the whole process
counts, imports included, because the machine is shared and noisy. Memory is
the peak resident size of each child as the kernel reports it to ``wait4``
(``ru_maxrss``: for a shell pipeline or the processes engine, the largest of
the process and the children it reaped). Ratios are to the fastest peer of
the row (below 1: faster than every peer).

Questions (``--queries``): ``status`` (count per status), ``paths`` (top 10
requested paths), ``hourly`` (bytes per hour of the log's own time),
``404-hosts`` (404s per host), ``zip`` (sum of the bytes of ``.zip``
requests), ``agents`` (on a combined log: requests whose agent contains
"bot", any case, and the top 5 of those agents), ``multi`` (lines, bytes,
404s and distinct hosts in one pass), ``gz-404`` (the 404 count on the log
gzip-compressed).

Run from the repository root (``pip install 'streamql[bench]'`` for the peers)::

    python bench/bench_peers.py                 # the access log x 200: ~130 MB
    python bench/bench_peers.py --big           # x 2000: ~1.3 GB (tens of minutes)
    python bench/bench_peers.py --queries status,gz-404 --rounds 5
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# The real logs, beside the checkout (or beside the folder of worktrees it is in).
SHARED = next(
    (p / "shared" / "data" for p in (REPO.parent, REPO.parent.parent) if (p / "shared").is_dir()),
    REPO.parent / "shared" / "data",
)
ACCESS = SHARED / "dabeaz" / "access-log"
ELASTIC = SHARED / "elastic" / "apache_logs"
sys.path.insert(0, str(HERE))
from makebig import make_big, sample_lines  # noqa: E402

PEERS = ("polars", "duckdb", "chdb", "mawk")
VARIANTS = ("tutorial", "streamql", "processes", *PEERS)
MAWK = shutil.which("mawk")
TIMES = "\N{MULTIPLICATION SIGN}"

# ---------------------------------------------------------------- child code
# Each variant is a Python program (a prelude, then the question's code setting
# ``answer`` in a normal form) or, for mawk, a shell command whose output the
# parent reads back into that form.

NORMAL = """
import json, sys
def counts(pairs):
    return {str(k): int(v) for k, v in pairs}
def top(pairs, n):
    return sorted(([str(k), int(v)] for k, v in pairs), key=lambda p: (-p[1], p[0]))[:n]
"""

TUTORIAL = (
    NORMAL
    + r"""
import re
from collections import Counter
logpat = re.compile(r'(\S+) (\S+) (\S+) \[(.*?)\] "(\S+) (\S+) (\S+)" (\S+) (\S+)')
colnames = ("host", "referrer", "user", "datetime", "method", "request", "proto", "status", "bytes")
def field_map(dictseq, name, func):
    for d in dictseq:
        d[name] = func(d[name])
        yield d
def apache_log(lines, pat=logpat, names=colnames):
    groups = (pat.match(line) for line in lines)
    tuples = (g.groups() for g in groups if g)
    log = (dict(zip(names, t)) for t in tuples)
    log = field_map(log, "bytes", lambda s: int(s) if s != "-" else 0)
    return field_map(log, "status", int)
def gen_open(path):
    if path.endswith(".gz"):
        import gzip
        return gzip.open(path, "rt")
    return open(path)
combined = re.compile(logpat.pattern + r' "(.*?)" "(.*?)"')
log = apache_log(gen_open(PATH))
clog = lambda: apache_log(gen_open(PATH), combined, (*colnames, "referer", "agent"))
"""
)

STREAMQL = (
    NORMAL
    + f"""
sys.path.insert(0, {str(REPO)!r})
from streamql import F, Stream
from streamql.aggregates import Count, CountBy, Distinct, Sum
log = Stream.lines(PATH).parse_apache()
clog = lambda: log
"""
)

POLARS = (
    NORMAL
    + """
import polars as pl
def frame(sep, n):
    kw = dict(separator=sep, has_header=False, quote_char=None, truncate_ragged_lines=True,
              schema={f"c{i}": pl.String for i in range(n)})
    if PATH.endswith(".gz"):  # scan_csv reads no compressed file; read_csv does
        return pl.read_csv(PATH, **kw).lazy()
    return pl.scan_csv(PATH, **kw)
log = frame(" ", 10)
status = pl.col("c8").cast(pl.Int64, strict=False)
nbytes = pl.col("c9").cast(pl.Int64, strict=False).fill_null(0)
"""
)

DUCKDB = (
    NORMAL
    + """
import duckdb
def table(sep, n):
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n))
    return (f"read_csv('{PATH}', delim='{sep}', quote='', escape='', header=false, "
            f"auto_detect=false, null_padding=true, ignore_errors=true, columns={{{cols}}})")
log = table(" ", 10)
q = lambda sql: duckdb.sql(sql).fetchall()
status = "TRY_CAST(c8 AS INTEGER)"
nbytes = "COALESCE(TRY_CAST(c9 AS BIGINT), 0)"
"""
)

CHDB = (
    NORMAL
    + """
import chdb
log = f"(SELECT splitByChar(' ', line) AS f FROM file('{PATH}', 'LineAsString', 'line String'))"
clog = (f"(SELECT splitByChar('\\"', line) AS f FROM file('{PATH}', 'LineAsString', "
        "'line String'))")
def q(sql):
    out = chdb.query(sql, "JSONCompact")
    return json.loads(out.bytes())["data"]
status = "toInt32OrNull(f[9])"
nbytes = "ifNull(toInt64OrNull(f[10]), 0)"
"""
)

# The answer, then the peak memory of the child and of any workers it forked (KiB).
REPORT = """
print(json.dumps(answer))
import resource
with open("/proc/self/status") as f:
    own = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
print(max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
"""

PRELUDES = {
    "tutorial": TUTORIAL,
    "streamql": STREAMQL,
    "processes": STREAMQL,
    "polars": POLARS,
    "duckdb": DUCKDB,
    "chdb": CHDB,
}


def _mawk_counts(out: str) -> dict[str, int]:
    pairs = (line.split("\t") for line in out.splitlines() if line)
    return {k: int(float(v)) for k, v in pairs}


def _mawk_top(n: int) -> Callable[[str], list[list[Any]]]:
    def read(out: str) -> list[list[Any]]:
        found = _mawk_counts(out)
        return sorted(([k, v] for k, v in found.items()), key=lambda p: (-p[1], p[0]))[:n]

    return read


def _mawk_agents(out: str) -> dict[str, Any]:
    first, _, rest = out.partition("\n")
    return {"n": int(first), "top": _mawk_top(5)(rest)}


def _mawk_multi(out: str) -> dict[str, int]:
    n, total, missing, hosts = (int(x) for x in out.split())
    return {"n": n, "bytes": total, "missing": missing, "hosts": hosts}


@dataclass
class Question:
    key: str
    title: str
    data: str  # "access", "combined" or "gz"
    code: dict[str, str]  # variant -> Python code setting ``answer``
    awk: tuple[str, str, Callable[[str], Any]] | None = None  # (-F option, program, reader)


COUNT_OUT = 'for (k in c) printf "%s\\t%.0f\\n", k, c[k]'

QUESTIONS = [
    Question(
        "status",
        "count per status",
        "access",
        {
            "tutorial": "answer = counts(Counter(r['status'] for r in log).items())",
            "streamql": "answer = counts(log.count_by('status').items())",
            "processes": "answer = counts(log.count_by('status', engine='processes').items())",
            "polars": "answer = counts(log.group_by(status).len().collect().rows())",
            "duckdb": "answer = counts(q(f'SELECT {status}, count(*) FROM {log} GROUP BY 1'))",
            "chdb": "answer = counts(q(f'SELECT {status}, count() FROM {log} GROUP BY 1'))",
        },
        ("", "{ c[$9]++ } END { " + COUNT_OUT + " }", _mawk_counts),
    ),
    Question(
        "paths",
        "top 10 requested paths",
        "access",
        {
            "tutorial": "answer = top(Counter(r['request'] for r in log).items(), 10)",
            "streamql": "answer = top(log.count_by('request', n=10).items(), 10)",
            "processes": "answer = top(log.count_by('request', n=10, engine='processes')"
            ".items(), 10)",
            "polars": "answer = top(log.group_by('c6').len().sort('len', descending=True)"
            ".head(20).collect().rows(), 10)",
            "duckdb": "answer = top(q(f'SELECT c6, count(*) AS n FROM {log} GROUP BY 1 "
            "ORDER BY n DESC LIMIT 20'), 10)",
            "chdb": "answer = top(q(f'SELECT f[7], count() AS n FROM {log} GROUP BY 1 "
            "ORDER BY n DESC LIMIT 20'), 10)",
        },
        ("", "{ c[$7]++ } END { " + COUNT_OUT + " }", _mawk_top(10)),
    ),
    Question(
        "hourly",
        "bytes per hour",
        "access",
        {
            "tutorial": "c = Counter()\nfor r in log: c[int(r['datetime'][12:14])] += r['bytes']\n"
            "answer = counts(c.items())",
            "streamql": "g = log.group_by(F.datetime.hour, bytes=Sum('bytes'))\n"
            "answer = counts((k, row.bytes) for k, row in g.items())",
            "processes": "g = log.using('processes')"
            ".group_by(F.datetime.hour, bytes=Sum('bytes'))\n"
            "answer = counts((k, row.bytes) for k, row in g.items())",
            "polars": "answer = counts(log.group_by(pl.col('c3').str.slice(13, 2)"
            ".cast(pl.Int64)).agg(nbytes.sum()).collect().rows())",
            "duckdb": "answer = counts(q(f'SELECT CAST(substr(c3, 14, 2) AS INTEGER), "
            "sum({nbytes}) FROM {log} GROUP BY 1'))",
            "chdb": "answer = counts(q(f'SELECT toInt32(substring(f[4], 14, 2)), "
            "sum({nbytes}) FROM {log} GROUP BY 1'))",
        },
        ("", "{ c[substr($4, 14, 2) + 0] += $10 } END { " + COUNT_OUT + " }", _mawk_counts),
    ),
    Question(
        "404-hosts",
        "404s per host",
        "access",
        {
            "tutorial": "answer = counts(Counter(r['host'] for r in log "
            "if r['status'] == 404).items())",
            "streamql": "answer = counts(log.where(F.status == 404).count_by('host').items())",
            "processes": "answer = counts(log.where(F.status == 404)"
            ".count_by('host', engine='processes').items())",
            "polars": "answer = counts(log.filter(status == 404).group_by('c0').len()"
            ".collect().rows())",
            "duckdb": "answer = counts(q(f'SELECT c0, count(*) FROM {log} "
            "WHERE {status} = 404 GROUP BY 1'))",
            "chdb": "answer = counts(q(f'SELECT f[1], count() FROM {log} "
            "WHERE {status} = 404 GROUP BY 1'))",
        },
        ("", "$9 == 404 { c[$1]++ } END { " + COUNT_OUT + " }", _mawk_counts),
    ),
    Question(
        "zip",
        "sum of .zip bytes",
        "access",
        {
            "tutorial": "answer = sum(r['bytes'] for r in log if r['request'].endswith('.zip'))",
            "streamql": "answer = log.where(F.request.endswith('.zip')).sum('bytes')",
            "processes": "answer = log.where(F.request.endswith('.zip'))"
            ".sum('bytes', engine='processes')",
            "polars": "answer = log.filter(pl.col('c6').str.ends_with('.zip'))"
            ".select(nbytes.sum()).collect().item()",
            "duckdb": 'answer = q(f"SELECT coalesce(sum({nbytes}), 0) FROM {log} '
            "WHERE ends_with(c6, '.zip')\")[0][0]",
            "chdb": 'answer = q(f"SELECT coalesce(sum({nbytes}), 0) FROM {log} '
            "WHERE endsWith(f[7], '.zip')\")[0][0]",
        },
        ("", '$7 ~ /\\.zip$/ { s += $10 } END { printf "%.0f\\n", s }', lambda out: int(out)),
    ),
    Question(
        "agents",
        'agent contains "bot" (any case) + top 5 of them',
        "combined",
        {
            "tutorial": "bots = Counter(r['agent'] for r in clog() "
            "if 'bot' in r['agent'].lower())\n"
            "answer = {'n': sum(bots.values()), 'top': top(bots.items(), 5)}",
            "streamql": "a = clog().where(F.agent.contains('bot', case=False))"
            ".aggregate(n=Count(), top=CountBy('agent', n=20))\n"
            "answer = {'n': a['n'], 'top': top(a['top'].items(), 5)}",
            "processes": "a = clog().where(F.agent.contains('bot', case=False))"
            ".aggregate(n=Count(), top=CountBy('agent', n=20), engine='processes')\n"
            "answer = {'n': a['n'], 'top': top(a['top'].items(), 5)}",
            "polars": "log = frame('\"', 7).filter(pl.col('c5').str.to_lowercase()"
            ".str.contains('bot', literal=True))\n"
            "rows = log.group_by('c5').len().sort('len', descending=True).collect().rows()\n"
            "answer = {'n': sum(n for _, n in rows), 'top': top(rows, 5)}",
            "duckdb": 'rows = q(f"SELECT c5, count(*) FROM {table(chr(34), 7)} '
            "WHERE contains(lower(c5), 'bot') GROUP BY 1\")\n"
            "answer = {'n': sum(n for _, n in rows), 'top': top(rows, 5)}",
            "chdb": 'rows = q(f"SELECT f[6], count() FROM {clog} '
            "WHERE positionCaseInsensitive(f[6], 'bot') > 0 GROUP BY 1\")\n"
            "answer = {'n': sum(n for _, n in rows), 'top': top(rows, 5)}",
        },
        (
            '-F"',
            'tolower($6) ~ /bot/ { n++; c[$6]++ } END { printf "%d\\n", n; ' + COUNT_OUT + " }",
            _mawk_agents,
        ),
    ),
    Question(
        "multi",
        "lines, bytes, 404s, hosts in one pass",
        "access",
        {
            "tutorial": "n = total = missing = 0\nhosts = set()\n"
            "for r in log:\n    n += 1; total += r['bytes']; missing += r['status'] == 404; "
            "hosts.add(r['host'])\n"
            "answer = {'n': n, 'bytes': total, 'missing': missing, 'hosts': len(hosts)}",
            "streamql": "a = log.aggregate(n=Count(), bytes=Sum('bytes'), "
            "missing=Count(where=F.status == 404), hosts=Distinct('host'))\n"
            "answer = {**a, 'hosts': len(a['hosts'])}",
            "processes": "a = log.aggregate(n=Count(), bytes=Sum('bytes'), "
            "missing=Count(where=F.status == 404), hosts=Distinct('host'), engine='processes')\n"
            "answer = {**a, 'hosts': len(a['hosts'])}",
            "polars": "r = log.select(pl.len(), nbytes.sum(), (status == 404).sum(), "
            "pl.col('c0').n_unique()).collect().row(0)\n"
            "answer = dict(zip(('n', 'bytes', 'missing', 'hosts'), map(int, r)))",
            "duckdb": "r = q(f'SELECT count(*), sum({nbytes}), count_if({status} = 404), "
            "count(DISTINCT c0) FROM {log}')[0]\n"
            "answer = dict(zip(('n', 'bytes', 'missing', 'hosts'), map(int, r)))",
            "chdb": "r = q(f'SELECT count(), sum({nbytes}), countIf({status} = 404), "
            "uniqExact(f[1]) FROM {log}')[0]\n"
            "answer = dict(zip(('n', 'bytes', 'missing', 'hosts'), map(int, r)))",
        },
        (
            "",
            "{ n++; b += $10; if ($9 == 404) m++; if (!($1 in h)) { h[$1] = 1; u++ } } "
            'END { printf "%d %.0f %d %d\\n", n, b, m, u }',
            _mawk_multi,
        ),
    ),
    Question(
        "gz-404",
        "404 count on the .gz",
        "gz",
        {
            "tutorial": "answer = sum(1 for r in log if r['status'] == 404)",
            "streamql": "answer = log.where(F.status == 404).count()",
            "processes": "answer = log.where(F.status == 404).count(engine='processes')",
            "polars": "answer = log.filter(status == 404).select(pl.len()).collect().item()",
            "duckdb": "answer = q(f'SELECT count(*) FROM {log} WHERE {status} = 404')[0][0]",
            "chdb": "answer = q(f'SELECT count() FROM {log} WHERE {status} = 404')[0][0]",
        },
        ("", '$9 == 404 { n++ } END { printf "%d\\n", n }', lambda out: int(out)),
    ),
]
BY_KEY = {q.key: q for q in QUESTIONS}


def available(variant: str) -> bool:
    if variant == "mawk":
        return MAWK is not None
    if variant in ("polars", "duckdb", "chdb"):
        return importlib.util.find_spec(variant) is not None
    return True


def command(q: Question, variant: str, path: Path) -> list[str] | None:
    """The command line that answers ``q`` with ``variant`` (None: it cannot)."""
    if variant == "mawk":
        if q.awk is None or MAWK is None:
            return None
        sep, program, _ = q.awk
        awk = [MAWK, *([sep] if sep else []), program]
        if q.data == "gz":
            quoted = " ".join(_shell_quote(a) for a in awk)
            return ["sh", "-c", f"gzip -dc {_shell_quote(str(path))} | {quoted}"]
        return [*awk, str(path)]
    code = q.code.get(variant)
    if code is None:
        return None
    program = f"PATH = {str(path)!r}\n{PRELUDES[variant]}\n{code}\n{REPORT}"
    return [sys.executable, "-c", program]


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@dataclass
class Measure:
    times: list[float] = field(default_factory=list)
    peaks_kib: list[int] = field(default_factory=list)
    answer: Any = None


def _hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, as /proc lists them now."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return found


def run_once(cmd: list[str], sampled: bool) -> tuple[float, int, str]:
    """Run a whole process; its wall seconds, peak RSS (KiB) and stdout.

    A Python child reports its own peak (``VmHWM``, and the largest
    ``ru_maxrss`` of the workers it forked) on its last line of output: the
    kernel's ``ru_maxrss`` of a child started from this process would carry
    this process's own high-water mark across ``exec``. For the other
    commands (``sampled``: mawk, a shell pipeline) the peak is the sum over the
    process tree of each process's ``VmHWM``, sampled every 10 ms while it runs.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        peaks: dict[int, int] = {}
        if sampled:
            while proc.poll() is None:
                for pid in _tree(proc.pid):
                    peaks[pid] = max(peaks.get(pid, 0), _hwm_kib(pid))
                time.sleep(0.01)  # sampling, not waiting on a result
        proc.wait()
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {errors.strip()[-2000:]}")
    if sampled:
        return seconds, sum(peaks.values()), text
    body, _, last = text.rstrip("\n").rpartition("\n")
    return seconds, int(last), body


def build_data(tmp: Path, repeat: int) -> dict[str, Path]:
    access = make_big(tmp / "access-log", repeat, ACCESS if ACCESS.is_file() else None)
    combined = tmp / "combined-log"
    target = access.stat().st_size
    if ELASTIC.is_file():
        block = ELASTIC.read_bytes()
    else:  # the access log with a referer and an agent, some of them bots
        agents = ("Mozilla/5.0 (X11)", "Googlebot/2.1", "msnBOT/1.0", "curl/7.8", "Wget/1.10")
        block = "".join(
            f'{line.rstrip()} "-" "{agents[i % len(agents)]}"\n'
            for i, line in enumerate(sample_lines())
        ).encode()
    with open(combined, "wb") as f:
        for _ in range(max(1, round(target / len(block)))):
            f.write(block)
    gz = tmp / "access-log.gz"
    if shutil.which("gzip"):
        with open(gz, "wb") as f:
            subprocess.run(["gzip", "-6", "-c", str(access)], stdout=f, check=True)
    else:
        with open(access, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    return {"access": access, "combined": combined, "gz": gz}


def answer_of(q: Question, variant: str, stdout: str) -> Any:
    if variant == "mawk":
        assert q.awk is not None
        return q.awk[2](stdout)
    return json.loads(stdout)


def bench(
    questions: list[Question], variants: list[str], data: dict[str, Path], rounds: int
) -> dict[str, dict[str, Measure]]:
    results: dict[str, dict[str, Measure]] = {q.key: {} for q in questions}
    failed: dict[tuple[str, str], str] = {}
    for r in range(rounds):
        for q in questions:
            shift = r % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                cmd = command(q, variant, data[q.data])
                if cmd is None or (q.key, variant) in failed:
                    continue
                try:
                    seconds, peak, out = run_once(cmd, variant == "mawk")
                    answer = answer_of(q, variant, out)
                except Exception as exc:  # a peer that fails is reported, not fatal
                    if variant in ("tutorial", "streamql", "processes"):
                        raise SystemExit(f"{q.key} with {variant} failed: {exc}") from exc
                    failed[(q.key, variant)] = str(exc)
                    print(f"  [{q.key} {variant}] failed: {exc}", file=sys.stderr)
                    continue
                m = results[q.key].setdefault(variant, Measure())
                m.times.append(seconds)
                m.peaks_kib.append(peak)
                m.answer = answer
            print(f"  round {r + 1}: {q.key} done", file=sys.stderr)
    for q in questions:
        ref = results[q.key]["tutorial"].answer if "tutorial" in results[q.key] else None
        for variant in ("streamql", "processes"):
            got = results[q.key].get(variant)
            if got is not None and ref is not None and got.answer != ref:
                raise SystemExit(
                    f"{q.key}: {variant} answered {str(got.answer)[:300]}, "
                    f"the tutorial {str(ref)[:300]}"
                )
    return results


def table(questions: list[Question], variants: list[str], results: dict[str, Any]) -> str:
    head = ["question", *variants, "fastest peer"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for q in questions:
        row = results[q.key]
        ref = row["tutorial"].answer if "tutorial" in row else None
        peers = {v: m.times and min(m.times) for v, m in row.items() if v in PEERS}
        fastest = min(peers, key=lambda v: peers[v]) if peers else None
        cells = [q.title]
        for variant in variants:
            m = row.get(variant)
            if m is None or not m.times:
                cells.append("")
                continue
            best = min(m.times)
            ratio = f" ({best / peers[fastest]:.2f}{TIMES})" if fastest else ""
            same = "" if m.answer == ref else " ≠"
            cells.append(f"{best:.2f} s{ratio} {max(m.peaks_kib) / 1024:.0f} MB{same}")
        cells.append(f"{fastest} {peers[fastest]:.2f} s" if fastest else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="the log x 2000 (~1.3 GB)")
    parser.add_argument("--repeat", type=int, help="copies of the access log (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--queries", help="comma-separated: " + ",".join(BY_KEY))
    parser.add_argument("--variants", help="comma-separated: " + ",".join(VARIANTS))
    parser.add_argument("--tmpdir", help="where the data goes (a temporary directory in it)")
    parser.add_argument("--json", help="write the measurements here")
    args = parser.parse_args(argv)
    repeat = args.repeat or (2000 if args.big else 200)
    questions = [BY_KEY[k] for k in args.queries.split(",")] if args.queries else QUESTIONS
    wanted = args.variants.split(",") if args.variants else list(VARIANTS)
    variants = [v for v in wanted if available(v)]
    for v in sorted(set(wanted) - set(variants)):
        print(f"skipping {v}: not installed", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="streamql-peers-", dir=args.tmpdir))
    try:
        data = build_data(tmp, repeat)
        sizes = ", ".join(f"{k} {p.stat().st_size / 1e6:,.0f} MB" for k, p in data.items())
        print(f"data: {sizes}; {args.rounds} rounds", file=sys.stderr)
        results = bench(questions, variants, data, args.rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"access log x {repeat}, best of {args.rounds} whole-process runs (time, ratio to "
        "the fastest peer, peak RSS); ≠: answer differs from the tutorial's"
    )
    print(table(questions, variants, results))
    medians = {
        q.key: {v: statistics.median(m.times) for v, m in results[q.key].items()} for q in questions
    }
    if args.json:
        out = {
            q.key: {
                v: {"times": m.times, "peaks_kib": m.peaks_kib, "median": medians[q.key][v]}
                for v, m in results[q.key].items()
            }
            for q in questions
        }
        Path(args.json).write_text(json.dumps({"repeat": repeat, "results": out}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
