"""``memory_span``: how many steps back can a trained RNN, LSTM and GRU carry one token? (The lecture: "LSTM
doesn't guarantee that there is no vanishing/exploding gradient, but it does provide an easier way for the model
to learn long-distance dependencies ... in practice, you get about 100 timesteps rather than about 7".)

The task is :func:`lecture_code.tasks.copy_task`: a signal token (1 of 4), L distractors, a query; the model
names the signal from its last hidden state. The memory span of one model and seed is the largest gap L of the
grid such that the test accuracy is at least 0.9 at L and at every shorter gap
(:func:`lecture_code.lstm_experiments.memory_span`). Each (model, gap, seed) is trained once, for the largest
budget, and tested after each budget of ``budgets``: the spans at the last two budgets (a doubling) show
whether more steps would still change them. A seed's sweep stops at the first gap that fails at the largest
budget (longer gaps are not run and count as failures).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from ..lstm_experiments import memory_span
from ..tasks import train_copy
from .core import Context, Experiment, Metrics, Outcome, Verdict, say

MODELS: dict[str, dict[str, Any]] = {
    "rnn": {"cell": "rnn"},
    "lstm_fb1": {"cell": "lstm", "forget_bias": 1.0},
    "lstm_fb3": {"cell": "lstm", "forget_bias": 3.0},
    "gru": {"cell": "gru"},
}
FULL: dict[str, Any] = {
    "models": MODELS, "gaps": [5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300], "seeds": [0, 1, 2],
    "budgets": [150, 300, 600, 1200], "B": 64, "n_hidden": 64, "d": 16, "lr": 3e-3, "clip": 1.0,
    "threshold": 0.9, "eval_n": 1000,
    "criterion": {"rnn_at_most": 15, "lstm_at_least": 50, "ratio_at_least": 5},
}
SMOKE: dict[str, Any] = FULL | {"gaps": [2, 5], "seeds": [0], "budgets": [5, 10], "eval_n": 64, "n_hidden": 8}


def sweep(name: str, seed: int, cfg: dict[str, Any], device: str) -> tuple[np.ndarray, float]:
    """One model and seed over the gaps (ascending, until one fails at the largest budget): the accuracy
    (budgets, gaps), NaN where not run, and the seconds spent."""
    gaps, budgets, m = sorted(cfg["gaps"]), sorted(cfg["budgets"]), cfg["models"][name]
    acc, seconds = np.full((len(budgets), len(gaps)), np.nan), 0.0
    for k, L in enumerate(gaps):
        r = train_copy(m["cell"], L, steps=budgets[-1], B=cfg["B"], n_hidden=cfg["n_hidden"], d=cfg["d"],
                       lr=cfg["lr"], seed=seed, clip=cfg["clip"], eval_n=cfg["eval_n"],
                       forget_bias=m.get("forget_bias"), eval_at=budgets, device=device)
        acc[:, k], seconds = [r["accuracy_at"][b] for b in budgets], seconds + r["seconds"]
        if r["accuracy"] < cfg["threshold"]:
            break
    say(f"memory_span {name} seed {seed}: accuracy at {budgets[-1]} steps " + ", ".join(
        f"L={L}: {x:.2f}" for L, x in zip(gaps, acc[-1], strict=True) if np.isfinite(x)) + f" ({seconds:.0f} s)")
    return acc, seconds


def run(cfg: dict[str, Any], ctx: Context) -> Outcome:
    """Sweep every model and seed (in ``ctx.workers`` processes); spans per budget."""
    gaps, budgets = sorted(cfg["gaps"]), sorted(cfg["budgets"])
    tasks = [(name, seed, cfg, str(ctx.device)) for name in cfg["models"] for seed in cfg["seeds"]]
    results = ctx.map(sweep, tasks, desc="memory_span")
    acc: dict[str, np.ndarray] = {}  # model -> (budgets, seeds, gaps), NaN where not run
    seconds: dict[str, float] = {}
    for name in cfg["models"]:
        mine = [r for t, r in zip(tasks, results, strict=True) if t[0] == name]
        acc[name] = np.stack([a for a, _ in mine], axis=1)
        seconds[name] = sum(sec for _, sec in mine)
    span = {name: {str(b): [memory_span(gaps, a[i, s], cfg["threshold"]) for s in range(a.shape[1])]
                   for i, b in enumerate(budgets)} for name, a in acc.items()}
    metrics: Metrics = {
        "span": {name: per_budget[str(budgets[-1])] for name, per_budget in span.items()},
        "span_by_budget": span,
        "median_span": {name: float(np.median(per_budget[str(budgets[-1])])) for name, per_budget in span.items()},
        "accuracy": {name: {str(b): a[i].round(3).tolist() for i, b in enumerate(budgets)} for name, a in acc.items()},
        "gaps": gaps, "budgets": budgets, "seconds": {k: round(v, 1) for k, v in seconds.items()},
    }
    return Outcome(metrics, list(cfg["seeds"]), figure(metrics, cfg["threshold"]))


def judge(metrics: Metrics, cfg: Mapping[str, Any]) -> Verdict:
    """Holds if, at the largest budget, the RNN's median span is at most 15 ("about 7"), the standard LSTM's
    (forget bias 1) at least 50 ("about 100") and at least 5 times the RNN's, and no model's spans changed between
    the last two budgets (else inconclusive: more steps might change them)."""
    c, med = cfg["criterion"], metrics["median_span"]
    b = [str(x) for x in metrics["budgets"][-2:]]
    moved = [n for n, s in metrics["span_by_budget"].items() if len(b) == 2 and s[b[0]] != s[b[1]]]
    spans = ", ".join(f"{n} {metrics['span'][n]}" for n in metrics["span"])
    rnn, lstm = med["rnn"], med["lstm_fb1"]
    ok = rnn <= c["rnn_at_most"] and lstm >= c["lstm_at_least"] and lstm >= c["ratio_at_least"] * max(rnn, 1)
    text = (f"Spans per seed at {metrics['budgets'][-1]} steps: {spans} (top of the grid: {metrics['gaps'][-1]}). "
            f"Median: RNN {rnn:g}, LSTM (forget bias 1) {lstm:g}.")
    if moved:
        return "inconclusive", (f"{text} The spans of {moved} still changed between {b[0]} and {b[1]} steps, so "
                                f"the budget is not yet large enough to call it.")
    if ok:
        return "holds", text
    return "does not hold", f"{text} Criterion: RNN <= {c['rnn_at_most']}, LSTM >= {c['lstm_at_least']} and " \
                            f">= {c['ratio_at_least']}x the RNN."


def figure(metrics: Metrics, threshold: float) -> plt.Figure:
    """Left: accuracy against gap at the largest budget (mean over seeds; one thin line per seed).
    Right: median span against training budget."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.8))
    gaps, budgets = metrics["gaps"], metrics["budgets"]
    for j, (name, per_budget) in enumerate(metrics["accuracy"].items()):
        a = np.array(per_budget[str(budgets[-1])], dtype=float)
        for row in a:
            ax.plot(gaps, row, color=f"C{j}", alpha=0.3, lw=0.8)
        ax.plot(gaps, np.nanmean(np.where(np.isnan(a), 0.25, a), axis=0), color=f"C{j}", marker="o", label=name)
        bx.plot(budgets, [np.median(metrics["span_by_budget"][name][str(b)]) for b in budgets], marker="o",
                color=f"C{j}", label=name)
    ax.axhline(threshold, ls="--", color="gray")
    ax.set(xscale="log", xlabel="gap L", ylabel="test accuracy", title=f"copy task, {budgets[-1]} steps")
    bx.set(xscale="log", yscale="symlog", xlabel="training steps", ylabel="median memory span",
           title="span vs budget")
    ax.legend(fontsize=8)
    return fig


EXPERIMENT = Experiment(
    name="memory_span", claim="An LSTM carries information about 100 steps back, a vanilla RNN about 7 (lecture).",
    criterion="At the largest budget: median span (largest gap with accuracy >= 0.9 there and at every shorter gap) "
    "of the RNN <= 15, of the LSTM with forget bias 1 >= 50 and >= 5x the RNN's; spans unchanged over the last "
    "doubling of the budget, else inconclusive.",
    budget="4 models x 12 gaps (5..300) x 3 seeds x 1200 steps, stopping at the first failed gap; ~30-40 CPU-min",
    full=FULL, smoke=SMOKE, run=run, judge=judge)
