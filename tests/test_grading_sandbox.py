"""Hostile submissions graded next to an honest one: each ends with its own status, the honest one passes,
nothing outside the sandbox is touched, and no process of theirs outlives the run (about half a minute)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

pytest.importorskip("nbformat")
pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

import grading_submissions as sub

from lecture_code.grading.cli import main
from lecture_code.grading.sandbox import MARKER, TAG, isolation

FORK = '''
import os, time
children = 0
while True:
    pid = os.fork()  # raises BlockingIOError at the sandbox's process limit
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    children += 1
'''

IGNORES_INTERRUPTS = '''
import time
while True:
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        pass
'''


def _hostile(home: Path, originals: Path, port: int) -> dict[str, list[str]]:
    return {
        "loop": ["while True:\n    pass"],
        "loop_ignoring_interrupts": [IGNORES_INTERRUPTS],
        "fork": [FORK],
        "memory": ["import numpy as np\nx = np.ones(50 * 10**9 // 8)  # 50 GB"],
        "delete": ["import os, shutil\nfor f in os.listdir('.'):\n    os.remove(f)\n",
                   f"import shutil\nshutil.rmtree({str(originals)!r})"],
        "write_home": ["from pathlib import Path\n(Path.home() / 'pwned.txt').write_text('x')",
                       f"open({str(home / 'pwned-absolute.txt')!r}, 'w').write('x')"],
        "crash_in_a_call": [sub.RNN_STEP, "import os\ndef softmax(z):\n    os._exit(4)", sub.LM_LOSS],
        "crash": [sub.RNN_STEP.replace('check("rnn_step", rnn_step)', ""), "import os\nos._exit(3)"],
        "network": [f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                    + sub.RNN_STEP],  # defined only if the connection succeeds
    }


def _sandbox_processes(tag: str) -> list[int]:
    """Processes still carrying the environment marker of a sandbox started with this tag."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if f"{MARKER}={tag}".encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_hostile_submissions_end_with_their_own_status_while_the_others_are_graded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "instructor_home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    tag = f"hostile-{os.getpid()}-"
    monkeypatch.setenv(TAG, tag)  # so that only this test's sandboxes are looked for afterwards
    subs = tmp_path / "submissions"
    good = sub.alice(subs, "01_a_good_one.ipynb")
    server = socket.create_server(("127.0.0.1", 0))  # reachable from the sandbox only with network
    for name, cells in _hostile(home, subs, server.getsockname()[1]).items():
        sub.notebook(subs / f"01_{name}.ipynb", [sub.IMPORTS, *cells])
    before = {p.name: p.read_bytes() for p in subs.iterdir()}
    csv_path = tmp_path / "grades.csv"

    with server:
        assert main([str(subs), "--csv", str(csv_path), "--timeout", "12", "--wall", "120", "-j", "2"]) == 1

    got = sub.by_notebook(sub.read_csv(csv_path))
    status = {nb: {r["status"] for r in rows.values()} for nb, rows in got.items()}
    assert status["01_a_good_one.ipynb"] == {"pass"}, got["01_a_good_one.ipynb"]
    assert status["01_loop.ipynb"] == {"timeout"}, got["01_loop.ipynb"]
    assert status["01_loop_ignoring_interrupts.ipynb"] == {"timeout"}, got["01_loop_ignoring_interrupts.ipynb"]
    assert "killed" in got["01_loop_ignoring_interrupts.ipynb"]["rnn_step"]["hint"]
    assert status["01_memory.ipynb"] == {"memory"}, got["01_memory.ipynb"]
    assert status["01_crash.ipynb"] == {"crashed"}, got["01_crash.ipynb"]
    assert "exited with status 3" in got["01_crash.ipynb"]["rnn_step"]["hint"]
    in_call = {ex: r["status"] for ex, r in got["01_crash_in_a_call.ipynb"].items()}
    # the kernel died while softmax was checked: lm_loss is checked in a fresh kernel
    assert in_call == {"rnn_step": "pass", "rnn_lm_num_params": "not run", "softmax": "crashed", "lm_loss": "pass",
                       "perplexity": "not run", "uniform_perplexity": "not run", "sample_next": "not run"}, \
        got["01_crash_in_a_call.ipynb"]
    assert status["01_delete.ipynb"] == {"not run"}, got["01_delete.ipynb"]
    assert status["01_write_home.ipynb"] == {"not run"}, got["01_write_home.ipynb"]
    if isolation().namespaces:
        assert status["01_network.ipynb"] == {"not run"}, got["01_network.ipynb"]
    if isolation().limits and isolation().own_user:  # the process limit does not bind root
        assert status["01_fork.ipynb"] == {"processes"}, got["01_fork.ipynb"]

    # run as another user, a submission can neither touch the submissions folder nor the instructor's home;
    # as the grader's user it can (the `delete` one removes the folder), but every grade above is still right,
    # because each notebook was read before any ran. No process is left behind either way.
    if isolation().own_user:
        assert {p.name: p.read_bytes() for p in subs.iterdir()} == before
        assert good.exists()
        assert list(home.iterdir()) == []
    assert _sandbox_processes(tag) == []
    out = capfd.readouterr()
    assert "Traceback" not in out.out + out.err
    notebooks = len(_hostile(home, subs, 0)) + 1
    # the good one passes all, crash_in_a_call two, and network one (rnn_step) where the network is not cut
    passed = len(sub.CHAPTER_1) + 2 + (0 if isolation().namespaces else 1)
    assert f"{passed} of {notebooks * len(sub.CHAPTER_1)} exercises passed." in out.out, out.out


def test_without_namespaces_or_own_user_grading_works_and_cleans_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Where unshare/setpriv are unavailable, processes are found by their environment marker, and a
    submission that deletes the others (it runs as the grader's user) changes no grade: each notebook
    was read before the first one ran."""
    from lecture_code.grading import sandbox

    bare = sandbox.Isolation(namespaces=False, own_user=False, limits=isolation().limits, notes=["(test)"])
    monkeypatch.setattr(sandbox, "isolation", lambda: bare)
    tag = f"bare-{os.getpid()}-"
    monkeypatch.setenv(TAG, tag)
    subs = tmp_path / "submissions"
    sub.alice(subs)
    sub.notebook(subs / "01_a_deleter.ipynb", [f"import shutil\nshutil.rmtree({str(subs)!r})"])
    sub.notebook(subs / "01_orphans.ipynb", [
        "import os, time\nfor _ in range(5):\n    if os.fork() == 0:\n        os.setsid()\n"
        "        time.sleep(600)\n        os._exit(0)"])
    csv_path = tmp_path / "grades.csv"
    assert main([str(subs), "--csv", str(csv_path), "--timeout", "30"]) == 1
    got = sub.by_notebook(sub.read_csv(csv_path))
    assert {r["status"] for r in got["01_sub_alice.ipynb"].values()} == {"pass"}
    assert {r["status"] for r in got["01_orphans.ipynb"].values()} == {"not run"}
    assert {r["status"] for r in got["01_a_deleter.ipynb"].values()} == {"not run"}
    assert not subs.exists()  # graded first, it deleted the folder: the limit of running as the grader's user
    assert _sandbox_processes(tag) == []
    assert "Traceback" not in "".join(capsys.readouterr())
