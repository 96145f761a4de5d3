"""Properties every exercise in the registry must have, whichever chapter it belongs to.

These run over ``EXERCISES`` as a whole, so a new exercise set gets them without new tests:
the reference passes; a stub reports not_implemented; every registered mistake differs from
the reference on the checker's own cases (weak inputs cannot hide it), is recognised by name
when submitted, and can be told apart from every other mistake of the same exercise.
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


def _stub(*args: Any) -> Any:
    raise NotImplementedError


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_the_reference_passes_and_a_stub_is_not_implemented(exercise: str) -> None:
    assert check(exercise, EXERCISES[exercise].reference, quiet=True).status is Status.PASS
    assert check(exercise, _stub, quiet=True).status is Status.NOT_IMPLEMENTED


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_each_exercise_names_at_least_five_mistakes_with_distinct_hints(exercise: str) -> None:
    ex = EXERCISES[exercise]
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
