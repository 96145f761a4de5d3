"""Tests for lecture_code.generate: temperature sampling, top-k, and autoregressive generation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecture_code.generate import generate, next_token_probs, sample_next, top_k_logits
from lecture_code.models import RNNLM
from lecture_code.numpy_rnn import softmax

B, D, N, V = 3, 4, 6, 7


def _model(cell: str = "rnn", seed: int = 0) -> RNNLM:
    torch.manual_seed(seed)
    model = RNNLM(V, D, N, cell=cell).double()
    with torch.no_grad():  # bigger output weights: a peaked, input-dependent next-token distribution
        model.head.weight.mul_(8.0)
    return model


# ----------------------------------------------------------------------------- sample_next


def test_sample_next_shape_dtype_range(rng: np.random.Generator) -> None:
    logits = rng.normal(size=(B, V))
    out = sample_next(logits, 1.0, rng)
    assert out.shape == (B,) and out.dtype == np.int64
    assert np.all((out >= 0) & (out < V))
    big = sample_next(rng.normal(size=(500, V)) * 3, 0.5, rng)
    assert big.min() >= 0 and big.max() < V


def test_sample_next_is_reproducible(rng: np.random.Generator) -> None:
    logits = rng.normal(size=(50, V))
    a = sample_next(logits, 0.8, np.random.default_rng(11))
    b = sample_next(logits, 0.8, np.random.default_rng(11))
    c = sample_next(logits, 0.8, np.random.default_rng(12))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0])
def test_sample_next_distribution(tau: float) -> None:
    z = np.array([1.0, -0.5, 2.0, 0.0, -2.0, 0.7, 1.5])
    draws = 20_000
    out = sample_next(np.tile(z, (draws, 1)), tau, np.random.default_rng(0))
    counts = np.bincount(out, minlength=V)
    p = softmax(z / tau)
    sigma = np.sqrt(draws * p * (1 - p))
    assert np.all(np.abs(counts - draws * p) <= 5 * sigma), (counts, draws * p)


def test_sample_next_tiny_temperature_is_argmax(rng: np.random.Generator) -> None:
    logits = rng.normal(size=(200, V))
    np.testing.assert_array_equal(sample_next(logits, 1e-6, rng), logits.argmax(axis=-1))


@pytest.mark.parametrize("tau", [0.0, -1.0])
def test_sample_next_rejects_nonpositive_temperature(tau: float, rng: np.random.Generator) -> None:
    with pytest.raises(ValueError, match="temperature must be > 0"):
        sample_next(np.zeros((B, V)), tau, rng)


# ----------------------------------------------------------------------------- top-k


def test_top_k_keeps_exactly_k_largest() -> None:
    logits = torch.randn(B, V, generator=torch.Generator().manual_seed(0))
    for k in range(1, V):
        out = top_k_logits(logits, k)
        finite = torch.isfinite(out)
        assert (finite.sum(dim=-1) == k).all()
        assert (out[~finite] == float("-inf")).all()
        kept = torch.topk(logits, k, dim=-1).indices
        assert torch.equal(finite, torch.zeros_like(finite).scatter_(-1, kept, True))
        assert torch.equal(out[finite], logits[finite])  # kept values are unchanged


def test_top_k_no_op_cases() -> None:
    logits = torch.randn(B, V)
    for k in (None, V, V + 5):
        assert torch.equal(top_k_logits(logits, k), logits)


@pytest.mark.parametrize("k", [0, -1])
def test_top_k_rejects_k_below_one(k: int) -> None:
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        top_k_logits(torch.randn(B, V), k)


def test_next_token_probs() -> None:
    logits = torch.randn(B, V, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    p = next_token_probs(logits)
    torch.testing.assert_close(p.sum(-1), torch.ones(B, dtype=torch.float64), rtol=0, atol=1e-14)
    torch.testing.assert_close(p, torch.softmax(logits, -1), rtol=0, atol=1e-15)
    p = next_token_probs(logits, temperature=0.7)
    np.testing.assert_allclose(p.numpy(), softmax(logits.numpy() / 0.7), rtol=0, atol=1e-14)
    p = next_token_probs(logits, temperature=1.3, top_k=3)
    torch.testing.assert_close(p.sum(-1), torch.ones(B, dtype=torch.float64), rtol=0, atol=1e-14)
    outside = ~torch.isfinite(top_k_logits(logits, 3))
    assert (p[outside] == 0).all() and (p[~outside] > 0).all()
    assert ((p > 0).sum(-1) == 3).all()
    # renormalised over the top 3: proportional to exp(z / tau) there
    z = logits.masked_fill(outside, float("-inf")) / 1.3
    torch.testing.assert_close(p, torch.softmax(z, -1), rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        next_token_probs(logits, temperature=0)


# ----------------------------------------------------------------------------- generate


def test_generate_is_reproducible_and_in_range() -> None:
    model = _model()
    a = generate(model, [1, 2, 3], 30, temperature=1.0, seed=5)
    b = generate(model, [1, 2, 3], 30, temperature=1.0, seed=5)
    assert a == b
    assert len(a) == 30 and all(isinstance(t, int) and 0 <= t < V for t in a)
    assert generate(model, [1, 2, 3], 0) == []
    # the prompt is not part of the output, and a different seed gives a different sample
    assert generate(model, [1, 2, 3], 30, temperature=1.0, seed=6) != a


def test_generate_temperature_zero_is_greedy() -> None:
    model = _model(seed=0)  # a seed whose greedy continuation is not one repeated token
    prompt = [4, 0, 2]
    out = generate(model, prompt, 12, temperature=0)
    seq = list(prompt)
    with torch.no_grad():
        for _ in range(12):  # greedy decoding by hand, re-reading the whole context each step
            logits, _ = model(torch.tensor([seq]))
            seq.append(int(logits[0, -1].argmax()))
    assert out == seq[len(prompt) :]
    assert len(set(out)) > 1  # not a degenerate constant sequence


@pytest.mark.parametrize(("cell", "temperature", "top_k"), [("rnn", 1.0, None), ("lstm", 0.8, 3), ("scratch", 1.5, 2)])
def test_generate_feeds_the_sample_back(cell: str, temperature: float, top_k: int | None) -> None:
    model = _model(cell, seed=2)
    prompt, n, seed = [3, 1, 4, 1, 5], 25, 9
    out = generate(model, prompt, n, temperature=temperature, top_k=top_k, seed=seed)

    gen = torch.Generator().manual_seed(seed)
    expected, seq = [], list(prompt)
    with torch.no_grad():
        logits, state = model(torch.tensor([prompt]))
        for _ in range(n):
            probs = next_token_probs(logits[0, -1].float(), temperature, top_k)
            nxt = int(torch.multinomial(probs, 1, generator=gen))
            expected.append(nxt)
            seq.append(nxt)
            logits, state = model(torch.tensor([[nxt]]), state)  # the sample is the next input
            # carrying the state equals re-reading the whole generated context
            full, _ = model(torch.tensor([seq]))
            torch.testing.assert_close(logits[0, -1], full[0, -1], rtol=0, atol=1e-12)
    assert out == expected
    if top_k is not None:  # every token came from the top k of its distribution
        with torch.no_grad():
            full, _ = model(torch.tensor([seq]))
        for i, tok in enumerate(out):
            step_logits = full[0, len(prompt) - 1 + i]
            assert tok in torch.topk(step_logits, top_k).indices.tolist()


def test_generate_empty_prompt_is_error() -> None:
    with pytest.raises(ValueError, match="at least one token"):
        generate(_model(), [], 5)
