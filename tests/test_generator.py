"""Tests for lecture_code.grading.generator: solutions/ -> exercises/ (marked blocks become stubs)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest

from lecture_code.grading.generator import (
    BEGIN,
    END,
    IGNORE_OUTPUT,
    SOLUTIONS_ONLY,
    STUB,
    MarkerError,
    dumps,
    exercise_notebook,
    generate,
    strip_solutions,
)

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- strip_solutions


def test_single_block_becomes_a_stub_at_the_marker_indent() -> None:
    src = (
        "def rnn_step(e_t, h_prev, W_h, W_e, b1):\n"
        '    """One step."""\n'
        f"    {BEGIN}\n"
        "    pre = h_prev @ W_h.T + e_t @ W_e.T + b1\n"
        "    return np.tanh(pre)\n"
        f"    {END}\n"
    )
    assert strip_solutions(src) == (
        "def rnn_step(e_t, h_prev, W_h, W_e, b1):\n"
        '    """One step."""\n'
        f"    {STUB}\n"
    )
    compile(strip_solutions(src), "<cell>", "exec")  # still valid Python


def test_indentation_of_a_nested_block_is_kept() -> None:
    src = (
        "class Model:\n"
        "    def step(self, x):\n"
        "        if x is None:\n"
        "            return None\n"
        f"        {BEGIN}\n"
        "        return x * 2\n"
        f"        {END}\n"
    )
    out = strip_solutions(src)
    assert out.splitlines()[-1] == f"        {STUB}"
    compile(out, "<cell>", "exec")


def test_tab_indent_is_kept() -> None:
    src = f"def f():\n\t{BEGIN}\n\treturn 1\n\t{END}\n"
    assert strip_solutions(src) == f"def f():\n\t{STUB}\n"


def test_several_blocks_and_code_outside_untouched() -> None:
    src = (
        "import numpy as np\n"
        "\n"
        "def softmax(z):\n"
        f"    {BEGIN}\n"
        "    z = z - z.max(axis=-1, keepdims=True)\n"
        "    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)\n"
        f"    {END}\n"
        "\n"
        "def perplexity(J):\n"
        f"    {BEGIN}\n"
        "    return float(np.exp(J))\n"
        f"    {END}\n"
        "\n"
        "check('softmax', softmax)  # stays\n"
    )
    assert strip_solutions(src) == (
        "import numpy as np\n"
        "\n"
        "def softmax(z):\n"
        f"    {STUB}\n"
        "\n"
        "def perplexity(J):\n"
        f"    {STUB}\n"
        "\n"
        "check('softmax', softmax)  # stays\n"
    )


def test_source_without_markers_is_unchanged() -> None:
    for src in ("", "x = 1", "x = 1\n", "# a comment about SOLUTION\nprint('### BEGIN')\n\n\n"):
        assert strip_solutions(src) == src


def test_trailing_newline_follows_the_source() -> None:
    src = f"def f():\n    {BEGIN}\n    return 1\n    {END}"
    assert strip_solutions(src) == f"def f():\n    {STUB}"


def test_top_level_block() -> None:
    src = f"a = 1\n{BEGIN}\nb = secret()\n{END}\nc = 3\n"
    assert strip_solutions(src) == f"a = 1\n{STUB}\nc = 3\n"


@pytest.mark.parametrize(
    ("src", "lines"),
    [
        (f"x = 1\n{BEGIN}\ny = 2\n", ["line 2", "never closed"]),
        (f"x = 1\ny = 2\n{END}\n", ["line 3", "without a matching"]),
        (f"{BEGIN}\nx = 1\n    {BEGIN}\ny = 2\n{END}\n{END}\n", ["line 3", "line 1"]),
        (f"x = 1  {BEGIN}\ny = 2\n{END}\n", ["line 1", "alone"]),
        (f"{BEGIN}\ny = 2\ny = 3  {END}\n", ["line 3", "alone"]),
        (f"{BEGIN}\ny = 2\n{END}\n{END}\n", ["line 4", "without a matching"]),
    ],
    ids=["unbalanced-begin", "stray-end", "nested-begin", "begin-not-alone", "end-not-alone", "extra-end"],
)
def test_marker_errors_name_the_line(src: str, lines: list[str]) -> None:
    with pytest.raises(MarkerError) as info:
        strip_solutions(src, where="sol.ipynb, cell 4")
    msg = str(info.value)
    assert msg.startswith("sol.ipynb, cell 4")
    for part in lines:
        assert part in msg
    assert issubclass(MarkerError, ValueError)


# ----------------------------------------------------------------------------- exercise_notebook


def _solution_notebook() -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# RNN step\nImplement it below."),
        nbformat.v4.new_code_cell(
            f"def f(x):\n    {BEGIN}\n    return x + 1\n    {END}",
            execution_count=3,
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="hi\n")],
        ),
        nbformat.v4.new_code_cell("print(f(1))", execution_count=4,
                                  outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "2"},
                                                                  execution_count=4)]),
    ]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # fixed ids, so two calls give the same notebook
    nb.cells[2].metadata["tags"] = ["keep-me"]
    nb.cells[2].metadata["execution"] = {"iopub.execute_input": "2024-01-01T00:00:00Z"}  # nbclient timings
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return json.loads(nbformat.writes(nb))


def test_exercise_notebook_strips_clears_and_keeps_the_rest() -> None:
    nb = _solution_notebook()
    before = copy.deepcopy(nb)
    ex = exercise_notebook(nb, "sol.ipynb")
    assert nb == before, "the input notebook was changed"
    md, stub, call = ex["cells"]
    assert "".join(md["source"]) == "# RNN step\nImplement it below."
    assert "".join(stub["source"]) == f"def f(x):\n    {STUB}"
    assert "return x + 1" not in json.dumps(ex)
    for cell in (stub, call):
        assert cell["outputs"] == [] and cell["execution_count"] is None
        assert "execution" not in cell["metadata"]
    # no stored outputs for nbval to compare: every code cell is tagged, other tags kept
    assert call["metadata"]["tags"] == ["keep-me", IGNORE_OUTPUT]
    assert stub["metadata"]["tags"] == [IGNORE_OUTPUT]
    assert "tags" not in md["metadata"]
    assert "widgets" not in ex["metadata"]
    assert ex["metadata"]["kernelspec"]["name"] == "python3"
    assert ex["nbformat"] == 4
    nbformat.validate(nbformat.reads(dumps(ex), as_version=4))


def test_exercise_notebook_accepts_string_sources() -> None:
    nb = _solution_notebook()
    for cell in nb["cells"]:
        cell["source"] = "".join(cell["source"])
    ex = exercise_notebook(nb)
    assert "".join(ex["cells"][1]["source"]) == f"def f(x):\n    {STUB}"
    assert isinstance(ex["cells"][1]["source"], list)


def test_exercise_notebook_names_the_cell_in_errors() -> None:
    nb = _solution_notebook()
    nb["cells"][2]["source"] = ["print(1)\n", END + "\n"]
    with pytest.raises(MarkerError, match=r"sol\.ipynb, cell 2, line 2"):
        exercise_notebook(nb, "sol.ipynb")


def test_markers_in_markdown_are_an_error() -> None:
    nb = _solution_notebook()
    nb["cells"][0]["source"] = [f"{BEGIN}\n", "text\n", f"{END}\n"]
    with pytest.raises(MarkerError, match=r"cell 0.*code cells"):
        exercise_notebook(nb, "sol.ipynb")


def test_solutions_only_cells_are_left_out() -> None:
    nb = _solution_notebook()
    nb["cells"].insert(1, {"cell_type": "code", "id": "answers", "execution_count": 1, "outputs": [],
                           "metadata": {"tags": [SOLUTIONS_ONLY]}, "source": ["check_all_answers()"]})
    nb["cells"].append({"cell_type": "markdown", "id": "discussion", "metadata": {"tags": [SOLUTIONS_ONLY]},
                        "source": ["The answer is 42."]})
    ex = exercise_notebook(nb)
    assert [c["id"] for c in ex["cells"]] == ["cell-0", "cell-1", "cell-2"]
    assert "check_all_answers" not in json.dumps(ex) and "42" not in json.dumps(ex)
    assert len(nb["cells"]) == 5, "the input notebook was changed"


def test_marker_error_names_the_solution_cell_after_a_solutions_only_cell() -> None:
    nb = _solution_notebook()
    nb["cells"][0]["metadata"]["tags"] = [SOLUTIONS_ONLY]
    nb["cells"][2]["source"] = ["print(1)\n", END + "\n"]
    with pytest.raises(MarkerError, match=r"sol\.ipynb, cell 2, line 2"):
        exercise_notebook(nb, "sol.ipynb")


def test_badge_cell_points_at_the_exercise_copy() -> None:
    url = "https://colab.research.google.com/github/org/repo/blob/main/{}/01_rnn_lm.ipynb"
    nb = _solution_notebook()
    nb["cells"][0]["source"] = [f"[![Open in Colab](badge.svg)]({url.format('solutions')})"]
    nb["cells"][0]["metadata"]["lecture_code_stamp"] = "badge"
    nb["cells"][2]["source"] = ["print('see /solutions/ for the answers')"]  # not a badge: untouched
    ex = exercise_notebook(nb)
    assert "".join(ex["cells"][0]["source"]) == f"[![Open in Colab](badge.svg)]({url.format('exercises')})"
    assert "".join(ex["cells"][2]["source"]) == "print('see /solutions/ for the answers')"


def test_exercise_notebook_is_idempotent() -> None:
    once = exercise_notebook(_solution_notebook())
    assert exercise_notebook(once) == once


# ----------------------------------------------------------------------------- generate


def _write(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(nb), encoding="utf-8")


def test_generate_writes_then_check_reports_drift_without_writing(tmp_path: Path) -> None:
    sol, exe = tmp_path / "solutions", tmp_path / "exercises"
    _write(sol / "01_a.ipynb", _solution_notebook())
    _write(sol / "02_b.ipynb", _solution_notebook())
    (sol / "notes.txt").write_text("not a notebook", encoding="utf-8")

    assert generate(sol, exe, check=True) == [exe / "01_a.ipynb", exe / "02_b.ipynb"]
    assert not exe.exists(), "check=True must not write"

    assert generate(sol, exe) == [exe / "01_a.ipynb", exe / "02_b.ipynb"]
    assert sorted(p.name for p in exe.iterdir()) == ["01_a.ipynb", "02_b.ipynb"]
    text = (exe / "01_a.ipynb").read_text(encoding="utf-8")
    assert (exe / "02_b.ipynb").read_text(encoding="utf-8") == text
    assert json.dumps(STUB)[1:-1] in text and "return x + 1" not in text and text.endswith("}\n")
    assert "".join(json.loads(text)["cells"][1]["source"]) == f"def f(x):\n    {STUB}"
    assert generate(sol, exe, check=True) == []
    assert generate(sol, exe) == []  # nothing rewritten

    # the solution changes: check reports the drift and leaves the old exercise in place
    changed = _solution_notebook()
    changed["cells"][2]["source"] = ["print(f(2))"]
    _write(sol / "02_b.ipynb", changed)
    assert generate(sol, exe, check=True) == [exe / "02_b.ipynb"]
    assert (exe / "02_b.ipynb").read_text(encoding="utf-8") == text
    # a hand edit of an exercise is drift too
    (exe / "01_a.ipynb").write_text(text.replace("Implement", "Write"), encoding="utf-8")
    assert generate(sol, exe, check=True) == [exe / "01_a.ipynb", exe / "02_b.ipynb"]
    assert generate(sol, exe) == [exe / "01_a.ipynb", exe / "02_b.ipynb"]
    assert generate(sol, exe, check=True) == []


def test_generate_stops_on_bad_markers(tmp_path: Path) -> None:
    bad = _solution_notebook()
    bad["cells"][1]["source"] = [f"{BEGIN}\n", "x = 1\n"]
    _write(tmp_path / "solutions" / "01_bad.ipynb", bad)
    with pytest.raises(MarkerError, match=r"01_bad\.ipynb, cell 1, line 1"):
        generate(tmp_path / "solutions", tmp_path / "exercises")
    assert not (tmp_path / "exercises").exists()


def test_repository_exercises_match_solutions() -> None:
    if not sorted((ROOT / "solutions").glob("*.ipynb")):
        pytest.skip("solutions/ has no notebooks yet")
    assert generate(ROOT / "solutions", ROOT / "exercises", check=True) == [], (
        "exercises/ is out of date: run `python -m lecture_code.grading generate`"
    )


def test_a_solutions_title_becomes_the_exercise_sets_title() -> None:
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Solutions to exercise set 2: BPTT\n", "x"]},
                    {"cell_type": "markdown", "metadata": {}, "source": ["# Solutions to exercise set, said again"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    out = exercise_notebook(nb)
    assert "".join(out["cells"][0]["source"]) == "# Exercise set 2: BPTT\nx"
    assert "".join(nb["cells"][0]["source"]).startswith("# Solutions")  # the input is not changed


def test_committed_solution_pages_say_solutions_and_exercise_pages_do_not() -> None:
    root = Path(__file__).resolve().parents[1]
    for folder, title in (("solutions", "# Solutions to exercise set "), ("exercises", "# Exercise set ")):
        for path in sorted((root / folder).glob("*.ipynb")):
            heads = [c for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("# ")]
            assert len(heads) == 1 and "".join(heads[0]["source"]).startswith(title), path
