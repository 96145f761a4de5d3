"""Tokens, vocabularies, and batches for language modelling.

A language model is trained on one long stream of token ids. For truncated
backpropagation through time the stream is cut into B contiguous rows
(:func:`batchify`), and each training step reads the next T columns of every row
(:func:`lm_batches`). Row b of batch k+1 continues exactly where row b of batch k
stopped, so the hidden state carried from one batch to the next is meaningful.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise

import numpy as np

UNK = "<unk>"


class Vocab:
    """A bijection between tokens and ids ``0 .. len(vocab) - 1``.

    Tokens are ordered by decreasing frequency, ties broken alphabetically, so the
    ids are deterministic. ``specials`` come first. Tokens rarer than ``min_freq`` are
    left out; if ``unk`` is given, unknown tokens encode to its id, otherwise encoding
    an unknown token raises ``KeyError``.
    """

    def __init__(
        self,
        tokens: Iterable[str],
        min_freq: int = 1,
        specials: Sequence[str] = (),
        unk: str | None = None,
    ) -> None:
        counts = Counter(tokens)
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        self.itos: list[str] = list(specials)
        if unk is not None and unk not in self.itos:
            self.itos.append(unk)
        seen = set(self.itos)
        self.itos += [tok for tok, c in ordered if c >= min_freq and tok not in seen]
        self.stoi: dict[str, int] = {tok: i for i, tok in enumerate(self.itos)}
        self.unk_id: int | None = None if unk is None else self.stoi[unk]
        self.counts = counts

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[:8])
        return f"Vocab(size={len(self)}, first=[{head}, ...])"

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        """Token strings to an int64 array of ids."""
        if self.unk_id is None:
            try:
                return np.array([self.stoi[t] for t in tokens], dtype=np.int64)
            except KeyError as err:
                raise KeyError(f"token {err.args[0]!r} is not in the vocabulary (and it has no <unk>)") from None
        return np.array([self.stoi.get(t, self.unk_id) for t in tokens], dtype=np.int64)

    def decode(self, ids: Iterable[int], sep: str = "") -> str:
        """Ids back to text, joined with ``sep`` ("" for characters, " " for words)."""
        return sep.join(self.itos[int(i)] for i in ids)


def chars(text: str) -> list[str]:
    """Character-level tokenisation: every character is a token."""
    return list(text)


def batchify(ids: np.ndarray, B: int) -> np.ndarray:
    """Cut a 1-D stream of ids into B contiguous rows, dropping the ragged tail.

    Returns a (B, L) array with ``L = len(ids) // B``; row b is ``ids[b*L:(b+1)*L]``.
    """
    ids = np.asarray(ids)
    if B < 1:
        raise ValueError(f"B must be a positive number of rows, got {B}")
    if ids.ndim != 1:
        raise ValueError(f"expected a 1-D stream of token ids, got shape {ids.shape}")
    L = len(ids) // B
    if L < 2:
        raise ValueError(f"a stream of {len(ids)} tokens is too short for {B} rows of at least 2 tokens")
    return ids[: B * L].reshape(B, L)


def lm_batches(rows: np.ndarray, T: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Consecutive (inputs, targets) windows over a (B, L) array from :func:`batchify`.

    Yields ``x = rows[:, i:i+T]`` and ``y = rows[:, i+1:i+T+1]``: the targets are the
    inputs shifted one step left, which is teacher forcing. The last window may be shorter.
    """
    L = rows.shape[1]
    for i in range(0, L - 1, T):
        t = min(T, L - 1 - i)
        yield rows[:, i : i + t], rows[:, i + 1 : i + 1 + t]


def split_stream(ids: np.ndarray, fractions: Sequence[float] = (0.9, 0.05, 0.05)) -> list[np.ndarray]:
    """Split one stream into contiguous parts (e.g. train/valid/test) by fractions that sum to 1."""
    if abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must sum to 1, got {fractions}")
    bounds = np.cumsum([0, *fractions])
    cuts = [round(b * len(ids)) for b in bounds]
    return [ids[a:b] for a, b in pairwise(cuts)]


# ---------------------------------------------------------------------------------------------
# Padded batches, for tagging and classification: one sentence per row.


def pad_sequences(seqs: Sequence[Sequence[int] | np.ndarray], pad_id: int = 0, T: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Stack variable-length id sequences into one padded (B, T) array.

    Args:
        seqs: B sequences of token ids, each of length >= 1.
        pad_id: the id written after each sequence's end.
        T: the padded length; default the longest sequence. Longer sequences raise.

    Returns:
        ids: (B, T) int64, row b is ``seqs[b]`` followed by ``pad_id``.
        lengths: (B,) int64, the real length of each row.
    """
    if len(seqs) == 0:
        raise ValueError("pad_sequences needs at least one sequence")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    if lengths.min() < 1:
        raise ValueError(f"every sequence needs at least one token; sequence {int(lengths.argmin())} is empty")
    T = int(lengths.max()) if T is None else T
    if lengths.max() > T:
        raise ValueError(f"T={T} is shorter than the longest sequence ({int(lengths.max())} tokens)")
    ids = np.full((len(seqs), T), pad_id, dtype=np.int64)
    for b, s in enumerate(seqs):
        ids[b, : len(s)] = np.asarray(s, dtype=np.int64)
    return ids, lengths


def length_mask(lengths: Sequence[int] | np.ndarray, T: int | None = None) -> np.ndarray:
    """(B, T) boolean mask, True at real tokens: ``mask[b, t] = t < lengths[b]``."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.ndim != 1 or lengths.size == 0:
        raise ValueError(f"lengths must be a non-empty 1-D array (B,), got shape {lengths.shape}")
    T = int(lengths.max()) if T is None else T
    if lengths.max() > T:
        raise ValueError(f"T={T} is shorter than the longest length ({int(lengths.max())})")
    return np.arange(T)[None, :] < lengths[:, None]
