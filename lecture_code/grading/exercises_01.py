"""Exercise set 1: the simple RNN language model, in NumPy, batch-first, with the lecture's names.

Each exercise lists its seeded cases (sizes chosen distinct, so that a transposed matrix
fails on its shape, plus the edge cases B = 1, T = 1, zero state) and its known mistakes,
each written as the wrong code a learner would write.
The concept cases of :mod:`.cases` come on top: B = 1, n = 1 and a stress case at realistic sizes
for every exercise, and rows far apart, a row wider than 709 and targets far below their rows for
whatever computes a softmax.

Two questions ask the learner to derive a formula and write it as a function of the sizes, checked on
many sizes so that no constant passes: the perplexity of a uniform guess over |V| words, and the number
of parameters of the RNN-LM (the machinery of such questions is in :mod:`.questions`).
"""

from __future__ import annotations

import numpy as np

from ..numpy_rnn import lm_loss as lm_loss_ref
from ..numpy_rnn import log_softmax
from ..numpy_rnn import perplexity as perplexity_ref
from ..numpy_rnn import rnn_step as rnn_step_ref
from ..numpy_rnn import sample_next as sample_next_ref
from ..numpy_rnn import softmax as softmax_ref
from .cases import PRE, far_below, scaled, size_cases, softmax_logits
from .checker import BROADCAST_ERROR, Case, Exercise, Mistake, shape_hints
from .questions import derived_exercise, int_cases
from .sampling import MISTAKES as SAMPLING_MISTAKES
from .sampling import validate_sampler

SHAPE_HINT = ("a matrix product has mismatched shapes. Rows are examples (batch-first): h_prev is (B, n), "
              "e_t is (B, d), W_h is (n, n) and W_e is (n, d), so the step is h_prev @ W_h.T + e_t @ W_e.T + b1.")

BIAS_HINT = ("two arrays of different shapes were added element-wise: h_prev @ W_h.T and e_t @ W_e.T are both "
             "(B, n), and the bias b1 (n,) is added to every row as it is (no b1[:, None], no reshape to a column).")

# ---------------------------------------------------------------------------------------------
# rnn_step


def rnn_step_inputs(rng: np.random.Generator, B: int, d: int, n: int, zero_state: bool = False, pre: float = 0.0
                    ) -> tuple[np.ndarray, ...]:
    """Seeded inputs of one RNN step, ``(e_t, h_prev, W_h, W_e, b1)``; exercise set 2 reuses them. With ``pre``,
    the embeddings are scaled so that the pre-activations are of that size."""
    e_t = scaled(rng, (B, d), pre, d, 0.6)
    h_prev = np.zeros((B, n)) if zero_state else np.tanh(rng.normal(size=(B, n)))
    W_h = rng.normal(scale=0.6, size=(n, n))
    W_e = rng.normal(scale=0.6, size=(n, d))
    b1 = rng.normal(scale=0.5, size=n)
    return e_t, h_prev, W_h, W_e, b1


def _rnn_case(name: str, B: int, d: int, n: int, seed: int, zero_state: bool = False) -> Case:
    return Case(name, rnn_step_inputs(np.random.default_rng(seed), B, d, n, zero_state))


def _rnn_cases() -> list[Case]:
    return [
        _rnn_case("B=3, d=4, n=5", 3, 4, 5, seed=1),
        _rnn_case("B=1 (one sequence), d=2, n=3", 1, 2, 3, seed=2),
        _rnn_case("zero state h_prev = 0, B=2, d=3, n=6", 2, 3, 6, seed=3, zero_state=True),
        _rnn_case("d = n = 4 (W_e is square)", 3, 4, 4, seed=4),
        *size_cases(rnn_step_inputs, dict(B=3, d=4, n=5), dict(B=8, d=50, n=32), seed=5, large=dict(pre=PRE),
                    note="pre-activations in the hundreds"),
    ]


RNN_STEP = Exercise(
    id="rnn_step",
    chapter=1,
    signature="rnn_step(e_t, h_prev, W_h, W_e, b1)",
    summary="One RNN step, h(t) = tanh(W_h h(t-1) + W_e e(t) + b1), batch-first: (B, d), (B, n) -> (B, n).",
    reference=rnn_step_ref,
    make_cases=_rnn_cases,
    arg_names=("e_t", "h_prev", "W_h", "W_e", "b1"),
    error_hints=shape_hints(SHAPE_HINT, BIAS_HINT),
    mistakes=(
        Mistake("missing tanh", "you returned the pre-activation W_h h(t-1) + W_e e(t) + b1. "
                "Apply the nonlinearity: h(t) = tanh(...).",
                lambda e, h, Wh, We, b: h @ Wh.T + e @ We.T + b),
        Mistake("sigmoid instead of tanh", "the lecture's σ for the simple RNN is tanh (values in (-1, 1)), "
                "not the logistic sigmoid.",
                lambda e, h, Wh, We, b: 1 / (1 + np.exp(-(h @ Wh.T + e @ We.T + b)))),
        Mistake("ReLU instead of tanh", "use tanh, not ReLU, as the nonlinearity.",
                lambda e, h, Wh, We, b: np.maximum(h @ Wh.T + e @ We.T + b, 0)),
        Mistake("W_h and W_e swapped", "W_h multiplies the previous hidden state and W_e multiplies the "
                "embedding: h_prev @ W_h.T + e_t @ W_e.T.",
                lambda e, h, Wh, We, b: np.tanh(h @ We.T + e @ Wh.T + b)),
        Mistake("W_h not transposed", "with batch-first rows, W_h h(t-1) becomes h_prev @ W_h.T, not h_prev @ W_h.",
                lambda e, h, Wh, We, b: np.tanh(h @ Wh + e @ We.T + b)),
        Mistake("W_e not transposed", "with batch-first rows, W_e e(t) becomes e_t @ W_e.T, not e_t @ W_e.",
                lambda e, h, Wh, We, b: np.tanh(h @ Wh.T + e @ We + b)),
        Mistake("both weights not transposed", "with batch-first rows, a column-vector product W x becomes "
                "x @ W.T: use h_prev @ W_h.T + e_t @ W_e.T.",
                lambda e, h, Wh, We, b: np.tanh(h @ Wh + e @ We + b)),
        Mistake("missing bias", "add the bias b1 inside the tanh.",
                lambda e, h, Wh, We, b: np.tanh(h @ Wh.T + e @ We.T)),
        Mistake("bias outside the tanh", "b1 goes inside the nonlinearity: tanh(W_h h + W_e e + b1).",
                lambda e, h, Wh, We, b: np.tanh(h @ Wh.T + e @ We.T) + b),
        Mistake("previous state ignored", "the recurrence needs W_h h(t-1): without it the RNN has no memory.",
                lambda e, h, Wh, We, b: np.tanh(e @ We.T + b)),
    ),
)

# ---------------------------------------------------------------------------------------------
# softmax


def _softmax_cases() -> list[Case]:
    rng = np.random.default_rng(11)
    rows_apart = rng.normal(size=(2, 5))
    rows_apart[1] -= 1000.0  # per-row max subtraction handles this; a global max does not
    return [
        Case("(B, V) = (3, 7)", (rng.normal(scale=2.0, size=(3, 7)),)),
        Case("(B, T, V) = (2, 3, 5), softmax over the last axis", (rng.normal(size=(2, 3, 5)),)),
        Case("large logits around 1000", (1000.0 + rng.normal(scale=5.0, size=(2, 6)),)),
        Case("two rows 1000 apart", (rows_apart,)),
        Case("B=1, V=4", (rng.normal(size=(1, 4)),)),
        *(Case(f"(B, T, V) = (3, 4, 6), {name}", (z,)) for name, z in softmax_logits(rng, (3, 4, 6))),
        *size_cases(lambda rng, B, T, V: (rng.normal(scale=2.0, size=(B, T, V)),), dict(B=2, T=3, V=5),
                    dict(B=4, T=20, V=50), seed=12, ones=("B", "T")),
    ]


def _naive_softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)


SOFTMAX = Exercise(
    id="softmax",
    chapter=1,
    signature="softmax(z)",
    summary="softmax over the last axis, stable for large logits: any shape (..., V) -> same shape.",
    reference=softmax_ref,
    make_cases=_softmax_cases,
    arg_names=("z",),
    error_hints=((BROADCAST_ERROR, "keep the summed axis so it broadcasts: z.sum(axis=-1, keepdims=True)."),),
    mistakes=(
        Mistake("softmax overflow", "exp(1000) overflows to inf and inf/inf is NaN. Subtract each row's max "
                "first: softmax(z) = softmax(z - max(z)), which changes nothing mathematically.",
                _naive_softmax),
        Mistake("global max subtracted", "subtract each row's own max (axis=-1, keepdims=True), not the max "
                "of the whole array: a row far below the global max underflows to 0/0.",
                lambda z: _naive_softmax(z - z.max())),
        Mistake("wrong axis", "normalise over the last axis (the vocabulary), axis=-1, not axis=0.",
                lambda z: np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0)),
        Mistake("normalised over the whole array", "each row (each position) is its own distribution: "
                "sum over axis=-1 with keepdims=True, not over every entry.",
                lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum()),
        Mistake("missing exp", "softmax exponentiates before normalising: exp(z_i) / Σ_j exp(z_j).",
                lambda z: z / z.sum(axis=-1, keepdims=True)),
        Mistake("sum without keepdims", "z.sum(axis=-1) drops the axis, so it broadcasts against the wrong "
                "dimension; use keepdims=True.",
                lambda z: np.exp(z - z.max(axis=-1, keepdims=True))
                / np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1)),
        Mistake("returned log-softmax", "you returned log probabilities; softmax returns probabilities "
                "that are positive and sum to 1.", log_softmax),
    ),
)

# ---------------------------------------------------------------------------------------------
# lm_loss


def _loss_case(name: str, B: int, T: int, V: int, seed: int, scale: float = 2.0, shift: float = 0.0) -> Case:
    rng = np.random.default_rng(seed)
    return Case(name, (shift + rng.normal(scale=scale, size=(B, T, V)), rng.integers(0, V, size=(B, T))))


def _loss_cases() -> list[Case]:
    low = _loss_case("a target whose score is 800 below the rest", 2, 3, 5, seed=24)
    logits, targets = low.args
    logits = logits.copy()
    np.put_along_axis(logits, targets[..., None], -800.0, axis=-1)
    return [
        _loss_case("(B, T, V) = (2, 3, 5)", 2, 3, 5, seed=21),
        _loss_case("(B, T, V) = (4, 2, 7)", 4, 2, 7, seed=22),
        _loss_case("B=1, T=1", 1, 1, 6, seed=23),
        _loss_case("large logits around 1000", 2, 2, 4, seed=25, scale=5.0, shift=1000.0),
        Case(low.name, (logits, targets)),
        *_concept_loss_cases(np.random.default_rng(26), (3, 4, 6)),
        *size_cases(_loss_inputs, dict(B=2, T=3, V=5), dict(B=4, T=20, V=50), seed=27, ones=("B", "T")),
    ]


def _loss_inputs(rng: np.random.Generator, B: int, T: int, V: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(scale=2.0, size=(B, T, V)), rng.integers(0, V, size=(B, T))


def _concept_loss_cases(rng: np.random.Generator, shape: tuple[int, int, int]) -> list[Case]:
    """Every softmax concept, and targets far below their rows on top of each."""
    cases = []
    for name, z in softmax_logits(rng, shape):
        y = rng.integers(0, shape[-1], size=shape[:-1])
        cases += [Case(f"{shape}, {name}", (z, y)),
                  Case(f"{shape}, {name}, every other target 800 below its row's max", (far_below(z, y), y))]
    return cases


def _pick(logp: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]


LM_LOSS = Exercise(
    id="lm_loss",
    chapter=1,
    signature="lm_loss(logits, targets)",
    summary="Mean cross-entropy J = mean over (b, t) of -log softmax(logits)[target]: (B, T, V), (B, T) -> float.",
    reference=lm_loss_ref,
    make_cases=_loss_cases,
    arg_names=("logits", "targets"),
    kind="scalar",
    mistakes=(
        Mistake("sum instead of mean", "J is the mean over all B*T positions, not their sum.",
                lambda z, y: float(-_pick(log_softmax(z), y).sum())),
        Mistake("log of a softmax that underflows", "softmax can round a tiny probability to 0 and log(0) = "
                "-inf. Compute log-softmax directly: z - max(z) - log Σ exp(z - max(z)).",
                lambda z, y: float(-np.log(_pick(softmax_ref(z), y)).mean())),
        Mistake("softmax overflow", "exp(1000) overflows; subtract each row's max before exponentiating "
                "(the log-sum-exp trick).",
                lambda z, y: float(-np.log(_pick(_naive_softmax(z), y)).mean())),
        Mistake("missing minus sign", "cross-entropy is the NEGATIVE log-probability of the target, so it is >= 0.",
                lambda z, y: float(_pick(log_softmax(z), y).mean())),
        Mistake("log base 2", "use the natural log (nats), as perplexity = exp(J) assumes; np.log2 gives bits.",
                lambda z, y: float(-_pick(log_softmax(z), y).mean() / np.log(2))),
        Mistake("averaged over the whole vocabulary", "pick the log-probability of the target word only "
                "(one-hot y), then average over positions; do not average over all V entries.",
                lambda z, y: float(-log_softmax(z).mean())),
        Mistake("summed over the batch", "average over every position, batch included: divide by B*T, not T.",
                lambda z, y: float(-_pick(log_softmax(z), y).mean(axis=-1).sum())),
        Mistake("no softmax", "logits are not log-probabilities: normalise with log-softmax first.",
                lambda z, y: float(-_pick(z, y).mean())),
        Mistake("fancy indexing picks every target", "logp[..., targets] takes every target at every "
                "position; pick one entry per position with np.take_along_axis(logp, targets[..., None], -1).",
                lambda z, y: float(-log_softmax(z)[..., y].mean())),
    ),
)

# ---------------------------------------------------------------------------------------------
# perplexity


def _ppl_cases() -> list[Case]:
    # np.float64, not a Python float: with a Python float, 1 / J raises ZeroDivisionError at J = 0 and the
    # learner's exp(1/J) never matches the registered mistake (which NumPy division makes inf)
    # 700 keeps exp(J) finite in float64 (about 1e304) but not in float32; ln 50 is a uniform guess over 50 words
    return [Case(f"J = {j}", (np.float64(j),)) for j in (1.0, 4.605170185988092, 0.25, 2.302585092994046, 0.0,
                                                         700.0, float(np.log(50.0)))]


PERPLEXITY = Exercise(
    id="perplexity",
    chapter=1,
    signature="perplexity(mean_nll)",
    summary="Perplexity from the mean negative log-likelihood in nats: exp(J).",
    reference=perplexity_ref,
    make_cases=_ppl_cases,
    arg_names=("mean_nll",),
    kind="scalar",
    mistakes=(
        Mistake("base 2", "J is in nats (natural log), so perplexity = exp(J), not 2**J.", lambda j: 2.0**j),
        Mistake("exp of minus J", "perplexity is exp(+J): the inverse probability, so it is >= 1.",
                lambda j: float(np.exp(-j))),
        Mistake("returned J itself", "perplexity is the exponential of the loss: exp(J).", lambda j: float(j)),
        Mistake("rounded to an integer", "keep perplexity a float; exp(J) is rarely a whole number.",
                lambda j: int(np.exp(j))),
        Mistake("exp(1/J)", "the 1/T in the lecture's product formula is already inside J, the mean; "
                "perplexity = exp(J).", lambda j: float(np.exp(1.0 / j)) if j else float("inf")),
    ),
)

# ---------------------------------------------------------------------------------------------
# sample_next: random output, so it is checked by its distribution (see sampling.py)

SAMPLE_NEXT = Exercise(
    id="sample_next",
    chapter=1,
    signature="sample_next(logits, temperature, rng)",
    summary="One sample per row from softmax(logits / temperature), drawn with rng: (B, V) -> (B,) ints.",
    reference=sample_next_ref,
    make_cases=list,
    mistakes=SAMPLING_MISTAKES,  # each fn is the distribution the mistaken sampler draws from
    arg_names=("logits", "temperature", "rng"),
    kind="custom",
    timeout=20.0,
    validate=validate_sampler,
)

# ---------------------------------------------------------------------------------------------
# uniform_perplexity


def uniform_perplexity(V: int) -> float:
    """A model that gives every word probability 1/|V| has J = -log(1/|V|) = log |V| at every position, so its
    perplexity is exp(log |V|) = |V|."""
    return float(V)


_UNIFORM_CASES = int_cases(("V",), [
    ("Tiny Shakespeare's characters", (65,)),
    ("two words", (2,)),
    ("Penn Treebank's words", (10_000,)),
    ("a one-word vocabulary: never surprised", (1,)),
    ("", (7,)),
    ("stress: the One Billion Word vocabulary", (793_471,)),
])

UNIFORM_PERPLEXITY = derived_exercise(
    id="uniform_perplexity",
    chapter=1,
    signature="uniform_perplexity(V)",
    summary="Derive: the perplexity of a model that gives every word of a vocabulary of V words the same "
            "probability, as a function of V.",
    reference=uniform_perplexity,
    make_cases=_UNIFORM_CASES,
    arg_names=("V",),
    mistakes=(
        Mistake("returned the loss log V", "log |V| is the uniform model's loss J, in nats; its perplexity is "
                "exp(J) = exp(log |V|).", lambda V: float(np.log(V))),
        Mistake("returned the probability 1/V", "1/|V| is the probability the model gives the right word; "
                "perplexity is the INVERSE probability (normalised by length), so it is >= 1.",
                lambda V: 1.0 / V),
        Mistake("log base 2 of V", "log2 |V| is the loss in bits (the entropy of a uniform guess); perplexity "
                "is 2 to the bits, or e to the nats: the logarithm cancels.", lambda V: float(np.log2(V))),
        Mistake("2 to the power log V", "J = log |V| is in nats (natural log), so perplexity = exp(J), not 2**J.",
                lambda V: float(2.0 ** np.log(V))),
        Mistake("exp of the probability", "the loss is MINUS THE LOG of the probability, J = -log(1/|V|) = "
                "log |V|, not the probability 1/|V| itself.", lambda V: float(np.exp(1.0 / V))),
    ),
)

# ---------------------------------------------------------------------------------------------
# rnn_lm_num_params


def rnn_lm_num_params(V: int, d: int, n: int) -> int:
    """E (d x |V|), W_h (n x n), W_e (n x d), b_1 (n), U (|V| x n), b_2 (|V|)."""
    return d * V + n * n + n * d + n + V * n + V


_PARAMS_CASES = int_cases(("V", "d", "n"), [
    ("the chapter's sizes", (11, 3, 5)),
    ("", (50, 16, 32)),
    ("d = n", (20, 8, 8)),
    ("n = 1", (9, 4, 1)),
    ("d > n", (30, 12, 7)),
    ("stress: a word-level model", (10_000, 650, 650)),
    ("stress: the One Billion Word vocabulary", (793_471, 1024, 2048)),
])

RNN_LM_NUM_PARAMS = derived_exercise(
    exact=True,
    id="rnn_lm_num_params",
    chapter=1,
    signature="rnn_lm_num_params(V, d, n)",
    summary="Derive: the number of parameters (numbers) of the RNN-LM, E, W_h, W_e, b_1, U and b_2, as a "
            "function of |V|, d and n.",
    reference=rnn_lm_num_params,
    make_cases=_PARAMS_CASES,
    arg_names=("V", "d", "n"),
    mistakes=(
        Mistake("biases forgotten", "b_1 (n numbers) and b_2 (|V| numbers) are parameters too.",
                lambda V, d, n: d * V + n * n + n * d + V * n),
        Mistake("embeddings E forgotten", "the embedding matrix E (d x |V|, one column per word) is learnt "
                "with the rest: it is usually one of the two largest matrices.",
                lambda V, d, n: n * n + n * d + n + V * n + V),
        Mistake("output layer forgotten", "the output layer U (|V| x n) and its bias b_2 (|V|) turn h(t) into "
                "the scores over the vocabulary; they are parameters of the model too.",
                lambda V, d, n: d * V + n * n + n * d + n),
        Mistake("d and n swapped", "d is the embedding size and n the hidden size: E is d x |V|, W_h is n x n, "
                "W_e is n x d, U is |V| x n.", lambda V, d, n: n * V + d * d + d * n + d + V * d + V),
        Mistake("b_2 of size n", "b_2 is added to the scores U h(t), one per word: it has |V| entries, not n.",
                lambda V, d, n: d * V + n * n + n * d + n + V * n + n),
    ),
)

EXERCISES_01 = (RNN_STEP, RNN_LM_NUM_PARAMS, SOFTMAX, LM_LOSS, PERPLEXITY, UNIFORM_PERPLEXITY, SAMPLE_NEXT)
