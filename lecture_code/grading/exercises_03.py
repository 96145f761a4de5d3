"""Exercise set 3: other uses of RNNs, in NumPy, batch-first, with the lecture's names.

On top of the cases listed here come the concept cases of :mod:`.cases` (B = 1, n = 1, a stress case at
realistic sizes twice, and per concept: softmax edge rows, max(lengths) < T).

A tagger's per-token scores, its cross-entropy over the real tokens of a padded batch, pooling the
hidden states of a sentence into one vector (final state, max or mean), a multiple-choice question on
why pooling usually beats the final state, and the entity spans of BIO tags. The cases use distinct
sizes (so a transposed U fails on its shape), B = 1, T = 1, sentences with and without padding, a
batch with no padding at all, and for spans a sentence that ends inside a span, an all-O and an empty
sentence. Each known mistake is written as the wrong code a learner
would write; every pair of them gives different results on some case.

Two kinds of padding appear in the pooling cases: an RNN run over the padded batch gives hidden
states at the padding that are as large as the real ones, and packed sequences leave zeros there.
With zeros at the padding and all-negative real states, a max that sees the padding returns 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..numpy_rnn import log_softmax, softmax
from ..numpy_tagging import entity_spans as entity_spans_ref
from ..numpy_tagging import masked_mean_loss as masked_mean_loss_ref
from ..numpy_tagging import pool_hidden_states as pool_hidden_states_ref
from ..numpy_tagging import tagger_logits as tagger_logits_ref
from .cases import far_below, lengths_below, size_cases, softmax_logits
from .checker import BROADCAST_ERROR, Case, Exercise, Mistake, shape_hints
from .questions import choice_exercise

# ---------------------------------------------------------------------------------------------
# tagger_logits


def _tagger_inputs(rng: np.random.Generator, B: int, T: int, n: int, K: int) -> tuple[np.ndarray, ...]:
    H = np.tanh(rng.normal(size=(B, T, n)))
    return H, rng.normal(scale=0.8, size=(K, n)), rng.normal(scale=0.5, size=K)


def _tagger_case(name: str, B: int, T: int, n: int, K: int, seed: int) -> Case:
    return Case(name, _tagger_inputs(np.random.default_rng(seed), B, T, n, K))


def _tagger_cases() -> list[Case]:
    return [
        _tagger_case("(B, T, n, K) = (2, 5, 4, 3)", 2, 5, 4, 3, seed=301),
        _tagger_case("B=1 (one sentence), T=3, n=6, K=2", 1, 3, 6, 2, seed=302),
        _tagger_case("T=1 (one token), B=3, n=5, K=7", 3, 1, 5, 7, seed=303),
        _tagger_case("K = n = 4 (U is square), B=2, T=3", 2, 3, 4, 4, seed=304),
        *size_cases(_tagger_inputs, dict(B=2, T=5, n=4, K=3), dict(B=4, T=24, n=32, K=50), seed=305,
                    ones=("B", "T", "n")),
    ]


TAGGER_SHAPE_HINT = ("a matrix product has mismatched shapes. H is (B, T, n) and U is (K, n), one row per tag, "
                     "so the scores are H @ U.T + b_2, of shape (B, T, K).")

TAGGER_LOGITS = Exercise(
    id="tagger_logits",
    chapter=3,
    signature="tagger_logits(H, U, b_2)",
    summary="Per-token tag scores U h(t) + b_2, batch-first: H (B, T, n), U (K, n), b_2 (K,) -> (B, T, K).",
    reference=tagger_logits_ref,
    make_cases=_tagger_cases,
    arg_names=("H", "U", "b_2"),
    error_hints=shape_hints(TAGGER_SHAPE_HINT, "the bias b_2 (K,) is added to the (B, T, K) scores as it is: no "
                            "reshape to a column, no b_2[:, None]."),
    mistakes=(
        Mistake("U not transposed", "with batch-first rows, U h(t) becomes H @ U.T, not H @ U.",
                lambda H, W, b: H @ W + b),
        Mistake("missing bias", "add the bias: H @ U.T + b_2.", lambda H, W, b: H @ W.T),
        Mistake("softmax probabilities returned as scores", "return the scores U h(t) + b_2 themselves; the "
                "softmax belongs in the loss (log-softmax inside the cross-entropy), not in the scores.",
                lambda H, W, b: softmax(H @ W.T + b)),
        Mistake("log-softmax returned", "return the raw scores U h(t) + b_2, not log-probabilities: "
                "normalising is the loss's job.", lambda H, W, b: log_softmax(H @ W.T + b)),
        Mistake("tanh applied to the scores", "the output layer is linear: no nonlinearity after U h(t) + b_2 "
                "(tanh would squash every score into (-1, 1)).", lambda H, W, b: np.tanh(H @ W.T + b)),
        Mistake("only the last time step", "a tagger scores EVERY token: apply U to all of H (B, T, n), not to "
                "the final state H[:, -1] (that is the sentence classifier).", lambda H, W, b: H[:, -1] @ W.T + b),
        Mistake("argmax tags instead of scores", "return the (B, T, K) scores, not the predicted tag ids: the "
                "loss needs every tag's score.", lambda H, W, b: (H @ W.T + b).argmax(axis=-1)),
    ),
)

# ---------------------------------------------------------------------------------------------
# masked_mean_loss


def _mask(lengths: tuple[int, ...], T: int) -> np.ndarray:
    return np.arange(T)[None, :] < np.array(lengths)[:, None]


def _loss_case(name: str, lengths: tuple[int, ...], T: int, K: int, seed: int, shift: float = 0.0,
               scale: float = 2.0) -> Case:
    """Padded targets hold the pad id 0, as ``text.pad_sequences`` writes; id 0 is also a real tag."""
    rng = np.random.default_rng(seed)
    mask = _mask(lengths, T)
    targets = np.where(mask, rng.integers(0, K, size=mask.shape), 0)
    return Case(name, (shift + rng.normal(scale=scale, size=(*mask.shape, K)), targets, mask))


def _masked_targets(rng: np.random.Generator, B: int, T: int, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Targets (pad id 0 at the padding) and a mask whose longest sentence is shorter than T."""
    mask = _mask(tuple(lengths_below(rng, B, T)), T)
    return np.where(mask, rng.integers(0, K, size=mask.shape), 0), mask


def _masked_inputs(rng: np.random.Generator, B: int, T: int, K: int) -> tuple[np.ndarray, ...]:
    targets, mask = _masked_targets(rng, B, T, K)
    return rng.normal(scale=2.0, size=(B, T, K)), targets, mask


def _concept_loss_cases(rng: np.random.Generator, B: int, T: int, K: int) -> list[Case]:
    """Every softmax concept, each also with targets far below their rows; max(lengths) < T throughout."""
    cases = []
    for name, z in softmax_logits(rng, (B, T, K)):
        targets, mask = _masked_targets(rng, B, T, K)
        cases += [Case(f"(B, T, K) = {(B, T, K)}, max(lengths) < T, {name}", (z, targets, mask)),
                  Case(f"(B, T, K) = {(B, T, K)}, {name}, every other target 800 below its row's max",
                       (far_below(z, targets), targets, mask))]
    return cases


def _loss_cases() -> list[Case]:
    return [
        _loss_case("(B, T, K) = (3, 5, 4), lengths (5, 2, 3)", (5, 2, 3), 5, 4, seed=311),
        _loss_case("(B, T, K) = (2, 4, 6), lengths (1, 4)", (1, 4), 4, 6, seed=312),
        _loss_case("B=1, T=1, K=3", (1,), 1, 3, seed=313),
        _loss_case("all sentences full length (no padding), (B, T, K) = (3, 3, 5)", (3, 3, 3), 3, 5, seed=314),
        _loss_case("large logits around 1000, lengths (3, 2), K=4", (3, 2), 3, 4, seed=315, shift=1000.0,
                   scale=5.0),
        *_concept_loss_cases(np.random.default_rng(316), 3, 5, 6),
        *size_cases(_masked_inputs, dict(B=3, T=5, K=4), dict(B=4, T=24, K=50), seed=317, ones=("B",),
                    note="max(lengths) < T"),
    ]


def _nll(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """-log softmax(z)[y] at every position, padding included: (B, T)."""
    return -np.take_along_axis(log_softmax(z), y[..., None], axis=-1)[..., 0]


def _zero_id_is_padding(z, y, mask):
    keep = y != 0
    return float(_nll(z, y)[keep].mean())


MASKED_MEAN_LOSS = Exercise(
    id="masked_mean_loss",
    chapter=3,
    signature="masked_mean_loss(logits, targets, mask)",
    summary="Mean cross-entropy over the real tokens only: logits (B, T, K), targets (B, T) ints, mask (B, T) bool "
            "-> float.",
    reference=masked_mean_loss_ref,
    make_cases=_loss_cases,
    arg_names=("logits", "targets", "mask"),
    kind="scalar",
    mistakes=(
        Mistake("padding counted in the mean", "padding positions are not tokens: average over the real tokens "
                "only, i.e. sum the loss where mask is True and divide by mask.sum().",
                lambda z, y, m: float(_nll(z, y).mean())),
        Mistake("masked, but divided by B*T", "you zeroed the padding but still divided by B*T: divide the "
                "masked sum by the number of real tokens, mask.sum().",
                lambda z, y, m: float((_nll(z, y) * m).mean())),
        Mistake("sum instead of mean", "J is the MEAN over the real tokens, not their sum.",
                lambda z, y, m: float((_nll(z, y) * m).sum())),
        Mistake("mean of per-sentence means", "average over all real tokens of the batch at once (every token "
                "weighs the same), not each sentence's mean and then the mean over sentences.",
                lambda z, y, m: float(((_nll(z, y) * m).sum(axis=1) / m.sum(axis=1)).mean())),
        Mistake("log base 2", "use the natural log (nats), as the loss and perplexity exp(J) do; np.log2 gives bits.",
                lambda z, y, m: float(_nll(z, y)[m].mean() / np.log(2))),
        Mistake("softmax overflow", "exp(1000) overflows to inf and inf/inf is NaN: compute log-softmax with the "
                "log-sum-exp trick, z - max(z) - log Σ exp(z - max(z)).",
                lambda z, y, m: float(-np.log(np.take_along_axis(
                    np.exp(z) / np.exp(z).sum(-1, keepdims=True), y[..., None], -1)[..., 0])[m].mean())),
        Mistake("target id 0 taken for padding", "use the mask to find the padding, not targets != 0: tag id 0 is a "
                "real tag (often O) and those tokens count too.", _zero_id_is_padding),
    ),
)

# ---------------------------------------------------------------------------------------------
# pool_hidden_states


def _pool_case(name: str, lengths: tuple[int, ...], T: int, n: int, mode: str, seed: int,
               packed: bool = False) -> Case:
    return Case(name, _pool_inputs(np.random.default_rng(seed), np.array(lengths, dtype=np.int64), T, n, mode,
                                   packed))


def _pool_inputs(rng: np.random.Generator, lengths: np.ndarray, T: int, n: int, mode: str, packed: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, str]:
    """H of an RNN run over the padding too (``packed=False``), or all-negative real states and zero padding."""
    H = np.tanh(rng.normal(scale=1.5, size=(len(lengths), T, n)))
    if packed:
        H = np.where(_mask(tuple(lengths), T)[..., None], -(0.05 + 0.9 * np.abs(H)), 0.0)
    return H, lengths, mode


def _pool_sized(rng: np.random.Generator, B: int, T: int, n: int, mode: str, packed: bool = False
                ) -> tuple[np.ndarray, np.ndarray, str]:
    return _pool_inputs(rng, lengths_below(rng, B, T), T, n, mode, packed)


def _pool_cases() -> list[Case]:
    return [
        _pool_case("mode='last', lengths (5, 2, 3), T=5, n=4, states at the padding too", (5, 2, 3), 5, 4,
                   "last", seed=321),
        _pool_case("mode='last', zero padding (packed), lengths (2, 4, 1, 3), T=5, n=3", (2, 4, 1, 3), 5, 3,
                   "last", seed=322, packed=True),
        _pool_case("mode='last', all sentences full length, B=2, T=3, n=6", (3, 3), 3, 6, "last", seed=323),
        _pool_case("mode='max', all-negative real states and zero padding (as packed sequences give), "
                   "lengths (6, 1, 4, 2), T=6, n=3", (6, 1, 4, 2), 6, 3, "max", seed=324, packed=True),
        _pool_case("mode='max', lengths (2, 4), T=4, n=5, states at the padding too", (2, 4), 4, 5, "max",
                   seed=325),
        _pool_case("mode='max', B=1, T=1, n=3", (1,), 1, 3, "max", seed=326),
        _pool_case("mode='mean', lengths (7, 3, 5), T=7, n=2, states at the padding too", (7, 3, 5), 7, 2,
                   "mean", seed=327),
        _pool_case("mode='mean', zero padding (packed), lengths (1, 4), T=4, n=5", (1, 4), 4, 5, "mean",
                   seed=328, packed=True),
        *(case for k, mode in enumerate(("last", "max", "mean")) for packed in (False, True)
          for case in size_cases(_pool_sized, dict(B=3, T=5, n=4), dict(B=6, T=24, n=32), seed=330 + 20 * k
                                 + 10 * packed, extra=dict(mode=mode, packed=packed), note="max(lengths) < T",
                                 label=f"mode={mode!r}, {'zero padding (packed), ' if packed else ''}")),
    ]


def _pool_with(**wrong: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    """The reference, except for the modes given as keywords, each computed by the wrong code given."""
    def pool(H, lengths, mode):
        return wrong[mode](H, lengths) if mode in wrong else pool_hidden_states_ref(H, lengths, mode)
    return pool


def _real(H: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(B, T, 1) mask of the real tokens."""
    return (np.arange(H.shape[1])[None, :] < lengths[:, None])[..., None]


POOL_HIDDEN_STATES = Exercise(
    id="pool_hidden_states",
    chapter=3,
    signature="pool_hidden_states(H, lengths, mode)",
    summary="One vector per sentence from H (B, T, n), ignoring padding: mode 'last' (final real state), 'max' "
            "or 'mean' over the real tokens; lengths (B,) -> (B, n).",
    reference=pool_hidden_states_ref,
    make_cases=_pool_cases,
    arg_names=("H", "lengths", "mode"),
    error_hints=((BROADCAST_ERROR + r" \(\d+,\d+\) \(\d+,\)", "lengths is (B,): to divide the (B, n) sums by it, "
                  "give it an axis, lengths[:, None]."),
                 (BROADCAST_ERROR + r" \(\d+,\d+,\d+\) \(\d+,\d+\)", "the mask of real tokens is (B, T): give it a "
                  "last axis, mask[..., None], to combine it with H (B, T, n)."),
                 ("out of bounds", "sentence b's tokens are at positions 0, ..., lengths[b] - 1.")),
    mistakes=(
        Mistake("'last' taken from the padded end", "the final hidden state of sentence b is at its last REAL "
                "token, H[b, lengths[b] - 1]; H[:, -1] is padding for every shorter sentence.",
                _pool_with(last=lambda H, L: H[:, -1])),
        Mistake("'last' index off by one", "positions count from 0, so a sentence of lengths[b] tokens ends at "
                "H[b, lengths[b] - 1], not H[b, lengths[b]].",
                _pool_with(last=lambda H, L: H[np.arange(len(H)), L])),
        Mistake("max taken over the padding", "H.max(axis=1) also sees the padding; with packed sequences the "
                "padding is 0, so a sentence whose real states are all negative gets 0. Put -inf at the padding "
                "first: np.where(mask[..., None], H, -np.inf).max(axis=1).",
                _pool_with(max=lambda H, L: H.max(axis=1))),
        Mistake("padding zeroed before the max", "H * mask puts 0 at the padding, and 0 beats every negative "
                "real value: fill the padding with -inf (np.where), not 0, before the max.",
                _pool_with(max=lambda H, L: (H * _real(H, L)).max(axis=1))),
        Mistake("padding counted in the mean", "average over the real tokens only: sum H where the mask is "
                "True and divide by lengths[:, None].", _pool_with(mean=lambda H, L: H.mean(axis=1))),
        Mistake("mean divided by T", "(H * mask).mean(axis=1) divides by T, the padded length; divide the masked "
                "sum by each sentence's own length, lengths[:, None].",
                _pool_with(mean=lambda H, L: (H * _real(H, L)).mean(axis=1))),
        Mistake("mean divided by the batch's token count", "divide each sentence's sum by ITS length, "
                "lengths[:, None], not by the number of real tokens in the whole batch, lengths.sum().",
                _pool_with(mean=lambda H, L: (H * _real(H, L)).sum(axis=1) / L.sum())),
    ),
)

# ---------------------------------------------------------------------------------------------
# pooling_choice

POOLING_CHOICE = choice_exercise(
    id="pooling_choice",
    chapter=3,
    summary="why an element-wise max or mean over all hidden states usually encodes a sentence better than the "
            "final hidden state.",
    answer="C",
    why="Every position feeds the pooled vector directly, so the classifier's gradient reaches each word's "
        "hidden state in one step, instead of flowing back from h(L) through every later step of the RNN, where "
        "it shrinks (Chapter 4). The final state is not wrong, only hard to train.",
    wrong=[
        ("A", "the final state has not read every word", "in a left-to-right RNN the final state h(L) is the only "
         "one that HAS read every word of the sentence; that is why it is the obvious choice."),
        ("B", "pooling adds parameters", "an element-wise max or mean has no parameters at all: the pooled model "
         "has exactly the weights of the final-state one."),
        ("D", "the final state is corrupted by padding", "read at each sentence's own last real token, "
         "h(L_b) never sees the padding (exercise 3 does exactly that). Padding is a bug to avoid, not a "
         "property of the final state; and max or mean over the padding would be wrong too."),
    ],
)

# ---------------------------------------------------------------------------------------------
# entity_spans


def _spans_cases() -> list[Case]:
    sentences = [
        ("PER then LOC: the sentence ends inside a span", "B-PER I-PER O B-LOC I-LOC"),
        ("an I- after O starts a span (conlleval)", "O I-ORG I-ORG O B-MISC"),
        ("I- of another type right after a span", "B-PER I-LOC I-LOC O"),
        ("two adjacent entities of the same type", "B-PER B-PER I-PER O O"),
        ("WNUT-17 types with a hyphen", "O B-creative-work I-creative-work O B-person"),
        ("all O", "O O O"),
        ("empty sentence", ""),
        ("one token, B-location", "B-location"),
        ("the sentence starts with I-", "I-PER O"),
        ("everything at once", "B-ORG I-ORG I-PER O I-LOC B-LOC I-LOC B-MISC"),
    ]
    rng = np.random.default_rng(340)
    return [*(Case(name, (tags.split(),)) for name, tags in sentences),
            Case("a long sentence (T=40) with every kind of tag", (_random_tags(rng, 40),)),
            Case("another long sentence (T=40), other tags", (_random_tags(rng, 40),))]


def _random_tags(rng: np.random.Generator, T: int) -> list[str]:
    """T tags: mostly spans that go on (I- of the same type), with O, orphan I- and type changes among them."""
    types, tags = ("PER", "LOC", "creative-work", "ORG"), []
    for r in rng.random(T):
        etype = types[rng.integers(len(types))]
        if tags and tags[-1] != "O" and r < 0.5:
            tags.append("I-" + tags[-1][2:])
        else:
            tags.append("O" if r < 0.7 else f"{'B' if r < 0.9 else 'I'}-{etype}")
    return tags


def _spans(tags, *, end_shift: int = 0, final_shift: int = 0, orphan_i_starts: bool = True,
           type_change_ends: bool = True, b_starts: bool = True, flush: bool = True,
           type_of: Callable[[str], str] = lambda tag: tag[2:]) -> list[tuple[str, int, int]]:
    """A learner's loop over the tags, with one thing changed from the reference by a keyword."""
    spans, start, kind = [], None, None
    for t, tag in enumerate(tags):
        prefix, etype = tag[0], (type_of(tag) if tag != "O" else None)
        if start is not None and etype == kind and (prefix == "I" or not b_starts):
            continue  # the span goes on
        if start is not None and prefix == "I" and not type_change_ends:
            continue
        if start is not None:
            spans.append((kind, start, t + end_shift))
            start = None
        if prefix == "B" or (prefix == "I" and orphan_i_starts):
            start, kind = t, etype
    if start is not None and flush:
        spans.append((kind, start, len(tags) + end_shift + final_shift))
    return spans


def _spans_with(**wrong) -> Callable[..., list[tuple[str, int, int]]]:
    return lambda tags: _spans(tags, **wrong)


ENTITY_SPANS = Exercise(
    id="entity_spans",
    chapter=3,
    signature="entity_spans(tags)",
    summary="The (type, start, end) spans of one sentence's BIO tags, end exclusive, in order, as conlleval "
            "reads them: B-X starts a span, I-X continues one of type X or else starts one.",
    reference=entity_spans_ref,
    make_cases=_spans_cases,
    arg_names=("tags",),
    kind="exact",
    error_hints=(("index out of range", "an index ran past the tags: the empty sentence has no tags, and the "
                  "last tag has no next one. Close a span that reaches the end after the loop."),),
    mistakes=(
        Mistake("span end off by one (inclusive)", "end is exclusive, like a Python slice: tags[start:end] are "
                "the span's tags, so a span ends at the index of the first token AFTER it.",
                _spans_with(end_shift=-1)),
        Mistake("an I- tag that does not start a span", "in conlleval, an I-X after O, at the start of the "
                "sentence, or after a tag of another type starts a new span of type X; you dropped it.",
                _spans_with(orphan_i_starts=False)),
        Mistake("I- of another type continues the span", "a change of type ends the span: B-PER I-LOC is two "
                "spans, ('PER', 0, 1) and ('LOC', 1, 2).", _spans_with(type_change_ends=False)),
        Mistake("final span dropped", "a span that reaches the end of the sentence has no O after it to close "
                "it: after the loop, add the open span, ending at len(tags).", _spans_with(flush=False)),
        Mistake("final span end off by one", "the span that reaches the end of the sentence ends at len(tags) "
                "(exclusive), not len(tags) - 1.", _spans_with(final_shift=-1)),
        Mistake("B- of the same type continues the span", "B-X always starts a new span, even right after a span "
                "of type X: B-PER B-PER I-PER is two people, ('PER', 0, 1) and ('PER', 1, 3).",
                _spans_with(b_starts=False)),
        Mistake("type cut at its second hyphen", "the type is everything after the 'B-' or 'I-' prefix, tag[2:] "
                "(or tag.split('-', 1)[1]): WNUT-17's type creative-work contains a hyphen itself.",
                _spans_with(type_of=lambda tag: tag.split("-")[1])),
    ),
)

EXERCISES_03 = (TAGGER_LOGITS, MASKED_MEAN_LOSS, POOL_HIDDEN_STATES, POOLING_CHOICE, ENTITY_SPANS)
