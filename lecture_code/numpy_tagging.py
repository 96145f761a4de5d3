"""Other uses of RNNs (lecture 6, section 2) in NumPy: tagging, sentence encoding, and span scoring.

An RNN run over a padded batch gives hidden states H (B, T, n), one row h(t) per token. Then:

- a **tagger** scores every token: scores(t) = U h(t) + b_2, with U : K x n and b_2 : K for K tags,
  batch-first ``H @ U.T + b_2``; it is trained with the cross-entropy averaged over the REAL tokens
  only (:func:`masked_mean_loss`);
- a **sentence classifier** first pools the hidden states into one vector per sentence: the final
  hidden state, or the element-wise max or mean over the sentence (:func:`pool_hidden_states`);
- **named entity recognition** reads entity spans off BIO tags (:func:`entity_spans`) and is scored by
  exact-match span F1 (:func:`span_f1`), as in the CoNLL-2003 shared task.

Padding follows ``lecture_code.text``: row b holds a sentence of ``lengths[b]`` tokens followed by
padding, and ``mask[b, t] = t < lengths[b]``. These functions are the reference the exercise checker
compares learners' code against, so they favour clarity and float64 exactness over speed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .numpy_rnn import log_softmax

POOL_MODES = ("last", "max", "mean")


def tagger_logits(H: np.ndarray, U: np.ndarray, b_2: np.ndarray) -> np.ndarray:
    """Per-token tag scores U h(t) + b_2 (scores, not probabilities).

    Args:
        H: (B, T, n) hidden states.
        U: (K, n) output weights, one row per tag.
        b_2: (K,) output bias.

    Returns:
        (B, T, K) scores ``H @ U.T + b_2``.
    """
    H, U, b_2 = np.asarray(H), np.asarray(U), np.asarray(b_2)
    if H.ndim != 3 or U.ndim != 2 or b_2.shape != (U.shape[0],) or U.shape[1] != H.shape[-1]:
        raise ValueError(f"expected H (B, T, n), U (K, n) and b_2 (K,), got shapes {H.shape}, {U.shape} and "
                         f"{b_2.shape}")
    return H @ U.T + b_2


def _check_mask(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != np.bool_ or mask.shape != shape:
        raise ValueError(f"mask must be a boolean array of shape {shape} (True at real tokens), got "
                         f"{mask.dtype} of shape {mask.shape}")
    return mask


def masked_mean_loss(logits: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> float:
    """Mean cross-entropy -log softmax(scores(t))[y(t)] over the real tokens only, in nats.

    Stable for any finite logits (log-softmax by the log-sum-exp trick). Padding positions may hold
    any target id; they are neither read nor counted.

    Args:
        logits: (B, T, K) tag scores.
        targets: (B, T) integer tag ids.
        mask: (B, T) bool, True at real tokens; at least one must be True.

    Returns:
        sum over real tokens of the loss / number of real tokens, as a Python float.
    """
    logits, targets = np.asarray(logits), np.asarray(targets)
    if logits.ndim != 3 or targets.shape != logits.shape[:2] or not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"expected logits (B, T, K) and integer targets (B, T), got {logits.shape} and "
                         f"{targets.dtype} {targets.shape}")
    mask = _check_mask(mask, targets.shape)
    if not mask.any():
        raise ValueError("the mask selects no token: the mean over real tokens is undefined")
    y = np.where(mask, targets, 0)  # padding may hold any id (e.g. -100); read a valid one and drop it below
    nll = -np.take_along_axis(log_softmax(logits), y[..., None], axis=-1)[..., 0]
    return float(nll[mask].sum() / mask.sum())


def _check_lengths(lengths: np.ndarray, B: int, T: int) -> np.ndarray:
    lengths = np.asarray(lengths)
    if lengths.shape != (B,) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be (B,) = ({B},) integers, got {lengths.dtype} of shape {lengths.shape}")
    if lengths.size and (lengths.min() < 1 or lengths.max() > T):
        raise ValueError(f"every length must be in 1..T = 1..{T}, got {lengths.tolist()}")
    return lengths


def pool_hidden_states(H: np.ndarray, lengths: np.ndarray, mode: str) -> np.ndarray:
    """One vector per sentence from its hidden states, ignoring padding.

    Args:
        H: (B, T, n) hidden states; row b is real for t < lengths[b], padding after.
        lengths: (B,) ints in 1..T, the real length of each sentence.
        mode: ``'last'``: the final hidden state of the REAL sentence, H[b, lengths[b] - 1] (not the last
            position); ``'max'``: the element-wise max over the real tokens; ``'mean'``: their mean.

    Returns:
        (B, n) sentence encodings.
    """
    H = np.asarray(H)
    if mode not in POOL_MODES:
        raise ValueError(f"mode must be one of {POOL_MODES}, got {mode!r}")
    if H.ndim != 3:
        raise ValueError(f"H must be (B, T, n), got shape {H.shape}")
    B, T, _ = H.shape
    lengths = _check_lengths(lengths, B, T)
    if mode == "last":
        return H[np.arange(B), lengths - 1]
    real = (np.arange(T)[None, :] < lengths[:, None])[..., None]  # (B, T, 1)
    if mode == "max":
        return np.where(real, H, -np.inf).max(axis=1)
    return np.where(real, H, 0.0).sum(axis=1) / lengths[:, None]


# ---------------------------------------------------------------------------------------------
# Named entities: BIO tags to spans, and span F1


def _split_tag(tag: str, t: int) -> tuple[str, str | None]:
    """('O', None) for 'O', else (prefix, type) for 'B-TYPE' / 'I-TYPE'; the type may contain '-'."""
    if tag == "O":
        return "O", None
    if isinstance(tag, str) and tag[:2] in ("B-", "I-") and len(tag) > 2:
        return tag[0], tag[2:]
    raise ValueError(f"expected BIO tags 'O', 'B-TYPE' or 'I-TYPE', got {tag!r} at position {t}")


def entity_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The entity spans in one sentence's BIO tags, as (type, start, end) with ``end`` exclusive, in order.

    Follows the CoNLL-2003 ``conlleval`` convention: B-X always starts a span; an I-X starts a new
    span when it follows O (or the sentence start) or a tag of another type, and otherwise continues
    the current span; a span ends at O, at a B- tag, at a change of type, or at the end of the sentence.
    For example ``B-PER I-PER O I-LOC B-LOC`` gives ``[('PER', 0, 2), ('LOC', 3, 4), ('LOC', 4, 5)]``.

    Raises:
        ValueError: for a tag that is not 'O', 'B-TYPE' or 'I-TYPE' (e.g. 'X' or 'B-').
    """
    spans: list[tuple[str, int, int]] = []
    start, kind = None, None
    for t, tag in enumerate([*tags, "O"]):  # the extra O closes a span that reaches the end
        prefix, etype = _split_tag(tag, t)
        if start is not None and (prefix != "I" or etype != kind):
            spans.append((kind, start, t))
            start = None
        if prefix == "B" or (prefix == "I" and start is None):
            start, kind = t, etype
    return spans


def span_f1(gold: list[list[str]], pred: list[list[str]]) -> dict[str, float | int]:
    """Exact-match span precision, recall and F1, micro-averaged over sentences (as ``conlleval``).

    A predicted span is correct when a gold span in the same sentence has the same type, start and end.

    Args:
        gold: the gold BIO tags, one list per sentence.
        pred: the predicted BIO tags, the same number of sentences and tokens.

    Returns:
        A dict with ``precision`` = n_correct / n_pred, ``recall`` = n_correct / n_gold, ``f1`` (their
        harmonic mean), each 0.0 where its denominator is 0, and the counts ``n_gold``, ``n_pred``, ``n_correct``.
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold and pred must hold the same number of sentences, got {len(gold)} and {len(pred)}")
    n_gold = n_pred = n_correct = 0
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i} has {len(g)} gold tags but {len(p)} predicted tags")
        g_spans, p_spans = set(entity_spans(g)), set(entity_spans(p))
        n_gold, n_pred, n_correct = n_gold + len(g_spans), n_pred + len(p_spans), n_correct + len(g_spans & p_spans)
    precision = n_correct / n_pred if n_pred else 0.0
    recall = n_correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_gold": n_gold, "n_pred": n_pred,
            "n_correct": n_correct}
