"""Sentence classification with an RNN encoder, a bag-of-words baseline, and the encoder's sentence vectors.

The lecture's picture: run an RNN over the sentence and classify a *sentence encoding*. The encoding
is the hidden state after the last word, or an element-wise max or mean of all hidden states
(:func:`pool_hidden_states_torch`); the lecture says max or mean usually works better. Only real
tokens are pooled, never padding (the encoder runs on packed sequences; see :mod:`lecture_code.tagging`).

Examples are ``(word ids (L,), label)`` pairs made by :func:`encode_labelled`; batching and the
training loop are the tagger's (:func:`lecture_code.tagging.train_padded`).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .tagging import Batch, Example, RNNEncoder, WordVocab, bucket_batches, train_padded
from .text import Vocab
from .train import History

POOLS = ("last", "max", "mean")


def pool_hidden_states_torch(H: torch.Tensor, lengths: torch.Tensor | np.ndarray, mode: str,
                             bidirectional: bool = False) -> torch.Tensor:
    """Pool hidden states H (B, T, k) over each row's real tokens ``t < lengths[b]`` into (B, k).

    Modes: ``"last"`` the state at the last real token, ``"max"`` the element-wise maximum, ``"mean"``
    the average. Values at padding never matter (even NaN). The torch twin of
    :func:`lecture_code.numpy_tagging.pool_hidden_states`.

    ``bidirectional=True`` changes ``"last"`` only: H is [forward | backward] (k = 2n), and the standard
    sentence encoding is the forward state at the last real token (it has read the whole sentence)
    next to the backward state at position 0 (it too has read the whole sentence, right to left); these
    are the final states ``h_n`` that ``torch.nn.LSTM`` returns for a packed batch.
    """
    if mode not in POOLS:
        raise ValueError(f"mode must be one of {POOLS}, got {mode!r}")
    if H.ndim != 3:
        raise ValueError(f"H must be (B, T, k) hidden states, got shape {tuple(H.shape)}")
    B, T, k = H.shape
    lengths = torch.as_tensor(lengths).to(H.device, torch.int64)
    if lengths.shape != (B,) or int(lengths.min()) < 1 or int(lengths.max()) > T:
        raise ValueError(f"lengths must be (B,) = ({B},) with values in 1..T={T}, got {lengths.tolist()}")
    if bidirectional and k % 2:
        raise ValueError(f"bidirectional states have an even size 2n, got k = {k}")
    real = (torch.arange(T, device=H.device)[None, :] < lengths[:, None])[..., None]  # (B, T, 1)
    if mode == "last":
        last = H[torch.arange(B, device=H.device), lengths - 1]  # (B, k)
        return torch.cat([last[:, : k // 2], H[:, 0, k // 2 :]], dim=-1) if bidirectional else last
    if mode == "max":
        return H.masked_fill(~real, -torch.inf).amax(dim=1)
    return H.masked_fill(~real, 0.0).sum(dim=1) / lengths[:, None].to(H.dtype)


class SentenceClassifier(nn.Module):
    """Embedding -> RNN over the real tokens -> pooled sentence vector -> linear layer to C classes.

    Args:
        V, d, n: vocabulary (``<pad>`` = 0), embedding and hidden sizes.
        C: number of classes.
        cell: ``"lstm"``, ``"rnn"`` or ``"gru"``; pool: ``"last"``, ``"max"`` or ``"mean"``.
        bidirectional: the encoding is 2n wide (see :func:`pool_hidden_states_torch` for ``"last"``).

    ``encode(ids (B, T), lengths (B,))`` -> (B, n or 2n); ``forward(ids, lengths)`` -> logits (B, C).
    """

    def __init__(self, V: int, d: int, n: int, C: int, cell: str = "lstm", pool: str = "last",
                 bidirectional: bool = False) -> None:
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.pool = pool
        self.encoder = RNNEncoder(V, d, n, cell, bidirectional)
        self.head = nn.Linear(self.encoder.out_size, C)

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor | np.ndarray) -> torch.Tensor:
        H = self.encoder(ids, lengths)  # (B, T, n or 2n), zero at padding
        return pool_hidden_states_torch(H, lengths, self.pool, self.encoder.bidirectional)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor | np.ndarray) -> torch.Tensor:
        return self.head(self.encode(ids, lengths))


def tokens_and_label(item: Any) -> tuple[Sequence[str], int]:
    """The (tokens, label) of an item with ``.tokens`` and ``.label`` or of a plain pair."""
    if hasattr(item, "tokens") and hasattr(item, "label"):
        return item.tokens, int(item.label)
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return item[0], int(item[1])
    raise ValueError(f"expected an item with .tokens and .label, or a (tokens, label) pair; got {type(item).__name__}")


def build_word_vocab(items: Sequence[Any], min_freq: int = 2, lower: bool = False) -> WordVocab:
    """A word vocabulary (``<pad>`` = 0, ``<unk>`` = 1) from training items."""
    return WordVocab((w for it in items for w in tokens_and_label(it)[0]), min_freq=min_freq, lower=lower)


def encode_labelled(items: Sequence[Any], vocab: Vocab) -> list[Example]:
    """Items to (word ids (L,) int64, label) pairs, one per item, in order (so indices match the items)."""
    out = []
    for i, (toks, y) in enumerate(map(tokens_and_label, items)):
        if len(toks) == 0:
            raise ValueError(f"item {i} has no tokens; every sentence needs at least one")
        out.append((vocab.encode(toks), y))
    return out


def classification_loss(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy of a classifier on a batch, and the number of sentences."""
    return F.cross_entropy(model(batch.ids, batch.lengths), batch.targets), len(batch.index)


def train_classifier(model: SentenceClassifier, train: Sequence[Example], dev: Sequence[Example] | None = None,
                     **kw: Any) -> History:
    """:func:`lecture_code.tagging.train_padded` with the sentence cross-entropy; the same keyword arguments."""
    return train_padded(model, train, classification_loss, dev, **kw)


@torch.no_grad()
def _per_item(model: nn.Module, data: Sequence[Example], fn: Callable[[nn.Module, Batch], torch.Tensor],
              B: int = 256) -> np.ndarray:
    """Stack ``fn(model, batch)`` rows (B, ...) for every example, in the order of ``data``."""
    model.eval()
    out: np.ndarray | None = None
    for batch in bucket_batches(data, B, device=next(model.parameters()).device):
        rows = fn(model, batch).cpu().numpy()
        if out is None:
            out = np.empty((len(data), *rows.shape[1:]), dtype=rows.dtype)
        out[batch.index] = rows
    assert out is not None
    return out


def predict_proba(model: SentenceClassifier, data: Sequence[Example]) -> np.ndarray:
    """(N, C) class probabilities, in the order of ``data``."""
    return _per_item(model, data, lambda m, b: torch.softmax(m(b.ids, b.lengths), dim=-1))


def classification_accuracy(model: SentenceClassifier, data: Sequence[Example]) -> float:
    """The fraction of sentences whose argmax class is the label."""
    return float((predict_proba(model, data).argmax(1) == np.array([y for _, y in data])).mean())


def misclassified(model: SentenceClassifier, data: Sequence[Example], k: int = 10) -> list[tuple[int, int, int, float]]:
    """The k most confident mistakes as (index into data, gold label, predicted label, p(predicted)), most
    confident first."""
    p = predict_proba(model, data)
    pred, gold = p.argmax(1), np.array([y for _, y in data])
    wrong = np.flatnonzero(pred != gold)
    wrong = wrong[np.argsort(-p[wrong, pred[wrong]], kind="stable")][:k]
    return [(int(i), int(gold[i]), int(pred[i]), float(p[i, pred[i]])) for i in wrong]


# ---------------------------------------------------------------------------------------------
# The baseline: bag-of-words logistic regression


@dataclass
class BowLogReg:
    """A fitted bag-of-words logistic regression: p(label 1 | x) = sigmoid(w · x + b).

    ``features`` maps a unigram (or ``"w1 w2"`` bigram) to its column; unseen features are dropped.
    ``dev_accuracy`` maps each L2 strength tried to its dev accuracy; ``l2`` is the one chosen.
    """

    features: dict[str, int]
    bigrams: bool
    binary: bool
    w: torch.Tensor  # (F,) float64
    b: torch.Tensor  # () float64
    l2: float = 0.0
    dev_accuracy: dict[float, float] = field(default_factory=dict)

    def matrix(self, items: Sequence[Any]) -> torch.Tensor:
        """The sparse (N, F) float64 feature matrix (CSR): counts, or 0/1 with ``binary``."""
        rows, cols, vals = [], [], []
        for r, it in enumerate(items):
            counts = Counter(self.features[g] for g in _grams(tokens_and_label(it)[0], self.bigrams)
                             if g in self.features)
            for c, v in counts.items():
                rows.append(r)
                cols.append(c)
                vals.append(1.0 if self.binary else float(v))
        idx = torch.tensor([rows, cols], dtype=torch.int64).reshape(2, -1)
        X = torch.sparse_coo_tensor(idx, torch.tensor(vals, dtype=torch.float64), (len(items), len(self.features)),
                                    check_invariants=True)
        return _csr(X)

    def logits(self, X: torch.Tensor) -> torch.Tensor:
        return X @ self.w + self.b

    def predict(self, items: Sequence[Any]) -> np.ndarray:
        """(N,) predicted labels 0/1."""
        with torch.no_grad():
            return (self.logits(self.matrix(items)) > 0).long().numpy()

    def accuracy(self, items: Sequence[Any]) -> float:
        return float((self.predict(items) == np.array([tokens_and_label(it)[1] for it in items])).mean())


def _csr(X: torch.Tensor) -> torch.Tensor:
    """A sparse COO matrix in CSR layout: its matrix-vector products are ~10x faster (torch 2.x, CPU)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return X.coalesce().to_sparse_csr()


def _grams(tokens: Sequence[str], bigrams: bool) -> list[str]:
    """The unigrams of a sentence, then (with ``bigrams``) its bigrams written ``"w1 w2"``."""
    toks = list(tokens)
    return toks + ([f"{a} {b}" for a, b in pairwise(toks)] if bigrams else [])


def bow_loss_and_grad(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor, l2: float,
                      Xt: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The regularised loss J = mean_i BCE(x_i · w + b, y_i) + l2/2 |w|^2 and its gradients, by hand.

    X (N, F) (sparse or dense), y (N,) in {0, 1}, w (F,), b (); Xt is X^T, precomputed for a sparse X.
    With p = sigmoid(X w + b): dJ/dw = X^T (p - y) / N + l2 w and dJ/db = sum(p - y) / N.
    Returns (J, dJ/dw, dJ/db).
    """
    z = X @ w + b
    r = (torch.sigmoid(z) - y) / len(y)  # (N,)
    loss = F.binary_cross_entropy_with_logits(z, y) + 0.5 * l2 * (w @ w)
    return loss, (X.T if Xt is None else Xt) @ r + l2 * w, r.sum()


def _minimise(m: BowLogReg, X: torch.Tensor, Xt: torch.Tensor, y: torch.Tensor, max_iter: int) -> None:
    """Set m.w, m.b to the minimiser of :func:`bow_loss_and_grad`'s J on (X, y), by full-batch L-BFGS."""
    w, b = m.w.clone(), m.b.clone()
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-9, tolerance_change=1e-12)

    def closure() -> torch.Tensor:
        loss, w.grad, b.grad = bow_loss_and_grad(X, y, w, b, m.l2, Xt)
        return loss

    opt.step(closure)
    m.w, m.b = w, b


def fit_bow_logreg(train: Sequence[Any], dev: Sequence[Any], *, bigrams: bool = False, binary: bool = True,
                   l2_grid: Sequence[float] = (3e-5, 1e-4, 3e-4, 1e-3), max_iter: int = 200) -> BowLogReg:
    """Fit a binary bag-of-words logistic regression on ``train``, choosing its L2 strength on ``dev``.

    Features are the training set's unigrams (and bigrams); the loss is the mean binary cross-entropy
    plus ``l2 / 2 * |w|^2``, minimised full-batch in float64 by L-BFGS (it is convex). Items have
    ``.tokens`` and ``.label`` in {0, 1}. Returns the model with the best dev accuracy.
    """
    if len(train) == 0 or len(dev) == 0 or not l2_grid:
        raise ValueError("need training items, dev items and at least one L2 strength")
    pairs = [tokens_and_label(it) for it in train]
    if {y for _, y in pairs} - {0, 1}:
        raise ValueError("bag-of-words logistic regression is binary: labels must be 0 or 1")
    grams: dict[str, int] = {}
    for toks, _ in pairs:
        for g in _grams(toks, bigrams):
            grams.setdefault(g, len(grams))
    y = torch.tensor([lab for _, lab in pairs], dtype=torch.float64)
    best: BowLogReg | None = None
    scores: dict[float, float] = {}
    X = None
    for l2 in l2_grid:
        m = BowLogReg(grams, bigrams, binary, torch.zeros(len(grams), dtype=torch.float64),
                      torch.zeros((), dtype=torch.float64), l2)
        if X is None:
            X = m.matrix(train)
            Xt = _csr(X.to_sparse_coo().t())
        _minimise(m, X, Xt, y, max_iter)
        scores[l2] = m.accuracy(dev)
        if best is None or scores[l2] > scores[best.l2]:
            best = m
    assert best is not None
    best.dev_accuracy = scores
    return best


# ---------------------------------------------------------------------------------------------
# The RNN as an encoder: sentence vectors and their neighbours


def sentence_vectors(model: SentenceClassifier, data: Sequence[Example]) -> np.ndarray:
    """(N, n or 2n) sentence encodings, in the order of ``data``."""
    return _per_item(model, data, lambda m, b: m.encode(b.ids, b.lengths))


def nearest_neighbours(Z: np.ndarray, k: int = 5, chunk: int = 1024) -> np.ndarray:
    """(N, k) int64: row i lists the k rows of Z (N, m) most cosine-similar to row i, most similar first,
    never i itself. Ties go to the lower index; an all-zero row has similarity 0 to everything."""
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2:
        raise ValueError(f"Z must be (N, m) vectors, got shape {Z.shape}")
    if not 1 <= k < len(Z):
        raise ValueError(f"k must be in 1..N-1 = {len(Z) - 1}, got {k}")
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    Zn = Z / np.where(norms > 0, norms, 1.0)
    out = np.empty((len(Z), k), dtype=np.int64)
    for lo in range(0, len(Z), chunk):
        S = Zn[lo : lo + chunk] @ Zn.T  # (chunk, N) cosine similarities
        S[np.arange(len(S)), np.arange(lo, lo + len(S))] = -np.inf
        out[lo : lo + chunk] = np.argsort(-S, axis=1, kind="stable")[:, :k]
    return out


def neighbour_label_agreement(Z: np.ndarray, labels: Sequence[int] | np.ndarray, k: int = 5) -> float:
    """The fraction of (item, neighbour) pairs among the k nearest neighbours that share the item's label."""
    labels = np.asarray(labels)
    if labels.shape != (len(Z),):
        raise ValueError(f"need one label per row of Z ({len(Z)}), got shape {labels.shape}")
    return float((labels[nearest_neighbours(Z, k)] == labels[:, None]).mean())
