"""A long-distance dependency task: remember the first token across L distractors.

The lecture's example: "When she tried to print her *tickets*, ... she finally printed her ___".
The model must carry "tickets" across many unrelated words. :func:`copy_task` makes a
measurable version of it. The data are synthetic, generated here in code (no download):

    signal, distractor_1, ..., distractor_L, QUERY   ->   target = signal

A classifier reads the whole sequence with a recurrent layer and must name the signal from its
LAST hidden state, so the information has to survive L + 1 recurrent steps. Guessing gives
accuracy 1 / n_signal. :func:`accuracy_vs_gap` measures how accuracy falls as the gap L grows,
for a vanilla tanh RNN (Chapter 4) and for an LSTM or GRU (Chapter 5).

Calibration (defaults: 400 steps, B = 64, 64 hidden units, seed 0, one CPU thread): the tanh RNN
reaches accuracy 1.0 for L = 2, 5, 10 and chance (≈ 0.25) for L = 20, 35, 50, in about 18 s for
all six gaps. An LSTM with ``forget_bias=3.0`` reaches 1.0 for every L up to 100 with the same budget;
with PyTorch's default init (forget bias ≈ 0) it is no better than the RNN at L ≥ 20 in 400 steps,
and with ``forget_bias=1.0`` it solves L = 20 but not 35.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

COPY_CELLS = ("rnn", "lstm", "gru")


def vocab_size(n_signal: int = 4, n_distract: int = 8) -> int:
    """Number of token ids: signals 0..n_signal-1, then n_distract distractors, then the query token."""
    return n_signal + n_distract + 1


def copy_task(
    L: int, n: int, rng: np.random.Generator, n_signal: int = 4, n_distract: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """n synthetic sequences of the long-distance copy task.

    Token ids: signals are 0..n_signal-1, distractors n_signal..n_signal+n_distract-1, and the
    query token is the last id, ``vocab_size(n_signal, n_distract) - 1``.

    Args:
        L: the gap, the number of distractor tokens between the signal and the query.
        n: number of sequences.
        rng: NumPy generator (the same seed gives the same sequences).

    Returns:
        ``(x, y)``: x is (n, L + 2) int64 token ids, ``[signal, L distractors, query]``;
        y is (n,) int64, the signal's class id in 0..n_signal-1 (equal to ``x[:, 0]``).
    """
    y = rng.integers(0, n_signal, size=n)
    x = np.empty((n, L + 2), dtype=np.int64)
    x[:, 0] = y
    x[:, 1 : L + 1] = rng.integers(n_signal, n_signal + n_distract, size=(n, L))
    x[:, L + 1] = n_signal + n_distract
    return x, y.astype(np.int64)


class CopyClassifier(nn.Module):
    """Embedding -> one recurrent layer -> linear layer on the last hidden state.

    Args:
        V: vocabulary size.
        d: embedding size.
        n: hidden size.
        n_out: number of classes (n_signal).
        cell: ``"rnn"`` (``torch.nn.RNN``, tanh), ``"lstm"`` or ``"gru"``.
        forget_bias: LSTM only. If given, the forget gate's bias starts at this value: PyTorch stacks
            the gates in the order (input i, forget f, cell g, output o), so the slice ``[n:2n]`` of
            ``bias_ih_l0`` is set to ``forget_bias`` and the same slice of ``bias_hh_l0`` to 0 (the gate
            sees their sum). A positive value (e.g. 1) makes the cell remember by default.

    ``forward(x)``: x (B, T) token ids -> logits (B, n_out).
    """

    def __init__(self, V: int, d: int, n: int, n_out: int, cell: str = "rnn", forget_bias: float | None = None) -> None:
        super().__init__()
        if cell not in COPY_CELLS:
            raise ValueError(f"cell must be one of {COPY_CELLS}, got {cell!r}")
        if forget_bias is not None and cell != "lstm":
            raise ValueError("forget_bias is only for cell='lstm'")
        self.cell = cell
        self.embedding = nn.Embedding(V, d)
        self.rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](d, n, batch_first=True)
        self.head = nn.Linear(n, n_out)
        if forget_bias is not None:
            with torch.no_grad():
                self.rnn.bias_ih_l0[n : 2 * n].fill_(forget_bias)
                self.rnn.bias_hh_l0[n : 2 * n].zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T) token ids -> logits (B, n_out) from the hidden state after the last token."""
        hs, _ = self.rnn(self.embedding(x))  # (B, T, n)
        return self.head(hs[:, -1])


def train_copy(
    cell: str,
    L: int,
    *,
    steps: int,
    B: int = 64,
    n_hidden: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    clip: float | None = 1.0,
    eval_n: int = 1000,
    device: torch.device | str | None = None,
    forget_bias: float | None = None,
    n_signal: int = 4,
    n_distract: int = 8,
    d: int = 16,
    eval_at: Sequence[int] = (),
) -> dict:
    """Train a :class:`CopyClassifier` on fresh batches of the copy task with gap L; test on new sequences.

    Adam, cross-entropy, a new batch of B sequences at every step from ``np.random.default_rng(seed)``,
    gradient-norm clipping at ``clip`` (None: no clipping). The test set (eval_n sequences) comes from a
    separate generator seeded ``seed + 10_000``, so it is never trained on (up to chance repeats).

    ``eval_at``: step counts (<= steps) after which the test accuracy is also measured, without changing
    the training (the test sequences and the batches are the same whatever ``eval_at`` is).

    Returns:
        dict with ``accuracy`` (float, on the test sequences), ``train_loss`` (list of floats, one per
        step), ``seconds`` (wall-clock time of training and evaluation), ``accuracy_at`` (step -> accuracy
        for each of ``eval_at``), and the settings.
    """
    t0 = time.perf_counter()
    device = torch.device(device or "cpu")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    V = vocab_size(n_signal, n_distract)
    model = CopyClassifier(V, d, n_hidden, n_signal, cell=cell, forget_bias=forget_bias).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    xt, yt = copy_task(L, eval_n, np.random.default_rng(seed + 10_000), n_signal, n_distract)

    @torch.no_grad()
    def test_accuracy() -> float:
        model.eval()
        pred = model(torch.from_numpy(xt).to(device)).argmax(-1).cpu().numpy()
        model.train()
        return float((pred == yt).mean())

    accuracy_at = {}
    model.train()
    for step in range(1, steps + 1):
        xb, yb = copy_task(L, B, rng, n_signal, n_distract)
        logits = model(torch.from_numpy(xb).to(device))
        loss = F.cross_entropy(logits, torch.from_numpy(yb).to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
        if step in eval_at:
            accuracy_at[step] = test_accuracy()
    acc = accuracy_at[steps] if steps in accuracy_at else test_accuracy()
    model.eval()
    return {
        "cell": cell,
        "L": L,
        "steps": steps,
        "accuracy": acc,
        "accuracy_at": accuracy_at,
        "train_loss": losses,
        "seconds": time.perf_counter() - t0,
    }


def accuracy_vs_gap(cell: str, Ls: Sequence[int], **kw) -> list[dict]:
    """Run :func:`train_copy` once per gap L (same keyword arguments); one row per L.

    Returns:
        list of dicts with keys ``L``, ``accuracy``, ``seconds`` and ``final_loss`` (mean of the last 20
        training losses).
    """
    rows = []
    for L in Ls:
        r = train_copy(cell, L, **kw)
        rows.append(
            {
                "L": L,
                "accuracy": r["accuracy"],
                "seconds": r["seconds"],
                "final_loss": float(np.mean(r["train_loss"][-20:])),
            }
        )
    return rows
