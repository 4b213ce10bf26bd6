"""The streamql command: the demo, one-off queries, and how errors and pipes are reported."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from streamql import Stream
from streamql.cli import demo
from streamql.cli.main import main, print_result
from streamql.samples.tree import PLAIN_LOG, SampleTree, write_sample_tree

ROOT = Path(__file__).resolve().parents[1]
LINES = [
    '81.107.39.38 - - [24/Feb/2008:00:08:59 -0600] "GET /ply/ HTTP/1.1" 200 7587\n',
    '81.107.39.38 - - [24/Feb/2008:00:09:00 -0600] "GET /favicon.ico HTTP/1.1" 404 133\n',
    "this is not a log line\n",
    '66.249.72.134 - - [24/Feb/2008:00:10:00 -0600] "GET /favicon.ico HTTP/1.1" 404 133\n',
    '66.249.72.134 - - [24/Feb/2008:00:11:00 -0600] "GET /ply/ HTTP/1.1" 304 -\n',
    "\n",
]
CHECKS = 10  # answers the demo checks


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def python_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "access-log"
    path.write_text("".join(LINES))
    return path


# ------------------------------------------------------------------- demo


def test_demo_answers_agree_with_the_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "demo", "--lines", "40", "--seed", "5")
    assert (status, err) == (0, "")
    assert out.count("; ok]") == CHECKS and "MISMATCH" not in out
    where = re.search(r"Wrote a sample log tree to (\S+) ", out)
    assert where is not None
    assert not Path(where[1]).exists()  # a temporary tree is removed
    # The numbers printed are the sample's own (same seed, same answers).
    tree = write_sample_tree(tmp_path, lines_per_file=40, seed=5)
    assert f"\n  {tree.file(PLAIN_LOG).bytes:,}\n" in out
    assert f"\n  {tree.grep_bytes:,}\n" in out
    assert f"\n  {tree.largest[0]:,} {tree.largest[1]}\n" in out
    assert f"{tree.good_lines:,} + {tree.malformed_lines} = {tree.lines:,} lines read" in out


def test_demo_shows_each_query_as_code(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "demo", "--lines", "20")
    assert status == 0
    for code in (
        ">>> Stream.lines('www/foo/access-log').field(-1).where(<lambda>).map(int).sum()",
        ">>> Stream.files('access-log*', 'www').open().cat().grep('/ply/')",
        ">>> log = Stream.files('access-log*', '.').open().cat().parse_apache()",
        ">>> log.where(status=404).set('request')",
        ">>> log.max(key='bytes')",
        ">>> log.where(request='/ply/ply-2.3.tar.gz').count()",
        ">>> log.where(F.request.contains('robots.txt')).set('host')",
        ">>> log.rejects.count_by('reason')",
        ">>> log.count() + log.rejects.count()",
    ):
        assert code in out


def test_demo_dir_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "sample"
    status, out, _ = run(capsys, "demo", "--lines", "20", "--dir", str(target))
    assert status == 0
    assert (target / "www" / "bar" / "old" / "access-log-1207.xz").exists()
    assert f"stays in {target}" in out
    status, _, err = run(capsys, "demo", "--lines", "20", "--dir", str(target))
    assert status == 2 and "not an empty directory" in err


def test_demo_keep(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "demo", "--lines", "20", "--keep")
    where = re.search(r"stays in (\S+)\.", out)
    assert status == 0 and where is not None
    kept = Path(where[1])
    try:
        assert (kept / PLAIN_LOG).exists()
    finally:
        shutil.rmtree(kept)


def test_demo_reports_a_disagreement(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def wrong_books(root: Path, **kwargs: Any) -> SampleTree:
        tree = write_sample_tree(root, **kwargs)
        return dataclasses.replace(tree, downloads=tree.downloads + 1)

    monkeypatch.setattr(demo, "write_sample_tree", wrong_books)
    status, out, err = run(capsys, "demo", "--lines", "20")
    assert status == 1
    assert out.count("MISMATCH") == 1 and out.count("; ok]") == CHECKS - 1
    assert "the sample generator says" in out
    assert "1 answer(s) disagree" in err


def test_demo_goes_on_after_a_failing_query(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(self: Stream[Any], *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("set is broken\n\nA hint that is not shown.")

    monkeypatch.setattr(Stream, "set", broken)
    status, out, err = run(capsys, "demo", "--lines", "20")
    assert status == 1
    assert out.count("error: RuntimeError: set is broken\n") == 3  # the three set() queries
    assert out.count("; ok]") == CHECKS - 3
    assert "3 answer(s) disagree" in err


def test_demo_rejects_too_few_lines(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "demo", "--lines", "3")
    assert status == 2 and "at least 10" in err


def test_python_dash_m_demo_end_to_end(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streamql", "demo", "--lines", "200"],
        cwd=tmp_path,
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.count("; ok]") == CHECKS and "MISMATCH" not in result.stdout
    assert "1,800 lines read" in result.stdout


# ------------------------------------------------------------------ query


def test_query_count_by_prints_value_tab_count(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expr = '.parse_apache().where(status=404).count_by("request")'
    status, out, _ = run(capsys, "query", expr, str(log))
    assert status == 0
    assert out == "/favicon.ico\t2\n"


def test_query_scalar_and_full_expression(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "query", '.grep("ply").count()', str(log))[:2] == (0, "2\n")
    status, out, _ = run(capsys, "query", 'sorted(lines.parse_apache().set("host"))', str(log))
    assert (status, out) == (0, "66.249.72.134\n81.107.39.38\n")
    bytes_sum = '.field(-1).where(lambda x: x != "-").map(int).sum()'
    status, out, _ = run(capsys, "query", bytes_sum, str(log))
    assert status == 1  # "line" is no number: the tutorial's query fails on garbage, loudly


def test_query_stream_prints_json_lines(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "query", ".parse_apache().where(status=404)", str(log))
    assert status == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["host"] for r in records] == ["81.107.39.38", "66.249.72.134"]
    assert records[0]["datetime"] == "2008-02-24T00:09:00-06:00"
    assert records[0]["bytes"] == 133
    assert "rejected" in err


def test_query_empty_expression_is_cat_of_any_compression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packed = tmp_path / "log.gz"
    with gzip.open(packed, "wt") as f:
        f.writelines(LINES[:2])
    status, out, _ = run(capsys, "query", "", str(packed))
    assert (status, out) == (0, "".join(LINES[:2]))


def test_query_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(LINES)))
    assert run(capsys, "query", '.grep(" 404 ").count()')[:2] == (0, "2\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(LINES)))
    assert run(capsys, "query", '.grep(" 404 ").count()', "-")[:2] == (0, "2\n")
    assert not sys.stdin.closed  # the end of the run closes its reader, not stdin


def test_query_stdin_bytes_decode_like_files(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = io.BytesIO(b"caf\xe9\nok\n")
    stdin = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdin", stdin)
    status, out, _ = run(capsys, "query", ".list()")
    assert (status, out) == (0, "caf\\xe9\nok\n")
    assert not raw.closed  # the process's stdin stays open


def test_rejected_lines_summed_up_on_stderr(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "query", ".parse_apache().count()", str(log))
    assert (status, out) == (0, "4\n")
    assert err.count("\n") == 1 and err.startswith("streamql: rejected")
    assert "parse_apache 2" in err and f"{log}:3" in err  # count, first example's file:line
    assert "Warning" not in err  # shown as a message, not by the warnings machinery


def test_rejects_can_be_queried(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "query", '.parse_apache().rejects.count_by("reason")', str(log))
    assert (status, err) == (0, "")
    assert out == "not an Apache log line\t1\nblank line\t1\n"


def test_bad_expression_is_a_usage_error(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "query", ".grep((", str(log))
    assert (status, out) == (2, "")
    assert err.startswith("streamql: bad expression:")
    assert err.endswith("  .grep((\n        ^\n")  # the caret under the unclosed bracket
    status, _, err = run(capsys, "query", '.gerp("x").count()', str(log))
    assert status == 2 and "did you mean .grep?" in err
    status, _, err = run(capsys, "query", "grep('x')", str(log))
    assert status == 2 and "start EXPR with a dot" in err
    status, _, err = run(capsys, "query", ".grep(42)", str(log))
    assert status == 2
    assert err == "streamql: bad expression: grep: pattern must be str or re.Pattern, got 42\n"


def test_missing_file_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.log"
    status, out, err = run(capsys, "query", ".count()", str(missing))
    assert (status, out) == (1, "")
    assert err == f"streamql: cannot open {str(missing)!r}: No such file or directory\n"
    status, _, err = run(capsys, "query", ".count()", str(tmp_path / "nope*.log"))
    assert status == 1 and "no file matches" in err


def test_damaged_archive_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    packed = tmp_path / "log.gz"
    packed.write_bytes(gzip.compress("".join(LINES * 200).encode())[:-30])
    status, _, err = run(capsys, "query", ".count()", str(packed))
    assert status == 1
    assert err.startswith(f"streamql: cat: {packed} is damaged after line")
    assert "Traceback" not in err


def test_failing_query_is_a_runtime_error(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "query", ".map(int).sum()", str(log))
    assert status == 1
    assert err.startswith("streamql: ValueError: invalid literal for int()")
    assert f"{log}:1" in err and "Traceback" not in err
    status, _, err = run(capsys, "--traceback", "query", ".map(int).sum()", str(log))
    assert status == 1 and "Traceback (most recent call last)" in err
    status, _, err = run(capsys, "query", "--traceback", ".map(int).sum()", str(log))
    assert status == 1 and "Traceback (most recent call last)" in err


def test_stdin_cannot_mix_with_files(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "query", ".count()", str(log), "-")
    assert status == 2 and "cannot be mixed" in err


def test_ctrl_c_exits_130_quietly(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expr = '.map(lambda line: exec("raise KeyboardInterrupt")).count()'
    assert run(capsys, "query", expr, str(log)) == (130, "", "")


def test_closed_output_exits_141_in_process(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["query", "", str(log)]) == 141  # and the log is closed (ResourceWarning)


def test_closed_pipe_prints_no_traceback(tmp_path: Path) -> None:
    big = tmp_path / "big-log"
    big.write_text("".join(LINES * 5000))  # well over a pipe's buffer
    with subprocess.Popen(
        [sys.executable, "-m", "streamql", "query", "", str(big)],
        env=python_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline() == LINES[0].encode()
        proc.stdout.close()  # like `| head -1`
        err = proc.stderr.read()
        status = proc.wait(timeout=30)
    assert status == 141
    assert err == b""


def test_help_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0 and "streamql demo" in out and "Exit status" in out
    status, out, _ = run(capsys, "query", "--help")
    assert status == 0 and "In scope: lines, Stream, F, the aggregations (Sum, Count" in out
    status, _, err = run(capsys)
    assert status == 2 and "usage: streamql" in err
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out.startswith("streamql ")


# ----------------------------------------------------------------- output


def test_print_result_shapes() -> None:
    def shown(value: Any, aligned: bool = False) -> str:
        out = io.StringIO()
        print_result(value, out, aligned=aligned)
        return out.getvalue()

    assert shown({"/a": 3, "/bbbb": 1}) == "/a\t3\n/bbbb\t1\n"
    assert shown({"/a": 3, "/bbbb": 1}, aligned=True) == "/a   \t3\n/bbbb\t1\n"
    assert shown({"b", "a"}) == "a\nb\n"
    assert shown([3, "x\n", None]) == "3\nx\nNone\n"
    assert shown(1234) == "1234\n"
    assert shown(Stream([{"n": 1, "s": {2, 1}}])) == '{"n": 1, "s": [1, 2]}\n'
    assert shown({1: "a", (1, 2): "b"}) == "1\ta\n[1, 2]\tb\n"
    assert shown({"caf\u00e9": ["x"]}) == 'caf\u00e9\t["x"]\n'


def test_output_encoding_errors_are_escaped() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    print_result(["caf\u00e9"], out)
    out.flush()
    assert raw.getvalue() == b"caf\\xe9\n"


def test_query_progress_bar_on_stderr(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    status, out, err = run(capsys, "query", "--progress", "on", ".count()", str(log))
    assert status == 0 and out.strip().isdigit()
    assert "100%" in err and "B/s" in err
    status, out, err = run(capsys, "query", ".count()", str(log))  # auto: not a terminal
    assert status == 0 and "100%" not in err


# ------------------------------------------------- standard input, for real


def query_process(*argv: str, stdin: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streamql", "query", *argv],
        env=python_env(),
        stdin=stdin,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.parametrize("query", [".first()", ".take(2)", '.grep("404").first()'])
def test_early_stop_on_stdin_exits_0(query: str, tmp_path: Path) -> None:
    big = tmp_path / "access-log"
    big.write_text("".join(LINES * 5000))  # far more than one read of stdin
    with open(big, "rb") as stdin:
        result = query_process(query, stdin=stdin)
    assert (result.returncode, result.stderr) == (0, b"")
    expected = {
        ".first()": LINES[0],
        ".take(2)": LINES[0] + LINES[1],
        '.grep("404").first()': LINES[1],
    }
    assert result.stdout.decode() == expected[query]


@pytest.mark.parametrize("kind", ["gzip", "bz2", "xz", "zstd"])
def test_stdin_is_decompressed_by_content(kind: str, tmp_path: Path) -> None:
    import bz2
    import lzma

    data = "".join(LINES * 100).encode()
    if kind == "zstd":
        zstandard = pytest.importorskip("zstandard")
        packed = zstandard.ZstdCompressor().compress(data)
    else:
        packed = {"gzip": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[kind](data)
    path = tmp_path / "log.packed"
    path.write_bytes(packed)
    with open(path, "rb") as stdin:
        result = query_process(".count()", stdin=stdin)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"600\n", b"")


def test_stdin_rejects_name_stdin_and_the_command_to_see_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = io.BytesIO(gzip.compress("".join(LINES).encode()))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(raw))
    status, out, err = run(capsys, "query", ".parse_apache().count()")
    assert (status, out) == (0, "4\n")
    assert "first at <stdin>:3" in err
    assert err.rstrip().endswith("see them all: ... | streamql query '.parse_apache().rejects'")
    assert not raw.closed


def test_rejects_hint_is_a_command_line(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "query", ".parse_apache().where(status=404).count()", str(log))
    assert status == 0 and err.count("\n") == 1
    assert err.rstrip().endswith(
        f"see them all: streamql query '.parse_apache().where(status=404).rejects' {log}"
    )
    assert "query .rejects" not in err  # not the Python phrasing
    status, out, err = run(capsys, "query", ".parse_apache().where(status=404).rejects", str(log))
    assert (status, err) == (0, "") and out.count("\n") == 2


def test_a_terminal_on_stdin_gets_a_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("a\nb\n"))
    status, out, err = run(capsys, "query", ".count()")
    assert (status, out) == (0, "2\n")
    assert "reading lines from the terminal; end with Ctrl-D" in err


# ------------------------------------------------------- what is in scope


def test_aggregations_are_in_scope(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = 'lines.parse_apache().aggregate(total=Sum("bytes"), n=Count(), top=Top(1, by="bytes"))'
    status, out, _ = run(capsys, "query", query, str(log))
    assert status == 0
    assert out.splitlines()[:2] == ["total\t7853", "n\t4"]
    for name in ("Sum", "Count", "CountBy", "Top", "Min", "Max", "Mean", "Distinct"):
        status, out, err = run(capsys, "query", f"{name}.__name__", str(log))
        assert (status, out) == (0, f"{name}\n"), err


def test_show_prints_no_none_and_windows_keep_their_keys(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "query", ".parse_apache().show(2)", str(log))
    assert status == 0 and "None" not in out and out.splitlines()[0].startswith("host")
    query = ".parse_apache().window(60, agg=len)"
    status, out, _ = run(capsys, "query", query, str(log))
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and rows[0] == {
        "start": "2008-02-24T00:08:00-06:00",
        "end": "2008-02-24T00:09:00-06:00",
        "value": 1,
    }


def test_progress_on_without_tqdm_is_a_usage_error_naming_the_extra(
    log: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tqdm" else real(name, *a)
    )
    status, out, err = run(capsys, "query", "--progress", "on", ".count()", str(log))
    assert (status, out) == (2, "")
    assert "--progress on needs tqdm" in err and "pip install streamql[progress]" in err
    assert "bad expression" not in err
    assert run(capsys, "query", ".count()", str(log))[:2] == (0, "6\n")  # auto: fine without


def test_readme_grep_example_prints_on_the_tutorial_log(shared_data: Path) -> None:
    log = shared_data / "dabeaz" / "access-log"
    grep = subprocess.run(["grep", "ply", str(log)], capture_output=True, check=True, timeout=60)
    result = subprocess.run(
        [sys.executable, "-m", "streamql", "query", ".parse_apache().where(F.bytes > 100_000)"],
        env=python_env(),
        input=grep.stdout,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr == b""
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all(r["bytes"] > 100_000 and "ply" in r["request"] for r in rows)
    readme = (ROOT / "README.md").read_text()
    assert "where(F.bytes > 100_000)'" in readme and "F.bytes > 1_000_000)'" not in readme


# ---------------------------------------------------------------- --output


def test_output_formats(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = '.parse_apache().select("host", "bytes").take(2)'
    out = {
        fmt: run(capsys, "query", "-o", fmt, records, str(log))[1]
        for fmt in ("jsonl", "json", "csv", "tsv", "table")
    }
    assert (
        out["jsonl"]
        == '{"host": "81.107.39.38", "bytes": 7587}\n{"host": "81.107.39.38", "bytes": 133}\n'
    )
    assert json.loads(out["json"]) == [json.loads(line) for line in out["jsonl"].splitlines()]
    assert out["csv"] == "host,bytes\n81.107.39.38,7587\n81.107.39.38,133\n"
    assert out["tsv"] == "host\tbytes\n81.107.39.38\t7587\n81.107.39.38\t133\n"
    assert out["table"].splitlines() == [
        "host          bytes",
        "------------  -----",
        "81.107.39.38   7587",
        "81.107.39.38    133",
    ]
    counts = '.parse_apache().count_by("status")'
    assert (
        run(capsys, "query", "-o", "csv", counts, str(log))[1] == "key,value\n404,2\n200,1\n304,1\n"
    )
    assert json.loads(run(capsys, "query", "-o", "json", counts, str(log))[1]) == {
        "404": 2,
        "200": 1,
        "304": 1,
    }
    assert run(capsys, "query", "-o", "json", ".parse_apache().count()", str(log))[1] == "4\n"
    status, _, err = run(capsys, "query", "-o", "xml", ".count()", str(log))
    assert status == 2 and "invalid choice: 'xml'" in err


def test_demo_says_keep_up_front(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "demo", "--lines", "20")
    assert status == 0
    before_queries = out.split(">>>", 1)[0]
    assert "streamql demo --keep" in before_queries and "cd there" in before_queries


def test_no_stdin_at_all_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", None)
    status, out, err = run(capsys, "query", ".count()")
    assert (status, out) == (2, "") and "no standard input to read: name a FILE" in err


def test_lines_on_a_live_pipe_come_out_as_they_come_in() -> None:
    # Like `tail -f log | streamql query '.grep("404")'`: no waiting for a batch.
    with subprocess.Popen(
        [sys.executable, "-u", "-m", "streamql", "query", '.grep(" 404 ")'],
        env=python_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        try:
            for line in LINES[:2]:
                proc.stdin.write(line.encode())
            proc.stdin.flush()  # and keep the pipe open: more may come
            ready, _, _ = select.select([proc.stdout], [], [], 30)  # bounds a hang only
            assert ready, "the matching line did not come out while the pipe stayed open"
            assert proc.stdout.readline() == LINES[1].encode()
        finally:
            proc.stdin.close()
        assert proc.wait(timeout=30) == 0
        assert proc.stdout.read() == b"" and proc.stderr.read() == b""
