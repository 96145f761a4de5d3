"""Properties every exercise in the registry must have, whichever chapter it belongs to.

These run over ``EXERCISES`` as a whole, so a new exercise set gets them without new tests:
the reference passes; a stub reports not_implemented; every registered mistake differs from
the reference on the checker's own cases (weak inputs cannot hide it), is recognised by name
when submitted, and can be told apart from every other mistake of the same exercise. A multiple-choice
question's mistakes are its wrong options, one each, and its answer is checked in the ways a learner writes it.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from helpers import outcomes, same_outcome

from lecture_code.grading import EXERCISES, Status, check

# Exercises compared case by case (sample_next is checked by its distribution; see test_grading.py).
CASEWISE = [ex.id for ex in EXERCISES.values() if ex.cases()]
MISTAKES = [(ex, m.name) for ex in CASEWISE for m in EXERCISES[ex].mistakes]
CHOICE = [ex.id for ex in EXERCISES.values() if ex.kind == "choice"]


def _stub(*args: Any) -> Any:
    raise NotImplementedError


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_the_reference_passes_and_a_stub_is_not_implemented(exercise: str) -> None:
    assert check(exercise, EXERCISES[exercise].reference, quiet=True).status is Status.PASS
    assert check(exercise, _stub, quiet=True).status is Status.NOT_IMPLEMENTED


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_each_exercise_names_at_least_five_mistakes_with_distinct_hints(exercise: str) -> None:
    ex = EXERCISES[exercise]
    if ex.kind == "choice":  # one mistake per wrong option, 3 to 5 of them
        letters = {m.fn() for m in ex.mistakes} | {ex.reference()}
        assert 3 <= len(ex.mistakes) == len(letters) - 1 and letters == set("ABCDEF"[:len(letters)])
    else:
        assert len(ex.mistakes) >= 5
    assert len({m.name for m in ex.mistakes}) == len({m.hint for m in ex.mistakes}) == len(ex.mistakes)


@pytest.mark.parametrize(("exercise", "mistake"), MISTAKES, ids=[f"{e}-{m}" for e, m in MISTAKES])
def test_every_mistake_differs_from_the_reference_and_is_named(exercise: str, mistake: str) -> None:
    ex = EXERCISES[exercise]
    m = next(m for m in ex.mistakes if m.name == mistake)
    ref, wrong = outcomes(exercise, ex.reference), outcomes(exercise, m.fn)
    assert all(o.ok for o in ref)
    assert any(o.ok for o in wrong), "a mistake that always raises would match any learner raising the same error"
    assert any(not same_outcome(r, w) for r, w in zip(ref, wrong, strict=True)), "the cases cannot see it"
    result = check(exercise, m.fn, quiet=True)
    assert result.status in (Status.FAIL, Status.ERROR) and result.mistake == mistake, result.report()


@pytest.mark.parametrize("exercise", CASEWISE)
def test_mistakes_are_pairwise_distinguishable(exercise: str) -> None:
    outs = {m.name: outcomes(exercise, m.fn) for m in EXERCISES[exercise].mistakes}
    for (a, oa), (b, ob) in itertools.combinations(outs.items(), 2):
        assert any(not same_outcome(x, y) for x, y in zip(oa, ob, strict=True)), f"{a!r} and {b!r} agree everywhere"


# ---------------------------------------------------------------------------------------------
# Multiple-choice questions


@pytest.mark.parametrize("exercise", CHOICE)
def test_a_choice_passes_however_the_letter_is_written_and_explains_why(exercise: str) -> None:
    answer = EXERCISES[exercise].reference()
    for written in (answer, answer.lower(), f" {answer} ", f"({answer})", f"{answer}.", f"{answer})"):
        result = check(exercise, lambda w=written: w, quiet=True)
        assert result.status is Status.PASS, result.report()
        assert result.message.startswith(f"{answer} is right. ") and len(result.message) > 80


@pytest.mark.parametrize("exercise", CHOICE)
def test_a_wrong_choice_names_its_misconception_and_not_the_answer(exercise: str) -> None:
    ex = EXERCISES[exercise]
    answer = ex.reference()
    for m in ex.mistakes:
        letter = m.fn().lower()
        result = check(exercise, lambda letter=letter: letter, quiet=True)
        assert result.status is Status.FAIL and result.mistake == m.name and result.hint == m.hint
        report = result.report()
        assert f"{m.fn()} is not the right answer" in report and "is right" not in report
        assert f'"{answer}"' not in report and f"'{answer}'" not in report and f"({answer})" not in report


@pytest.mark.parametrize("exercise", CHOICE)
@pytest.mark.parametrize("value", ["", "AB", "A or B", "Z", 1, 2.0, ["B"], ("B",), True, None, b"B"],
                         ids=repr)
def test_anything_but_one_letter_is_rejected_with_a_clear_message(exercise: str, value: Any) -> None:
    result = check(exercise, lambda: value, quiet=True)
    assert result.status is Status.FAIL and result.mistake is None, result.report()
    assert "return" in result.message and '"A"' in result.message


@pytest.mark.parametrize("exercise", CHOICE)
def test_a_choice_that_changes_between_calls_fails(exercise: str) -> None:
    answers = iter([EXERCISES[exercise].reference(), next(m.fn() for m in EXERCISES[exercise].mistakes)])
    result = check(exercise, lambda: next(answers), quiet=True)
    assert result.status is Status.FAIL and "second time" in result.message
