"""Cases designed per concept, not per exercise (DESIGN.md, "Exercises and the checker").

Every exercise module builds its own inputs with a function ``build(rng, **sizes)``; the helpers
here turn such a builder into the cases that every exercise of a concept must meet:

- :func:`size_cases`: B = 1 and n = 1 (one per size named), and a stress case at realistic sizes
  (T >= 20, V about 50, gradient norms far above any clipping threshold left in, pre-activations in
  the hundreds), twice: the second time with other values but the SAME shapes, so a result kept from
  an earlier call (a cache keyed on shapes) shows. Every case is also called twice by the checker.
- :func:`softmax_logits`: whatever computes a softmax or a log-softmax meets rows far apart (a
  global max underflows them to 0/0), a row wider than 709 (exp of the row's spread overflows:
  subtracting the mean or the min is not enough) and large logits around 1000.
- :func:`far_below`: a target whose logit is far below its row's max (log of a softmax that
  rounds the probability to 0 is -inf).
- :func:`lengths_below`: lengths whose maximum is below T (a mask built from ``max(lengths)``, or
  an index ``lengths.max() - 1`` taken for T - 1, shows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .checker import Case

Builder = Callable[..., tuple[Any, ...]]

PRE = 300.0
"""Typical size of the stress cases' pre-activations: exp(2a) or exp(-a) of a few of them overflows."""
GRAD = 100.0
"""Scale of the stress cases' upstream gradients: their norms are far above any clipping threshold."""


def describe(sizes: dict[str, Any]) -> str:
    """``B=3, d=4, n=5`` for the readable name of a case."""
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


def size_cases(build: Builder, base: dict[str, Any], stress: dict[str, Any], seed: int, *,
               ones: Sequence[str] = ("B", "n"), extra: dict[str, Any] | None = None,
               large: dict[str, Any] | None = None, label: str = "", note: str = "") -> list[Case]:
    """The B = 1 / n = 1 variants of ``base`` (one per name in ``ones``), the stress case, and the stress case
    again with other values and the same shapes. ``extra`` keywords go to every call of ``build`` and
    ``large`` ones (e.g. ``pre=PRE``) to the stress cases only, neither into the names; ``note`` says what
    is large in the stress case."""
    extra, large = extra or {}, large or {}
    cases = [Case(f"{label}{key}=1 ({describe({**base, key: 1})})",
                  build(np.random.default_rng(seed + i), **{**base, key: 1}, **extra), concept=True)
             for i, key in enumerate(ones)]
    name = f"{label}stress: {describe(stress)}" + (f", {note}" if note else "")
    cases.append(Case(name, build(np.random.default_rng(seed + 10), **stress, **extra, **large), concept=True))
    cases.append(Case(f"{label}the stress sizes again with other values (a result kept from the last call "
                      "shows)", build(np.random.default_rng(seed + 11), **stress, **extra, **large), concept=True))
    return cases


def softmax_logits(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 2.0
                   ) -> list[tuple[str, np.ndarray]]:
    """(name, logits of ``shape`` (..., V)) for every softmax concept: rows 1000 apart, one row 1500 wide,
    and all logits around 1000."""
    V = shape[-1]
    apart = rng.normal(scale=scale, size=shape)
    rows = apart.reshape(-1, V)
    rows[1::2] -= 1000.0  # every other row (position) far below the global max
    wide = rng.normal(scale=scale, size=shape)
    wide.reshape(-1, V)[0] = rng.permutation(np.linspace(-760.0, 760.0, V))  # max - mean = 760 > 709; a real token
    large = 1000.0 + rng.normal(scale=5.0, size=shape)
    return [("rows 1000 apart (subtract each row's own max)", apart),
            ("a row 1520 wide, from -760 to 760 (exp of its spread overflows)", wide),
            ("large logits around 1000", large)]


def far_below(logits: np.ndarray, targets: np.ndarray, gap: float = 800.0) -> np.ndarray:
    """A copy of ``logits`` (..., V) where every other target's logit is ``gap`` below its row's max."""
    out = logits.copy()
    rows, ids = out.reshape(-1, out.shape[-1]), targets.reshape(-1)
    pick = np.arange(0, len(ids), 2)
    rows[pick, ids[pick]] = rows[pick].max(axis=-1) - gap
    return out


def lengths_below(rng: np.random.Generator, B: int, T: int) -> np.ndarray:
    """(B,) int64 lengths in 1..T-1 (max(lengths) < T), with a 1 and T - 1 among them when B > 1."""
    if T < 2:
        raise ValueError("lengths below T need T >= 2")
    lengths = rng.integers(1, T, size=B)
    if B > 1:
        lengths[rng.permutation(B)[:2]] = (1, T - 1)
    return lengths.astype(np.int64)


def scaled(rng: np.random.Generator, size: tuple[int, ...], pre: float, fan_in: int, scale: float) -> np.ndarray:
    """Normal inputs that, multiplied by weights of std ``scale`` over ``fan_in`` inputs, give pre-activations
    of std about ``pre`` (plain N(0, 1) when ``pre`` is 0)."""
    x = rng.normal(size=size)
    return x * (pre / (scale * np.sqrt(fan_in))) if pre else x
