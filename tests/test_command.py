"""Stream.command: a process's output as lines; early stops end and reap it; failures say why."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streamql import Stream
from streamql.ops.command import CommandError, CommandStderrWarning, command

pytestmark = [
    pytest.mark.usefixtures("no_leaked_threads", "no_leftovers"),
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc"),
]

PY = sys.executable


def py(code: str) -> list[str]:
    """The argv of a Python child running ``code``, its output unbuffered."""
    return [PY, "-u", "-c", code]


def children() -> set[int]:
    """Every child of this process, zombies included (a zombie is a child not reaped)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = stat.read_text().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        if ppid == str(os.getpid()):
            found.add(int(stat.parent.name))
    return found


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def no_leftovers() -> Iterator[None]:
    """Fail a test that leaves a child (running or zombie) or an open descriptor behind.

    Checked at once, not after a grace: a stream reaps its command before close() returns.
    """
    before, fds = children(), open_fds()
    yield
    assert children() - before == set()
    assert open_fds() == fds


def alive(pid: int) -> bool:
    """Whether ``pid`` is running (a zombie counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Poll ``condition``; fail naming ``what`` if it never holds (this only bounds a hang)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {seconds} s for {what}")
        time.sleep(0.02)


def test_lines_come_as_the_files_give_them() -> None:
    raw = "b'a\\r\\nb\\n\\xff\\xfe\\n\\xc3\\xa9t\\xc3\\xa9\\nlast'"
    code = f"import sys; sys.stdout.buffer.write({raw})"
    assert Stream.command(py(code)).list() == ["a\n", "b\n", "\\xff\\xfe\n", "été\n", "last"]
    assert Stream.command(py("pass")).list() == []


def test_many_lines_and_characters_split_across_reads_arrive_whole() -> None:
    code = "import sys\nfor i in range(50000): sys.stdout.write('é' * (i % 7) + str(i) + '\\n')"
    lines = Stream.command(py(code)).list()
    assert len(lines) == 50000
    assert lines[12345] == "é" * (12345 % 7) + "12345\n"


def test_each_run_starts_the_command_afresh() -> None:
    s = Stream.command(py("print(1); print(2)"))
    assert s.count() == 2 and s.count() == 2
    assert s.map(str.strip).map(int).sum() == 3


def test_take_ends_a_command_that_never_exits() -> None:
    code = "import os, itertools\nprint(os.getpid())\nfor i in itertools.count(): print(i)"
    pid, first = Stream.command(py(code)).take(2).list()
    assert first == "0\n"
    assert not alive(int(pid))  # ended and reaped before take() returned


def test_first_ends_a_silent_command_that_never_exits() -> None:
    code = "import time\nprint('hello')\nwhile True: time.sleep(60)"
    assert Stream.command(py(code)).first() == "hello\n"


def test_until_an_event_ends_a_command_that_writes_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    code = (
        f"import time, pathlib\npathlib.Path({str(marker)!r}).touch()\nwhile True: time.sleep(60)"
    )
    stop = threading.Event()

    def stop_once_started() -> None:
        wait_until(marker.exists, "the command to start")
        stop.set()

    helper = threading.Thread(target=stop_once_started)
    helper.start()
    try:
        assert Stream.command(py(code)).until(stop).list() == []
    finally:
        helper.join(30)


def test_a_command_deaf_to_sigterm_is_killed_after_the_grace() -> None:
    code = (
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready')\nwhile True: time.sleep(60)"
    )
    assert Stream.command(py(code), grace=0.2).first() == "ready\n"


def test_its_own_children_end_with_it() -> None:
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "print(p.pid)\nwhile True: time.sleep(60)"
    )
    grandchild = int(Stream.command(py(code)).first())
    wait_until(lambda: not alive(grandchild), "the command's own child to end")


def test_closing_the_plain_generator_reaps_the_child() -> None:
    lines = command(py("import itertools\nfor i in itertools.count(): print(i)"))
    assert next(lines) == "0\n"
    lines.close()


def test_a_failing_command_names_itself_its_status_and_its_stderr() -> None:
    code = "import sys\nprint('partial')\nsys.stderr.write('boom: no such unit\\n')\nsys.exit(3)"
    got: list[str] = []
    with pytest.raises(CommandError) as caught:
        for line in Stream.command(py(code)):
            got.append(line)
    assert got == ["partial\n"]  # every line before the failure is delivered
    error = caught.value
    assert error.returncode == 3 and "boom: no such unit" in error.stderr
    assert "exited with status 3" in str(error) and "-u -c" in str(error)
    assert "check=False" in str(error)
    with pytest.warns(CommandStderrWarning):
        assert Stream.command(py(code), check=False).list() == ["partial\n"]


def test_a_command_killed_by_a_signal_says_so() -> None:
    with pytest.raises(CommandError, match="was killed by SIGKILL"):
        Stream.command(py("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")).list()


def test_only_the_end_of_a_long_stderr_is_kept() -> None:
    code = "import sys\nsys.stderr.write('x' * 1_000_000 + 'THE END')\nsys.exit(1)"
    with pytest.raises(CommandError) as caught:
        Stream.command(py(code)).list()
    assert caught.value.stderr.endswith("THE END") and len(caught.value.stderr) == 64 * 1024


def test_stderr_of_a_command_that_succeeds_is_a_warning() -> None:
    code = "import sys\nprint('ok')\nsys.stderr.write('deprecated flag\\n')"
    with pytest.warns(CommandStderrWarning, match="deprecated flag"):
        assert Stream.command(py(code)).list() == ["ok\n"]


def test_a_line_over_max_line_is_a_counted_reject_naming_the_command() -> None:
    code = "print('short')\nprint('y' * 300_000)\nprint('z' * 11)\nprint('after')"
    s = Stream.command(py(code), max_line=10)
    rejects = s.rejects.list()
    assert [(r["stage"], r["lineno"]) for r in rejects] == [("command", 2), ("command", 3)]
    assert rejects[0]["line"] == "y" * 200 and "300,000 characters" in rejects[0]["reason"]
    assert rejects[0]["file"] is not None and rejects[0]["file"].startswith(f"{PY} -u -c")
    with pytest.warns(UserWarning, match="command 2"):
        assert s.list() == ["short\n", "after\n"]


def test_json_lines_as_journalctl_writes_them() -> None:
    records = [{"MESSAGE": "Started nginx", "PRIORITY": "6", "_PID": "42"}, {"MESSAGE": "é"}]
    code = "import json, sys\nfor r in json.loads(sys.argv[1]): print(json.dumps(r))"
    argv = [*py(code), json.dumps(records)]
    assert Stream.command(argv).map(json.loads).list() == records


def test_bad_arguments_fail_when_the_step_is_added() -> None:
    with pytest.raises(TypeError, match=r"there is no shell\n\nSplit it: \['journalctl', '-o'"):
        Stream.command("journalctl -o json")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="non-empty"):
        Stream.command([])
    with pytest.raises(TypeError, match="each argument"):
        Stream.command(["ls", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="grace must be a positive"):
        Stream.command(["ls"], grace=0)
    with pytest.raises(ValueError, match="max_line"):
        Stream.command(["ls"], max_line=0)
    with pytest.raises(LookupError):
        Stream.command(["ls"], encoding="no-such-codec")


def test_a_missing_program_fails_at_the_run_naming_it() -> None:
    s = Stream.command(["no-such-program-streamql"])
    with pytest.raises(FileNotFoundError, match="no-such-program-streamql"):
        s.list()


def test_repr_and_explain_show_the_command() -> None:
    s = Stream.command(["journalctl", "-o", "json"], check=False, grace=1.0)
    assert repr(s) == "Stream.command(['journalctl', '-o', 'json'], check=False, grace=1.0)"
    assert "side effects" in s.explain()
