"""Tests for the grading command line (python -m lecture_code.grading): list, generate, and grading
notebooks end to end in a real Jupyter kernel (three short kernel runs, about ten seconds)."""

from __future__ import annotations

import csv
import json
import os
import runpy
import shutil
import sys
from pathlib import Path

import pytest

from lecture_code.grading import EXERCISES, REPORT_VAR
from lecture_code.grading.cli import main
from lecture_code.grading.generator import BEGIN, END, dumps

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

CHAPTER_1 = ["rnn_step", "softmax", "lm_loss", "perplexity", "sample_next"]


# ----------------------------------------------------------------------------- list, generate


def test_list_prints_every_exercise(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for ex in EXERCISES.values():
        assert ex.id in out and ex.signature in out
    assert [e.id for e in EXERCISES.values() if e.chapter == 1] == CHAPTER_1


def test_module_entry_point_lists(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["python -m lecture_code.grading", "list"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("lecture_code.grading", run_name="__main__")
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert all(ex in out for ex in CHAPTER_1)


def _solution(source: str) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.cells[0].id = "only-cell"
    return json.loads(nbformat.writes(nb))


def test_generate_check_fails_on_drift_and_passes_after_generating(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    sol, exe = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    (sol / "01_x.ipynb").write_text(dumps(_solution(f"def f():\n    {BEGIN}\n    return 1\n    {END}\n")),
                                    encoding="utf-8")
    args = ["--solutions", str(sol), "--exercises", str(exe)]

    assert main(["generate", "--check", *args]) == 1
    assert "out of date" in capsys.readouterr().out
    assert not exe.exists()

    assert main(["generate", *args]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (exe / "01_x.ipynb").is_file()

    assert main(["generate", "--check", *args]) == 0
    assert capsys.readouterr().out == ""


def test_generate_reports_marker_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sol = tmp_path / "solutions"
    sol.mkdir()
    (sol / "01_x.ipynb").write_text(dumps(_solution(f"{BEGIN}\nx = 1\n")), encoding="utf-8")
    assert main(["generate", "--solutions", str(sol), "--exercises", str(tmp_path / "ex")]) == 2
    assert "never closed" in capsys.readouterr().err


def test_grading_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not a notebook"):
        main([str(tmp_path / "nope.ipynb")])


# ----------------------------------------------------------------------------- grading in a real kernel


@pytest.fixture
def python3_kernel(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> str:
    """Pin the `python3` kernel that the grader starts to this interpreter (its venv), ahead of any user kernelspec.

    JUPYTER_PATH comes first in the kernelspec search, so a python3 spec there wins over ~/.local ones.
    """
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (tests)",
        "language": "python",
    }), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(root))
    return sys.executable


IMPORTS = "import sys\nfrom pathlib import Path\n\nimport numpy as np\n\nfrom lecture_code.grading import check"

RNN_STEP = '''
def rnn_step(e_t, h_prev, W_h, W_e, b1):
    return np.tanh(h_prev @ W_h.T + e_t @ W_e.T + b1)

check("rnn_step", rnn_step)'''

SOFTMAX = '''
def softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    w = np.exp(shifted)
    return w / w.sum(axis=-1, keepdims=True)

check("softmax", softmax)'''

LM_LOSS = '''
def lm_loss(logits, targets):
    top = logits.max(axis=-1, keepdims=True)
    logp = logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(logp, targets[..., None], axis=-1).mean())

check("lm_loss", lm_loss)'''

PERPLEXITY = '''
def perplexity(mean_nll):
    return float(np.exp(mean_nll))

check("perplexity", perplexity)'''

SAMPLE_NEXT = '''
def sample_next(logits, temperature, rng):
    return np.argmax(logits / temperature + rng.gumbel(size=logits.shape), axis=-1)

check("sample_next", sample_next)'''

WHICH_PYTHON = 'Path("kernel_python.txt").write_text(sys.executable)'

BOB_RNN_STEP = '''
def rnn_step(e_t, h_prev, W_h, W_e, b1):
    return h_prev @ W_h.T + e_t @ W_e.T + b1  # forgot the tanh

check("rnn_step", rnn_step)'''

BOB_SOFTMAX = '''
def softmax(z):
    raise NotImplementedError("Replace this line with your code.")

check("softmax", softmax)'''

BOB_LM_LOSS = LM_LOSS.replace('check("lm_loss", lm_loss)',
                              'print(lm_loss(np.zeros((1, 1, 3)), np.array([[7]])))  # IndexError\n'
                              'check("lm_loss", lm_loss)')


def _notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src.strip()) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _alice(folder: Path) -> Path:
    return _notebook(folder / "01_sub_alice.ipynb",
                     [IMPORTS, RNN_STEP, SOFTMAX, LM_LOSS, PERPLEXITY, SAMPLE_NEXT, WHICH_PYTHON])


def _bob(folder: Path) -> Path:
    # one wrong, one stub, one cell raising before its check, perplexity never written
    return _notebook(folder / "01_sub_bob.ipynb", [IMPORTS, BOB_RNN_STEP, BOB_SOFTMAX, BOB_LM_LOSS, SAMPLE_NEXT])


def _rows(csv_path: Path) -> list[dict[str, str]]:
    with open(csv_path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_grade_a_class(tmp_path: Path, python3_kernel: str, capsys: pytest.CaptureFixture[str]) -> None:
    subs = tmp_path / "submissions"
    _alice(subs)
    bob = _bob(subs)
    (subs / ".ipynb_checkpoints").mkdir()
    shutil.copy(bob, subs / ".ipynb_checkpoints" / "01_sub_bob-checkpoint.ipynb")  # ignored
    csv_path = tmp_path / "grades.csv"

    assert main([str(subs), "--csv", str(csv_path), "--timeout", "120"]) == 1

    # the kernel ran this test's interpreter
    assert (subs / "kernel_python.txt").read_text(encoding="utf-8") == python3_kernel

    rows = _rows(csv_path)
    assert list(rows[0]) == ["notebook", "exercise", "status", "hint"]
    assert [(Path(r["notebook"]).name, r["exercise"]) for r in rows] == (
        [("01_sub_alice.ipynb", ex) for ex in CHAPTER_1] + [("01_sub_bob.ipynb", ex) for ex in CHAPTER_1]
    )
    got = {(Path(r["notebook"]).name, r["exercise"]): r for r in rows}
    for ex in CHAPTER_1:
        assert got["01_sub_alice.ipynb", ex]["status"] == "pass", got["01_sub_alice.ipynb", ex]
        assert got["01_sub_alice.ipynb", ex]["hint"] == ""
    bob_rows = {ex: got["01_sub_bob.ipynb", ex] for ex in CHAPTER_1}
    assert bob_rows["rnn_step"]["status"] == "fail"
    assert bob_rows["rnn_step"]["hint"] == EXERCISES["rnn_step"].mistakes[0].hint  # "missing tanh"
    assert bob_rows["softmax"]["status"] == "not_implemented"
    assert "NotImplementedError" in bob_rows["softmax"]["hint"]
    assert bob_rows["lm_loss"]["status"] == "not run"
    assert bob_rows["perplexity"]["status"] == "not run"
    assert "never ran" in bob_rows["perplexity"]["hint"]
    assert bob_rows["sample_next"]["status"] == "pass"

    out = capsys.readouterr().out
    assert "6 of 10 exercises passed." in out
    assert "01_sub_bob.ipynb" in out and "not_implemented" in out


def test_grade_all_passing_returns_0(tmp_path: Path, python3_kernel: str, capsys: pytest.CaptureFixture[str]) -> None:
    nb = _alice(tmp_path / "good")
    assert main([str(nb), "--timeout", "120"]) == 0
    out = capsys.readouterr().out
    assert "5 of 5 exercises passed." in out
    assert REPORT_VAR not in os.environ, "the grader must restore the environment"
