"""Tests for lecture_code.train (loss, exact evaluation, the TBPTT training loop, History) and lecture_code.config."""

from __future__ import annotations

import copy
import math
import random

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from lecture_code import config
from lecture_code.models import RNNLM
from lecture_code.numpy_rnn import lm_loss
from lecture_code.text import batchify, lm_batches
from lecture_code.train import History, evaluate_lm, lm_loss_torch, train_lm

D, N, V = 4, 6, 7


def _model(cell: str = "rnn", seed: int | None = 0, V: int = V, d: int = D, n: int = N) -> RNNLM:
    if seed is not None:  # None: use torch's global generator as it stands
        torch.manual_seed(seed)
    return RNNLM(V, d, n, cell=cell).double()


def _stream(length: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, V, size=length)


def _brute_force_nll(model: RNNLM, row: np.ndarray) -> tuple[float, int]:
    """Summed NLL of row[1:] given the full left context, in one forward pass; and the token count."""
    with torch.no_grad():
        logits, _ = model(torch.as_tensor(row[None, :-1]))
        nll = F.cross_entropy(logits[0], torch.as_tensor(row[1:]), reduction="sum").item()
    return nll, len(row) - 1


# ----------------------------------------------------------------------------- lm_loss_torch


def test_lm_loss_torch_equals_cross_entropy(rng: np.random.Generator) -> None:
    logits = torch.from_numpy(rng.normal(size=(3, 5, V)))
    y = torch.from_numpy(rng.integers(0, V, size=(3, 5)))
    got = lm_loss_torch(logits, y)
    assert got.shape == ()
    expected = F.cross_entropy(logits.reshape(15, V), y.reshape(15))
    assert torch.equal(got, expected)
    # ... and the per-position mean, written out, and the NumPy reference
    by_hand = -torch.stack([torch.log_softmax(logits[b, t], -1)[y[b, t]] for b in range(3) for t in range(5)]).mean()
    assert abs(got.item() - by_hand.item()) <= 1e-12
    assert abs(got.item() - lm_loss(logits.numpy(), y.numpy())) <= 1e-12


# ----------------------------------------------------------------------------- evaluate_lm


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_evaluate_lm_one_window_equals_brute_force(cell: str) -> None:
    model, ids = _model(cell), _stream(20)
    nll, count = _brute_force_nll(model, ids)
    assert evaluate_lm(model, ids, B=1, T=19) == pytest.approx(nll / count, rel=0, abs=1e-13)
    assert evaluate_lm(model, ids, B=1, T=100) == pytest.approx(nll / count, rel=0, abs=1e-13)


@pytest.mark.parametrize("cell", ["rnn", "scratch", "gru"])
def test_evaluate_lm_carries_the_state(cell: str) -> None:
    model, ids = _model(cell), _stream(23)
    # short windows, state carried: still the full left context
    nll, count = _brute_force_nll(model, ids)
    assert evaluate_lm(model, ids, B=1, T=3) == pytest.approx(nll / count, rel=0, abs=1e-12)
    # two rows: each row is its own context; the ragged tail (23 = 2 * 11 + 1) is dropped
    rows = batchify(ids, 2)
    parts = [_brute_force_nll(model, r) for r in rows]
    expected = sum(p[0] for p in parts) / sum(p[1] for p in parts)
    assert evaluate_lm(model, ids, B=2, T=4) == pytest.approx(expected, rel=0, abs=1e-12)


def test_evaluate_lm_is_token_weighted() -> None:
    model, ids = _model(seed=1), _stream(22, seed=1)  # B=2 rows of 11 -> windows of 4, 4 and 2 tokens
    rows = torch.as_tensor(batchify(ids, 2))
    means, sizes, state = [], [], None
    with torch.no_grad():
        for x, y in lm_batches(rows, 4):
            logits, state = model(x, state)
            means.append(lm_loss_torch(logits, y).item())
            sizes.append(y.numel())
    assert sizes == [8, 8, 4]
    weighted = sum(m * s for m, s in zip(means, sizes, strict=True)) / sum(sizes)
    got = evaluate_lm(model, ids, B=2, T=4)
    assert got == pytest.approx(weighted, rel=0, abs=1e-12)
    assert abs(got - float(np.mean(means))) > 1e-6  # the plain mean over windows is a different number


def test_evaluate_lm_does_not_train() -> None:
    model, ids = _model(), _stream(30)
    before = copy.deepcopy(model.state_dict())
    evaluate_lm(model, ids, B=2, T=5)
    assert not model.training
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    assert all(p.grad is None for p in model.parameters())


# ----------------------------------------------------------------------------- train_lm


def _windows_per_epoch(n_ids: int, B: int, T: int) -> list[int]:
    """Number of target tokens in each training window of one epoch."""
    L = n_ids // B
    return [B * min(T, L - 1 - i) for i in range(0, L - 1, T)]


def test_train_lm_learns_a_repetitive_stream() -> None:
    train_ids, valid_ids = np.tile([0, 1, 2], 200), np.tile([1, 2, 0], 40)
    model = _model(V=3, d=8, n=16)
    steps, B, T = 100, 4, 8
    hist = train_lm(model, train_ids, valid_ids, steps=steps, B=B, T=T, lr=1e-2, eval_every=25, progress=False)
    assert isinstance(hist, History)
    assert hist.steps == len(hist.train_loss) == len(hist.grad_norm) == steps
    assert hist.train_loss[0] == pytest.approx(math.log(3), abs=0.3)  # about uniform at the start
    assert np.mean(hist.train_loss[-10:]) < 0.1 * hist.train_loss[0]
    assert all(math.isfinite(g) and g > 0 for g in hist.grad_norm)
    assert hist.valid_step == [25, 50, 75, 100]
    assert len(hist.valid_loss) == 4
    assert hist.valid_loss[-1] < 0.1 < hist.valid_loss[0] * 5
    assert hist.valid_loss[-1] == pytest.approx(evaluate_lm(model, valid_ids), abs=1e-12)  # the final model
    sizes = _windows_per_epoch(len(train_ids), B, T)  # 19 windows of 8 tokens x 4 rows, the last of 5
    assert hist.tokens == sum(sizes[i % len(sizes)] for i in range(steps))
    assert hist.seconds > 0


def test_train_lm_evaluates_at_the_end_and_on_eval_tokens() -> None:
    model, ids, valid = _model(), _stream(60), _stream(100, seed=1)
    hist = train_lm(model, ids, valid, steps=10, B=2, T=5, eval_every=4, eval_tokens=40, progress=False)
    assert hist.valid_step == [4, 8, 10]
    assert hist.valid_loss[-1] == pytest.approx(evaluate_lm(model, valid[:40]), abs=1e-12)
    assert train_lm(model, ids, valid, steps=3, B=2, T=5, progress=False).valid_step == [3]  # only at the end
    assert train_lm(model, ids, None, steps=3, B=2, T=5, progress=False).valid_loss == []


def test_train_lm_sgd_step_is_exact_without_clipping() -> None:
    model, ids = _model(), _stream(40)
    ref = copy.deepcopy(model)
    hist = train_lm(model, ids, steps=1, B=2, T=4, lr=0.1, optimizer="sgd", clip=None, progress=False)
    rows = torch.as_tensor(batchify(ids, 2))
    loss = lm_loss_torch(ref(rows[:, :4])[0], rows[:, 1:5])  # the first window, zero state
    loss.backward()
    assert hist.train_loss == [pytest.approx(loss.item(), abs=1e-12)]
    norm = torch.sqrt(sum((p.grad**2).sum() for p in ref.parameters())).item()
    assert hist.grad_norm == [pytest.approx(norm, rel=1e-12)]
    for (name, p), q in zip(ref.named_parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(q, p - 0.1 * p.grad, rtol=0, atol=1e-12, msg=name)
    assert hist.tokens == 8


def test_train_lm_clips_the_gradient_norm() -> None:
    model, ids = _model(), _stream(40)
    before = [p.detach().clone() for p in model.parameters()]
    clip = 1e-3
    hist = train_lm(model, ids, steps=1, B=2, T=4, lr=1.0, optimizer="sgd", clip=clip, progress=False)
    assert hist.grad_norm[0] > 100 * clip  # the recorded norm is the one before clipping
    step = torch.sqrt(sum(((p - b) ** 2).sum() for p, b in zip(model.parameters(), before, strict=True))).item()
    assert step == pytest.approx(clip, rel=1e-3)  # lr * (clipped norm)


def test_train_lm_carries_state_and_restarts_each_epoch() -> None:
    # lr = 0: the parameters never change, so the losses show how the state is handled.
    model, ids = _model(), _stream(26)  # B=2 rows of 13 -> 3 windows of 4 per epoch
    hist = train_lm(model, ids, steps=7, B=2, T=4, lr=0.0, optimizer="sgd", progress=False)
    l0, l1, l2 = hist.train_loss[:3]
    assert hist.train_loss == [l0, l1, l2, l0, l1, l2, l0]  # each epoch restarts from the zero state
    assert hist.tokens == 7 * 8
    rows = torch.as_tensor(batchify(ids, 2))
    with torch.no_grad():
        _, state = model(rows[:, :4])
        carried = lm_loss_torch(model(rows[:, 4:8], state)[0], rows[:, 5:9]).item()
        fresh = lm_loss_torch(model(rows[:, 4:8])[0], rows[:, 5:9]).item()
    assert l1 == pytest.approx(carried, abs=1e-12)  # the second window starts from the first one's state
    assert abs(carried - fresh) > 1e-6


@pytest.mark.parametrize("cell", ["lstm", "scratch"])
def test_train_lm_other_cells_and_progress_bar(cell: str) -> None:
    model, ids = _model(cell), _stream(50)
    hist = train_lm(model, ids, steps=12, B=2, T=5, progress=True)
    assert hist.steps == 12 and all(math.isfinite(x) for x in hist.train_loss)


def test_train_lm_rejects_unknown_optimizer() -> None:
    with pytest.raises(ValueError, match="optimizer"):
        train_lm(_model(), _stream(40), steps=1, B=2, T=4, optimizer="adamw", progress=False)


# ----------------------------------------------------------------------------- History


def test_history_smoothed_equals_trailing_mean(rng: np.random.Generator) -> None:
    h = History(train_loss=list(rng.normal(size=37)))
    x = np.asarray(h.train_loss)
    for window in (1, 5, 37, 50):
        brute = [x[max(0, i - window + 1) : i + 1].mean() for i in range(len(x))]
        np.testing.assert_allclose(h.smoothed(window), brute, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h.smoothed(), [x[: i + 1][-50:].mean() for i in range(len(x))], rtol=0, atol=1e-12)
    assert History().smoothed().shape == (0,)
    assert History().steps == 0


# ----------------------------------------------------------------------------- config


@pytest.mark.parametrize(("value", "full"), [("1", True), (" 1\n", True), ("0", False), ("true", False), ("", False)])
def test_run_modes_follow_the_environment(monkeypatch: pytest.MonkeyPatch, value: str, full: bool) -> None:
    monkeypatch.setenv("LECTURE_CODE_FULL", value)
    assert config.full_mode() is full
    assert config.mode_name() == ("full" if full else "quick")
    assert config.quick_or_full("q", "f") == ("f" if full else "q")


def test_run_mode_default_is_quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LECTURE_CODE_FULL", raising=False)
    assert not config.full_mode()
    assert config.mode_name() == "quick"
    assert config.quick_or_full(10, 1000) == 10


def test_device() -> None:
    assert config.device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_seed_everything_is_reproducible() -> None:
    def draw() -> tuple:
        rng = config.seed_everything(42)
        assert isinstance(rng, np.random.Generator)
        return (torch.randn(3).tolist(), np.random.rand(3).tolist(),  # noqa: NPY002
                random.random(), rng.random(3).tolist(), _model(seed=None).head.weight.sum().item())

    a, b = draw(), draw()
    assert a == b
    assert a[3] == np.random.default_rng(42).random(3).tolist()
    config.seed_everything(43)
    assert torch.randn(3).tolist() != a[0]


def test_cosine_lr_runs_from_lr_to_the_final_fraction():
    from lecture_code.train import cosine_lr

    assert cosine_lr(0.0, 1e-2, 0.05) == pytest.approx(1e-2)
    assert cosine_lr(1.0, 1e-2, 0.05) == pytest.approx(5e-4)
    assert cosine_lr(0.5, 1e-2, 0.05) == pytest.approx(0.5 * (1e-2 + 5e-4))
    assert cosine_lr(2.0, 1e-2, 0.05) == pytest.approx(5e-4)  # past the budget: stays at the floor

