"""Tests for lecture_code.tasks: the synthetic long-distance copy task."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecture_code.tasks import CopyClassifier, accuracy_vs_gap, copy_task, train_copy, vocab_size


def test_copy_task_layout(rng: np.random.Generator) -> None:
    x, y = copy_task(7, 50, rng, n_signal=3, n_distract=5)
    assert x.shape == (50, 9) and y.shape == (50,)
    assert x.dtype == np.int64 and y.dtype == np.int64
    assert vocab_size(3, 5) == 9
    np.testing.assert_array_equal(y, x[:, 0])  # the target is the first token
    assert ((y >= 0) & (y < 3)).all()
    assert ((x[:, 1:-1] >= 3) & (x[:, 1:-1] < 8)).all()  # distractors only in between
    assert (x[:, -1] == 8).all()  # the query token is last, the last id
    assert x.max() < vocab_size(3, 5)


def test_copy_task_seeded() -> None:
    a = copy_task(4, 20, np.random.default_rng(5))
    b = copy_task(4, 20, np.random.default_rng(5))
    c = copy_task(4, 20, np.random.default_rng(6))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_chance_baseline(rng: np.random.Generator) -> None:
    _, y = copy_task(3, 20_000, rng, n_signal=4)
    freq = np.bincount(y, minlength=4) / len(y)
    np.testing.assert_allclose(freq, 0.25, atol=0.02)  # majority guess gets ~1/n_signal


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_classifier_shapes(cell: str) -> None:
    model = CopyClassifier(vocab_size(), 8, 12, 4, cell=cell)
    x, _ = copy_task(5, 3, np.random.default_rng(0))
    assert model(torch.from_numpy(x)).shape == (3, 4)


def test_forget_bias_slice() -> None:
    n = 6
    model = CopyClassifier(vocab_size(), 4, n, 4, cell="lstm", forget_bias=2.5)
    b_ih, b_hh = model.rnn.bias_ih_l0.detach(), model.rnn.bias_hh_l0.detach()
    assert torch.all(b_ih[n : 2 * n] == 2.5) and torch.all(b_hh[n : 2 * n] == 0)
    assert not torch.all(b_ih[:n] == 2.5)  # input gate untouched
    with pytest.raises(ValueError):
        CopyClassifier(vocab_size(), 4, n, 4, cell="rnn", forget_bias=1.0)


def test_train_copy_short_gap() -> None:
    r = train_copy("rnn", 1, steps=80, B=32, n_hidden=16, eval_n=200, seed=0)
    assert r["accuracy"] > 0.9
    assert len(r["train_loss"]) == 80 and r["train_loss"][-1] < r["train_loss"][0]
    assert r["seconds"] > 0


def test_accuracy_vs_gap_rows() -> None:
    rows = accuracy_vs_gap("gru", [1, 2], steps=3, B=8, n_hidden=8, eval_n=20)
    assert [r["L"] for r in rows] == [1, 2]
    assert all(0 <= r["accuracy"] <= 1 and r["seconds"] > 0 for r in rows)
