"""Tests for lecture_code.deep_rnn_experiments, the helpers of Chapter 6's experiments.

Models are tiny and in float64 where values are compared; sizes V, d, n = 13, 5, 6 are distinct.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecture_code import deep_rnn_experiments as ex
from lecture_code.classify import SentenceClassifier
from lecture_code.generate import generate
from lecture_code.models import RNNLM
from lecture_code.train import evaluate_lm, train_lm

V, D, N = 13, 5, 6
ATOL = 1e-10


def _classifier(bidirectional: bool, pool: str = "mean", seed: int = 0, cell: str = "lstm") -> SentenceClassifier:
    torch.manual_seed(seed)
    return SentenceClassifier(V, D, N, 3, cell, pool, bidirectional).double()


def _stream(n: int = 400, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, V, size=n)


# ----------------------------------------------------------------------------- word_votes, prefix_probabilities


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_votes_add_up_to_the_logit_difference(bidirectional: bool, cell: str) -> None:
    model, ids = _classifier(bidirectional, cell=cell), [3, 7, 1, 12, 4]
    v = ex.word_votes(model, ids, positive=2, negative=0)
    with torch.no_grad():
        z = model(torch.tensor([ids]), torch.tensor([len(ids)]))[0]
    assert v["vote"].shape == (len(ids),)
    assert abs(v["logit"] - float(z[2] - z[0])) < ATOL
    assert abs(v["vote"].mean() + v["bias"] - float(z[2] - z[0])) < ATOL
    if bidirectional:
        np.testing.assert_allclose(v["forward"] + v["backward"], v["vote"], rtol=0, atol=ATOL)
    else:
        assert "forward" not in v and "backward" not in v


def test_votes_see_the_right_context_only_when_bidirectional() -> None:
    a, b = [3, 7, 1, 12, 4], [3, 7, 1, 9, 9]  # the same first three words, different endings
    uni = [ex.word_votes(_classifier(False), s) for s in (a, b)]
    np.testing.assert_array_equal(uni[0]["vote"][:3], uni[1]["vote"][:3])  # h(t) has read x(1..t) only
    bi = [ex.word_votes(_classifier(True), s) for s in (a, b)]
    np.testing.assert_array_equal(bi[0]["forward"][:3], bi[1]["forward"][:3])
    assert np.abs(bi[0]["backward"][:3] - bi[1]["backward"][:3]).min() > 1e-6  # the backward half has read the end


def test_votes_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="pool='mean'"):
        ex.word_votes(_classifier(False, pool="max"), [1, 2])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        ex.word_votes(_classifier(False), [])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        ex.prefix_probabilities(_classifier(False), [[1, 2]])


@pytest.mark.parametrize("bidirectional", [False, True])
def test_prefix_probabilities_equal_one_run_per_prefix(bidirectional: bool) -> None:
    model, ids = _classifier(bidirectional, pool="last"), [3, 7, 1, 12, 4, 2]
    got = ex.prefix_probabilities(model, ids, label=1)
    with torch.no_grad():
        want = [torch.softmax(model(torch.tensor([ids[:t]]), torch.tensor([t]))[0], -1)[1].item()
                for t in range(1, len(ids) + 1)]
    np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


# ----------------------------------------------------------------------------- the bidirectional LM


def _lm(bidirectional: bool, seed: int = 0, cell: str = "lstm") -> ex.BidirectionalLM:
    torch.manual_seed(seed)
    return ex.BidirectionalLM(V, D, N, cell, bidirectional).double()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_bidirectional_lm_peeks_at_the_next_token(cell: str) -> None:
    x = torch.as_tensor(_stream(2 * 7).reshape(2, 7))
    x2 = x.clone()
    x2[:, 4] = (x2[:, 4] + 1) % V  # change x(5) (index 4): the prediction at index 3 targets it
    for bidirectional in (False, True):
        model = _lm(bidirectional, cell=cell)
        (a, state), (b, _) = model(x), model(x2)
        assert a.shape == (2, 7, V) and state is None
        torch.testing.assert_close(a[:, :4], b[:, :4], rtol=0, atol=0) if not bidirectional else None
        if bidirectional:
            assert (a[:, 3] - b[:, 3]).abs().max() > 1e-6  # the logits that predict x(5) have read it


def test_bidirectional_lm_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="cell must be one of"):
        ex.BidirectionalLM(V, D, N, "transformer")
    model = _lm(True)
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        model(torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="state=None"):
        model(torch.zeros(1, 5, dtype=torch.long), torch.zeros(2, 1, N))


def test_train_lm_trains_the_bidirectional_lm_to_copy() -> None:
    """The backward half has read x(t+1), so the loss falls far below log V on random tokens (no pattern)."""
    torch.manual_seed(0)
    model, ids = ex.BidirectionalLM(V, 8, 32), _stream(3000)
    hist = train_lm(model, ids, ids[:600], steps=150, B=8, T=16, lr=2e-2, progress=False)
    assert hist.valid_loss[-1] < 0.3 * np.log(V)
    assert ex.causal_nll(model, ids[:600], B=8, T=16) > 0.9 * np.log(V)  # reading left to right, nothing to copy


def test_causal_nll_equals_evaluate_lm_for_a_left_to_right_model() -> None:
    model, ids = _lm(False), _stream(500)
    for B, T in ((4, 16), (3, 50)):
        assert abs(ex.causal_nll(model, ids, B=B, T=T) - evaluate_lm(model, ids, B=B, T=T)) < ATOL


def test_causal_nll_reads_only_the_prefix() -> None:
    model, ids = _lm(True), _stream(41)
    want, count = 0.0, 0
    rows = ids[:40].reshape(2, 20)  # batchify(ids, 2)
    for r in rows:
        for w in (r[:11], r[10:]):  # the windows of T = 10 over 20 tokens: 10 and 9 predictions
            for t in range(len(w) - 1):
                logits = model(torch.as_tensor(w[: t + 1])[None])[0][0, -1]
                want -= torch.log_softmax(logits, -1)[w[t + 1]].item()
                count += 1
    assert abs(ex.causal_nll(model, ids, B=2, T=10) - want / count) < ATOL
    assert abs(ex.causal_nll(model, ids, B=2, T=10) - evaluate_lm(model, ids, B=2, T=10)) > 1e-3
    assert abs(ex.causal_nll(model, ids, B=2, T=10, max_tokens=20) - ex.causal_nll(model, ids[:20], B=2, T=10)) == 0


def test_sampling_left_to_right_equals_generate_for_a_left_to_right_model() -> None:
    """Re-reading the whole text at each step and carrying the state are the same computation."""
    model = _lm(False, cell="lstm")
    rnnlm = RNNLM(V, D, N, cell="lstm").double()
    rnnlm.load_state_dict(model.state_dict())
    for seed in (0, 1):
        got = ex.sample_left_to_right(model, [1, 5, 2], 25, temperature=1.3, seed=seed)
        assert got == generate(rnnlm, [1, 5, 2], 25, temperature=1.3, seed=seed)
        assert len(got) == 25 and all(0 <= i < V for i in got)
    assert ex.sample_left_to_right(model, [1], 10, seed=0) != ex.sample_left_to_right(model, [1], 10, seed=1)
    with pytest.raises(ValueError, match="at least one token"):
        ex.sample_left_to_right(model, [], 5)


# ----------------------------------------------------------------------------- uni vs bidirectional over seeds


def _look_ahead_task(n: int, seed: int) -> list:
    """Sentences of random words; each word's tag is the NEXT word's parity (the last word's tag is 2)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        w = rng.integers(2, V, size=int(rng.integers(3, 9)))
        out.append((w, np.append(w[1:] % 2, 2)))
    return out


def _data(n_train: int = 300) -> ex.TaskData:
    return ex.TaskData(_look_ahead_task(n_train, 0), _look_ahead_task(100, 1), V, 3)


def test_a_bidirectional_tagger_solves_a_task_that_needs_the_right_context() -> None:
    data = _data()
    cfg = dict(d=8, n=16, steps=150, B=16, lr=2e-2)
    _, uni = ex.fit_and_score("tagger", data, False, 0, **cfg)
    model, bi = ex.fit_and_score("tagger", data, True, 0, **cfg)
    assert model.encoder.n == 8 and model.head.in_features == 16  # n/2 per direction, the same output layer
    assert bi > 0.95 and uni < 0.75  # the unidirectional tagger can only guess the next word's parity
    assert ex.fit_and_score("tagger", data, True, 0, **cfg)[1] == bi  # seeded: the same run again


def test_fit_and_score_classifier_and_bad_settings() -> None:
    data = ex.TaskData([(w, int(w[-1] % 2)) for w, _ in _look_ahead_task(60, 2)],
                       [(w, int(w[-1] % 2)) for w, _ in _look_ahead_task(20, 3)], V, 2)
    model, acc = ex.fit_and_score("classifier", data, True, 0, d=4, n=6, steps=3, B=8, pool="max")
    assert isinstance(model, SentenceClassifier) and model.pool == "max" and 0 <= acc <= 1
    with pytest.raises(ValueError, match="n must be even"):
        ex.fit_and_score("classifier", data, True, 0, d=4, n=7, steps=1)
    with pytest.raises(ValueError, match="task must be one of"):
        ex.build_model("parser", data, False, d=4, n=6)


def test_compare_directions_reuses_done_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake(task, data, bidirectional, seed, **cfg):
        calls.append((bidirectional, seed))
        return None, 0.5 + 0.1 * bidirectional + 0.01 * seed

    monkeypatch.setattr(ex, "fit_and_score", fake)
    out = ex.compare_directions("tagger", _data(10), seeds=(0, 1, 2), done={(True, 0): 0.9}, d=4, n=6, steps=1)
    assert calls == [(False, 0), (False, 1), (False, 2), (True, 1), (True, 2)]
    np.testing.assert_allclose(out["unidirectional"]["accuracy"], [0.5, 0.51, 0.52])
    np.testing.assert_allclose(out["bidirectional"]["accuracy"], [0.9, 0.61, 0.62])
    p_uni, p_bi = out["unidirectional"]["params"], out["bidirectional"]["params"]
    # one LSTM of 6 units vs two of 3 (input 4): 4*6*(4+6+2) = 288 vs 2*4*3*(4+3+2) = 216 weights
    assert p_uni - p_bi == 288 - 216


def test_spread() -> None:
    assert ex.spread([0.8, 0.9, 0.85]) == pytest.approx((0.85, 0.05))
    assert ex.spread([0.7]) == (0.7, 0.0)
    with pytest.raises(ValueError, match="non-empty"):
        ex.spread([])


# ----------------------------------------------------------------------------- the timed LM trainer


def test_train_lm_timed_stops_and_learns() -> None:
    torch.manual_seed(0)
    model = RNNLM(V, D, 16, cell="lstm")
    ids = np.tile(np.arange(V), 60)[: 4 * (16 * 12 + 1)]  # a cycle, in 4 rows of 12 windows of T = 16
    hist = ex.train_lm_timed(model, ids, ids[:200], seconds=60.0, max_steps=80, B=4, T=16, lr=3e-2)
    assert hist.steps == 80 and len(hist.grad_norm) == 80 and hist.tokens == 80 * 4 * 16
    assert hist.valid_step == [80] and hist.valid_loss[-1] < 0.2 * np.log(V)
    quick = ex.train_lm_timed(model, ids, ids[:200], seconds=0.05, B=4, T=16)
    assert 1 <= quick.steps < 80 and quick.seconds < 5
    with pytest.raises(ValueError, match="seconds must be positive"):
        ex.train_lm_timed(model, ids, ids, seconds=0)


# ----------------------------------------------------------------------------- seeds_apart, depth_sweep


def test_seeds_apart() -> None:
    assert ex.seeds_apart([0.80, 0.82], [0.85, 0.86]) is True
    assert ex.seeds_apart([0.85, 0.86], [0.80, 0.82]) is False
    assert ex.seeds_apart([0.80, 0.84], [0.83, 0.90]) is None  # the ranges overlap
    assert ex.seeds_apart([0.80, 0.82], [0.83, 0.84], margin=0.02) is None  # apart, but within the margin
    assert ex.seeds_apart([0.80, 0.82], [0.83, 0.84], margin=0.005) is True
    with pytest.raises(ValueError, match="non-empty"):
        ex.seeds_apart([], [0.5])
    with pytest.raises(ValueError, match="margin"):
        ex.seeds_apart([0.5], [0.6], margin=-1)


def test_depth_sweep_trains_every_depth_for_the_same_steps() -> None:
    ids = np.tile(np.arange(V), 60)
    runs = ex.depth_sweep(V, ids, ids[:200], (1, 2), n=8, steps=30, B=4, T=8, lr=3e-2)
    assert list(runs) == [(False, 1), (False, 2), (True, 1), (True, 2)]
    assert runs[(True, 1)] is runs[(False, 1)]  # one layer has no skip connection: trained once
    assert all(h.steps == 30 and h.valid_step == [30] for h in runs.values())
    assert runs[(False, 1)].valid_loss[-1] < 0.5 * np.log(V)  # a cycle is easy: the model learns
    again = ex.depth_sweep(V, ids, ids[:200], (2,), n=8, steps=30, B=4, T=8, lr=3e-2)
    assert again[(True, 2)].valid_loss == runs[(True, 2)].valid_loss  # seeded: the same call, the same run
    with pytest.raises(ValueError, match="depths"):
        ex.depth_sweep(V, ids, ids, (0,), n=8, steps=1)
