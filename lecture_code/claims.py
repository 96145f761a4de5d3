"""Measured claims: what a chapter says about its numbers, checked where the numbers are made.

A chapter does not only print numbers; it says what they mean ("the LSTM's perplexity is below
the RNN's"). Each such sentence is stated once in code, next to the measurement::

    from lecture_code import claims
    claims.less("the trained model beats the uniform model", val_loss, np.log(V), margin=1.0,
                labels=("test J", "log |V|"))

which prints three plain lines::

    ✔ holds: the trained model beats the uniform model
      criterion: test J < log |V| − 1
      measured: test J ≈ 1.797, log |V| ≈ 4.174

The first two lines (the verdict and how it is decided) are the same on every machine. The third
carries the digits, each after "≈", which the notebook tests mask (``nbval_sanitize.cfg``): a
trained model's digits change from one CPU to another, its verdicts must not.

Three verdicts:

``holds``          the criterion is met (beyond its margin);
``does not hold``  the opposite is met beyond the margin;
``inconclusive``   the measurement falls inside the margin: too close to call at this budget.

Each claim says which verdict the prose relies on (``expect``, by default ``holds``). When the
measured verdict differs, the claim raises :class:`ClaimError`, so the notebook fails: the prose
would otherwise state something the numbers no longer support. Where an honest run shows that
a claim of the lecture does not hold at the book's budget, the prose says so and the claim is
written with ``expect="does not hold"``, guarding that verdict instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["holds", "does not hold", "inconclusive"]
VERDICTS: tuple[Verdict, ...] = ("holds", "does not hold", "inconclusive")
_MARK = {"holds": "✔", "does not hold": "✘", "inconclusive": "?"}


class ClaimError(AssertionError):
    """A claim's measured verdict differs from the verdict the prose relies on."""


@dataclass(frozen=True)
class Claim:
    """One checked claim: the statement, how it is judged, what was measured, and the verdict."""

    statement: str
    verdict: Verdict
    criterion: str
    measured: Mapping[str, float] = field(default_factory=dict)
    expect: tuple[Verdict, ...] = ("holds",)

    @property
    def ok(self) -> bool:
        """True when the measured verdict is one the prose allows."""
        return self.verdict in self.expect

    def verdict_line(self) -> str:
        """The machine-independent line: mark, verdict, statement."""
        return f"{_MARK[self.verdict]} {self.verdict}: {self.statement}"

    def detail_line(self) -> str:
        """The criterion, and on a line of its own the measured values (their digits follow '≈')."""
        values = ", ".join(f"{k} ≈ {_fmt(v)}" for k, v in self.measured.items())
        return f"  criterion: {self.criterion}" + (f"\n  measured: {values}" if values else "")

    def __str__(self) -> str:
        return f"{self.verdict_line()}\n{self.detail_line()}"

    def _ipython_display_(self) -> None:
        # The claim was printed when it was made; as a cell's last value it shows nothing more.
        pass


LOG: list[Claim] = []
"""Every claim made in this process, in order (a chapter's recap can list them)."""


def _fmt(x: float) -> str:
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e6):
        return f"{x:.2e}"
    return f"{x:.4g}" if abs(x) < 100 else f"{x:,.1f}"


def _expect(expect: Verdict | Iterable[Verdict]) -> tuple[Verdict, ...]:
    allowed = (expect,) if isinstance(expect, str) else tuple(expect)
    bad = [v for v in allowed if v not in VERDICTS]
    if bad or not allowed:
        raise ValueError(f"expect must be one or more of {VERDICTS}, got {expect!r}")
    return allowed


def record(statement: str, verdict: Verdict, *, criterion: str, measured: Mapping[str, float] | None = None,
           expect: Verdict | Iterable[Verdict] = "holds", quiet: bool = False) -> Claim:
    """Record a claim whose verdict was decided by the caller; print it; raise if it is not expected.

    Args:
        statement: the sentence of the prose, in words (no digits that vary between machines).
        verdict: ``"holds"``, ``"does not hold"`` or ``"inconclusive"``.
        criterion: how the verdict was decided, with its tolerance or margin.
        measured: the numbers behind the verdict, by name.
        expect: the verdict (or verdicts) the prose relies on.
        quiet: do not print.

    Raises:
        ClaimError: the verdict is not among ``expect``.
    """
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    claim = Claim(statement, verdict, criterion, dict(measured or {}), _expect(expect))
    LOG.append(claim)
    if not quiet:
        print(claim)
    if not claim.ok:
        wanted = " or ".join(repr(v) for v in claim.expect)
        raise ClaimError(f"the prose relies on {wanted}, but the measurement says {verdict!r}: {statement}\n"
                         f"{claim.detail_line().strip()}\nIf training or the code changed, re-read the prose "
                         "around this cell: it may no longer be true.")
    return claim


def check(statement: str, holds: bool | None, *, criterion: str, measured: Mapping[str, float] | None = None,
          expect: Verdict | Iterable[Verdict] = "holds", quiet: bool = False) -> Claim:
    """A claim judged by a boolean: True holds, False does not hold, None is inconclusive."""
    verdict: Verdict = "inconclusive" if holds is None else ("holds" if holds else "does not hold")
    return record(statement, verdict, criterion=criterion, measured=measured, expect=expect, quiet=quiet)


def _criterion(labels: tuple[str, str], op: str, margin: float, relative: bool) -> str:
    """E.g. 'test J < log |V| − 1', 'RNN-LM < 95% of unigram', 'a > b'."""
    la, lb = labels
    sign = "−" if op == "<" else "+"
    if not margin:
        return f"{la} {op} {lb}"
    if relative:
        return f"{la} {op} {1 - margin if op == '<' else 1 + margin:.0%} of {lb}"
    return f"{la} {op} {lb} {sign} {margin:g}"


def _beyond(statement: str, a: float, op: str, b: float, margin: float, relative: bool, labels: tuple[str, str],
            expect: Verdict | Iterable[Verdict], quiet: bool) -> Claim:
    """``a op b`` (op is "<" or ">"), decided beyond a margin: see :func:`less`."""
    m = margin * abs(b) if relative else margin
    s = 1.0 if op == ">" else -1.0  # "a > b" is "s·a > s·b" with s = 1; "a < b" with s = -1
    if math.isnan(a) or math.isnan(b):
        holds: bool | None = False
    elif s * (a - b) > m:
        holds = True
    elif s * (a - b) < -m:
        holds = False
    else:
        holds = None
    return check(statement, holds, criterion=_criterion(labels, op, margin, relative),
                 measured=dict(zip(labels, (a, b), strict=True)), expect=expect, quiet=quiet)


def less(statement: str, a: float, b: float, *, margin: float = 0.0, relative: bool = False,
         labels: tuple[str, str] = ("a", "b"), expect: Verdict | Iterable[Verdict] = "holds",
         quiet: bool = False) -> Claim:
    """Claim ``a < b``, decided beyond a margin.

    Holds when ``a < b - m``, does not hold when ``a > b + m``, and is inconclusive in between,
    where ``m = margin`` (or ``margin * |b|`` with ``relative=True``). NaN does not hold.
    """
    return _beyond(statement, a, "<", b, margin, relative, labels, expect, quiet)


def greater(statement: str, a: float, b: float, *, margin: float = 0.0, relative: bool = False,
            labels: tuple[str, str] = ("a", "b"), expect: Verdict | Iterable[Verdict] = "holds",
            quiet: bool = False) -> Claim:
    """Claim ``a > b``, decided beyond a margin (see :func:`less`)."""
    return _beyond(statement, a, ">", b, margin, relative, labels, expect, quiet)


def close(statement: str, a: float, b: float, *, tol: float, relative: bool = False,
          labels: tuple[str, str] = ("a", "b"), expect: Verdict | Iterable[Verdict] = "holds",
          quiet: bool = False) -> Claim:
    """Claim ``|a - b| <= tol`` (or ``<= tol * |b|`` with ``relative=True``)."""
    bound = tol * abs(b) if relative else tol
    holds = bool(abs(a - b) <= bound) if math.isfinite(a) and math.isfinite(b) else False
    la, lb = labels
    criterion = f"|{la} − {lb}| ≤ " + (f"{tol:g} × |{lb}|" if relative else f"{tol:g}")
    return check(statement, holds, criterion=criterion, measured={la: a, lb: b}, expect=expect, quiet=quiet)


def at_most(statement: str, value: float, bound: float, *, label: str = "value",
            expect: Verdict | Iterable[Verdict] = "holds", quiet: bool = False) -> Claim:
    """Claim ``value <= bound`` for a tolerance-style bound (e.g. an error below 1e-12)."""
    holds = bool(value <= bound) if math.isfinite(value) else False
    return check(statement, holds, criterion=f"{label} ≤ {bound:g}", measured={label: value}, expect=expect,
                 quiet=quiet)


def summary(claims: Iterable[Claim] | None = None) -> str:
    """One verdict line per claim (default: every claim made in this process)."""
    return "\n".join(c.verdict_line() for c in (LOG if claims is None else claims))
