"""Questions that are not an implementation: a formula derived from the sizes, or a multiple choice.

- A **derived formula** (the perplexity of a uniform model, a parameter count, a bound) is a function of the sizes
  that the learner writes after deriving it; :func:`derived_exercise` registers one, :func:`int_cases` makes
  cases of plain ints, and :func:`validate_derived` checks it like any scalar exercise but never shows the
  right value.
- A **multiple choice** (:func:`choice_exercise`): the learner's function returns the letter of an option. Each
  wrong option is a registered mistake, whose hint names the misconception; a pass shows the explanation.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import reprlib
from collections.abc import Callable, Sequence
from typing import Any

from .checker import Case, Exercise, Mistake, Result, Status, call, run_check
from .plain import pristine_numpy, type_name

# Questions whose answer is a formula in the sizes: a function of the sizes, checked on many of them


def int_cases(names: Sequence[str], rows: Sequence[tuple[str, tuple[int, ...]]]) -> Callable[[], list[Case]]:
    """Cases of plain Python ints, named by their sizes and a note (which says what each case is for)."""
    def name(note: str, sizes: tuple[int, ...]) -> str:
        return ", ".join(f"{k}={v:,}" for k, v in zip(names, sizes, strict=True)) + (f" ({note})" if note else "")

    return lambda: [Case(name(note, sizes), sizes) for note, sizes in rows]


_EXPECTED = re.compile(r"returned (\S+), expected \S+ \(error [^)]*\)")
_FINITE = re.compile(r"the expected value is finite \([^)]*\)")


def validate_derived(ex: Exercise, fn: Callable[..., Any], timeout: float) -> Result:
    """Checked like any scalar exercise, but a wrong value is not followed by the right one: for a formula in the
    sizes, the right value on one case would give the answer away."""
    result = run_check(dataclasses.replace(ex, validate=None), fn, timeout)
    result.message = _EXPECTED.sub(r"returned \1, which is not the right value (derive it: the checker does not "
                                   "show it)", _FINITE.sub("the right value is finite", result.message))
    return result


def derived_exercise(*, exact: bool = False, **fields: Any) -> Exercise:
    """A question whose answer is a formula in the sizes: a scalar exercise checked by :func:`validate_derived`.

    ``exact=True`` is for counts (a number of parameters): no tolerance at all. ``fields`` are the
    :class:`~.checker.Exercise` fields (id, chapter, signature, summary, reference, make_cases, mistakes...).
    """
    if exact:
        fields |= {"rtol": 0.0, "atol": 0.0}
    return Exercise(kind="scalar", validate=validate_derived, **fields)


# Multiple-choice questions (every set has some): the learner's function returns the letter of an option.
# Each wrong option is a registered mistake, whose hint says which misconception it stands for.


def _returns(letter: str) -> Callable[[], str]:
    def answer() -> str:
        return letter
    return answer


def _letter(value: Any, letters: str) -> str | None:
    """The option a returned value names ("B", "b", " (B) ", "B."), or None if it names none of ``letters``."""
    if type(value) is not str:
        return None
    s = value.strip()
    if s[:1] == "(" and s[-1:] == ")":
        s = s[1:-1].strip()
    s = s.rstrip(".)").strip().upper()
    return s if len(s) == 1 and s in letters else None


def _shown(value: Any) -> str:
    reason = getattr(value, "reason", "")
    if reason:
        return reason
    if value is None or type(value) in (str, int, float, bool, list, tuple, dict):
        return f"{type_name(value)} {reprlib.repr(value)}"
    return type_name(value)


def validate_choice(ex: Exercise, fn: Callable[..., Any], timeout: float, *, letters: str, why: str) -> Result:
    """Call the learner's function (no arguments) twice; pass if it names the right option both times, else name
    the wrong option's misconception. The messages never say which option is right."""
    outs = []
    for _ in range(2):
        out = call(fn, (), timeout)
        if issubclass(type(out.error), NotImplementedError):
            return Result(ex.id, Status.NOT_IMPLEMENTED,
                          f"Replace `raise NotImplementedError` in {ex.signature} with your answer.")
        if out.timed_out:
            return Result(ex.id, Status.TIMEOUT, f"a call took longer than {timeout:g} s. Look for an endless loop.")
        if out.error is not None:
            return Result(ex.id, Status.ERROR, f"it raised {out.error_text}")
        outs.append(out.value)
    first, second = outs
    if first is None:
        return Result(ex.id, Status.FAIL, "returned None: did you forget the `return` statement? Return the letter "
                      f'of your answer as a string, e.g. return "{letters[0]}".')
    letter = _letter(first, letters)
    if letter is None:
        return Result(ex.id, Status.FAIL, f"expected one of the letters {', '.join(letters)} as a string (e.g. "
                      f'return "{letters[0]}"), got {_shown(first)}.')
    if _letter(second, letters) != letter:
        return Result(ex.id, Status.FAIL, "called a second time, it gave another answer: return one letter, "
                      "the same every time.")
    with pristine_numpy():
        answer = ex.reference()
    if letter == answer:
        return Result(ex.id, Status.PASS, f"{letter} is right. {why}")
    mistake = next(m for m in ex.mistakes if m.fn() == letter)
    return Result(ex.id, Status.FAIL, f"{letter} is not the right answer.", hint=mistake.hint, mistake=mistake.name)


def choice_exercise(id: str, chapter: int, summary: str, answer: str, why: str,
                    wrong: Sequence[tuple[str, str, str]]) -> Exercise:
    """A multiple-choice question: ``answer`` is the right letter and ``why`` the explanation shown on a pass;
    ``wrong`` holds, for every other option, its letter, the misconception's name and the hint for it."""
    letters = "".join(sorted({answer, *(letter for letter, _, _ in wrong)}))
    if len(letters) != len(wrong) + 1 or letters != "ABCDEF"[:len(letters)]:
        raise ValueError(f"{id}: the options must be A, B, C, ... with one right answer and one mistake each")
    return Exercise(
        id=id,
        chapter=chapter,
        signature=f"{id}()",
        summary=f"Choice ({', '.join(letters)}): {summary}",
        reference=_returns(answer),
        make_cases=lambda: [Case("your answer", ())],
        mistakes=tuple(Mistake(name, hint, _returns(letter)) for letter, name, hint in wrong),
        kind="choice",
        validate=functools.partial(validate_choice, letters=letters, why=why),
    )
