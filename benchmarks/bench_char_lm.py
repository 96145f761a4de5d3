"""Benchmark chapter 5's character LSTM recipe, and changes to it, at a fixed training time.

    python benchmarks/bench_char_lm.py [--recipes baseline,cosine,...] [--seconds 60 120] [--threads 1]
                                       [--clock cpu|wall] [--json out.json]

Each recipe trains a fresh :class:`lecture_code.models.RNNLM` LSTM (forget bias 1) on the first 90% of Tiny
Shakespeare for each budget (a separate run per budget: a schedule is fitted to its budget), with Adam, truncated
BPTT and the state carried between windows (:func:`lecture_code.reproduce.lm.train_lm_budget`). The budget is
CPU seconds of this process by default (``--clock cpu``: with one thread, the time one core of a quiet machine
needs; on a shared machine the wall clock runs slower), or wall seconds (``--clock wall``).

Score: nats per character on 1536 fixed windows of 64 + 1 characters placed uniformly at random (seed 0) in the
last 10% of the text, each read from a zero state: the model reads 64 characters and predicts each next one
(64 predictions per window). Chapter 5's quick recipe (``baseline``) scores about 1.81-1.85 at these budgets;
the target is <= 1.60 at 120 s.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lecture_code import data, models, text
from lecture_code.reproduce import lm

N_WINDOWS, WINDOW = 1536, 64

BASELINE: dict[str, Any] = {"d": 32, "n": 128, "B": 32, "T": 64, "lr": 1e-2, "final_lr_frac": 1.0, "clip": 1.0}
RECIPES: dict[str, dict[str, Any]] = {  # each a change to the baseline (chapter 5's quick settings)
    "baseline": {},
    "cosine": {"final_lr_frac": 0.02},
    "cosine_B64": {"final_lr_frac": 0.02, "B": 64},
    "cosine_n256": {"final_lr_frac": 0.02, "n": 256, "d": 64, "lr": 5e-3},
    "cosine_n256_B64": {"final_lr_frac": 0.02, "n": 256, "d": 64, "lr": 5e-3, "B": 64},
    "cosine_n256_T128": {"final_lr_frac": 0.02, "n": 256, "d": 64, "lr": 5e-3, "T": 128},
    "cosine_n384_B64": {"final_lr_frac": 0.02, "n": 384, "d": 64, "lr": 4e-3, "B": 64},
}


def windows(ids: np.ndarray, n: int = N_WINDOWS, length: int = WINDOW, seed: int = 0) -> np.ndarray:
    """(n, length + 1) slices of ``ids`` starting at positions drawn uniformly with ``seed``."""
    starts = np.random.default_rng(seed).integers(0, len(ids) - length - 1, size=n)
    return np.stack([ids[s : s + length + 1] for s in starts])


@torch.no_grad()
def window_nats(model: torch.nn.Module, win: np.ndarray, B: int = 256) -> float:
    """Mean nats per character over every window, each read from the zero state: win (N, L + 1) ids."""
    model.eval()
    total = 0.0
    for i in range(0, len(win), B):
        w = torch.as_tensor(win[i : i + B])
        logits, _ = model(w[:, :-1], None)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1), reduction="sum").item()
    return total / (win.shape[0] * (win.shape[1] - 1))


def run_recipe(cfg: dict[str, Any], seconds: float, train_ids: np.ndarray, valid_ids: np.ndarray, V: int,
               win: np.ndarray, clock: str, seed: int = 0) -> dict[str, Any]:
    """Train one model of recipe ``cfg`` for ``seconds`` and score it on the windows ``win``."""
    torch.manual_seed(seed)
    model = models.set_forget_bias(models.RNNLM(V, cfg["d"], cfg["n"], cell="lstm"), 1.0)
    t0, c0 = time.perf_counter(), time.process_time()
    hist, _ = lm.train_lm_budget(model, train_ids, valid_ids[:2000], seconds=seconds, B=cfg["B"], T=cfg["T"],
                                 lr=cfg["lr"], final_lr_frac=cfg["final_lr_frac"], clip=cfg["clip"],
                                 eval_every_seconds=math.inf, progress=False,
                                 clock=time.perf_counter if clock == "wall" else time.process_time)
    return {"nats": window_nats(model, win), "seconds": seconds, "steps": hist.steps, "chars": hist.tokens,
            "cpu_s": round(time.process_time() - c0, 1),
            "wall_s": round(time.perf_counter() - t0, 1), "params": models.num_params(model)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", default=",".join(RECIPES))
    p.add_argument("--seconds", type=float, nargs="+", default=[60.0, 120.0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    p.add_argument("--json", type=Path, default=None, help="also write the rows to this JSON file")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    txt = data.load_tinyshakespeare()
    vocab = text.Vocab(text.chars(txt))
    ids = vocab.encode(text.chars(txt))
    cut = int(0.9 * len(ids))
    train_ids, held_out = ids[:cut], ids[cut:]
    win = windows(held_out)
    print(f"torch {torch.__version__}, {a.threads} thread(s), clock {a.clock}, load average {os.getloadavg()}")
    print("| recipe | changes to chapter 5's | budget (s) | steps | nats/char | wall s |")
    print("|---|---|---:|---:|---:|---:|")
    rows = []
    for name in a.recipes.split(","):
        cfg = BASELINE | RECIPES[name]
        for s in a.seconds:
            r = run_recipe(cfg, s, train_ids, held_out, len(vocab), win, a.clock)
            model_nats = r.pop("nats")
            rows.append({"recipe": name, "config": cfg, "nats_per_char": round(model_nats, 4), **r,
                         "load_average": os.getloadavg()})
            print(f"| {name} | {RECIPES[name] or '-'} | {s:g} | {r['steps']} | {model_nats:.3f} | {r['wall_s']:.0f} |",
                  flush=True)
    if a.json is not None:
        a.json.write_text(json.dumps({"threads": a.threads, "clock": a.clock, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
