"""Tests for lecture_code.lstm_experiments: gate traces, interpretable-cell correlations, the cell recurrence,
gradient norms against distance (checked against the NumPy backward pass and finite differences), the copy
sweep and memory span, matched training time, and the Zaremba et al. (2014) training recipe."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecture_code import lstm_experiments as la
from lecture_code import tasks
from lecture_code.gradients import hidden_state_gradient_norms
from lecture_code.models import RNNLM, set_forget_bias
from lecture_code.numpy_lstm import gru_forward, lstm_backward, lstm_forward, torch_layer_params

V, D, N = 7, 3, 5  # distinct sizes: a transposed matrix fails on its shape


def _lm(cell: str, seed: int = 0) -> RNNLM:
    torch.manual_seed(seed)
    return RNNLM(V, D, N, cell=cell).double()


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- lstm_trace --------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["lstm", "scratch_lstm"])
def test_lstm_trace_matches_the_model_and_the_cell_equation(cell):
    model = _lm(cell)
    set_forget_bias(model, 0.7)
    ids = np.array([1, 4, 0, 6, 6, 2, 3])
    tr = la.lstm_trace(model, ids)
    assert set(tr) == {"f", "i", "o", "c_tilde", "c", "h"} and all(v.shape == (7, N) for v in tr.values())
    with torch.no_grad():
        H, (_, c_T) = model.rnn(model.embedding(torch.as_tensor(ids)[None]))
    np.testing.assert_allclose(tr["h"], H[0].numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(tr["c"][-1], c_T.reshape(-1).numpy(), rtol=0, atol=1e-12)
    c_prev = np.vstack([np.zeros(N), tr["c"][:-1]])
    np.testing.assert_allclose(tr["c"], tr["f"] * c_prev + tr["i"] * tr["c_tilde"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(tr["h"], tr["o"] * np.tanh(tr["c"]), rtol=0, atol=1e-12)
    assert np.all((tr["f"] > 0) & (tr["f"] < 1)) and not np.allclose(tr["f"], tr["i"])


def test_lstm_trace_rejects_other_models():
    with pytest.raises(ValueError, match="LSTM"):
        la.lstm_trace(_lm("rnn"), [1, 2])
    with pytest.raises(ValueError, match="1-D"):
        la.lstm_trace(_lm("lstm"), np.zeros((2, 2), dtype=int))


# --- interpretable cells -------------------------------------------------------------------------


def test_char_features_on_a_small_play():
    text = "ROMEO:\nHi yo\nAB c:\n"
    f = la.char_features(text)
    np.testing.assert_array_equal(f["line position"][:9], [0, 1, 2, 3, 4, 5, 6, 0, 1])
    np.testing.assert_array_equal(f["word position"][7:13], [0, 1, 2, 0, 1, 2])  # "Hi yo\n"
    np.testing.assert_array_equal(np.flatnonzero(f["newline"]), [6, 12, 18])
    np.testing.assert_array_equal(np.flatnonzero(f["space"]), [9, 15])
    np.testing.assert_array_equal(np.flatnonzero(f["uppercase"]), [0, 1, 2, 3, 4, 7, 13, 14])
    np.testing.assert_array_equal(np.flatnonzero(f["speaker line"]), range(7))  # "AB c:" has a lowercase letter
    assert all(v.shape == (len(text),) for v in f.values())


def test_cell_feature_correlations_match_numpy_and_pick_the_best_unit(rng):
    feature = rng.normal(size=200)
    C = rng.normal(size=(200, 4))
    C[:, 2] = -3 * feature + 0.1 * rng.normal(size=200)  # unit 2 tracks the feature, with the opposite sign
    C[:, 3] = 5.0  # a unit that never changes
    r = la.cell_feature_correlations(C, {"x": feature})["x"]
    for j in range(3):
        assert r[j] == pytest.approx(np.corrcoef(C[:, j], feature)[0, 1], abs=1e-12)
    assert r[3] == 0.0
    unit, corr = la.best_units({"x": r})["x"]
    assert unit == 2 and corr < -0.99


def test_cell_feature_correlations_reject_bad_input(rng):
    C = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="constant"):
        la.cell_feature_correlations(C, {"quotes": np.zeros(10)})
    with pytest.raises(ValueError, match="shape"):
        la.cell_feature_correlations(C, {"x": np.arange(9.0)})
    with pytest.raises(ValueError, match=r"\(T, n\)"):
        la.cell_feature_correlations(C[:, 0], {"x": np.arange(10.0)})


# --- the cell recurrence -------------------------------------------------------------------------


def test_cell_recurrence_holds_forgets_and_matches_a_loop(rng):
    c_tilde = rng.normal(size=(1000, 3))
    c0 = rng.normal(size=3)
    c, h = la.cell_recurrence(1.0, 0.0, 0.5, c_tilde, c0)
    assert np.abs(c - c0).max() == 0.0  # f = 1, i = 0: kept exactly
    np.testing.assert_array_equal(h, 0.5 * np.tanh(np.broadcast_to(c0, c.shape)))
    f, i, o = rng.uniform(size=(3, 1000, 3))
    c, h = la.cell_recurrence(f, i, o, c_tilde, c0)
    ref, hs = c0, []
    for t in range(1000):
        ref = f[t] * ref + i[t] * c_tilde[t]
        hs.append(o[t] * np.tanh(ref))
    np.testing.assert_allclose(h, hs, rtol=0, atol=1e-14)
    c, _ = la.cell_recurrence(0.5, 0.0, 1.0, np.zeros(10), 1.0)
    np.testing.assert_allclose(c, 0.5 ** np.arange(1, 11))
    with pytest.raises(ValueError, match="c_tilde"):
        la.cell_recurrence(1.0, 0.0, 1.0, np.zeros((2, 2, 2)))


def test_candidate_patterns():
    for name in la.CANDIDATE_PATTERNS:
        p = la.candidate_pattern(name, 30, 2.0)
        assert p.shape == (30,) and np.abs(p).max() <= 2.0 and np.abs(p).max() > 0
    np.testing.assert_array_equal(np.flatnonzero(la.candidate_pattern("pulses", 30)), [4, 19])
    with pytest.raises(ValueError, match="pattern"):
        la.candidate_pattern("square", 10)


# --- gradient norms over distance ----------------------------------------------------------------


def _numpy_lstm_state_grads(model: RNNLM, x: np.ndarray, y: np.ndarray, ell: int) -> tuple[np.ndarray, ...]:
    """dJ(T)/dh(T-ell) and dJ(T)/dc(T-ell) (B, n) by the NumPy backward pass over the last ell steps (ell < T - 1)."""
    p = torch_layer_params(model.rnn)
    E = model.embedding.weight.detach().numpy()
    U, b2 = model.head.weight.detach().numpy(), model.head.bias.detach().numpy()
    B, T = x.shape
    H, C, _ = lstm_forward(E[x], np.zeros((B, N)), np.zeros((B, N)), p)
    H_end, _, caches = lstm_forward(E[x[:, T - ell :]], H[:, T - 1 - ell], C[:, T - 1 - ell], p)
    probs = _softmax(H_end[:, -1] @ U.T + b2)
    probs[np.arange(B), y] -= 1.0
    dH = np.zeros_like(H_end)
    dH[:, -1] = probs @ U  # dJ(T)/dh(T) from the output layer
    _, dh, dc, _ = lstm_backward(dH, caches)  # dc: through c(T-ell+1) only; add the path through h(T-ell)
    t = T - ell  # h(t) = o(t) tanh(c(t)), o(t) from h(t-1) and x(t)
    o = 1 / (1 + np.exp(-(H[:, t - 2] @ p["W_o"].T + E[x[:, t - 1]] @ p["U_o"].T + p["b_o"])))
    return dh, dc + dh * o * (1 - np.tanh(C[:, t - 1]) ** 2)


def test_lstm_state_gradient_norms_match_the_numpy_backward_pass(rng):
    model = _lm("lstm")
    x, y = rng.integers(0, V, size=(3, 9)), rng.integers(0, V, size=3)
    norms = la.state_gradient_norms(model, x, y)
    assert set(norms) == {"h", "c"} and norms["h"].shape == norms["c"].shape == (9,)
    for ell in (1, 4, 7):
        dh, dc = _numpy_lstm_state_grads(model, x, y, ell)
        assert norms["h"][ell] == pytest.approx(np.linalg.norm(dh, axis=1).mean(), rel=1e-10)
        assert norms["c"][ell] == pytest.approx(np.linalg.norm(dc, axis=1).mean(), rel=1e-10)
    assert norms["c"][7] < norms["c"][1]  # the gradient shrinks with distance at initialisation


def test_lstm_cell_gradient_matches_finite_differences(rng):
    model = _lm("scratch_lstm", seed=3)
    x, y = rng.integers(0, V, size=(1, 6)), rng.integers(0, V, size=1)
    ell, eps = 3, 1e-6
    p = {k: v.numpy() for k, v in model.rnn.lecture_params().items()}
    E = model.embedding.weight.detach().numpy()
    U, b2 = model.head.weight.detach().numpy(), model.head.bias.detach().numpy()
    H, C, _ = lstm_forward(E[x], np.zeros((1, N)), np.zeros((1, N)), p)

    def loss(h: np.ndarray, c: np.ndarray) -> float:
        H_end, _, _ = lstm_forward(E[x[:, 6 - ell :]], h, c, p)
        return float(-np.log(_softmax(H_end[0, -1] @ U.T + b2)[y[0]]))

    h, c = H[:, 5 - ell].copy(), C[:, 5 - ell].copy()
    o = h / np.tanh(c)  # o(T-ell): moving c(T-ell) moves h(T-ell) = o tanh(c(T-ell)) with it

    def loss_c(c: np.ndarray) -> float:
        return loss(o * np.tanh(c), c)

    dc = np.array([(loss_c(c + eps * e) - loss_c(c - eps * e)) / (2 * eps) for e in np.eye(N)[:, None]])
    dh = np.array([(loss(h + eps * e, c) - loss(h - eps * e, c)) / (2 * eps) for e in np.eye(N)[:, None]])
    norms = la.state_gradient_norms(model, x, y)
    assert norms["c"][ell] == pytest.approx(np.linalg.norm(dc), rel=1e-7)
    assert norms["h"][ell] == pytest.approx(np.linalg.norm(dh), rel=1e-7)


@pytest.mark.parametrize("cell", ["rnn", "scratch"])
def test_rnn_state_gradient_norms_equal_chapter_4s(rng, cell):
    model = _lm(cell)
    tokens = rng.integers(0, V, size=(4, 11))
    norms = la.state_gradient_norms(model, tokens[:, :-1], tokens[:, -1])
    assert set(norms) == {"h"}
    np.testing.assert_allclose(norms["h"], hidden_state_gradient_norms(model, torch.as_tensor(tokens)), rtol=1e-12)


def test_gru_state_gradient_norms_match_finite_differences(rng):
    model = _lm("gru")
    x, y = rng.integers(0, V, size=(1, 5)), rng.integers(0, V, size=1)
    p = torch_layer_params(model.rnn)
    E = model.embedding.weight.detach().numpy()
    U, b2 = model.head.weight.detach().numpy(), model.head.bias.detach().numpy()
    H = gru_forward(E[x], np.zeros((1, N)), p)
    ell, eps = 2, 1e-6

    def loss(h: np.ndarray) -> float:
        h_T = gru_forward(E[x[:, 5 - ell :]], h, p)[0, -1]
        return float(-np.log(_softmax(h_T @ U.T + b2)[y[0]]))

    h = H[:, 4 - ell]
    dh = np.array([(loss(h + eps * e) - loss(h - eps * e)) / (2 * eps) for e in np.eye(N)[:, None]])
    assert la.state_gradient_norms(model, x, y)["h"][ell] == pytest.approx(np.linalg.norm(dh), rel=1e-7)


def test_state_gradient_norms_work_on_the_copy_classifier_and_leave_it_alone(rng):
    torch.manual_seed(0)
    model = tasks.CopyClassifier(tasks.vocab_size(), 4, 6, 4, cell="lstm", forget_bias=3.0)
    before = [p.detach().clone() for p in model.parameters()]
    x, y = tasks.copy_task(10, 8, rng)
    norms = la.state_gradient_norms(model, x, y)
    assert norms["c"].shape == (12,) and np.all(norms["c"] > 0)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert all(p.grad is None for p in model.parameters())


def test_forget_bias_keeps_the_cell_gradient_alive(rng):
    x, y = rng.integers(0, V, size=(8, 40)), rng.integers(0, V, size=8)
    ratio = {}
    for b_f in (0.0, 3.0):
        model = set_forget_bias(_lm("lstm"), b_f)
        c = la.state_gradient_norms(model, x, y)["c"]
        ratio[b_f] = c[30] / c[0]
    assert ratio[3.0] > 1e3 * ratio[0.0]


def test_state_gradient_norms_reject_bad_input():
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="one-layer"):
        la.state_gradient_norms(RNNLM(V, D, N, cell="lstm", num_layers=2), np.zeros((1, 3), int), np.zeros(1, int))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        la.state_gradient_norms(_lm("lstm"), np.zeros(3, int), np.zeros(1, int))


# --- the copy sweep and the memory span ----------------------------------------------------------


def test_memory_span():
    assert la.memory_span([5, 10, 20, 50], [1.0, 0.95, 0.3, 0.92]) == 10  # a later pass does not count
    assert la.memory_span([20, 5, 10], [0.2, 1.0, 0.9]) == 10  # sorted by L; exactly the threshold passes
    assert la.memory_span([5, 10], [0.5, 1.0]) == 0
    assert la.memory_span([5, 10], [1.0, np.nan]) == 5
    assert la.memory_span([5, 100], [1.0, 1.0], threshold=0.99) == 100
    with pytest.raises(ValueError, match="equal length"):
        la.memory_span([5, 10], [1.0])
    with pytest.raises(ValueError, match="threshold"):
        la.memory_span([5], [1.0], threshold=0.0)


def test_copy_sweep_stops_below_the_threshold(monkeypatch):
    calls = []

    def fake_train_copy(cell, L, seed, **kw):
        calls.append((cell, L, seed, kw))
        return {"accuracy": {5: 1.0, 10: 0.5, 20: 1.0}[L] if seed == 0 else 1.0, "seconds": 0.5}

    monkeypatch.setattr(tasks, "train_copy", fake_train_copy)
    out = la.copy_sweep("rnn", [20, 5, 10], seeds=(0, 1), stop_below=True, steps=7)
    assert out["L"] == [5, 10, 20] and out["seconds"] == 2.5
    np.testing.assert_array_equal(out["accuracy"], [[1.0, 0.5, np.nan], [1.0, 1.0, 1.0]])
    assert [c[1:3] for c in calls] == [(5, 0), (10, 0), (5, 1), (10, 1), (20, 1)] and calls[0][3] == {"steps": 7}
    out = la.copy_sweep("rnn", [5, 10, 20], seeds=(0,))
    assert not np.isnan(out["accuracy"]).any()


def test_copy_sweep_runs_the_real_task():
    out = la.copy_sweep("lstm", [1, 2], steps=5, B=8, n_hidden=8, eval_n=20, forget_bias=1.0)
    assert out["accuracy"].shape == (1, 2) and np.all((out["accuracy"] >= 0) & (out["accuracy"] <= 1))


# --- matched training time -----------------------------------------------------------------------


def test_seconds_per_step_leaves_the_models_alone_and_matched_steps_rounds():
    small, big = _lm("lstm").float(), RNNLM(V, 64, 256, cell="lstm")
    before = [p.detach().clone() for p in small.parameters()]
    sps = la.seconds_per_step({"small": small, "big": big}, np.arange(2000) % V, steps=2, rounds=2, B=16, T=32)
    assert list(sps) == ["small", "big"] and 0 < sps["small"] < sps["big"] < 1
    assert all(torch.equal(a, b) for a, b in zip(before, small.parameters(), strict=True))
    with pytest.raises(ValueError, match="rounds"):
        la.seconds_per_step({"small": small}, np.arange(400) % V, rounds=0, B=4, T=8)
    assert la.matched_steps(10.0, 0.01) == 1000
    assert la.matched_steps(10.0, 0.0123) == 800  # 813 steps, rounded to a multiple of 50
    assert la.matched_steps(0.1, 1.0) == 50  # at least one multiple
    assert la.matched_steps(10.0, 0.0123, multiple=1) == 813
    with pytest.raises(ValueError, match="positive"):
        la.matched_steps(10.0, 0.0)


# --- Zaremba et al. (2014) -----------------------------------------------------------------------


def test_zaremba_lr_schedule():
    assert [la.zaremba_lr(e) for e in range(1, 8)] == [1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125]
    assert la.zaremba_lr(3, lr=2.0, decay=0.1, decay_after=1) == pytest.approx(0.02)
    with pytest.raises(ValueError, match="from 1"):
        la.zaremba_lr(0)


def test_uniform_init_sets_every_parameter_in_range():
    torch.manual_seed(0)
    model = la.uniform_init_(RNNLM(V, D, N, cell="lstm", num_layers=2), 0.05)
    for p in model.parameters():
        assert p.abs().max() <= 0.05 and p.std() > 0.01
    with pytest.raises(ValueError, match="positive"):
        la.uniform_init_(model, 0.0)


def test_train_zaremba_follows_the_schedule_and_learns():
    torch.manual_seed(0)
    stream = np.tile([0, 1, 2, 3, 4, 5, 6], 60)  # a deterministic cycle: learnable
    model = la.uniform_init_(RNNLM(V, 8, 16, cell="lstm"), 0.1)
    cfg = {k: la.ZAREMBA_SMALL[k] for k in ("decay", "clip")}
    hist, lrs = la.train_zaremba(model, stream, stream[:100], epochs=3, B=4, T=5, lr=1.0, decay_after=2,
                                 progress=False, **cfg)
    assert lrs == [1.0, 1.0, 0.5]
    assert len(hist.valid_loss) == 3 and hist.valid_step[-1] == hist.steps == 3 * 21  # 105 per row: 21 windows
    assert hist.valid_loss[-1] < 0.5 * np.log(V)
    assert max(hist.grad_norm) > 0


def test_sweep_mean_accuracy_and_plot_copy_sweeps():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweep = {"L": [5, 10, 20], "accuracy": np.array([[1.0, 0.9, 0.3], [1.0, 0.8, np.nan]])}
    mean = la.sweep_mean_accuracy(sweep)
    assert mean[5] == 1.0 and mean[10] == pytest.approx(0.85) and np.isnan(mean[20])
    full = {"L": [5, 10], "accuracy": np.array([[1.0, 1.0]])}
    fig, ax = plt.subplots()
    spans = la.plot_copy_sweeps({"a": sweep, "LSTM, b_f = 3": full}, ax)
    assert spans == {"a": 5, "LSTM, b_f = 3": 10}
    assert len(ax.containers) == 2 and ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()][-2:] == ["a", "LSTM, $b_f = 3$"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5", "10", "20"]
    plt.close(fig)
