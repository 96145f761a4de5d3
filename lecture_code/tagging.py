"""Sequence tagging with an RNN: one label per token (part-of-speech tags, named-entity BIO tags).

The lecture's picture: the RNN reads the sentence and at every step a linear layer turns h(t) into
scores for the K tags, scores(t) = U h(t) + b_2 (``head``; as in :mod:`lecture_code.numpy_tagging`).
A batch is padded to its longest sentence and the RNN runs on a *packed* sequence, so every sentence
stops at its own last token: padding never touches a real hidden state, nor the backward pass of a
bidirectional RNN, which starts at each sentence's real end. Losses and metrics count real tokens only.

Word vocabularies have ``<pad>`` = 0 and ``<unk>`` = 1; words seen fewer than ``min_freq`` times in
training become ``<unk>``, or, with ``shapes=True``, a signature of their form (:func:`word_shape`), so the
model learns embeddings for the unknown words it will meet at test time. Case: lowercasing helped POS
(uni-LSTM, 500 steps: 0.882-0.885 test accuracy against 0.870-0.881 with case kept), because it leaves fewer
unknown test words (9.7% instead of 11.9%); word shapes then give back the capital cue for unknown words
(600 steps: 0.892 without, 0.910 with them).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .numpy_tagging import span_f1
from .text import Vocab, length_mask, pad_sequences
from .train import History, train_until

PAD, UNK = "<pad>", "<unk>"
RNN_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

Example = tuple[np.ndarray, Any]  # (word ids (L,), tag ids (L,) or a class label)


# ---------------------------------------------------------------------------------------------
# The encoder and the tagger


class RNNEncoder(nn.Module):
    """Embedding (``<pad>`` = 0 gets a zero vector) and one recurrent layer run on packed sequences.

    ``forward(ids (B, T), lengths (B,))`` returns the hidden states H (B, T, n), or (B, T, 2n) when
    bidirectional (forward states in ``[..., :n]``, backward in ``[..., n:]``). Rows are zero at padding.
    """

    def __init__(self, V: int, d: int, n: int, cell: str = "lstm", bidirectional: bool = False) -> None:
        super().__init__()
        if cell not in RNN_CELLS:
            raise ValueError(f"cell must be one of {tuple(RNN_CELLS)}, got {cell!r}")
        self.V, self.d, self.n, self.cell, self.bidirectional = V, d, n, cell, bidirectional
        self.out_size = 2 * n if bidirectional else n
        self.embedding = nn.Embedding(V, d, padding_idx=0)
        self.rnn = RNN_CELLS[cell](d, n, batch_first=True, bidirectional=bidirectional)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor | np.ndarray) -> torch.Tensor:
        lengths = _check_lengths(ids, lengths)
        e = self.embedding(ids)  # (B, T, d)
        packed = pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
        H, _ = pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=ids.shape[1])
        return H


def _check_lengths(ids: torch.Tensor, lengths: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Validate a padded batch: ids (B, T), lengths (B,) with 1 <= lengths <= T; lengths as a CPU int64 tensor."""
    if ids.ndim != 2:
        raise ValueError(f"ids must be a (B, T) batch of token ids, got shape {tuple(ids.shape)}")
    lengths = torch.as_tensor(lengths).detach().to("cpu", torch.int64)
    B, T = ids.shape
    if lengths.shape != (B,):
        raise ValueError(f"lengths must have shape (B,) = ({B},), got {tuple(lengths.shape)}")
    if int(lengths.min()) < 1 or int(lengths.max()) > T:
        raise ValueError(f"every length must be in 1..T={T}, got min {int(lengths.min())}, max {int(lengths.max())}")
    return lengths


class SequenceTagger(nn.Module):
    """An RNN tagger: scores(t) = U h(t) + b_2 for every token.

    V words (id 0 is ``<pad>``), embedding size d, hidden size n (per direction), K tags; cell ``"lstm"``,
    ``"rnn"`` (tanh) or ``"gru"``; ``bidirectional`` concatenates a right-to-left RNN, so h(t) is (2n,).
    ``forward(ids (B, T), lengths (B,))`` -> logits (B, T, K); rows at padding hold b_2 only (masked later).
    """

    def __init__(self, V: int, d: int, n: int, K: int, cell: str = "lstm", bidirectional: bool = False) -> None:
        super().__init__()
        self.encoder = RNNEncoder(V, d, n, cell, bidirectional)
        self.head = nn.Linear(self.encoder.out_size, K)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor | np.ndarray) -> torch.Tensor:
        return self.head(self.encoder(ids, lengths))


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real tokens only: logits (B, T, K), targets (B, T), mask (B, T) bool.

    Returns the scalar sum over real tokens of -log softmax(logits)[target], divided by their number.
    Whatever sits at padding (any logits, any target id, even out of range) is never read.
    """
    if logits.ndim != 3 or targets.shape != logits.shape[:2] or mask.shape != logits.shape[:2]:
        raise ValueError(f"expected logits (B, T, K) with targets and mask (B, T); got {tuple(logits.shape)}, "
                         f"{tuple(targets.shape)}, {tuple(mask.shape)}")
    mask = mask.bool()
    if not mask.any():
        raise ValueError("the mask selects no tokens")
    return F.cross_entropy(logits[mask], targets[mask])


# ---------------------------------------------------------------------------------------------
# Vocabularies, encoding, batches


def word_shape(word: str) -> str:
    """A coarse signature of a word's form, for words the vocabulary does not know.

    ``"<unk:Xx>"`` capitalised, ``"<unk:XX>"`` all capitals, ``"<unk:x>"`` lower case, ``"<unk:0>"`` with a
    digit, ``"<unk:@>"`` a user mention, ``"<unk:#>"`` a hashtag, ``"<unk:url>"`` a link, ``"<unk:-->"``
    anything else (punctuation, emoji). An unknown capitalised word is likely a name; an unknown number
    is a number: the tagger can use that even when it has never seen the word.
    """
    if word.startswith("@") and len(word) > 1:
        return "<unk:@>"
    if word.startswith("#") and len(word) > 1:
        return "<unk:#>"
    if word.lower().startswith(("http", "www.")):
        return "<unk:url>"
    if any(c.isdigit() for c in word):
        return "<unk:0>"
    if word.isalpha() or "-" in word or "'" in word:
        if word.isupper() and len(word) > 1:
            return "<unk:XX>"
        if word[:1].isupper():
            return "<unk:Xx>"
        if word[:1].isalpha():
            return "<unk:x>"
    return "<unk:-->"


SHAPES = ("<unk:Xx>", "<unk:XX>", "<unk:x>", "<unk:0>", "<unk:@>", "<unk:#>", "<unk:url>", "<unk:-->")


class WordVocab(Vocab):
    """A word :class:`~lecture_code.text.Vocab` with ``<pad>`` = 0, ``<unk>`` = 1, optional lowercasing.

    Words seen fewer than ``min_freq`` times are left out. They encode to ``<unk>``, or, with
    ``shapes=True``, to their :func:`word_shape` signature (the rare training words then teach the model
    what each signature means). With ``lower=True`` known words are looked up lowercased; the shape is
    always taken from the word as written.
    """

    def __init__(self, words: Iterable[str], min_freq: int = 1, lower: bool = False, shapes: bool = False) -> None:
        self.lower, self.shapes = lower, shapes
        specials = (PAD, UNK, *SHAPES) if shapes else (PAD,)
        super().__init__((w.lower() for w in words) if lower else words, min_freq, specials=specials, unk=UNK)

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        if not self.shapes:
            return super().encode((t.lower() for t in tokens) if self.lower else tokens)
        key = str.lower if self.lower else str
        return np.array([self.stoi.get(key(t), self.stoi[word_shape(t)]) for t in tokens], dtype=np.int64)


def words_and_tags(sentence: Any) -> tuple[Sequence[str], Sequence[str]]:
    """The (words, tags) of a UD sentence (``.words``, ``.upos``), a WNUT sentence (``.tokens``, ``.tags``)
    or a plain ``(words, tags)`` pair."""
    for w, t in (("words", "upos"), ("tokens", "tags")):
        if hasattr(sentence, w) and hasattr(sentence, t):
            return getattr(sentence, w), getattr(sentence, t)
    if isinstance(sentence, (tuple, list)) and len(sentence) == 2:
        return sentence[0], sentence[1]
    raise ValueError(f"expected a sentence with .words/.upos or .tokens/.tags, or a (words, tags) pair; "
                     f"got {type(sentence).__name__}")


def build_vocabs(sentences: Sequence[Any], min_freq: int = 2, lower: bool = False, shapes: bool = False
                 ) -> tuple[WordVocab, Vocab]:
    """Word and tag vocabularies from training sentences. Tags are ordered by frequency, ids 0..K-1.

    ``shapes=True`` encodes unknown words by their :func:`word_shape` (see :class:`WordVocab`)."""
    pairs = [words_and_tags(s) for s in sentences]
    words = WordVocab((w for ws, _ in pairs for w in ws), min_freq=min_freq, lower=lower, shapes=shapes)
    return words, Vocab(t for _, ts in pairs for t in ts)


def encode_tagged(sentences: Sequence[Any], word_vocab: Vocab, tag_vocab: Vocab) -> list[Example]:
    """Sentences to (word ids (L,), tag ids (L,)) int64 pairs, one per sentence, in order.

    A tag missing from ``tag_vocab`` raises ``KeyError`` (a tag vocabulary has no ``<unk>``).
    """
    out = []
    for i, (words, tags) in enumerate(map(words_and_tags, sentences)):
        if len(words) != len(tags) or len(words) == 0:
            raise ValueError(f"sentence {i} has {len(words)} words and {len(tags)} tags; expected as many, at least 1")
        out.append((word_vocab.encode(words), tag_vocab.encode(tags)))
    return out


@dataclass
class Batch:
    """One padded batch. ``targets`` is (B, T) tag ids (0 at padding) or (B,) class labels;
    ``index`` (B,) gives each row's position in the data list."""

    ids: torch.Tensor  # (B, T) int64
    lengths: torch.Tensor  # (B,) int64, on the CPU (pack_padded_sequence wants it there)
    targets: torch.Tensor
    mask: torch.Tensor  # (B, T) bool, True at real tokens
    index: np.ndarray


def make_batch(data: Sequence[Example], index: Sequence[int], device: torch.device | str = "cpu") -> Batch:
    """Pad the examples ``data[i] for i in index`` into one :class:`Batch`."""
    rows = [data[i] for i in index]
    ids, lengths = pad_sequences([x for x, _ in rows])
    if np.ndim(rows[0][1]) == 0:
        targets = np.array([y for _, y in rows], dtype=np.int64)
    else:
        targets = pad_sequences([y for _, y in rows])[0]
        if targets.shape != ids.shape:
            raise ValueError("every example needs exactly one tag per word")
    return Batch(torch.from_numpy(ids).to(device), torch.from_numpy(lengths), torch.from_numpy(targets).to(device),
                 torch.from_numpy(length_mask(lengths)).to(device), np.asarray(index))


def bucket_batches(data: Sequence[Example], B: int, rng: np.random.Generator | None = None,
                   device: torch.device | str = "cpu") -> Iterator[Batch]:
    """One pass over ``data`` in batches of up to B examples of similar length (little padding).

    The examples are sorted by length (ties in random order) and cut into batches; with ``rng`` the
    ties and the order of the batches are shuffled, so each epoch differs but a seed repeats it.
    Without ``rng`` the order is fixed (shortest first), for evaluation.
    """
    if B < 1:
        raise ValueError(f"B must be a positive batch size, got {B}")
    if len(data) == 0:
        raise ValueError("no examples to batch")
    lengths = np.array([len(x) for x, _ in data])
    ties = rng.permutation(len(data)) if rng is not None else np.arange(len(data))
    order = np.lexsort((ties, lengths))
    chunks = [order[i : i + B] for i in range(0, len(order), B)]
    if rng is not None:
        chunks = [chunks[i] for i in rng.permutation(len(chunks))]
    for chunk in chunks:
        yield make_batch(data, chunk, device)


# ---------------------------------------------------------------------------------------------
# Training: one loop for taggers and classifiers

LossFn = Callable[[nn.Module, Batch], tuple[torch.Tensor, int]]  # -> (mean loss, number of items averaged)


def tagging_loss(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
    """Masked cross-entropy of a tagger on a batch, and the number of real tokens."""
    logits = model(batch.ids, batch.lengths)
    return masked_cross_entropy(logits, batch.targets, batch.mask), int(batch.lengths.sum())


@torch.no_grad()
def evaluate_loss(model: nn.Module, data: Sequence[Example], loss_fn: LossFn = tagging_loss, B: int = 256) -> float:
    """The mean loss over all items of ``data`` (tokens for a tagger, sentences for a classifier)."""
    model.eval()
    dev = next(model.parameters()).device
    total, count = 0.0, 0
    for batch in bucket_batches(data, B, device=dev):
        loss, k = loss_fn(model, batch)
        total, count = total + loss.item() * k, count + k
    return total / count


def train_padded(model: nn.Module, train: Sequence[Example], loss_fn: LossFn, dev: Sequence[Example] | None = None,
                 *, steps: int | None = None, seconds: float | None = None, B: int = 32, lr: float = 2e-3,
                 clip: float | None = 1.0, seed: int = 0, eval_every: int | None = None, progress: bool = True,
                 desc: str = "training") -> History:
    """Adam on bucketed padded batches, with gradient-norm clipping, until ``steps`` or ``seconds`` runs out.

    Args:
        model: a tagger or classifier, already on its device.
        train, dev: encoded examples (:func:`encode_tagged`, :func:`~lecture_code.classify.encode_labelled`).
        loss_fn: ``(model, batch) -> (mean loss, count)``, e.g. :func:`tagging_loss`.
        steps: stop after this many optimisation steps; seconds: stop once this much time has passed
            (whichever comes first; give at least one). Use ``steps`` for reproducible runs.
        B, lr, clip: batch size, Adam's learning rate, the clipping threshold (None: no clipping).
        seed: seeds the batch order (initialise the model's weights yourself, e.g. ``torch.manual_seed``).
        eval_every: also evaluate on ``dev`` every so many steps (it is always evaluated at the end).

    Returns:
        A :class:`~lecture_code.train.History`; ``tokens`` counts real (unpadded) training tokens.
    """
    if steps is None and seconds is None:
        raise ValueError("give steps, seconds or both, so that training stops")
    device = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)

    def forever() -> Iterator[Batch]:
        while True:
            yield from bucket_batches(train, B, rng, device)

    batches = forever()

    def next_loss() -> tuple[torch.Tensor, int]:
        batch = next(batches)
        return loss_fn(model, batch)[0], int(batch.lengths.sum())

    return train_until(model, opt, next_loss, steps=steps, seconds=seconds, clip=clip,
                       evaluate=None if dev is None else lambda: evaluate_loss(model, dev, loss_fn),
                       eval_every=eval_every, progress=progress, desc=desc)


def train_tagger(model: SequenceTagger, train: Sequence[Example], dev: Sequence[Example] | None = None,
                 **kw: Any) -> History:
    """:func:`train_padded` with the masked token cross-entropy; the same keyword arguments."""
    return train_padded(model, train, tagging_loss, dev, **kw)


# ---------------------------------------------------------------------------------------------
# Evaluation


@torch.no_grad()
def predict_tags(model: SequenceTagger, data: Sequence[Example], B: int = 256) -> list[np.ndarray]:
    """The argmax tag ids of every sentence, in the order of ``data``: a list of (L_i,) int64 arrays."""
    model.eval()
    out: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * len(data)
    for batch in bucket_batches(data, B, device=next(model.parameters()).device):
        pred = model(batch.ids, batch.lengths).argmax(-1).cpu().numpy()
        for row, i in enumerate(batch.index):
            out[i] = pred[row, : int(batch.lengths[row])]
    return out


def tag_accuracy(model: SequenceTagger, data: Sequence[Example]) -> float:
    """Token accuracy over real tokens: correct tags / all tokens."""
    pred = np.concatenate(predict_tags(model, data))
    return float((pred == np.concatenate([y for _, y in data])).mean())


def most_frequent_tag_baseline(train: Sequence[Any], test: Sequence[Any]) -> float:
    """Token accuracy on ``test`` of tagging each word with its most frequent tag in ``train``.

    Words never seen in training get the most common tag overall; ties go to the tag seen first.
    Sentences are anything :func:`words_and_tags` reads (pass raw words, not ids with ``<unk>``s).
    """
    per_word: dict[Any, Counter] = defaultdict(Counter)
    overall: Counter = Counter()
    for s in train:
        for w, t in zip(*words_and_tags(s), strict=True):
            per_word[w][t] += 1
            overall[t] += 1
    if not overall:
        raise ValueError("the training data has no tagged words")
    best = {w: c.most_common(1)[0][0] for w, c in per_word.items()}
    default = overall.most_common(1)[0][0]
    hits = total = 0
    for s in test:
        for w, t in zip(*words_and_tags(s), strict=True):
            hits += best.get(w, default) == t
            total += 1
    if total == 0:
        raise ValueError("the test data has no tagged words")
    return hits / total


def _flatten(labels: Sequence[Any]) -> list[Any]:
    """A flat list from either flat labels or a list of per-sentence label sequences."""
    if len(labels) and not isinstance(labels[0], str) and np.ndim(labels[0]) == 1:
        return [x.item() if isinstance(x, np.generic) else x for seq in labels for x in seq]
    return [x.item() if isinstance(x, np.generic) else x for x in labels]


def confusion_matrix(gold: Sequence[Any], pred: Sequence[Any], labels: Sequence[Any]) -> np.ndarray:
    """(K, K) int64 counts: ``cm[i, j]`` = tokens with gold label ``labels[i]`` predicted as ``labels[j]``.

    ``gold`` and ``pred`` are flat label sequences or lists of per-sentence sequences (tag strings or ids).
    """
    g, p = _flatten(gold), _flatten(pred)
    if len(g) != len(p):
        raise ValueError(f"gold has {len(g)} labels but pred has {len(p)}")
    pos = {lab: i for i, lab in enumerate(labels)}
    missing = sorted({str(x) for x in g + p if x not in pos})
    if missing:
        raise ValueError(f"labels not in the label list: {missing[:5]}")
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(cm, ([pos[x] for x in g], [pos[x] for x in p]), 1)
    return cm


def most_confused_pairs(cm: np.ndarray, labels: Sequence[Any], k: int = 5) -> list[tuple[Any, Any, int]]:
    """The k largest off-diagonal counts of a confusion matrix as (gold, predicted, count), largest first.

    Ties keep row-major order; pairs with count 0 are left out.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape != (len(labels), len(labels)):
        raise ValueError(f"cm must be (K, K) with K = len(labels) = {len(labels)}, got shape {cm.shape}")
    off = cm.astype(np.int64).copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off.ravel(), kind="stable")[:k]
    return [(labels[i], labels[j], int(off[i, j])) for i, j in zip(*np.unravel_index(flat, off.shape), strict=True)
            if off[i, j] > 0]


def entity_f1(model: SequenceTagger, data: Sequence[Example], tag_vocab: Vocab) -> dict:
    """Span-level precision, recall and F1 of predicted BIO tags (exact type and boundaries, CoNLL style).

    Returns :func:`lecture_code.numpy_tagging.span_f1`'s dict: precision, recall, f1, n_gold, n_pred, n_correct.
    """
    gold = [[tag_vocab.itos[i] for i in y] for _, y in data]
    pred = [[tag_vocab.itos[i] for i in p] for p in predict_tags(model, data)]
    return span_f1(gold, pred)
