"""The checker's view of a learner's result: plain data only (lecture_code.grading.plain)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
import torch

from lecture_code.grading.plain import Refused, pristine_numpy, shared_with, to_plain


class _LyingDict(dict):
    def items(self):  # a subclass's own items() is never called
        return [("W_h", np.zeros(1))]


class _ShortList(list):
    def __len__(self) -> int:
        return 0


def test_plain_values_are_kept_and_arrays_copied() -> None:
    a = np.arange(3.0)
    out = to_plain({"a": a, "b": (1, 2.5, "x", None, np.float64(3.0), np.int64(4), True)})
    assert type(out["a"]) is np.ndarray and out["a"] is not a and np.array_equal(out["a"], a)
    assert out["b"] == (1, 2.5, "x", None, 3.0, 4, True)


def test_subclasses_of_python_types_become_the_base_type() -> None:
    Pair = namedtuple("Pair", "h c")
    out = to_plain([Pair(1, 2), type("S", (str,), {})("PER"), type("I", (int,), {})(3), np.str_("LOC"),
                    type("F", (float,), {"__float__": lambda self: 0.0})(1.5)])
    assert out == [(1, 2), "PER", 3, "LOC", 1.5]
    assert [type(x) for x in out] == [tuple, str, int, str, float]


def test_containers_are_read_through_the_base_classes() -> None:
    assert to_plain(_LyingDict(W_e=np.ones(2)))["W_e"].tolist() == [1.0, 1.0]
    assert to_plain(_ShortList([1, 2, 3])) == [1, 2, 3]


@pytest.mark.parametrize(("value", "word"), [
    (np.ma.masked_array([1.0, 2.0], mask=[True, False]), "MaskedArray"),
    (np.zeros(2).view(type("Sub", (np.ndarray,), {})), "subclass of numpy.ndarray"),
    (np.array([object()], dtype=object), "dtype object"),
    (torch.zeros(2), "torch"),
])
def test_refused_values_say_why(value: object, word: str) -> None:
    out = to_plain(value)
    assert isinstance(out, Refused) and word in out.reason


def test_a_self_referencing_list_is_refused_not_recursed_forever() -> None:
    loop: list = []
    loop.append(loop)
    out = to_plain(loop)
    while isinstance(out, list):
        out = out[0]
    assert isinstance(out, Refused)


def test_shared_with_finds_the_callers_dict_and_views() -> None:
    grads = {"W_h": np.ones((2, 2)), "b1": np.zeros(2)}
    assert shared_with(grads, (grads, 1.0), ("grads", "threshold")) == "grads"
    assert shared_with({"W_h": grads["W_h"][:1]}, (grads,), ("grads",)) == "grads['W_h']"
    assert shared_with({"W_h": grads["W_h"] * 1.0}, (grads,), ("grads",)) is None


def test_pristine_numpy_restores_the_learners_patch_afterwards() -> None:
    original = np.exp
    np.exp = lambda x: x
    try:
        with pristine_numpy():
            assert np.exp is original
        assert np.exp is not original
    finally:
        np.exp = original
