"""Chapter 4 tools: gradient clipping, step Jacobians, the eigen-decomposition of the linear case,
measured gradient norms over distance, the Jacobian bound, and the eigenvalue widget."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lecture_code import widgets
from lecture_code.gradients import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value,
    eigen_reconstruct,
    eigen_terms,
    global_norm,
    gradient_norms_over_distance,
    hidden_state_gradient_norms,
    jacobian_bound,
    jacobian_product,
    left_eigenvectors,
    rnn_jacobians,
    step_jacobian_norms,
)
from lecture_code.models import RNNLM, torch_to_numpy_params


def _grads(rng: np.random.Generator, scale: float = 1.0) -> dict[str, np.ndarray]:
    return {"W_h": scale * rng.standard_normal((4, 4)), "b1": scale * rng.standard_normal(4),
            "U": scale * rng.standard_normal((6, 4))}


def _flat(grads: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([g.ravel() for g in grads.values()])


def _params_with_grads(grads: dict[str, np.ndarray]) -> list[torch.nn.Parameter]:
    ps = []
    for g in grads.values():
        p = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64))
        p.grad = torch.tensor(g)
        ps.append(p)
    return ps


# --- clipping (NumPy, Algorithm 1) ------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0.5, 2.0, 100.0])
def test_clip_grad_norm_matches_torch(rng, threshold):
    grads = _grads(rng, 3.0)
    ours = clip_grad_norm(grads, threshold)
    ps = _params_with_grads(grads)
    total = torch.nn.utils.clip_grad_norm_(ps, threshold)
    assert float(total) == pytest.approx(global_norm(grads), rel=1e-12)
    for (name, g), p in zip(ours.items(), ps, strict=True):
        # torch multiplies by max_norm / (norm + 1e-6): a relative difference of at most 1e-6 / norm
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-6, atol=1e-9, err_msg=name)


def test_clip_grad_norm_keeps_direction_and_sets_length(rng):
    grads = _grads(rng, 5.0)
    clipped = clip_grad_norm(grads, 1.0)
    a, b = _flat(grads), _flat(clipped)
    assert a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) == pytest.approx(1.0, abs=1e-12)
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-12)


def test_clip_grad_norm_is_idempotent_and_leaves_small_gradients(rng):
    grads = _grads(rng, 5.0)
    once = clip_grad_norm(grads, 1.0)
    twice = clip_grad_norm(once, 1.0)
    for k in grads:
        np.testing.assert_allclose(twice[k], once[k], rtol=1e-12)
    small = _grads(rng, 1e-3)
    for k, g in clip_grad_norm(small, 1.0).items():
        np.testing.assert_array_equal(g, small[k])


def test_clip_grad_norm_exactly_at_threshold_scales_by_one(rng):
    grads = _grads(rng)
    t = global_norm(grads)
    for k, g in clip_grad_norm(grads, t).items():
        np.testing.assert_allclose(g, grads[k], rtol=1e-15)


def test_clip_grad_norm_zero_gradient_and_input_untouched(rng):
    zero = {"a": np.zeros((3, 3)), "b": np.zeros(2)}
    out = clip_grad_norm(zero, 1.0)
    assert all(np.all(g == 0) and not np.isnan(g).any() for g in out.values())
    grads = _grads(rng, 5.0)
    copy = {k: g.copy() for k, g in grads.items()}
    clip_grad_norm(grads, 1.0)
    for k in grads:
        np.testing.assert_array_equal(grads[k], copy[k])
    with pytest.raises(ValueError):
        clip_grad_norm(grads, 0.0)


def test_clip_grad_value_changes_direction():
    grads = {"g": np.array([10.0, 0.1])}
    clipped = clip_grad_value(grads, 1.0)["g"]
    np.testing.assert_array_equal(clipped, [1.0, 0.1])
    cos = clipped @ grads["g"] / (np.linalg.norm(clipped) * np.linalg.norm(grads["g"]))
    assert cos < 0.999
    cos_norm = _flat(clip_grad_norm(grads, 1.0)) @ grads["g"] / (1.0 * np.linalg.norm(grads["g"]))
    assert cos_norm == pytest.approx(1.0, abs=1e-12)


# --- clipping (torch, in place) ---------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0.5, 3.0, 1e3])
def test_torch_clip_grad_norm_matches_numpy_version(rng, threshold):
    grads = _grads(rng, 2.0)
    ps = _params_with_grads(grads)
    norm = clip_grad_norm_(ps, threshold)
    assert norm == pytest.approx(global_norm(grads), rel=1e-12)
    for (name, g), p in zip(clip_grad_norm(grads, threshold).items(), ps, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-12, err_msg=name)
    ref = _params_with_grads(grads)
    torch.nn.utils.clip_grad_norm_(ref, threshold)
    for p, q in zip(ps, ref, strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-6, atol=1e-9)


def test_torch_clip_grad_norm_edges(rng):
    grads = _grads(rng)
    ps = _params_with_grads(grads)
    skipped = torch.nn.Parameter(torch.ones(3))  # no .grad: skipped
    t = global_norm(grads)
    assert clip_grad_norm_([*ps, skipped], t) == pytest.approx(t)
    for p, g in zip(ps, grads.values(), strict=True):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-15)  # at the threshold: times 1
    assert skipped.grad is None
    zero = torch.nn.Parameter(torch.zeros(2))
    zero.grad = torch.zeros(2)
    assert clip_grad_norm_([zero], 1.0) == 0.0 and not torch.isnan(zero.grad).any()
    with pytest.raises(ValueError):
        clip_grad_norm_(ps, -1.0)
    f32 = torch.nn.Parameter(torch.zeros(3))
    f32.grad = torch.tensor([3.0, 4.0, 0.0])
    assert clip_grad_norm_(iter([f32]), 1.0) == pytest.approx(5.0)  # a generator is fine
    torch.testing.assert_close(f32.grad, torch.tensor([0.6, 0.8, 0.0]))


# --- step Jacobians ---------------------------------------------------------------------------


def _tanh_run(W_h: np.ndarray, h0: np.ndarray, xs: np.ndarray) -> np.ndarray:
    hs = [h0]
    for x in xs:
        hs.append(np.tanh(W_h @ hs[-1] + x))
    return np.array(hs)


@pytest.mark.parametrize(("n", "T"), [(1, 1), (3, 1), (4, 6)])
def test_jacobian_product_matches_autograd(rng, n, T):
    W_h = rng.standard_normal((n, n)) / np.sqrt(n)
    h0, xs = rng.standard_normal(n) * 0.5, rng.standard_normal((T, n))
    hs = _tanh_run(W_h, h0, xs)
    W, X = torch.tensor(W_h), torch.tensor(xs)

    def f(h: torch.Tensor) -> torch.Tensor:
        for x in X:
            h = torch.tanh(W @ h + x)
        return h

    J = torch.autograd.functional.jacobian(f, torch.tensor(h0)).numpy()
    np.testing.assert_allclose(jacobian_product(W_h, hs), J, rtol=0, atol=1e-12)
    assert rnn_jacobians(W_h, hs).shape == (T, n, n)


def test_gradient_norms_over_distance_matches_powers_and_eigen_terms(rng):
    n, L = 4, 12
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    g = rng.standard_normal(n)
    norms = gradient_norms_over_distance(W, g, L)
    explicit = [np.linalg.norm(g @ np.linalg.matrix_power(W, l)) for l in range(L + 1)]
    np.testing.assert_allclose(norms, explicit, rtol=1e-12)
    # the norm of a sum is at most the sum of the terms' lengths
    _, _, mags = eigen_terms(W, g, range(L + 1))
    assert np.all(norms <= mags.sum(axis=1) * (1 + 1e-10))
    # and for large l the term with the largest |lambda| dominates: the ratio tends to rho(W)
    long = gradient_norms_over_distance(W, g, 200)
    rho = np.max(np.abs(np.linalg.eigvals(W)))
    assert (long[200] / long[100]) ** (1 / 100) == pytest.approx(rho, rel=0.05)


# --- the eigen-decomposition of the linear case -----------------------------------------------


@pytest.mark.parametrize("n", [2, 5, 8])
def test_eigen_reconstruction(rng, n):
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    lam = np.linalg.eigvals(W)
    g = rng.standard_normal(n)
    for l in (0, 1, 3, 10):
        rec = eigen_reconstruct(W, g, l)
        want = g @ np.linalg.matrix_power(W, l)
        np.testing.assert_allclose(rec.real, want, atol=1e-10 * max(1.0, np.linalg.norm(want)))
        np.testing.assert_allclose(rec.imag, 0, atol=1e-10 * max(1.0, np.linalg.norm(want)))
    got_lam, c, mags = eigen_terms(W, g, [0, 4])
    np.testing.assert_allclose(np.sort_complex(got_lam), np.sort_complex(lam), atol=1e-10)
    assert c.shape == (n,) and mags.shape == (2, n)
    lam_q, Q = left_eigenvectors(W)
    np.testing.assert_allclose(Q.T @ W, lam_q[:, None] * Q.T, atol=1e-10)  # q_i W = lambda_i q_i
    np.testing.assert_allclose(mags[1], np.abs(c * lam_q**4), rtol=1e-10)  # unit q_i


def test_eigen_terms_with_complex_eigenvalues():
    t = 0.3
    W = 0.9 * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])  # eigenvalues 0.9 e^(+-0.3i)
    g = np.array([1.0, 2.0])
    lam, _, mags = eigen_terms(W, g, [0, 5])
    assert np.all(np.abs(lam.imag) > 0.1)
    np.testing.assert_allclose(np.abs(lam), 0.9)
    np.testing.assert_allclose(mags[1], mags[0] * 0.9**5)
    np.testing.assert_allclose(eigen_reconstruct(W, g, 5).real, g @ np.linalg.matrix_power(W, 5), atol=1e-12)


def test_eigen_terms_reject_defective_matrix():
    with pytest.raises(ValueError, match="not diagonalisable"):
        eigen_terms(np.array([[1.0, 1.0], [0.0, 1.0]]), np.ones(2), [1])


# --- measured gradient norms over distance -----------------------------------------------------


def _numpy_hidden_grad_norms(model: RNNLM, tokens: np.ndarray) -> np.ndarray:
    p = torch_to_numpy_params(model)
    B, T = tokens.shape[0], tokens.shape[1] - 1
    out = np.zeros(T)
    for b in range(B):
        h, hs = np.zeros(model.n), [np.zeros(model.n)]
        for t in range(T):
            h = np.tanh(p["W_h"] @ h + p["W_e"] @ p["E"][:, tokens[b, t]] + p["b1"])
            hs.append(h)
        z = p["U"] @ h + p["b2"]
        y_hat = np.exp(z - z.max())
        y_hat /= y_hat.sum()
        y_hat[tokens[b, -1]] -= 1.0
        dh = y_hat @ p["U"]  # dJ/dh(T), a row vector
        for l, J in enumerate(rnn_jacobians(p["W_h"], np.array(hs))[::-1]):
            out[l] += np.linalg.norm(dh) / B
            dh = dh @ J  # dJ/dh(t-1) = dJ/dh(t) dh(t)/dh(t-1)
    return out


@pytest.mark.parametrize("cell", ["rnn", "scratch"])
def test_hidden_state_gradient_norms_match_numpy(cell):
    torch.manual_seed(0)
    model = RNNLM(7, 3, 5, cell=cell).double()
    tokens = torch.randint(0, 7, (3, 9))
    got = hidden_state_gradient_norms(model, tokens)
    assert got.shape == (8,)
    np.testing.assert_allclose(got, _numpy_hidden_grad_norms(model, tokens.numpy()), rtol=1e-10)
    assert all(p.grad is None for p in model.parameters())


def test_hidden_state_gradient_norms_match_autograd_through_nn_rnn():
    torch.manual_seed(1)
    model = RNNLM(6, 4, 5, cell="rnn").double()
    tokens = torch.randint(0, 6, (2, 7))
    x, y = tokens[:, :-1], tokens[:, -1]
    T = x.shape[1]
    e = model.embedding(x).detach()
    with torch.no_grad():
        hs, _ = model.rnn(e)  # (B, T, n): h(1..T) from nn.RNN itself
    want = []
    for l in range(T):
        t = T - l  # h(t) is hs[:, t - 1]
        h = hs[:, t - 1].clone().requires_grad_(True)
        last = model.rnn(e[:, t:], h[None])[0][:, -1] if l > 0 else h  # run nn.RNN from h(t)
        loss = F.cross_entropy(model.head(last), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, h)
        want.append(grad.norm(dim=1).mean().item())
    np.testing.assert_allclose(hidden_state_gradient_norms(model, tokens), want, rtol=1e-10)


def test_hidden_state_gradient_norms_rejects_lstm():
    model = RNNLM(5, 3, 4, cell="lstm")
    with pytest.raises(ValueError):
        hidden_state_gradient_norms(model, torch.zeros(1, 3, dtype=torch.long))


# --- the bound on the step Jacobians ----------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_step_jacobian_norms_never_exceed_bound(rng, activation):
    for scale in (0.3, 1.0, 3.0):
        n, T = 6, 20
        W_h = scale * rng.standard_normal((n, n)) / np.sqrt(n)
        a = rng.standard_normal((T + 1, n)) * 2
        hs = np.tanh(a) if activation == "tanh" else 1 / (1 + np.exp(-a))
        norms = step_jacobian_norms(W_h, hs, activation)
        assert norms.shape == (T,)
        assert np.all(norms <= jacobian_bound(W_h, activation) * (1 + 1e-12))
        assert np.all(norms > 0)
    if activation == "tanh":  # agrees with the Jacobians of rnn_jacobians
        np.testing.assert_allclose(norms, [np.linalg.norm(J, 2) for J in rnn_jacobians(W_h, hs)], rtol=1e-12)
    # at h = 0 (tanh) the bound is reached; sigmoid's 1/4 is reached at h = 1/2
    h_mid = np.zeros((2, n)) if activation == "tanh" else np.full((2, n), 0.5)
    assert step_jacobian_norms(W_h, h_mid, activation)[0] == pytest.approx(jacobian_bound(W_h, activation))


def test_unknown_activation():
    with pytest.raises(ValueError):
        step_jacobian_norms(np.eye(2), np.zeros((2, 2)), "relu")
    with pytest.raises(ValueError):
        jacobian_bound(np.eye(2), "relu")


# --- the widget -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3])
def test_eigen_explorer_redraws_when_a_slider_moves(n):
    box = widgets.eigen_explorer(n)
    big, small = box.children[0].children
    theta, l_max = box.children[1].children
    image, caption = box.children[2], box.children[3]
    first = image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and "vanishes" in caption.value
    big.value = 1.2
    assert image.value != first and "explodes" in caption.value
    second = image.value
    theta.value = 30.0
    assert image.value != second
    third = image.value
    l_max.value = 60
    assert image.value != third
    assert small.disabled == (n == 2)  # with n = 2 a complex pair has a single modulus
    theta.value = 0.0
    assert not small.disabled
    fourth = image.value
    small.value = 0.1
    assert image.value != fourth
