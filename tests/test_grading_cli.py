"""Tests for the grading command line (python -m lecture_code.grading): list, generate, and grading
notebooks end to end in real sandboxed kernels: a class with right and wrong answers, forged submissions
that must not pass, and hostile ones that must not hurt the others (tests/test_grading_sandbox.py)."""

from __future__ import annotations

import dataclasses
import json
import os
import runpy
import shutil
import sys
from pathlib import Path

import pytest

from lecture_code.grading import EXERCISES
from lecture_code.grading.cli import main
from lecture_code.grading.generator import BEGIN, END, dumps

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

import grading_submissions as sub  # noqa: E402 - after the skips: it needs nbformat

CHAPTER_1 = sub.CHAPTER_1


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


# ----------------------------------------------------------------------------- grading in real sandboxed kernels


def test_grade_a_class(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subs = tmp_path / "submissions"
    sub.alice(subs)
    bob = sub.bob(subs)
    (subs / ".ipynb_checkpoints").mkdir()
    shutil.copy(bob, subs / ".ipynb_checkpoints" / "01_sub_bob-checkpoint.ipynb")  # ignored
    csv_path, feedback = tmp_path / "grades.csv", tmp_path / "feedback"

    assert main([str(subs), "--csv", str(csv_path), "--feedback", str(feedback), "--timeout", "60"]) == 1

    # the kernel worked on a copy elsewhere: nothing appeared next to the submissions
    assert sorted(p.name for p in subs.iterdir()) == [".ipynb_checkpoints", "01_sub_alice.ipynb", "01_sub_bob.ipynb"]

    rows = sub.read_csv(csv_path)
    assert list(rows[0]) == ["notebook", "exercise", "status", "hint"]
    assert [(Path(r["notebook"]).name, r["exercise"]) for r in rows] == (
        [("01_sub_alice.ipynb", ex) for ex in CHAPTER_1] + [("01_sub_bob.ipynb", ex) for ex in CHAPTER_1]
    )
    got = sub.by_notebook(rows)
    for ex in CHAPTER_1:
        assert got["01_sub_alice.ipynb"][ex]["status"] == "pass", got["01_sub_alice.ipynb"][ex]
        assert got["01_sub_alice.ipynb"][ex]["hint"] == ""
    b = got["01_sub_bob.ipynb"]
    assert b["rnn_step"]["status"] == "fail"
    assert b["rnn_step"]["hint"] == EXERCISES["rnn_step"].mistakes[0].hint  # "missing tanh"
    assert b["softmax"]["status"] == "not_implemented"
    assert "NotImplementedError" in b["softmax"]["hint"]
    assert b["lm_loss"]["status"] == "pass"  # its demo line raised, but the function is right
    assert b["perplexity"]["status"] == "not run"
    assert "defines no function `perplexity`" in b["perplexity"]["hint"]
    assert b["sample_next"]["status"] == "pass"

    out = capsys.readouterr()
    assert f"{len(CHAPTER_1) + 2} of {2 * len(CHAPTER_1)} exercises passed." in out.out  # alice all, bob 2
    assert "01_sub_bob.ipynb" in out.out and "not_implemented" in out.out
    assert "Traceback" not in out.out + out.err
    assert sorted(p.name for p in feedback.iterdir()) == ["01_sub_alice.md", "01_sub_bob.md"]
    text = (feedback / "01_sub_bob.md").read_text(encoding="utf-8")
    assert f"2 of {len(CHAPTER_1)} exercises passed." in text
    assert "## rnn_step: fail" in text and EXERCISES["rnn_step"].mistakes[0].hint in text
    assert "## perplexity: not run" in text
    assert f"{len(CHAPTER_1)} of {len(CHAPTER_1)} exercises passed." in (feedback / "01_sub_alice.md").read_text(
        encoding="utf-8")


def test_the_solution_submitted_as_it_is_passes_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nb = sub.solution_copy(tmp_path / "good")
    assert main([str(nb), "--timeout", "120"]) == 0
    out = capsys.readouterr().out
    assert f"{len(CHAPTER_1)} of {len(CHAPTER_1)} exercises passed." in out
    assert "LECTURE_CODE_GRADING_REPORT" not in os.environ


def test_forged_submissions_never_pass(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    subs = tmp_path / "forged"
    for name, cells in sub.FORGED.items():
        sub.notebook(subs / f"01_{name}.ipynb", cells)
    csv_path = tmp_path / "grades.csv"

    # a generous cell limit: one forgery hangs its kernel (it breaks its own messages) and costs that long
    assert main([str(subs), "--csv", str(csv_path), "--timeout", "20", "-j", "2"]) == 1

    got = sub.by_notebook(sub.read_csv(csv_path))
    assert set(got) == {f"01_{name}.ipynb" for name in sub.FORGED}
    passed = [(nb, ex) for nb, rows in got.items() for ex, r in rows.items() if r["status"] == "pass"]
    assert passed == [], sub.dumps_rows(got)
    status = {nb: {ex: r["status"] for ex, r in rows.items()} for nb, rows in got.items()}
    for name in ("report_file", "check_on_references", "fake_check_output"):
        assert set(status[f"01_{name}.ipynb"].values()) == {"not run"}, status[f"01_{name}.ipynb"]
    for name in ("references_by_name", "imported_references", "thin_wrappers"):
        assert set(status[f"01_{name}.ipynb"].values()) == {"not own work"}, status[f"01_{name}.ipynb"]
    assert status["01_a_known_mistake.ipynb"]["rnn_step"] == "not own work", status["01_a_known_mistake.ipynb"]
    hidden = status["01_hidden_from_the_profiler.ipynb"]
    assert [hidden[ex] for ex in ("rnn_step", "softmax", "lm_loss")] == ["not own work"] * 3, hidden
    for name in ("profiler_disabled_before_grading", "harness_tampered_during_the_call"):
        assert status[f"01_{name}.ipynb"]["rnn_step"] == "not own work", got[f"01_{name}.ipynb"]
    threads = status["01_reference_in_a_thread.ipynb"]
    assert threads["rnn_step"] == threads["softmax"] == "not own work", threads  # threads started in the call
    assert set(status["01_patched_comparison.ipynb"].values()) == {"fail"}, status["01_patched_comparison.ipynb"]
    hint = got["01_thin_wrappers.ipynb"]["rnn_step"]["hint"]
    assert "numpy_rnn.py: rnn_step" in hint and "write the function yourself" in hint, hint
    assert "sys.setprofile" in got["01_hidden_from_the_profiler.ipynb"]["rnn_step"]["hint"], got
    out = capfd.readouterr()
    assert f"0 of {len(sub.FORGED) * len(CHAPTER_1)} exercises passed." in out.out, out.out
    assert "Traceback" not in out.out + out.err


def test_what_the_grader_sees_of_a_function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """In-place changes, torch results, the learner's own exception with its line, and a call that hangs
    (interrupted: the next exercise is still checked in the same kernel)."""
    monkeypatch.setitem(EXERCISES, "perplexity", dataclasses.replace(EXERCISES["perplexity"], timeout=2.0))
    nb = sub.notebook(tmp_path / "01_tricky.ipynb", [sub.IMPORTS, '''
import torch

class ShapeTrouble(Exception):
    pass

def rnn_step(e_t, h_prev, W_h, W_e, b1):
    out = np.tanh(h_prev @ W_h.T + e_t @ W_e.T + b1)
    h_prev[...] = 0.0
    return out

def softmax(z):
    return torch.softmax(torch.from_numpy(z), dim=-1)

def lm_loss(logits, targets):
    raise ShapeTrouble("my own message")

def perplexity(mean_nll):
    while True:
        pass
''', sub.SAMPLE_NEXT])
    csv_path = tmp_path / "grades.csv"
    assert main([str(nb), "--csv", str(csv_path), "--timeout", "60"]) == 1
    rows = sub.by_notebook(sub.read_csv(csv_path))["01_tricky.ipynb"]
    assert rows["rnn_step"]["status"] == "fail" and "h_prev" in rows["rnn_step"]["hint"]
    assert "in place" in rows["rnn_step"]["hint"]
    assert rows["softmax"]["status"] == "fail" and "torch.Tensor" in rows["softmax"]["hint"]
    assert rows["lm_loss"]["status"] == "error"
    assert "ShapeTrouble: my own message" in rows["lm_loss"]["hint"]
    assert "raise ShapeTrouble" in rows["lm_loss"]["hint"]  # the learner's line
    assert rows["perplexity"]["status"] == "timeout"
    assert rows["sample_next"]["status"] == "pass"
    assert "Traceback" not in "".join(capsys.readouterr())
