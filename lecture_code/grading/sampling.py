"""Checking a sampler: its outputs are random, so it is checked by the distribution it draws from.

A correct ``sample_next(logits, temperature, rng)`` may draw with ``rng.choice``, with
inverse-CDF sampling, or with the Gumbel-max trick; each gives different samples from the
same generator, so samples are never compared one by one. Instead every distinct row of
logits is repeated N times, and the empirical frequencies must match softmax(z / τ) within
five binomial standard errors. The same test against each known mistake's distribution
names the mistake. The generator is seeded, so a verdict never changes between runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..numpy_rnn import softmax
from .checker import Exercise, Mistake, Result, Status, _differs, call
from .plain import NDARRAY, Refused, pristine_numpy, type_name

N_PER_ROW = 4000
BASE_LOGITS = np.array([
    [2.0, 1.0, 0.5, 0.0, -1.0, -2.0, 0.3],
    [-0.4, 1.6, 0.1, 1.2, -1.5, 0.7, -0.2],
    [0.0, 0.0, 0.0, 2.5, 0.0, 0.0, 0.0],
])
# Ordinary logits whose top entries are close, so that a low temperature still leaves several likely tokens.
CLOSE_LOGITS = np.array([
    [1.0, 0.9, 0.8, -0.5, 0.2, -1.0, 0.85],
    [0.3, -0.2, 0.25, 0.1, 0.28, -2.0, 0.0],
])
# The softmax concepts: rows 1000 apart (a global max underflows the lower row) and a row 1520 wide whose two
# top tokens both stay likely (0.62 and 0.38) while exp of z minus the row's mean or min overflows for both.
FAR_ROWS = BASE_LOGITS - np.array([[0.0], [1000.0], [0.0]])
WIDE_ROW = np.array([[-760.0, 759.5, -760.0, -760.0, 760.0, -760.0, -760.0], BASE_LOGITS[1]])
# (name, logits rows, temperature); "0.05 with logits up to 40" needs the max subtracted: z / τ reaches 800.
CASES = [
    ("temperature 1", BASE_LOGITS, 1.0),
    ("temperature 0.5", BASE_LOGITS, 0.5),
    ("temperature 2", BASE_LOGITS, 2.0),
    ("temperature 0.05 with logits up to 40", 20.0 * BASE_LOGITS, 0.05),
    ("low temperature 0.08 on ordinary logits (several tokens stay likely)", CLOSE_LOGITS, 0.08),
    ("rows 1000 apart, temperature 1", FAR_ROWS, 1.0),
    ("a row 1520 wide, from -760 to 760, temperature 1", WIDE_ROW, 1.0),  # the other row 758 below its max
    ("V = 50 (a realistic vocabulary), temperature 0.7", np.random.default_rng(150).normal(scale=1.5, size=(2, 50)),
     0.7),
]
# B = 1: one row in, one id out (shape (1,), not a bare number).
ONE_ROW_CASES = [("B = 1 (one row of logits), V = 7", BASE_LOGITS[:1].copy()),
                 ("B = 1, V = 50", CASES[-1][1][:1].copy())]
_RNG = np.random.default_rng

Dist = Callable[[np.ndarray, float], np.ndarray]


def _onehot_argmax(z: np.ndarray, t: float) -> np.ndarray:
    return np.eye(z.shape[-1])[z.argmax(axis=-1)]


MISTAKES: tuple[Mistake, ...] = (
    Mistake("temperature multiplied", "divide the logits by the temperature, softmax(z / τ); multiplying "
            "sharpens when τ > 1 instead of flattening.", lambda z, t: softmax(z * t)),
    Mistake("temperature ignored", "rescale the logits by the temperature before the softmax: softmax(z / τ).",
            lambda z, t: softmax(z)),
    Mistake("argmax instead of sampling", "that is greedy decoding; draw at random from the distribution "
            "with the rng you are given.", _onehot_argmax),
    Mistake("uniform sampling", "the draw must follow softmax(z / τ), not pick every token equally often.",
            lambda z, t: np.full(z.shape, 1.0 / z.shape[-1])),
    Mistake("temperature applied after the softmax", "temperature divides the logits, softmax(z / τ), "
            "not the probabilities (softmax(z) / τ normalised is just softmax(z)).",
            lambda z, t: softmax(z)),  # same distribution as "ignored": kept for the name, never preferred
    Mistake("sign flipped", "higher logits must be more likely: softmax(z / τ), not softmax(-z / τ).",
            lambda z, t: softmax(-z / t)),
)
_DISTINCT_MISTAKES = tuple(m for m in MISTAKES if m.name != "temperature applied after the softmax")

ERROR_HINTS = (
    ("contain NaN", "the probabilities contain NaN: exp(z / τ) overflowed. Subtract the max of z / τ "
     "before exponentiating."),
    ("non-negative", "the probabilities must be non-negative and sum to 1: apply softmax to z / τ first."),
    ("do not sum to 1", "normalise the probabilities so each row sums to 1 (softmax of z / τ)."),
    ("1-dimensional", "rng.choice takes one distribution at a time: loop over the rows, or sample all rows "
     "at once by inverse CDF: (p.cumsum(-1) < rng.random((B, 1))).sum(-1)."),
)


def _frequencies(samples: np.ndarray, V: int, groups: int) -> np.ndarray:
    """(groups, V) empirical frequencies; sample i belongs to group i % groups."""
    f = np.zeros((groups, V))
    for g in range(groups):
        f[g] = np.bincount(samples[g::groups], minlength=V)[:V] / len(samples[g::groups])
    return f


def _agrees(freq: np.ndarray, p: np.ndarray, n: int) -> bool:
    """Every frequency within 5 binomial standard errors (plus a little slack) of p."""
    return bool(np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / n) + 2e-3))


def _output_problem(got: object, rows: int, V: int) -> str | None:
    """What is wrong with a sampler's plain output for ``rows`` rows of V logits, or None."""
    if got is None:
        return "returned None: did you forget the `return` statement?"
    if isinstance(got, Refused):
        return got.reason or f"expected a NumPy array of token ids, got {got.type_name}"
    if type(got) is not NDARRAY:
        return f"expected a NumPy array of token ids, got {type_name(got)}"
    if got.shape == (rows, V):
        return (f"returned an array of shape {got.shape}, the shape of the logits: return one sampled "
                "token id per row, not the probabilities")
    if got.shape != (rows,):
        return f"wrong shape: expected ({rows},) (one id per row), got {got.shape}"
    if got.dtype.kind not in "iu":
        return f"expected integer token ids, got dtype {got.dtype}"
    if got.min() < 0 or got.max() >= V:
        return f"token ids must lie in 0..{V - 1}, got values from {got.min()} to {got.max()}"
    return None


def _run_twice(ex: Exercise, fn: Callable[..., object], name: str, logits: np.ndarray, tau: float, seed: int,
               timeout: float) -> Result | np.ndarray:
    """The learner's samples for one case, called twice with generators seeded alike (they must agree), or
    the Result that ends the check."""
    outs = [call(fn, (logits, tau, _RNG(seed)), timeout) for _ in range(2)]
    first = outs[0]
    if issubclass(type(first.error), NotImplementedError):
        return Result(ex.id, Status.NOT_IMPLEMENTED,
                      f"Replace `raise NotImplementedError` in {ex.signature} with your code.")
    if first.timed_out or outs[1].timed_out:
        return Result(ex.id, Status.TIMEOUT, f"a call on {len(logits)} rows took longer than {timeout:g} s "
                      f"(case '{name}'). Sample all rows at once, or loop over rows without "
                      "recomputing the whole softmax each time.", case=name)
    if first.error is not None:
        hint = next((h for pat, h in ERROR_HINTS if pat in first.error_text), None)
        return Result(ex.id, Status.ERROR, f"case '{name}': it raised {first.error_text}", hint=hint, case=name)
    with pristine_numpy():
        if _differs(logits, first.args_after[0]) is not None:
            return Result(ex.id, Status.FAIL, f"it changed its input `logits` in place on case '{name}'.",
                          case=name)
        problem = _output_problem(first.value, *logits.shape)
        if problem is None and not (outs[1].ok and _differs(first.value, outs[1].value) is None):
            problem = ("two calls with generators seeded alike gave different samples: draw only from the "
                       "`rng` argument (not np.random or a new generator), keep nothing between calls, and "
                       "results are reproducible")
    if problem:
        return Result(ex.id, Status.FAIL, f"case '{name}': {problem}.", case=name)
    return first.value


def validate_sampler(ex: Exercise, fn: Callable[..., object], timeout: float) -> Result:
    """The whole check of a ``sample_next`` implementation (see the module docstring)."""
    for k, (name, base, tau) in enumerate(CASES):
        G, V = base.shape
        logits = np.tile(base, (N_PER_ROW, 1))  # row i is base[i % G]
        got = _run_twice(ex, fn, name, logits, tau, 100 + k, timeout)
        if isinstance(got, Result):
            return got
        with pristine_numpy():
            freq = _frequencies(got, V, G)
            target = softmax(base / tau)
            if _agrees(freq, target, N_PER_ROW):
                continue
            worst = float(np.abs(freq - target).max())
            match = next((m for m in _DISTINCT_MISTAKES if _agrees(freq, m.fn(base, tau), N_PER_ROW)), None)
        return Result(ex.id, Status.FAIL, f"case '{name}': the samples do not follow softmax(logits / "
                      f"temperature): a token's frequency is off by {worst:.3f} over {N_PER_ROW} draws per row.",
                      hint=None if match is None else match.hint, mistake=None if match is None else match.name,
                      case=name)
    # The right distribution, but drawn from `rng`? A generator seeded inside the function is reproducible
    # too, so a differently seeded rng must give different samples.
    name, base, tau = CASES[0]
    logits = np.tile(base, (N_PER_ROW, 1))
    first, other = (call(fn, (logits, tau, _RNG(seed)), timeout) for seed in (100, 999))
    if first.ok and other.ok and _differs(first.value, other.value) is None:
        return Result(ex.id, Status.FAIL, f"case '{name}': generators seeded differently gave the same samples: "
                      "draw from the `rng` argument, not from a generator created inside the function.", case=name)
    for name, logits in ONE_ROW_CASES:
        got = _run_twice(ex, fn, name, logits, 1.0, 7, timeout)
        if isinstance(got, Result):
            return got
    return Result(ex.id, Status.PASS, f"The samples follow softmax(logits / temperature) in all {len(CASES)} "
                  f"cases ({N_PER_ROW} draws per row), are reproducible from the rng, and B = 1 gives one id.")
