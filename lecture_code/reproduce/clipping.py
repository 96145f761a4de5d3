"""``clipping_lm``: gradient clipping in a real language model (the lecture's "Gradient clipping: solution for
exploding gradient", Pascanu et al. 2013, Algorithm 1: if ||g|| > threshold, g <- threshold g / ||g||).

A one-layer tanh RNN character LM (:class:`lecture_code.models.RNNLM`) on Tiny Shakespeare, trained with plain
SGD by :func:`lecture_code.train.train_lm`, with and without norm clipping, over a fixed grid of learning rates
and 3 seeds. A run is *unstable* if its training loss ever becomes non-finite, ends at or above the uniform loss
log |V|, or spikes: rises more than ``spike_nats`` above the lowest loss seen so far (after the first 20 steps).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from ..config import seed_everything
from ..data import load_tinyshakespeare
from ..models import RNNLM
from ..text import Vocab, chars
from ..train import History, train_lm
from .core import Context, Experiment, Metrics, Outcome, Verdict

FULL: dict[str, Any] = {
    "n": 128, "d": 32, "B": 32, "T": 64, "steps": 600, "lrs": [0.5, 1.0, 2.0, 4.0, 8.0], "clip": 1.0,
    "seeds": [0, 1, 2], "train_frac": 0.9, "valid_chars": 20000, "spike_nats": 1.0, "learned_frac": 0.6,
}
SMOKE: dict[str, Any] = FULL | {"n": 8, "d": 4, "T": 8, "steps": 25, "lrs": [1.0], "seeds": [0], "valid_chars": 500}


def instability(hist: History, V: int, spike_nats: float) -> dict[str, Any]:
    """Whether a run diverged (non-finite loss), ended at or above log V, or spiked; the largest spike (nats)."""
    loss = np.asarray(hist.train_loss, dtype=np.float64)
    finite = bool(np.isfinite(loss).all())
    tail = loss[20:] if finite else loss[20:][np.isfinite(loss[20:])]
    run_min = np.minimum.accumulate(tail) if len(tail) else tail
    spike = float((tail - run_min).max()) if len(tail) else 0.0
    end = float(np.mean(loss[-20:])) if finite else math.inf
    unstable = (not finite) or end >= math.log(V) or spike > spike_nats
    return {"diverged": not finite, "final_train_loss": end, "max_spike": spike, "unstable": unstable}


def run(cfg: dict[str, Any], ctx: Context) -> Outcome:
    """Train with and without clipping for every learning rate and seed."""
    text = load_tinyshakespeare()
    vocab = Vocab(chars(text))
    cut = int(len(text) * cfg["train_frac"])
    train_ids, valid_ids = vocab.encode(text[:cut]), vocab.encode(text[cut:][: cfg["valid_chars"]])
    V, runs = len(vocab), []
    bar = tqdm(total=len(cfg["lrs"]) * 2 * len(cfg["seeds"]), desc="clipping_lm", disable=not ctx.progress)
    for lr in cfg["lrs"]:
        for clip in (None, cfg["clip"]):
            for seed in cfg["seeds"]:
                seed_everything(seed)
                model = RNNLM(V, cfg["d"], cfg["n"], "rnn").to(ctx.device)
                hist = train_lm(model, train_ids, valid_ids, steps=cfg["steps"], B=cfg["B"], T=cfg["T"], lr=lr,
                                optimizer="sgd", clip=clip, progress=False)
                r = instability(hist, V, cfg["spike_nats"])
                r |= {"lr": lr, "clip": clip, "seed": seed, "valid_loss": hist.valid_loss[-1],
                      "train_loss": [round(x, 3) if math.isfinite(x) else None for x in hist.smoothed(20)[::10]],
                      "max_grad_norm": float(np.nanmax(np.asarray(hist.grad_norm, dtype=float)))}
                runs.append(r)
                ctx.log(f"lr {lr} clip {clip} seed {seed}: valid {r['valid_loss']:.3f}, unstable {r['unstable']} "
                        f"(spike {r['max_spike']:.2f}, diverged {r['diverged']}), max norm {r['max_grad_norm']:.3g}")
                bar.update(1)
    bar.close()
    metrics: Metrics = {"uniform_loss": math.log(V), "runs": runs, "by_lr": summarize(runs, cfg, V)}
    return Outcome(metrics, list(cfg["seeds"]), figure(metrics, cfg))


def summarize(runs: list[dict[str, Any]], cfg: Mapping[str, Any], V: int) -> dict[str, dict[str, Any]]:
    """Per learning rate: how many unclipped runs were unstable; how many clipped ones learned (stable, with a
    validation loss at most ``learned_frac`` log V); mean validation losses."""
    out = {}
    for lr in cfg["lrs"]:
        un = [r for r in runs if r["lr"] == lr and r["clip"] is None]
        cl = [r for r in runs if r["lr"] == lr and r["clip"] is not None]
        learned = [not r["unstable"] and math.isfinite(r["valid_loss"]) and r["valid_loss"] <= cfg["learned_frac"]
                   * math.log(V) for r in cl]
        out[str(lr)] = {"unclipped_unstable": sum(r["unstable"] for r in un), "clipped_learned": sum(learned),
                        "clipped_unstable": sum(r["unstable"] for r in cl), "runs_per_arm": len(un),
                        "unclipped_valid": [r["valid_loss"] for r in un],
                        "clipped_valid": [r["valid_loss"] for r in cl]}
    return out


def judge(metrics: Metrics, cfg: Mapping[str, Any]) -> Verdict:
    """Holds if at some learning rate of the grid every unclipped seed is unstable while every clipped seed is
    stable and reaches a validation loss of at most ``learned_frac`` (0.6) times the uniform loss."""
    good = [lr for lr, s in metrics["by_lr"].items()
            if s["unclipped_unstable"] == s["runs_per_arm"] and s["clipped_learned"] == s["runs_per_arm"]]
    rows = "; ".join(f"lr {lr}: unclipped unstable {s['unclipped_unstable']}/{s['runs_per_arm']}, clipped learned "
                     f"{s['clipped_learned']}/{s['runs_per_arm']}" for lr, s in metrics["by_lr"].items())
    if good:
        return "holds", f"At lr {', '.join(good)}. {rows}. Uniform loss {metrics['uniform_loss']:.2f} nats."
    return "does not hold", f"No learning rate of the grid separates them. {rows}."


def figure(metrics: Metrics, cfg: Mapping[str, Any]) -> plt.Figure:
    """Smoothed training loss of seed 0 at each learning rate, unclipped (dashed) and clipped (solid)."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for j, lr in enumerate(cfg["lrs"]):
        for r in metrics["runs"]:
            if r["lr"] == lr and r["seed"] == cfg["seeds"][0]:
                y = np.array([np.nan if v is None else v for v in r["train_loss"]], dtype=float)
                ax.plot(np.arange(len(y)) * 10, y, color=f"C{j}", ls="-" if r["clip"] else "--",
                        label=f"lr {lr}, {'clipped' if r['clip'] else 'unclipped'}")
    ax.axhline(metrics["uniform_loss"], color="gray", ls=":", label="uniform")
    ax.set(xlabel="step", ylabel="training loss (nats/char)", ylim=(0, 2 * metrics["uniform_loss"]),
           title="tanh RNN char LM, SGD: clipped (solid) vs not (dashed)")
    ax.legend(fontsize=7, ncol=2)
    return fig


EXPERIMENT = Experiment(
    name="clipping_lm", claim="Gradient clipping keeps SGD training of an RNN LM stable where it would otherwise "
    "blow up (lecture, 'Gradient clipping: solution for exploding gradient').",
    criterion="At some learning rate of a fixed grid, all 3 unclipped seeds are unstable (non-finite, spike > 1 "
    "nat, or ending at/above the uniform loss) while all 3 clipped seeds are stable with validation loss <= 0.6 "
    "log|V|.",
    budget="5 learning rates x 2 x 3 seeds x 600 SGD steps of a 128-unit char RNN; ~5-10 CPU-min",
    full=FULL, smoke=SMOKE, run=run, judge=judge)
