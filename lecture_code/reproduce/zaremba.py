"""``zaremba_small``: the "small" non-regularised LSTM of Zaremba et al. (2014), "Recurrent neural network
regularization", as published: 2 layers of 200 units, weights uniform in ±0.1, SGD with learning rate 1 for 4
epochs then halved after each further epoch, 13 epochs, B = 20 rows, T = 20 steps of truncated BPTT, gradient
norm clipped at 5, no dropout. Published: validation 120.7, test 114.5 (their Table 1).

The model is :class:`lecture_code.models.RNNLM` and the loop :func:`lecture_code.lstm_experiments.train_zaremba`,
called once per epoch with that epoch's learning rate (plain SGD has no state, and the loop resets the hidden
state at every epoch, so this is the same training), so that every epoch's validation perplexity is logged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt

from .. import published
from ..config import seed_everything
from ..data import load_ptb
from ..lstm_experiments import ZAREMBA_SMALL, ZAREMBA_SMALL_TEST_PPL, train_zaremba, uniform_init_, zaremba_lr
from ..models import RNNLM
from ..text import Vocab
from ..train import evaluate_lm
from .core import Context, Experiment, Metrics, Outcome, Verdict

ZAREMBA_SMALL_VALID_PPL = published.ZAREMBA_SMALL_VALID.value
FULL: dict[str, Any] = {**ZAREMBA_SMALL, "seed": 0, "train_tokens": None, "eval_tokens": None, "tolerance": 0.05}
SMOKE: dict[str, Any] = FULL | {"d": 16, "n": 16, "epochs": 2, "decay_after": 1, "train_tokens": 4000,
                                "eval_tokens": 1000}


def run(cfg: dict[str, Any], ctx: Context) -> Outcome:
    """Train the 2x200 LSTM for ``cfg['epochs']`` epochs; validation perplexity per epoch, test at the end."""
    vocab = Vocab(load_ptb("train"))
    ids = {s: vocab.encode(load_ptb(s)) for s in ("train", "valid", "test")}
    if cfg["train_tokens"]:
        ids["train"] = ids["train"][: cfg["train_tokens"]]
    if cfg["eval_tokens"]:
        ids |= {s: ids[s][: cfg["eval_tokens"]] for s in ("valid", "test")}
    seed_everything(cfg["seed"])
    model = uniform_init_(RNNLM(len(vocab), cfg["d"], cfg["n"], "lstm", cfg["num_layers"]), cfg["init_scale"])
    model = model.to(ctx.device)
    valid, lrs, seconds, steps, start = [], [], [], 0, time.perf_counter()
    for epoch in range(1, cfg["epochs"] + 1):
        lr = zaremba_lr(epoch, cfg["lr"], cfg["decay"], cfg["decay_after"])
        hist, _ = train_zaremba(model, ids["train"], ids["valid"], epochs=1, B=cfg["B"], T=cfg["T"], lr=lr,
                                decay=1.0, decay_after=1, clip=cfg["clip"], progress=ctx.progress)
        steps += hist.steps
        valid.append(round(math.exp(hist.valid_loss[-1]), 2))
        lrs.append(lr)
        seconds.append(round(time.perf_counter() - start, 1))
        ctx.log(f"epoch {epoch}: lr {lr:g}, valid ppl {valid[-1]:.1f}, {seconds[-1]:.0f} s, train loss "
                f"{sum(hist.train_loss[-100:]) / len(hist.train_loss[-100:]):.3f}")
    test = math.exp(evaluate_lm(model, ids["test"]))
    metrics: Metrics = {
        "test_perplexity": {"lstm": round(test, 2)}, "valid_perplexity": {"lstm": valid[-1]},
        "per_epoch": {"valid_ppl": valid, "lr": lrs, "wall_seconds": seconds}, "steps": steps,
        "published": {"valid": ZAREMBA_SMALL_VALID_PPL, "test": ZAREMBA_SMALL_TEST_PPL},
    }
    return Outcome(metrics, [cfg["seed"]], figure(metrics))


def judge(metrics: Metrics, cfg: Mapping[str, Any]) -> Verdict:
    """Holds if the test perplexity is at most ``tolerance`` (5%) above the published 114.5."""
    ppl, limit = metrics["test_perplexity"]["lstm"], ZAREMBA_SMALL_TEST_PPL * (1 + cfg["tolerance"])
    if ppl <= limit:
        return "holds", f"test {ppl:.1f} vs published {ZAREMBA_SMALL_TEST_PPL} (limit {limit:.1f})."
    return "does not hold", f"test {ppl:.1f} is above {limit:.1f} (published {ZAREMBA_SMALL_TEST_PPL} + 5%)."


def figure(metrics: Metrics) -> plt.Figure:
    """Validation perplexity per epoch, with the published numbers."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    v = metrics["per_epoch"]["valid_ppl"]
    ax.plot(range(1, len(v) + 1), v, marker="o", label="ours, validation")
    ax.axhline(ZAREMBA_SMALL_VALID_PPL, ls="--", color="gray", label="published validation 120.7")
    ax.axhline(ZAREMBA_SMALL_TEST_PPL, ls=":", color="gray", label="published test 114.5")
    ax.plot([len(v)], [metrics["test_perplexity"]["lstm"]], "k*", ms=10, label="ours, test")
    ax.set(yscale="log", xlabel="epoch", ylabel="perplexity", title="Zaremba et al. (2014) small, 2x200 LSTM")
    ax.legend()
    return fig


EXPERIMENT = Experiment(
    name="zaremba_small", claim="The published 2x200 LSTM recipe reaches test perplexity 114.5 on PTB "
    "(Zaremba et al. 2014, Table 1, non-regularized).",
    criterion="Test perplexity at most 5% above 114.5 after 13 epochs of the published recipe.",
    budget="13 epochs, about 30k SGD steps: about 45 CPU-minutes on one thread (measured 0.084 s/step)",
    full=FULL, smoke=SMOKE, run=run, judge=judge)
