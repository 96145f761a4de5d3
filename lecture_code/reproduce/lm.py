"""A regularised RNN language model and a budgeted training loop with a learning-rate schedule.

What is known to work for small LSTM language models on Penn Treebank, and is used here:

- tied input and output embeddings, U = E^T (Press & Wolf 2017, "Using the output embedding to improve language
  models"; Inan et al. 2017, "Tying word vectors and word classifiers"), so d = n;
- dropout on the embeddings and on the RNN's outputs (Zaremba et al. 2014, "Recurrent neural network
  regularization": dropout on the non-recurrent connections only);
- Adam (Kingma & Ba 2015) with a cosine decay of the learning rate over the budget (Loshchilov & Hutter 2017,
  "SGDR"), gradient-norm clipping (Pascanu et al. 2013), truncated BPTT with the state carried between windows.

The training budget is measured in CPU seconds of this process (``time.process_time``), not wall seconds: with
one torch thread, that is the time one core of a quiet machine would need, while the wall clock of a machine
shared with other jobs runs slower by an amount that depends on them. Evaluation time is not counted. Both
clocks are recorded.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..models import State, detach_state
from ..text import batchify, lm_batches
from ..train import History, cosine_lr, evaluate_lm, lm_loss_torch, optimizer_step


class TiedLM(nn.Module):
    """e(t) = dropout(E x(t)); h(t) = RNN(h(t-1), e(t)) with ``num_layers`` layers; logits = U dropout(h(t)) + b_2,
    with U = E^T (tied, so d = n).

    ``cell`` is ``"rnn"`` (tanh), ``"lstm"`` or ``"gru"``; dropout ``p`` also between stacked layers. The call
    convention is :class:`~lecture_code.models.RNNLM`'s: ``forward(x (B, T), state) -> (logits (B, T, V), state)``,
    so :func:`lecture_code.train.evaluate_lm` scores it. E starts uniform in ±0.1 (as in pytorch/examples).
    """

    def __init__(self, V: int, n: int, cell: str = "lstm", num_layers: int = 1, p: float = 0.3) -> None:
        super().__init__()
        rnn_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.V, self.n, self.cell, self.num_layers = V, n, cell, num_layers
        self.embedding = nn.Embedding(V, n)
        self.drop = nn.Dropout(p)
        self.rnn = rnn_cls(n, n, num_layers=num_layers, batch_first=True, dropout=p if num_layers > 1 else 0.0)
        self.head = nn.Linear(n, V)
        self.head.weight = self.embedding.weight  # tied: U = E^T
        with torch.no_grad():
            self.embedding.weight.uniform_(-0.1, 0.1)
            self.head.bias.zero_()

    def init_state(self, B: int) -> State:
        """Zeros: (num_layers, B, n), or a pair of those for an LSTM."""
        h = self.head.weight.new_zeros(self.num_layers, B, self.n)
        return (h, h.clone()) if self.cell == "lstm" else h

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """x (B, T) ids -> logits (B, T, V), final state."""
        state = self.init_state(x.shape[0]) if state is None else state
        hs, state = self.rnn(self.drop(self.embedding(x)), state)
        return self.head(self.drop(hs)), state


@dataclass
class Curve:
    """Validation loss against training time: ``cpu_seconds[k]``, ``wall_seconds[k]``, ``step[k]`` and
    ``valid_loss[k]`` (nats per token) of the k-th evaluation."""

    cpu_seconds: list[float] = field(default_factory=list)
    wall_seconds: list[float] = field(default_factory=list)
    step: list[int] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list]:
        return {"cpu_seconds": [round(s, 1) for s in self.cpu_seconds],
                "wall_seconds": [round(s, 1) for s in self.wall_seconds], "step": self.step,
                "valid_ppl": [round(math.exp(v), 2) for v in self.valid_loss]}


def train_lm_budget(model: nn.Module, train_ids: np.ndarray, valid_ids: np.ndarray, *, seconds: float, B: int,
                    T: int, lr: float, final_lr_frac: float = 0.05, clip: float | None = 1.0,
                    eval_every_seconds: float = 60.0, progress: bool = True, desc: str = "training",
                    log: Callable[[str], None] | None = None, clock: Callable[[], float] = time.process_time,
                    ) -> tuple[History, Curve]:
    """Adam on a contiguous stream (B rows, windows of T, state carried and detached), for ``seconds`` of
    process CPU time, with the learning rate of :func:`cosine_lr` at the fraction of the budget spent.

    The validation loss (:func:`~lecture_code.train.evaluate_lm` on ``valid_ids``, not counted in the budget)
    is measured every ``eval_every_seconds`` of training and at the end. Each step goes through
    :func:`lecture_code.train.optimizer_step`. Returns the :class:`~lecture_code.train.History` and the
    :class:`Curve`; ``history.seconds`` is the training CPU time. ``clock=time.perf_counter`` budgets wall
    seconds instead (the curve's ``cpu_seconds`` then hold them).
    """
    dev = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rows = torch.as_tensor(batchify(train_ids, B), device=dev)
    hist, curve = History(), Curve()
    cpu, wall0, next_eval = 0.0, time.perf_counter(), eval_every_seconds
    windows, state = lm_batches(rows, T), None
    bar = tqdm(total=round(seconds), desc=desc, disable=not progress, unit="cpu-s", leave=True)

    def evaluate() -> None:
        curve.cpu_seconds.append(cpu)
        curve.wall_seconds.append(time.perf_counter() - wall0)
        curve.step.append(hist.steps)
        curve.valid_loss.append(evaluate_lm(model, valid_ids))
        if log is not None:
            log(f"{desc}: {cpu:.0f} cpu-s, {curve.wall_seconds[-1]:.0f} wall-s, step {hist.steps}, "
                f"valid ppl {math.exp(curve.valid_loss[-1]):.1f}")

    while cpu < seconds:
        t0 = clock()
        batch = next(windows, None)
        if batch is None:  # a new epoch: restart the stream with a zero state
            windows, state = lm_batches(rows, T), None
            batch = next(windows)
        x, y = batch
        for group in opt.param_groups:
            group["lr"] = cosine_lr(cpu / seconds, lr, final_lr_frac)
        model.train()
        logits, state = model(x, None if state is None else detach_state(state))
        optimizer_step(model, opt, lm_loss_torch(logits, y), clip, hist, y.numel())
        dt = clock() - t0
        cpu += dt
        bar.update(min(dt, seconds - bar.n if bar.n < seconds else 0))
        if hist.steps % 20 == 0:
            bar.set_postfix(loss=f"{hist.train_loss[-1]:.3f}")
            if not math.isfinite(hist.train_loss[-1]):
                break
        if cpu >= next_eval and cpu < seconds:
            evaluate()
            next_eval += eval_every_seconds
    bar.close()
    evaluate()
    hist.seconds = cpu
    return hist, curve
