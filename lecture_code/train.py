"""One training loop for every chapter's language models.

Training is teacher forcing on a contiguous stream: the stream is cut into B rows, each
step reads the next T tokens of every row and predicts the T tokens after them, and the
hidden state is carried from one window to the next but detached from the graph
(truncated backpropagation through time; Chapter 2 explains what that drops).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from . import config
from .models import RNNLM, detach_state
from .text import batchify, lm_batches


@dataclass
class History:
    """What happened during training; every list is indexed by optimisation step."""

    train_loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    valid_step: list[int] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.train_loss)

    def smoothed(self, window: int = 50) -> np.ndarray:
        """The training loss as a trailing moving average over up to ``window`` steps (for plots)."""
        x = np.asarray(self.train_loss, dtype=np.float64)
        c = np.cumsum(np.insert(x, 0, 0.0))
        i = np.arange(1, len(x) + 1)
        lo = np.maximum(i - window, 0)
        return (c[i] - c[lo]) / (i - lo)


def optimizer_step(model: nn.Module, opt: torch.optim.Optimizer, loss: torch.Tensor, clip: float | None,
                   hist: History, tokens: int) -> None:
    """One training step on ``loss``: backward, gradient-norm clipping at ``clip`` (None: no clipping; the
    norm is still measured), the optimizer's update, and the loss, norm and ``tokens`` recorded in ``hist``.
    Every training loop of the book takes its steps through here."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), clip if clip is not None else math.inf)
    opt.step()
    hist.train_loss.append(loss.item())
    hist.grad_norm.append(float(norm))
    hist.tokens += tokens


def train_until(model: nn.Module, opt: torch.optim.Optimizer, next_loss: Callable[[], tuple[torch.Tensor, int]], *,
                steps: int | None, seconds: float | None, clip: float | None, evaluate: Callable[[], float] | None,
                eval_every: int | None, progress: bool, desc: str) -> History:
    """The training loop of the taggers, classifiers and the encoder-decoder, on fresh batches.

    ``next_loss()`` draws the next batch and returns its mean loss and its number of real tokens. Stops after
    ``steps`` steps or ``seconds`` of wall-clock time, whichever comes first (None: no limit of that kind).
    ``evaluate()``, if given, gives the validation loss every ``eval_every`` steps and always at the end.
    """
    hist, start = History(), time.perf_counter()
    bar = tqdm(total=steps, desc=desc, disable=not config.show_progress(progress), leave=True)
    while (steps is None or hist.steps < steps) and (seconds is None or time.perf_counter() - start < seconds):
        model.train()
        loss, tokens = next_loss()
        optimizer_step(model, opt, loss, clip, hist, tokens)
        if evaluate is not None and eval_every and hist.steps % eval_every == 0:
            hist.valid_step.append(hist.steps)
            hist.valid_loss.append(evaluate())
        bar.update(1)
        if progress and hist.steps % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    if evaluate is not None and (not hist.valid_step or hist.valid_step[-1] != hist.steps):
        hist.valid_step.append(hist.steps)
        hist.valid_loss.append(evaluate())
    hist.seconds = time.perf_counter() - start
    return hist


def lm_loss_torch(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over all B*T positions: logits (B, T, V), targets y (B, T)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


@torch.no_grad()
def evaluate_lm(model: RNNLM, ids: np.ndarray, B: int = 16, T: int = 128) -> float:
    """The exact mean negative log-likelihood (nats per token) of a stream of ids.

    The stream is cut into B contiguous rows with the state carried across windows, so
    every token except the first of each row is predicted with its full left context
    within its row. Every predicted token is weighted equally.
    """
    model.eval()
    dev = next(model.parameters()).device
    B = max(1, min(B, len(ids) // 2))  # short streams get fewer rows
    rows = torch.as_tensor(batchify(ids, B), device=dev)
    state, total, count = None, 0.0, 0
    for x, y in lm_batches(rows, T):
        logits, state = model(x, state)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    return total / count


def cosine_lr(frac: float, lr: float, final_frac: float) -> float:
    """Cosine decay from ``lr`` at ``frac = 0`` to ``lr * final_frac`` at ``frac >= 1`` (``frac``: the share of
    the training budget spent)."""
    frac = min(max(frac, 0.0), 1.0)
    return lr * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * frac)))


def train_lm(
    model: RNNLM,
    train_ids: np.ndarray,
    valid_ids: np.ndarray | None = None,
    *,
    steps: int,
    B: int = 32,
    T: int = 64,
    lr: float = 2e-3,
    optimizer: str = "adam",
    clip: float | None = 1.0,
    eval_every: int | None = None,
    eval_tokens: int | None = None,
    progress: bool = True,
    desc: str = "training",
) -> History:
    """Train a language model with teacher forcing and truncated BPTT.

    Args:
        model: an :class:`~lecture_code.models.RNNLM` (already on its device).
        train_ids, valid_ids: 1-D streams of token ids.
        steps: optimisation steps; the stream is repeated (with a fresh zero state) as needed.
        B, T: batch rows and window length (the truncation length of BPTT).
        lr, optimizer: ``"adam"`` or ``"sgd"``.
        clip: the gradient-norm clipping threshold, or None for no clipping.
        eval_every: evaluate on ``valid_ids`` every so many steps (and always at the end).
        eval_tokens: evaluate on only the first so many validation tokens (None: all).
        progress: show a tqdm progress bar.

    Returns:
        A :class:`History`; ``history.valid_loss[-1]`` is the final validation loss.
    """
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    dev = next(model.parameters()).device
    opt: torch.optim.Optimizer = (
        torch.optim.Adam(model.parameters(), lr=lr) if optimizer == "adam"
        else torch.optim.SGD(model.parameters(), lr=lr)
    )
    rows = torch.as_tensor(batchify(train_ids, B), device=dev)
    valid = None if valid_ids is None else (valid_ids if eval_tokens is None else valid_ids[:eval_tokens])
    hist, start = History(), time.perf_counter()

    def windows():
        while True:  # epochs: restart the stream with a zero state
            yield None, None
            yield from lm_batches(rows, T)

    it, state = windows(), None
    bar = tqdm(range(steps), desc=desc, disable=not config.show_progress(progress), leave=True)
    for step in bar:
        model.train()
        x, y = next(it)
        if x is None:
            state, (x, y) = None, next(it)
        state = None if state is None else detach_state(state)
        logits, state = model(x, state)
        loss = lm_loss_torch(logits, y)
        optimizer_step(model, opt, loss, clip, hist, y.numel())
        last = step + 1 == steps
        if valid is not None and (last or (eval_every and (step + 1) % eval_every == 0)):
            hist.valid_step.append(step + 1)
            hist.valid_loss.append(evaluate_lm(model, valid))
        if progress and step % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    hist.seconds = time.perf_counter() - start
    return hist
