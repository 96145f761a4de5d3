"""Submitted notebooks for the grading tests: honest ones, forged ones and hostile ones (chapter 1).

Every notebook is named 01_*.ipynb, so the grader expects the seven exercises of chapter 1.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat

CHAPTER_1 = ["rnn_step", "rnn_lm_num_params", "softmax", "lm_loss", "perplexity", "uniform_perplexity",
             "sample_next"]
SOLUTIONS_01 = Path(__file__).resolve().parent.parent / "solutions" / "01_rnn_lm.ipynb"

IMPORTS = "import sys\nfrom pathlib import Path\n\nimport numpy as np\n\nfrom lecture_code.grading import check"

RNN_STEP = '''
def rnn_step(e_t, h_prev, W_h, W_e, b1):
    return np.tanh(h_prev @ W_h.T + e_t @ W_e.T + b1)

check("rnn_step", rnn_step)'''

RNN_LM_NUM_PARAMS = '''
def rnn_lm_num_params(V, d, n):
    return V * (d + n + 1) + n * (n + d + 1)

check("rnn_lm_num_params", rnn_lm_num_params)'''

UNIFORM_PERPLEXITY = '''
def uniform_perplexity(V):
    return float(V)

check("uniform_perplexity", uniform_perplexity)'''

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

WRITE_HERE = 'Path("written_by_the_kernel.txt").write_text(sys.executable)'

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

# Wrong answers for every exercise of chapter 1 (used by the forgeries that tamper with the checking).
WRONG = '''
def rnn_step(e_t, h_prev, W_h, W_e, b1):
    return np.zeros((e_t.shape[0], W_h.shape[0]))

def softmax(z):
    return np.ones_like(z)

def lm_loss(logits, targets):
    return 0.0

def perplexity(mean_nll):
    return 1.0

def rnn_lm_num_params(V, d, n):
    return 1

def uniform_perplexity(V):
    return 1.0

def sample_next(logits, temperature, rng):
    return np.zeros(logits.shape[0], dtype=np.int64)
'''

FAKE_PASS = "".join(f'print("\\u2714 {ex}: PASS. All 5 cases agree with the reference.")\n' for ex in CHAPTER_1)

# Each forgery of issue 14, and a few more; none may get "pass" for anything.
FORGED: dict[str, list[str]] = {
    "report_file": [
        f"import json, os\nfor ex in {CHAPTER_1!r}:\n"
        "    line = json.dumps(dict(exercise=ex, status='pass', message='ok', hint=None, mistake=None, case=None))\n"
        "    with open(os.environ.get('LECTURE_CODE_GRADING_REPORT', 'report.jsonl'), 'a') as f:\n"
        "        f.write(line + '\\n')"],
    "check_on_references": [
        "from lecture_code.grading import EXERCISES, check\n"
        f"for ex in {CHAPTER_1!r}:\n    check(ex, EXERCISES[ex].reference)"],
    "references_by_name": [
        "from lecture_code.grading import EXERCISES, check\n"
        + "".join(f"{ex} = EXERCISES[{ex!r}].reference\ncheck({ex!r}, {ex})\n" for ex in CHAPTER_1)],
    "imported_references": [
        "from lecture_code.numpy_rnn import rnn_step, softmax, lm_loss, perplexity, sample_next\n"
        "from lecture_code.grading.exercises_01 import rnn_lm_num_params, uniform_perplexity\n"
        "from lecture_code.grading import check\n" + "".join(f"check({ex!r}, {ex})\n" for ex in CHAPTER_1)],
    "thin_wrappers": [
        "import functools\nimport numpy as np\nfrom lecture_code import numpy_rnn\n"
        "from lecture_code.grading import EXERCISES\n"
        "def rnn_step(e_t, h_prev, W_h, W_e, b1):\n    return numpy_rnn.rnn_step(e_t, h_prev, W_h, W_e, b1)\n"
        "def softmax(z):\n    return EXERCISES['softmax'].reference(z) + 0.0\n"
        "def lm_loss(logits, targets):\n    f = EXERCISES['lm_loss'].reference\n    return float(f(logits, targets))\n"
        "perplexity = functools.partial(numpy_rnn.perplexity)\n"
        "from lecture_code.grading import exercises_01\n"
        "def rnn_lm_num_params(V, d, n):\n    return exercises_01.rnn_lm_num_params(V, d, n)\n"
        "uniform_perplexity = functools.partial(EXERCISES['uniform_perplexity'].reference)\n"
        "def sample_next(logits, temperature, rng):\n    return numpy_rnn.sample_next(logits, temperature, rng)\n"],
    "hidden_from_the_profiler": [
        "import os, sys, threading\nfrom lecture_code import numpy_rnn\n"
        "def rnn_step(e_t, h_prev, W_h, W_e, b1):\n    sys.setprofile(None)\n"
        "    return numpy_rnn.rnn_step(e_t, h_prev, W_h, W_e, b1)\n"
        "def softmax(z):\n    hook = sys.getprofile()\n    sys.setprofile(None)\n    out = numpy_rnn.softmax(z)\n"
        "    sys.setprofile(hook)\n    return out\n"
        "def lm_loss(logits, targets):\n    r, w = os.pipe()\n    if os.fork() == 0:\n"
        "        os.write(w, repr(numpy_rnn.lm_loss(logits, targets)).encode())\n        os._exit(0)\n"
        "    return float(os.read(r, 100))\n"],
    "profiler_disabled_before_grading": [
        "import sys\nfrom lecture_code import numpy_rnn\n"
        "sys.setprofile = lambda f: None\nsys.getprofile = lambda: None\n"
        "def rnn_step(e_t, h_prev, W_h, W_e, b1):\n    return numpy_rnn.rnn_step(e_t, h_prev, W_h, W_e, b1)\n"],
    "reference_in_a_thread": [
        "import threading\nfrom concurrent.futures import ThreadPoolExecutor\nfrom lecture_code import numpy_rnn\n"
        "pool = ThreadPoolExecutor(1)\n"
        "def rnn_step(e_t, h_prev, W_h, W_e, b1):\n    out = []\n"
        "    t = threading.Thread(target=lambda: out.append(numpy_rnn.rnn_step(e_t, h_prev, W_h, W_e, b1)))\n"
        "    t.start()\n    t.join()\n    return out[0]\n"
        "def softmax(z):\n    return pool.submit(numpy_rnn.softmax, z).result()  # the pool starts its thread\n"],
    "harness_tampered_during_the_call": [
        "from lecture_code import numpy_rnn\n"
        "def rnn_step(e_t, h_prev, W_h, W_e, b1):\n    g = globals()['_lecture_code_grader']\n"
        "    g['_PACKAGE_DIRS'] = ()\n    g['_GUARDED'] = ()\n"
        "    return numpy_rnn.rnn_step(e_t, h_prev, W_h, W_e, b1)\n"],
    "a_known_mistake": [
        "from lecture_code.grading import EXERCISES\nimport numpy as np\n"
        "_m = EXERCISES['rnn_step'].mistakes[0].fn\n"
        "def rnn_step(e_t, h_prev, W_h, W_e, b1):\n    return np.tanh(_m(e_t, h_prev, W_h, W_e, b1))\n"],
    "patched_comparison": [
        IMPORTS,
        "import numpy.testing\nimport lecture_code.grading as g\nimport lecture_code.grading.checker as c\n"
        "from lecture_code.grading.checker import Result, Status\n"
        "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\nnp.array_equal = lambda *a, **k: True\n"
        "c.compare = lambda *a, **k: None\nc._compare_leaf = lambda *a, **k: None\n"
        "c.run_check = lambda ex, fn, timeout=None: Result(ex.id, Status.PASS, 'ok')\n"
        "g.run_check = c.run_check",
        WRONG + "".join(f"check({ex!r}, {ex})\n" for ex in CHAPTER_1)],
    "patched_builtins_and_json": [
        IMPORTS,
        WRONG,
        "import builtins, json\n"
        "_fake = '{\"value\": {\"$t\": \"nd\", \"dtype\": \"float64\", \"shape\": [0], \"b64\": \"\"}}'\n"
        "json.dumps = lambda *a, **k: _fake\njson.loads = lambda *a, **k: {}\n"
        "builtins.isinstance = lambda *a: True\nbuiltins.callable = lambda *a: True"],
    "fake_check_output": [IMPORTS, FAKE_PASS],
}


def notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells to ``path``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src.strip()) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def alice(folder: Path, name: str = "01_sub_alice.ipynb") -> Path:
    """Every exercise right."""
    return notebook(folder / name, [IMPORTS, RNN_STEP, RNN_LM_NUM_PARAMS, SOFTMAX, LM_LOSS, PERPLEXITY,
                                    UNIFORM_PERPLEXITY, SAMPLE_NEXT, WRITE_HERE])


def bob(folder: Path) -> Path:
    """One wrong, one stub, one whose demo line raises after the definition; perplexity and the two derived
    formulas never written."""
    return notebook(folder / "01_sub_bob.ipynb", [IMPORTS, BOB_RNN_STEP, BOB_SOFTMAX, BOB_LM_LOSS, SAMPLE_NEXT])


def solution_copy(folder: Path, name: str = "01_sub_solution.ipynb") -> Path:
    """solutions/01_rnn_lm.ipynb, submitted as it is."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    target.write_text(SOLUTIONS_01.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def by_notebook(rows: list[dict[str, str]]) -> dict[str, dict[str, dict[str, str]]]:
    """{notebook file name: {exercise: row}}."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for r in rows:
        out.setdefault(Path(r["notebook"]).name, {})[r["exercise"]] = r
    return out


def dumps_rows(rows: object) -> str:
    return json.dumps(rows, indent=1)
