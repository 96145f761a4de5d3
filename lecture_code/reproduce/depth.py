"""``depth``: stacked LSTM language models of 1, 2, 3, 4 and 8 layers, and 8 layers with residual connections
(the lecture's takeaway 4: "Multi-layer RNNs are more powerful, but you might need skip connections if it's
deep").

Character LMs on Tiny Shakespeare (:class:`lecture_code.deep_rnn.DeepRNNLM`, n units per layer, Adam, truncated
BPTT), compared two ways, 3 seeds each:

- at equal steps: every model takes ``steps`` optimisation steps;
- at equal compute: every model gets the same number of seconds, ``compute_factor * steps`` times the 1-layer
  model's seconds per step; each model's seconds per step is measured apart from the runs, models taking turns
  and keeping the fastest turn, in CPU seconds of this one-thread process
  (:func:`lecture_code.lstm_experiments.seconds_per_step` with ``clock=time.process_time``), so the load of a shared
  machine does not change who gets how many steps.

Each model is trained once, for the larger of its two step counts, and its validation loss is read at both
(Adam at a constant learning rate: the first k steps of a longer run are a k-step run).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..config import seed_everything
from ..data import load_tinyshakespeare
from ..deep_rnn import DeepRNNLM
from ..lstm_experiments import matched_steps, seconds_per_step
from ..models import detach_state
from ..text import Vocab, batchify, chars, lm_batches
from ..train import evaluate_lm, lm_loss_torch, train_until
from .core import Context, Experiment, Metrics, Outcome, Verdict, say

FULL: dict[str, Any] = {
    "models": {"1": [1, False], "2": [2, False], "3": [3, False], "4": [4, False], "8": [8, False],
               "8res": [8, True]},
    "d": 32, "n": 128, "B": 32, "T": 64, "lr": 2e-3, "clip": 1.0, "steps": 1000, "compute_factor": 2.0,
    "eval_every": 50, "seeds": [0, 1, 2], "train_frac": 0.9, "valid_chars": 20000, "margin_nats": 0.02,
}
SMOKE: dict[str, Any] = FULL | {"models": {"1": [1, False], "2": [2, False], "8": [8, False], "8res": [8, True]},
                                "d": 4, "n": 8, "T": 8, "steps": 10, "eval_every": 5, "seeds": [0],
                                "valid_chars": 300}


def train_with_checkpoints(model: torch.nn.Module, train_ids: np.ndarray, valid_ids: np.ndarray, steps: int,
                           cfg: Mapping[str, Any]) -> dict[int, float]:
    """Adam for ``steps`` steps on the stream (state carried between windows) through
    :func:`lecture_code.train.train_until`; returns step -> validation loss every ``eval_every`` steps."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    rows = torch.as_tensor(batchify(train_ids, cfg["B"]), device=next(model.parameters()).device)
    windows, state = lm_batches(rows, cfg["T"]), None

    def next_loss() -> tuple[torch.Tensor, int]:
        nonlocal windows, state
        batch = next(windows, None)
        if batch is None:  # a new epoch: restart the stream with a zero state
            windows, state = lm_batches(rows, cfg["T"]), None
            batch = next(windows)
        x, y = batch
        logits, state = model(x, None if state is None else detach_state(state))
        return lm_loss_torch(logits, y), y.numel()

    hist = train_until(model, opt, next_loss, steps=steps, seconds=None, clip=cfg["clip"],
                       evaluate=lambda: evaluate_lm(model, valid_ids), eval_every=cfg["eval_every"], progress=False,
                       desc="")
    return dict(zip(hist.valid_step, hist.valid_loss, strict=True))


def _data(cfg: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, int]:
    """Tiny Shakespeare as ids: the first ``train_frac`` for training, ``valid_chars`` after it; |V|."""
    text = load_tinyshakespeare()
    vocab = Vocab(chars(text))
    cut = int(len(text) * cfg["train_frac"])
    return vocab.encode(text[:cut]), vocab.encode(text[cut:][: cfg["valid_chars"]]), len(vocab)


def _build(name: str, cfg: Mapping[str, Any], V: int) -> DeepRNNLM:
    layers, residual = cfg["models"][name]
    return DeepRNNLM(V, cfg["d"], cfg["n"], layers, "lstm", residual)


def train_one(name: str, seed: int, steps: int, cfg: dict[str, Any], device: str) -> dict[int, float]:
    """One model and seed, ``steps`` steps: step -> validation loss."""
    train_ids, valid_ids, V = _data(cfg)
    seed_everything(seed)
    curve = train_with_checkpoints(_build(name, cfg, V).to(device), train_ids, valid_ids, steps, cfg)
    say(f"depth seed {seed} {name}: valid at {cfg['steps']} steps {curve[cfg['steps']]:.3f}, at {steps} steps "
        f"{curve[steps]:.3f}")
    return curve


def run(cfg: dict[str, Any], ctx: Context) -> Outcome:
    """Time every model's step, then train each model and seed to both of its step counts."""
    train_ids, _, V = _data(cfg)
    sps = seconds_per_step({k: _build(k, cfg, V) for k in cfg["models"]}, train_ids, B=cfg["B"], T=cfg["T"],
                           lr=cfg["lr"], clip=cfg["clip"], clock=time.process_time)
    budget = cfg["compute_factor"] * cfg["steps"] * sps["1"]
    compute_steps = {k: matched_steps(budget, s, cfg["eval_every"]) for k, s in sps.items()}
    ctx.log(f"seconds per step {({k: round(v, 4) for k, v in sps.items()})}; equal-compute budget {budget:.1f} s "
            f"-> steps {compute_steps}")
    tasks = [(name, seed, max(cfg["steps"], compute_steps[name]), cfg, str(ctx.device))
             for seed in cfg["seeds"] for name in cfg["models"]]
    results = ctx.map(train_one, tasks, desc="depth")
    curves: dict[str, list[dict[int, float]]] = {k: [] for k in cfg["models"]}
    for t, curve in zip(tasks, results, strict=True):
        curves[t[0]].append(curve)
    metrics: Metrics = {
        "seconds_per_step": {k: round(v, 5) for k, v in sps.items()}, "compute_budget_seconds": round(budget, 2),
        "compute_steps": compute_steps,
        "valid_loss_equal_steps": {k: [round(c[cfg["steps"]], 4) for c in v] for k, v in curves.items()},
        "valid_loss_equal_compute": {k: [round(c[compute_steps[k]], 4) for c in v] for k, v in curves.items()},
        "curves": {k: {"step": list(v[0]), "valid_loss": [[round(c[s], 4) for s in v[0]] for c in v]}
                   for k, v in curves.items()},
    }
    metrics["comparisons"] = compare(metrics, cfg)
    return Outcome(metrics, list(cfg["seeds"]), figure(metrics, cfg))


def _better(a: list[float], b: list[float], margin: float) -> bool:
    """a beats b: a's mean loss is at least ``margin`` below b's, and a is below b for every seed."""
    return float(np.mean(a)) <= float(np.mean(b)) - margin and all(x < y for x, y in zip(a, b, strict=True))


def compare(metrics: Metrics, cfg: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """At equal steps and at equal compute: does the best of 2-4 layers beat 1 layer, and does the residual
    8-layer stack beat the plain one?"""
    out = {}
    for how in ("equal_steps", "equal_compute"):
        v = metrics[f"valid_loss_{how}"]
        deep = [k for k in ("2", "3", "4") if k in v]
        best = min(deep, key=lambda k: np.mean(v[k])) if deep else None
        out[how] = {
            "best_multi_layer": best,
            "multi_layer_beats_one": bool(best and _better(v[best], v["1"], cfg["margin_nats"])),
            "residual_beats_plain_8": _better(v["8res"], v["8"], cfg["margin_nats"]),
            "mean": {k: round(float(np.mean(x)), 4) for k, x in v.items()},
        }
    return out


def judge(metrics: Metrics, cfg: Mapping[str, Any]) -> Verdict:
    """Holds if, at equal steps, the best of 2-4 layers beats 1 layer and the residual 8-layer stack beats the
    plain one (each by at least ``margin_nats`` in the mean and for every seed); equal compute is reported."""
    c = metrics["comparisons"]

    def says(how: str) -> str:
        x = c[how]
        means = ", ".join(f"{k}: {m:.3f}" for k, m in x["mean"].items())
        return (f"{how.replace('_', ' ')}: best multi-layer ({x['best_multi_layer']} layers) beats 1 layer: "
                f"{x['multi_layer_beats_one']}; residual 8 beats plain 8: {x['residual_beats_plain_8']} "
                f"(mean valid nats/char {means})")

    text = f"{says('equal_steps')}. {says('equal_compute')}."
    s = c["equal_steps"]
    if s["multi_layer_beats_one"] and s["residual_beats_plain_8"]:
        return "holds", text
    return "does not hold", text


def figure(metrics: Metrics, cfg: Mapping[str, Any]) -> plt.Figure:
    """Validation loss against steps (left) and against compute seconds (right), mean over seeds."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for j, (name, c) in enumerate(metrics["curves"].items()):
        steps, loss = np.array(c["step"]), np.mean(c["valid_loss"], axis=0)
        label = "8 layers, residual" if name == "8res" else f"{name} layer{'' if name == '1' else 's'}"
        ax.plot(steps, loss, color=f"C{j}", label=label)
        bx.plot(steps * metrics["seconds_per_step"][name], loss, color=f"C{j}")
    ax.axvline(cfg["steps"], color="gray", ls=":")
    bx.axvline(metrics["compute_budget_seconds"], color="gray", ls=":")
    ax.set(xlabel="steps", ylabel="validation nats/char", title="equal steps")
    bx.set(xlabel="compute (steps x measured s/step)", title="equal compute")
    ax.legend(fontsize=8)
    return fig


EXPERIMENT = Experiment(
    name="depth", claim="Multi-layer RNNs are more powerful, but you might need skip connections if it's deep "
    "(lecture, takeaway 4).",
    criterion="At equal steps: the best of 2-4 layers has a validation loss at least 0.02 nats/char below 1 layer "
    "(mean, and lower for every seed), and the residual 8-layer stack likewise below the plain 8-layer one. The "
    "same comparisons at equal compute are reported beside it.",
    budget="6 char LSTM LMs (n=128) x 3 seeds, 1000 steps each and 2x the 1-layer model's time; ~25 CPU-min",
    full=FULL, smoke=SMOKE, run=run, judge=judge)
