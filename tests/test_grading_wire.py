"""Tests for the plain-data channel between the grader and a learner's kernel (lecture_code.grading.wire),
and for the proxy's rebuilding of exceptions and in-place changes (no kernel needed)."""

from __future__ import annotations

import base64
import json
import pickle

import numpy as np
import pytest

from lecture_code.grading import wire
from lecture_code.grading.checker import Status, _type_name, run_check
from lecture_code.grading.remote import _write_back, code_location, harness_source, learner_exception


def test_round_trip_keeps_types_dtypes_and_values() -> None:
    rng = np.random.default_rng(5)
    value = (np.arange(6, dtype=np.float64).reshape(2, 3).T, np.int64(3), np.float32(0.5), 1.5, 7, True, None,
             "B-person", [("person", 0, 2)], {"W_h": np.ones((2, 2)), 3: [np.array([1, 2], np.int32)]},
             np.array([True, False]), float("nan"), float("-inf"), np.zeros(()))
    back = wire.loads(wire.dumps(value))
    assert type(back) is tuple and len(back) == len(value)
    assert back[0].dtype == np.float64 and back[0].shape == (3, 2) and np.array_equal(back[0], value[0])
    assert back[0].flags.writeable and back[0].flags.owndata
    assert type(back[1]) is np.int64 and back[1] == 3
    assert type(back[2]) is np.float32
    assert back[3:9] == (1.5, 7, True, None, "B-person", [("person", 0, 2)])
    assert type(back[6 + 2]) is list and type(back[8][0]) is tuple
    assert set(back[9]) == {"W_h", 3} and back[9][3][0].dtype == np.int32
    assert back[10].dtype == bool
    assert np.isnan(back[11]) and back[12] == float("-inf")
    assert back[13].shape == ()
    gen = wire.loads(wire.dumps(rng))
    assert isinstance(gen, np.random.Generator)
    assert np.array_equal(gen.random(4), np.random.default_rng(5).random(4))


def test_unsupported_objects_travel_as_named_opaque_markers() -> None:
    torch = pytest.importorskip("torch")
    got = wire.loads(wire.dumps(torch.zeros(3)))
    assert isinstance(got, wire.Opaque) and _type_name(got) == "torch.Tensor"
    assert type(got).__module__.startswith("torch")
    obj = wire.loads(wire.dumps(np.array(["a"], dtype=object)))
    assert isinstance(obj, wire.Opaque)
    # the checker then explains it as for the real object
    from lecture_code.grading import EXERCISES

    result = run_check(EXERCISES["softmax"], lambda z: got)
    assert result.status is Status.FAIL and "torch" in result.message, result.report()


@pytest.mark.parametrize("text", [
    json.dumps({"$t": "pickle", "b64": base64.b64encode(pickle.dumps(1)).decode()}),
    json.dumps({"$t": "nd", "dtype": "object", "shape": [1], "b64": ""}),
    json.dumps({"$t": "nd", "dtype": "float64", "shape": [3], "b64": base64.b64encode(b"\0" * 8).decode()}),
    json.dumps({"$t": "nd", "dtype": "float64", "shape": [-1], "b64": ""}),
    json.dumps({"$t": "np", "dtype": "float64", "shape": [2], "b64": base64.b64encode(b"\0" * 16).decode()}),
    json.dumps({"$t": "float", "v": "__import__('os')"}),
    json.dumps({"$t": "dict", "items": [[[1], 2]]}),
    json.dumps({"$t": "rng", "bg": "os.system", "state": None}),
    json.dumps({"some": "dict"}),
    "[" * 100_000 + "]" * 100_000,
    "not json",
])
def test_decoding_is_strict(text: str) -> None:
    with pytest.raises(wire.WireError):
        wire.loads(text)


def test_learner_exceptions_keep_builtin_types_and_names() -> None:
    err = learner_exception({"type": "NotImplementedError", "module": "builtins", "message": "stub", "line": ""})
    assert type(err) is NotImplementedError
    err = learner_exception({"type": "ValueError", "module": "builtins", "message": "bad shape",
                             "line": " (line 3: `x = y @ z`)"})
    assert type(err) is ValueError and str(err) == "bad shape (line 3: `x = y @ z`)"
    err = learner_exception({"type": "AxisError", "module": "numpy.exceptions", "bases": ["ValueError", "IndexError"],
                             "message": "axis 2 is out of bounds"})
    assert isinstance(err, ValueError) and type(err).__name__ == "AxisError"
    err = learner_exception({"type": "KeyboardInterrupt", "module": "builtins", "bases": ["BaseException"]})
    assert isinstance(err, Exception) and type(err).__name__ == "KeyboardInterrupt"
    err = learner_exception({"type": "__import__('os')", "module": "x"})
    assert type(err).__name__ == "Exception"


def test_arguments_are_written_back_in_place() -> None:
    a, d, lst = np.zeros(3), {"W": np.zeros(2), "b": np.ones(1)}, [np.zeros(1)]
    args = (a, d, lst, 5)
    new = (np.ones(3), {"W": np.full(2, 2.0), "extra": 1}, [np.ones(1), 2], 6)
    for old, value in zip(args, new, strict=True):
        _write_back(old, value)
    assert np.array_equal(a, np.ones(3))
    assert set(d) == {"W", "extra"} and np.array_equal(d["W"], [2.0, 2.0])
    assert len(lst) == 2 and np.array_equal(lst[0], [1.0])
    b = np.zeros((2, 3))
    _write_back(b, np.zeros((3, 2)))
    assert b.shape == (3, 2)


def test_harness_source_compiles_without_package_imports() -> None:
    src = harness_source()
    compile(src, "<lecture_code grader>", "exec")
    assert "from .wire" not in src and "from __future__" not in src
    from lecture_code.grading import EXERCISES

    assert code_location(EXERCISES["rnn_step"].reference) == ("numpy_rnn.py", "rnn_step")
    assert code_location(np.tanh) is None
