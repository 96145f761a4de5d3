"""The chapters' claims bite: with training crippled from outside, the chapters that train models fail.

Every Adam and SGD learning rate is divided by 10,000 by a cell injected before the chapter's
first cell (the chapter itself is not changed). A chapter whose prose rests on trained models
must then stop at a claim (``lecture_code.claims.ClaimError``): the numbers no longer support
what the page says. Slow (a chapter runs until its first failed claim); ``.ci/run`` runs it.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
CRIPPLED = ["01_rnn_lm", "03_other_uses", "05_lstm", "06_bidirectional_multilayer"]
SCALE = 1e-4

CRIPPLE = f'''
import torch

def _crippled(cls):
    class Crippled(cls):
        def __init__(self, params, lr=None, *args, **kwargs):
            lr = (cls.__init__.__defaults__ or (1e-3,))[0] if lr is None else lr
            super().__init__(params, lr * {SCALE!r}, *args, **kwargs)
    Crippled.__name__ = cls.__name__
    return Crippled

torch.optim.Adam, torch.optim.SGD = _crippled(torch.optim.Adam), _crippled(torch.optim.SGD)
'''


def run_crippled(name: str, timeout: int = 900) -> str:
    """Execute chapters/NAME.ipynb with every learning rate divided by 10,000; return the error, or ''."""
    path = ROOT / "chapters" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(CRIPPLE))
    os.environ["LECTURE_CODE_PROGRESS"] = "0"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as err:
        return str(err)
    return ""


@pytest.mark.slow
@pytest.mark.parametrize("name", CRIPPLED)
def test_crippled_training_fails_a_claim(name: str) -> None:
    error = run_crippled(name)
    assert error, f"{name} still passes with every learning rate divided by 10,000: its claims do not bite"
    assert "ClaimError" in error, f"{name} failed, but not at a claim:\n{error[-2000:]}"


if __name__ == "__main__":  # python tests/test_claims_bite.py 05_lstm: see where a chapter stops
    import sys

    for arg in sys.argv[1:]:
        err = run_crippled(arg)
        print(f"=== {arg}: " + ("STILL PASSES" if not err else err.strip().splitlines()[-1]))
        print("\n".join(line for line in err.splitlines() if "✘" in line or "?" in line[:2]))
