"""The experiments of Chapter 6, bidirectional and multi-layer RNNs.

- Which side of a word decides? :func:`word_votes` splits a mean-pooled sentiment classifier's decision into one
  vote per position (and, for a bidirectional encoder, into its forward and backward halves);
  :func:`prefix_probabilities` gives a classifier's prediction after each prefix of a sentence.
- Why a bidirectional RNN is not a language model: :class:`BidirectionalLM` predicts x(t+1) from the state at t of
  an RNN that has already read x(t+1) (its backward half), :func:`causal_nll` scores any such model the way a
  language model is used, reading x(1..t) only, and :func:`sample_left_to_right` generates from it.
- Uni- vs bidirectional over seeds: :func:`fit_and_score` trains one tagger or classifier with an h(t) of a given
  total width, :func:`compare_directions` does so for both directions and several seeds, :func:`spread` summarises.
  :func:`seeds_apart` says whether one model beats the other at every seed (or the seeds' ranges overlap).
- Depth: :func:`depth_sweep` trains plain and residual stacks of several depths for the same number of steps;
  :func:`train_lm_timed` is :func:`lecture_code.train.train_lm` stopped by the clock (a budget in seconds, whose
  step counts depend on the machine and its load).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .classify import SentenceClassifier, classification_accuracy, train_classifier
from .deep_rnn import DeepRNNLM
from .generate import next_token_probs
from .models import State, detach_state, num_params
from .tagging import RNN_CELLS, Example, SequenceTagger, tag_accuracy, train_tagger
from .text import batchify, lm_batches
from .train import History, evaluate_lm, lm_loss_torch, train_lm, train_until

# ---------------------------------------------------------------------------------------------
# Section 1: which words decide a sentence's label?


def _ids_tensor(ids: Sequence[int] | np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(ids), dtype=torch.long, device=device)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"ids must be a non-empty 1-D sequence of token ids, got shape {tuple(x.shape)}")
    return x


@torch.no_grad()
def word_votes(model: SentenceClassifier, ids: Sequence[int] | np.ndarray, positive: int = 1,
               negative: int = 0) -> dict[str, np.ndarray | float]:
    """One sentence's decision, split into one vote per position, for a classifier with ``pool="mean"``.

    The logit difference is linear in the mean of the hidden states, so it is the mean of per-position votes::

        z_pos - z_neg = mean_t v(t) + (b_pos - b_neg),   v(t) = (w_pos - w_neg) . h(t)

    where w_c is row c of the output layer. v(t) is what the state at word t says about the label: a
    unidirectional h(t) has read x(1..t) only; a bidirectional one also the words after t.

    Args:
        model: a :class:`~lecture_code.classify.SentenceClassifier` with ``pool="mean"``.
        ids: (L,) the sentence's word ids. positive, negative: the two classes compared.

    Returns:
        ``vote`` (L,) v(t); ``bias`` b_pos - b_neg; ``logit`` z_pos - z_neg (= mean vote + bias); and, for a
        bidirectional encoder, ``forward`` and ``backward`` (L,), the votes of the two halves of h(t)
        (they sum to ``vote``).
    """
    if model.pool != "mean":
        raise ValueError(f"votes add up to the decision only with pool='mean', got pool={model.pool!r}")
    model.eval()
    W, b = model.head.weight, model.head.bias  # (C, k), (C,)
    x = _ids_tensor(ids, W.device)
    H = model.encoder(x[None], torch.tensor([len(x)]))[0]  # (L, k)
    w = W[positive] - W[negative]  # (k,)
    votes = H @ w
    bias = float(b[positive] - b[negative])
    out: dict[str, np.ndarray | float] = {"vote": votes.cpu().numpy(), "bias": bias,
                                          "logit": float(votes.mean()) + bias}
    if model.encoder.bidirectional:
        n = model.encoder.n
        out["forward"] = (H[:, :n] @ w[:n]).cpu().numpy()
        out["backward"] = (H[:, n:] @ w[n:]).cpu().numpy()
    return out


@torch.no_grad()
def prefix_probabilities(model: SentenceClassifier, ids: Sequence[int] | np.ndarray, label: int = 1) -> np.ndarray:
    """(L,) p(label | x(1..t)): the classifier's probability of ``label`` after reading only the first t words."""
    model.eval()
    x = _ids_tensor(ids, model.head.weight.device)
    L = len(x)
    lengths = torch.arange(1, L + 1)  # row i is the prefix x(1..i+1), padded with id 0 (never read)
    prefixes = torch.where((torch.arange(L)[None] < lengths[:, None]).to(x.device), x[None], 0)  # (L, L)
    return torch.softmax(model(prefixes, lengths), dim=-1)[:, label].cpu().numpy()


# ---------------------------------------------------------------------------------------------
# Section 3: the "bidirectional language model"


class BidirectionalLM(nn.Module):
    """logits(t) = U h(t) + b_2 with h(t) = [h_fwd(t); h_bwd(t)] from a bidirectional RNN over the window.

    It is trained like a language model, to predict x(t+1) at step t, but h_bwd(t) has read x(t), x(t+1), ...
    to the window's end: the answer is in its input. ``bidirectional=False`` gives the honest twin (same
    embedding, cell and head; forward RNN only). Each window is read on its own: no state is carried, so
    ``forward(x (B, T), state=None)`` returns ``(logits (B, T, V), None)`` and trains with
    :func:`lecture_code.train.train_lm`.
    """

    def __init__(self, V: int, d: int, n: int, cell: str = "lstm", bidirectional: bool = True) -> None:
        super().__init__()
        if cell not in RNN_CELLS:
            raise ValueError(f"cell must be one of {tuple(RNN_CELLS)}, got {cell!r}")
        self.V, self.d, self.n, self.bidirectional = V, d, n, bidirectional
        self.embedding = nn.Embedding(V, d)
        self.rnn = RNN_CELLS[cell](d, n, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(2 * n if bidirectional else n, V)

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, None]:
        if x.ndim != 2:
            raise ValueError(f"x must be (B, T) token ids, got shape {tuple(x.shape)}")
        if state is not None:
            raise ValueError("BidirectionalLM reads each window on its own; pass state=None")
        H, _ = self.rnn(self.embedding(x))  # (B, T, 2n) or (B, T, n)
        return self.head(H), None


@torch.no_grad()
def causal_nll(model: nn.Module, ids: np.ndarray, B: int = 16, T: int = 64, max_tokens: int | None = None) -> float:
    """Mean negative log-likelihood (nats per token) of a stream, predicting each x(t+1) from x(1..t) only.

    The stream is cut as :func:`lecture_code.train.evaluate_lm` cuts it (B rows, windows of T); within a
    window, position t's prediction comes from running the model on the window's first t+1 tokens alone,
    which is all a language model has when it generates. For a model that only looks left this equals
    :func:`~lecture_code.train.evaluate_lm` (without a carried state); a model that peeks to the right loses its peek.

    Args:
        model: ``model(x (B, t)) -> (logits (B, t, V), state)``, e.g. :class:`BidirectionalLM`.
        ids: (N,) token ids. max_tokens: use only the first so many (each window costs T forward passes).
    """
    model.eval()
    ids = np.asarray(ids)[:max_tokens]
    dev = next(model.parameters()).device
    B = max(1, min(B, len(ids) // 2))
    rows = torch.as_tensor(batchify(ids, B), device=dev)
    total, count = 0.0, 0
    for x, y in lm_batches(rows, T):
        for t in range(x.shape[1]):
            logits = model(x[:, : t + 1])[0][:, -1]  # (B, V): the model has read x(1..t+1) of this window, no more
            total += F.cross_entropy(logits, y[:, t], reduction="sum").item()
            count += y.shape[0]
    return total / count


@torch.no_grad()
def sample_left_to_right(model: nn.Module, prompt: Sequence[int], n_tokens: int, temperature: float = 1.0,
                         seed: int = 0) -> list[int]:
    """Generate ``n_tokens`` ids after ``prompt`` the only way a language model can: run the model on the text
    so far, sample the next token from the last position, append it, repeat. Returns the new ids.

    Works for any ``model(x (1, t)) -> (logits (1, t, V), state)``; the whole text is re-read at every step, so a
    bidirectional model's backward half always starts at the newest token, with no future to read.
    """
    if len(prompt) == 0:
        raise ValueError("the prompt needs at least one token")
    model.eval()
    dev = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    text = list(prompt)
    for _ in range(n_tokens):
        last = model(torch.tensor([text], device=dev))[0][0, -1].float().cpu()
        text.append(int(torch.multinomial(next_token_probs(last, temperature), 1, generator=gen)))
    return text[len(prompt):]


# ---------------------------------------------------------------------------------------------
# Section 4: unidirectional vs bidirectional, several seeds

TASKS = ("tagger", "classifier")


@dataclass
class TaskData:
    """Encoded examples of one task: ``train`` and ``test`` lists of (ids, target), V words, C tags or classes."""

    train: list[Example]
    test: list[Example]
    V: int
    C: int


def build_model(task: str, data: TaskData, bidirectional: bool, *, d: int, n: int, cell: str = "lstm",
                pool: str = "mean") -> nn.Module:
    """A :class:`~lecture_code.tagging.SequenceTagger` (``task="tagger"``) or a
    :class:`~lecture_code.classify.SentenceClassifier` whose h(t) is ``n`` wide where it reaches the output layer.

    A bidirectional model gets n/2 units per direction: both models have the same output layer, and the
    bidirectional RNN is the smaller one (two RNNs of n/2 units have about half the weights of one of n).
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if bidirectional and n % 2:
        raise ValueError(f"a bidirectional model splits h(t) into two halves: n must be even, got {n}")
    per_dir = n // 2 if bidirectional else n
    if task == "tagger":
        return SequenceTagger(data.V, d, per_dir, data.C, cell, bidirectional)
    return SentenceClassifier(data.V, d, per_dir, data.C, cell, pool, bidirectional)


def fit_and_score(task: str, data: TaskData, bidirectional: bool, seed: int, *, d: int, n: int, steps: int,
                  B: int = 32, lr: float = 1e-2, cell: str = "lstm", pool: str = "mean") -> tuple[nn.Module, float]:
    """Train one model of :func:`build_model` for ``steps`` steps of Adam and return it with its test accuracy
    (token accuracy for a tagger, sentence accuracy for a classifier). ``seed`` seeds the initial weights and
    the batch order, so the same call gives the same model."""
    torch.manual_seed(seed)
    model = build_model(task, data, bidirectional, d=d, n=n, cell=cell, pool=pool)
    if task == "tagger":
        train_tagger(model, data.train, steps=steps, B=B, lr=lr, seed=seed, progress=False)
        return model, tag_accuracy(model, data.test)
    train_classifier(model, data.train, steps=steps, B=B, lr=lr, seed=seed, progress=False)
    return model, classification_accuracy(model, data.test)


def compare_directions(task: str, data: TaskData, seeds: Sequence[int],
                       done: dict[tuple[bool, int], float] | None = None, **cfg: Any) -> dict[str, dict[str, Any]]:
    """:func:`fit_and_score` for both directions and every seed, with the same settings ``cfg``
    (d, n, steps, B, lr, cell, pool).

    ``done`` maps ``(bidirectional, seed)`` to a test accuracy already measured with these settings; that run
    is not repeated. Returns ``{"unidirectional": row, "bidirectional": row}``, each row
    ``{"accuracy": (len(seeds),) array, "params": parameter count, "seconds": time spent training and testing}``.
    """
    done = done or {}
    arch = {k: cfg[k] for k in ("d", "n", "cell", "pool") if k in cfg}
    out = {}
    for bidirectional in (False, True):
        start = time.perf_counter()
        accs = [done[(bidirectional, s)] if (bidirectional, s) in done
                else fit_and_score(task, data, bidirectional, s, **cfg)[1] for s in seeds]
        out["bidirectional" if bidirectional else "unidirectional"] = {
            "accuracy": np.array(accs, dtype=np.float64),
            "params": num_params(build_model(task, data, bidirectional, **arch)),
            "seconds": time.perf_counter() - start}
    return out


def spread(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """(mean, half the range) of a few seeds' results: every run lies within mean ± half-range."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or len(v) == 0:
        raise ValueError(f"need a non-empty 1-D list of results, got shape {v.shape}")
    return float(v.mean()), float((v.max() - v.min()) / 2)


def seeds_apart(lower: Sequence[float] | np.ndarray, upper: Sequence[float] | np.ndarray,
                margin: float = 0.0) -> bool | None:
    """Does ``upper`` beat ``lower`` at every seed? A verdict for :func:`lecture_code.claims.check`.

    True when upper's worst seed is above lower's best by more than ``margin``; False when lower's worst seed is
    above upper's best by more than ``margin`` (the reverse); None (inconclusive) when the two ranges of seeds
    overlap or lie within ``margin`` of each other.
    """
    lo, up = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    if lo.ndim != 1 or up.ndim != 1 or len(lo) == 0 or len(up) == 0:
        raise ValueError(f"need two non-empty 1-D lists of results, got shapes {lo.shape} and {up.shape}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if up.min() > lo.max() + margin:
        return True
    if lo.min() > up.max() + margin:
        return False
    return None


# ---------------------------------------------------------------------------------------------
# Section 5: depth


def depth_sweep(V: int, train_ids: np.ndarray, valid_ids: np.ndarray, depths: Sequence[int], *, n: int, steps: int,
                B: int = 32, T: int = 64, lr: float = 2e-3, cell: str = "lstm", eval_tokens: int | None = None,
                seed: int = 0, device: torch.device | str = "cpu") -> dict[tuple[bool, int], History]:
    """Train a :class:`~lecture_code.deep_rnn.DeepRNNLM` (d = n) at every depth, plain and residual, each for the
    same ``steps`` with :func:`lecture_code.train.train_lm` from ``torch.manual_seed(seed)``.

    A budget in steps, unlike one in seconds, does not depend on the machine's speed or load. One layer has no
    skip connection, so its residual run is the plain one (trained once). Returns ``{(residual, L): History}``
    with the plain runs first; ``History.valid_loss[-1]`` is the final validation loss.
    """
    if not depths or min(depths) < 1:
        raise ValueError(f"depths must be positive layer counts, got {depths}")
    runs: dict[tuple[bool, int], History] = {}
    for residual in (False, True):
        for L in depths:
            if residual and L == 1:
                runs[(True, 1)] = runs[(False, 1)]
                continue
            torch.manual_seed(seed)
            model = DeepRNNLM(V, n, n, L, cell, residual).to(device)
            runs[(residual, L)] = train_lm(model, train_ids, valid_ids, steps=steps, B=B, T=T, lr=lr,
                                           eval_tokens=eval_tokens, progress=False)
    return runs


def train_lm_timed(model: nn.Module, train_ids: np.ndarray, valid_ids: np.ndarray, *, seconds: float,
                   max_steps: int | None = None, B: int = 32, T: int = 64, lr: float = 2e-3, clip: float | None = 1.0,
                   eval_tokens: int | None = None) -> History:
    """Adam with teacher forcing and truncated BPTT, as :func:`lecture_code.train.train_lm`, until ``seconds``
    of training have passed (or ``max_steps``); then one validation. A deeper model gets fewer steps.

    Returns a :class:`~lecture_code.train.History` whose ``valid_loss[-1]`` is the final validation loss.
    """
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    dev = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rows = torch.as_tensor(batchify(train_ids, B), device=dev)
    windows, state = lm_batches(rows, T), None

    def next_loss() -> tuple[torch.Tensor, int]:
        nonlocal windows, state
        batch = next(windows, None)
        if batch is None:  # a new epoch: restart the stream with a zero state
            windows, state = lm_batches(rows, T), None
            batch = next(windows)
        x, y = batch
        logits, state = model(x, None if state is None else detach_state(state))
        return lm_loss_torch(logits, y), y.numel()

    hist = train_until(model, opt, next_loss, steps=max_steps, seconds=seconds, clip=clip, evaluate=None,
                       eval_every=None, progress=False, desc="")
    hist.valid_step.append(hist.steps)
    hist.valid_loss.append(evaluate_lm(model, valid_ids if eval_tokens is None else valid_ids[:eval_tokens]))
    return hist

