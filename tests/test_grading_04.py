"""Tests for exercise set 4 (vanishing and exploding gradients): clip_grad_norm, jacobian_product,
jacobian_norm_bound, vanishing_condition_choice, gradient_norms_over_distance.

As in test_grading_02.py, the wrong implementations are written independently of the registered
``Mistake.fn``s (loops, einsum, reduce, recursion, other names), the way a learner would write
them; each must be rejected AND named as the registered mistake. The correct implementations are
written in several styles and must all pass.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import assert_passes, assert_rejected_and_named, assert_wrong_and_correct_cover, quiet_check

from lecture_code import gradients
from lecture_code.grading import EXERCISES, Status, exercises_04
from lecture_code.grading.checker import _same

SET_4 = ["clip_grad_norm", "jacobian_product", "jacobian_norm_bound", "gradient_norms_over_distance"]
ALL_4 = ["clip_grad_norm", "jacobian_product", "jacobian_norm_bound", "vanishing_condition_choice",
         "gradient_norms_over_distance"]


# =============================================================================================
# clip_grad_norm

# ----- wrong


def clip_elementwise(grads, threshold):
    out = {}
    for name in grads:
        out[name] = np.minimum(np.maximum(grads[name], -threshold), threshold)
    return out


def clip_per_array(grads, threshold):
    return {k: g * min(1.0, threshold / np.sqrt((g * g).sum())) for k, g in grads.items()}


def clip_always(grads, threshold):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    return {k: threshold * g / total for k, g in grads.items()}


def clip_upside_down(grads, threshold):
    total = np.sqrt(sum((g**2).sum() for g in grads.values()))
    if total < threshold:
        return {k: g.copy() for k, g in grads.items()}
    return {k: g * total / threshold for k, g in grads.items()}


def clip_in_place(grads, threshold):
    total = np.sqrt(sum(np.vdot(g, g) for g in grads.values()))
    if total >= threshold:
        for k in grads:
            grads[k] *= threshold / total


def clip_unit_vector(grads, threshold):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    direction = {k: g / total for k, g in grads.items()}
    length = min(total, threshold)
    return {k: length * d for k, d in direction.items()}


# ----- correct


def clip_concatenate(grads, threshold):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    if total < threshold:
        return {k: g.copy() for k, g in grads.items()}
    return {k: (threshold / total) * g for k, g in grads.items()}


def clip_min_factor(grads, threshold):
    total = np.sqrt(sum(np.tensordot(g, g, axes=g.ndim) for g in grads.values()))
    factor = threshold / max(total, threshold)
    return {k: factor * g for k, g in grads.items()}


def clip_copy_then_scale(grads, threshold):
    new = {k: np.array(g, copy=True) for k, g in grads.items()}
    total = np.linalg.norm([np.linalg.norm(g) for g in new.values()])
    if total >= threshold:
        for k in new:
            new[k] *= threshold / total
    return new


# =============================================================================================
# jacobian_product

# ----- wrong


def jac_wrong_order(W_h, hs):
    M = np.eye(len(W_h))
    for h in hs[1:]:
        M = M @ (np.diag(1 - h * h) @ W_h)
    return M


def jac_power_only(W_h, hs):
    return np.linalg.matrix_power(W_h, hs.shape[0] - 1)


def jac_W_h_T(W_h, hs):
    M = np.eye(len(W_h))
    for h in hs[1:]:
        M = np.einsum("i,ij,jk->ik", 1 - h**2, W_h.T, M)
    return M


def jac_previous_state(W_h, hs):
    M = np.eye(len(W_h))
    T = len(hs) - 1
    for t in range(T):  # 0-based, but uses the state going INTO the step
        M = (1 - hs[t] ** 2)[:, None] * W_h @ M
    return M


def jac_extra_factor(W_h, hs):
    M = np.eye(len(W_h))
    for h in hs:  # every row, h(0) included
        M = np.diag(1 - h**2) @ W_h @ M
    return M


def jac_elementwise(W_h, hs):
    M = np.eye(W_h.shape[0])
    for t in range(1, len(hs)):
        M = np.multiply((1 - hs[t] ** 2)[:, None] * W_h, M)
    return M


# ----- correct


def jac_reduce(W_h, hs):
    Js = [np.diag(1 - h**2) @ W_h for h in hs[1:]]
    return functools.reduce(lambda acc, J: J @ acc, Js, np.eye(len(W_h)))


def jac_backwards(W_h, hs):
    M = np.eye(len(W_h))
    for t in range(len(hs) - 1, 0, -1):  # J_T first, multiplying on the right
        M = M @ (W_h * (1 - hs[t] ** 2)[:, None])
    return M


def jac_recursive(W_h, hs):
    if len(hs) == 1:
        return np.eye(len(W_h))
    return np.einsum("i,ij,jk->ik", 1 - hs[-1] ** 2, W_h, jac_recursive(W_h, hs[:-1]))


# =============================================================================================
# gradient_norms_over_distance

# ----- wrong


def norms_from_one(W_h, g, L):
    out = np.zeros(L + 1)
    for i in range(L + 1):
        g = g @ W_h
        out[i] = np.linalg.norm(g)
    return out


def norms_too_few(W_h, g, L):
    return np.array([np.linalg.norm(g @ np.linalg.matrix_power(W_h, k)) for k in range(L)], dtype=float)


def norms_transposed(W_h, g, L):
    out, v = [], g.copy()
    for _ in range(L + 1):
        out.append(np.sqrt(v @ v))
        v = W_h @ v  # column-vector habit: W_h v is v @ W_h.T
    return np.array(out)


def norms_entrywise_power(W_h, g, L):
    return np.array([np.linalg.norm(g @ np.power(W_h, k)) for k in range(L + 1)])


def norms_squared(W_h, g, L):
    out = np.empty(L + 1)
    for k in range(L + 1):
        out[k] = g @ g
        g = g @ W_h
    return out


def norms_relative(W_h, g, L):
    g0 = np.linalg.norm(g)
    return np.array([np.linalg.norm(g @ np.linalg.matrix_power(W_h, k)) / g0 for k in range(L + 1)])


# ----- correct


def norms_matrix_power(W_h, g, L):
    return np.array([np.linalg.norm(g @ np.linalg.matrix_power(W_h, k)) for k in range(L + 1)])


def norms_column_vector(W_h, g, L):
    v = g[:, None]
    out = []
    for _ in range(L + 1):
        out.append(float(np.sqrt((v**2).sum())))
        v = W_h.T @ v  # (g W_h)^T = W_h^T g^T
    return np.array(out)


# =============================================================================================
# jacobian_norm_bound: derived from the bound on one step


def _s1(W):
    return np.linalg.svd(W, compute_uv=False)[0]


def bound_svd(W_h, gamma, ell):
    return (gamma * _s1(W_h)) ** ell


def bound_gram_eigenvalue(W_h, gamma, ell):
    return float(np.sqrt(np.linalg.eigvalsh(W_h.T @ W_h).max()) * gamma) ** ell


def bound_product_loop(W_h, gamma, ell):
    step, out = gamma * np.linalg.norm(W_h, 2), 1.0
    for _ in range(ell):
        out *= step
    return out


def bound_frobenius(W_h, gamma, ell):
    return (gamma * np.sqrt((W_h**2).sum())) ** ell


def bound_spectral_radius(W_h, gamma, ell):
    return (gamma * max(abs(np.linalg.eigvals(W_h)))) ** ell


def bound_gamma_once(W_h, gamma, ell):
    return gamma * _s1(W_h) ** ell


def bound_no_gamma(W_h, gamma, ell):
    return _s1(W_h) ** ell


def bound_slides_gamma(W_h, gamma, ell):
    return (_s1(W_h) / gamma) ** ell


def bound_added(W_h, gamma, ell):
    return sum(gamma * _s1(W_h) for _ in range(ell))


# =============================================================================================
# vanishing_condition_choice


def condition_sufficient_not_necessary():
    return "D"


def condition_written_freely():
    return "d) "


def condition_both():
    return "A"


def condition_necessary_only():
    return "B"


def condition_eigenvalues():
    return "C"


# =============================================================================================
# Every independently written mistake is named; every correct version passes

WRONG = [
    ("clip_grad_norm", clip_elementwise, "clipped each element"),
    ("clip_grad_norm", clip_per_array, "each array clipped on its own norm"),
    ("clip_grad_norm", clip_always, "rescaled below the threshold"),
    ("clip_grad_norm", clip_upside_down, "scale factor inverted"),
    ("clip_grad_norm", clip_in_place, "scaled in place, returned None"),
    ("clip_grad_norm", clip_unit_vector, "division by zero on a zero gradient"),
    ("jacobian_product", jac_wrong_order, "product in the wrong order"),
    ("jacobian_product", jac_power_only, "missing tanh derivative"),
    ("jacobian_product", jac_W_h_T, "W_h transposed"),
    ("jacobian_product", jac_previous_state, "tanh derivative at h(t-1)"),
    ("jacobian_product", jac_extra_factor, "one factor too many"),
    ("jacobian_product", jac_elementwise, "elementwise product"),
    ("jacobian_norm_bound", bound_frobenius, "Frobenius norm"),
    ("jacobian_norm_bound", bound_spectral_radius, "spectral radius instead of the norm"),
    ("jacobian_norm_bound", bound_gamma_once, "gamma outside the power"),
    ("jacobian_norm_bound", bound_no_gamma, "gamma left out"),
    ("jacobian_norm_bound", bound_slides_gamma, "divided by gamma"),
    ("jacobian_norm_bound", bound_added, "bounds added instead of multiplied"),
    ("vanishing_condition_choice", condition_both, "necessary and sufficient"),
    ("vanishing_condition_choice", condition_necessary_only, "necessary but not sufficient"),
    ("vanishing_condition_choice", condition_eigenvalues, "only the eigenvalues matter"),
    ("gradient_norms_over_distance", norms_from_one, "starts at l = 1"),
    ("gradient_norms_over_distance", norms_too_few, "L entries instead of L + 1"),
    ("gradient_norms_over_distance", norms_transposed, "W_h transposed"),
    ("gradient_norms_over_distance", norms_entrywise_power, "elementwise power"),
    ("gradient_norms_over_distance", norms_squared, "squared norms"),
    ("gradient_norms_over_distance", norms_relative, "divided by ||g||"),
]

CORRECT = [
    ("clip_grad_norm", clip_concatenate),
    ("clip_grad_norm", clip_min_factor),
    ("clip_grad_norm", clip_copy_then_scale),
    ("jacobian_product", jac_reduce),
    ("jacobian_product", jac_backwards),
    ("jacobian_product", jac_recursive),
    ("jacobian_norm_bound", bound_svd),
    ("jacobian_norm_bound", bound_gram_eigenvalue),
    ("jacobian_norm_bound", bound_product_loop),
    ("vanishing_condition_choice", condition_sufficient_not_necessary),
    ("vanishing_condition_choice", condition_written_freely),
    ("gradient_norms_over_distance", norms_matrix_power),
    ("gradient_norms_over_distance", norms_column_vector),
]


@pytest.mark.parametrize(("exercise", "fn", "mistake"), WRONG, ids=[f.__name__ for _, f, _ in WRONG])
def test_wrong_implementation_is_named(exercise: str, fn: Callable[..., Any], mistake: str) -> None:
    assert_rejected_and_named(exercise, fn, mistake)


@pytest.mark.parametrize(("exercise", "fn"), CORRECT, ids=[f.__name__ for _, f in CORRECT])
def test_correct_implementation_passes(exercise: str, fn: Callable[..., Any]) -> None:
    assert_passes(exercise, fn)


def test_every_exercise_has_at_least_five_wrong_and_two_correct_implementations() -> None:
    assert_wrong_and_correct_cover(SET_4, WRONG, CORRECT)


# =============================================================================================
# The registered mistakes: each differs from the reference, and every pair can be told apart


ALL_MISTAKES = [(e, m.name) for e in SET_4 for m in EXERCISES[e].mistakes]


# =============================================================================================
# The cases


def test_clip_cases_cover_below_above_equal_zero_and_one_array() -> None:
    rows = [(gradients.global_norm(grads), threshold, grads) for grads, threshold in
            (c.args for c in EXERCISES["clip_grad_norm"].cases())]
    assert rows[0][0] < rows[0][1], "the first case is below the threshold (see the in-place test)"
    assert any(norm > t for norm, t, _ in rows)
    assert any(norm == t for norm, t, _ in rows), "one case has its global norm exactly at the threshold"
    assert any(norm == 0 for norm, _, _ in rows)
    assert any(len(g) == 1 for _, _, g in rows) and any(len(g) >= 3 for _, _, g in rows)
    above = next(g for norm, t, g in rows if norm > t and len(g) >= 3)
    assert len({a.shape for a in above.values()}) == len(above), "arrays of different shapes"


def test_jacobian_cases_cover_T_1_a_non_symmetric_W_h_and_zero_states() -> None:
    cases = [c.args for c in EXERCISES["jacobian_product"].cases()]
    assert all(W.shape == (hs.shape[1], hs.shape[1]) for W, hs in cases)
    designed = [c.args for c in EXERCISES["jacobian_product"].cases() if not c.concept]
    assert len({W.shape[0] for W, _ in designed}) == len(designed), "distinct sizes"
    assert any(hs.shape[0] == 2 for _, hs in cases) and any(hs.shape[0] > 2 for _, hs in cases)
    assert all(not np.allclose(W, W.T) for W, _ in cases if len(W) > 1)
    assert any(not hs.any() for _, hs in cases)
    for _, hs in cases:
        if hs.any():
            assert len({tuple(np.round(h, 12)) for h in hs}) == len(hs), "the states differ from step to step"


def test_norms_cases_cover_non_normal_complex_eigenvalues_both_radii_and_L_0() -> None:
    cases = [c.args for c in EXERCISES["gradient_norms_over_distance"].cases()]
    radii = [np.max(np.abs(np.linalg.eigvals(W))) for W, _, _ in cases]
    assert any(r < 1 for r in radii) and any(r > 1 for r in radii)
    assert any(not np.allclose(W @ W.T, W.T @ W) for W, _, _ in cases), "a non-normal W_h"
    assert any(np.iscomplex(np.linalg.eigvals(W)).any() for W, _, _ in cases)
    assert any(L == 0 for _, _, L in cases) and all(not np.isclose(np.linalg.norm(g), 1) for _, g, _ in cases)
    designed = [c.args for c in EXERCISES["gradient_norms_over_distance"].cases() if not c.concept]
    assert len({W.shape[0] for W, _, _ in designed}) == len(designed)


@pytest.mark.parametrize("exercise", SET_4)
def test_cases_are_float64_and_seeded(exercise: str) -> None:
    a, b = EXERCISES[exercise].cases(), EXERCISES[exercise].cases()
    assert [c.name for c in a] == [c.name for c in b]
    assert all(_same(x.args, y.args) for x, y in zip(a, b, strict=True))
    for c in a:
        arrays = list(c.args[0].values()) if isinstance(c.args[0], dict) else [x for x in c.args
                                                                               if isinstance(x, np.ndarray)]
        assert all(x.dtype == np.float64 for x in arrays)


# =============================================================================================
# In place, stubs, messages


def clip_scales_in_place_and_returns(grads, threshold):
    total = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    if total >= threshold:
        for g in grads.values():
            g *= threshold / total
    return grads


def clip_shallow_copy(grads, threshold):
    new = dict(grads)  # a new dict, but the same arrays
    total = np.sqrt(sum(np.sum(g**2) for g in new.values()))
    for k in new:
        new[k] *= min(1.0, threshold / total) if total else 1.0
    return new


@pytest.mark.parametrize("fn", [clip_scales_in_place_and_returns, clip_shallow_copy])
def test_clipping_in_place_is_detected(fn: Callable[..., Any]) -> None:
    result = quiet_check("clip_grad_norm", fn)
    assert result.status is Status.FAIL, result.report()
    assert "in place" in result.message and "`grads['W_h']`" in result.message
    # the values themselves are right: the same code on a copy of the inputs agrees with the reference
    for c in EXERCISES["clip_grad_norm"].cases():
        assert _same(fn(*copy.deepcopy(c.args)), gradients.clip_grad_norm(*c.args))


def test_in_place_returning_none_is_named_with_its_hint() -> None:
    result = quiet_check("clip_grad_norm", clip_in_place)
    assert result.status is Status.FAIL and "returned None" in result.message
    assert result.mistake == "scaled in place, returned None" and "NEW dict" in (result.hint or "")


def test_zero_gradient_nan_is_reported() -> None:
    result = quiet_check("clip_grad_norm", clip_unit_vector)
    assert "all-zero" in (result.case or "") and "NaN" in result.message


def _stub(*args: Any) -> Any:
    raise NotImplementedError("Replace this line with your code.")


def test_stacking_arrays_of_different_shapes_gets_the_shapes_hint() -> None:
    def stacked(grads, threshold):
        total = np.linalg.norm(np.array(list(grads.values())))
        return {k: g * min(1.0, threshold / total) for k, g in grads.items()}

    result = quiet_check("clip_grad_norm", stacked)
    assert result.status is Status.ERROR and result.mistake is None
    assert result.hint == exercises_04.SHAPES_HINT, result.report()


def test_jacobian_transposed_result_reports_wrong_values() -> None:
    result = quiet_check("jacobian_product", lambda W_h, hs: gradients.jacobian_product(W_h, hs).T)
    assert result.status is Status.FAIL and "values differ" in result.message


def test_norms_wrong_length_is_a_shape_message() -> None:
    result = quiet_check("gradient_norms_over_distance", norms_too_few)
    assert "wrong shape" in result.message


# =============================================================================================
# The registry


def test_registry_holds_set_4_in_chapter_4() -> None:
    assert [e.id for e in EXERCISES.values() if e.chapter == 4] == ALL_4
    assert EXERCISES["clip_grad_norm"].reference is gradients.clip_grad_norm
    assert EXERCISES["jacobian_product"].reference is gradients.jacobian_product
    assert EXERCISES["gradient_norms_over_distance"].reference is gradients.gradient_norms_over_distance
    assert exercises_04.EXERCISES_04 == tuple(EXERCISES[e] for e in ALL_4)
    assert EXERCISES["vanishing_condition_choice"].kind == "choice"


def test_python_float_division_by_zero_gets_the_zero_hint() -> None:
    def with_math_sqrt(grads, threshold):
        total = float(np.sqrt(sum(float(np.sum(g**2)) for g in grads.values())))
        scale = threshold / total
        return {k: g * min(1.0, scale) for k, g in grads.items()}

    result = quiet_check("clip_grad_norm", with_math_sqrt)
    assert result.status is Status.ERROR and "ZeroDivisionError" in result.message
    assert result.hint == exercises_04.ZERO_HINT, result.report()


# =============================================================================================
# jacobian_norm_bound


def test_bound_cases_tell_the_norms_apart_and_cover_both_gammas_and_l_0_and_1() -> None:
    cases = [c.args for c in EXERCISES["jacobian_norm_bound"].cases()]
    radius = [max(abs(np.linalg.eigvals(W))) for W, _, _ in cases]
    spectral = [np.linalg.norm(W, 2) for W, _, _ in cases]
    assert any(s > 4 * r for s, r in zip(spectral, radius, strict=True)), "a non-normal W_h, as in the chapter"
    assert {1.0, 0.25} <= {g for _, g, _ in cases} and {0, 1} <= {ell for _, _, ell in cases}
    assert any(ell >= 50 for _, _, ell in cases) and all(isinstance(ell, int) for _, _, ell in cases)


def test_the_bound_holds_for_the_jacobians_of_exercise_2() -> None:
    """||dh(T)/dh(0)|| of a tanh RNN never exceeds the bound (gamma = 1), and in the linear case with an
    orthogonal W_h times s, the bound is reached: ||s^l Q^l|| = s^l."""
    rng = np.random.default_rng(5)
    n, T = 6, 12
    W_h = rng.normal(scale=0.5, size=(n, n))
    hs = np.zeros((T + 1, n))
    for t in range(T):
        hs[t + 1] = np.tanh(W_h @ hs[t] + rng.normal(size=n))
    for k in range(1, T + 1):
        assert np.linalg.norm(gradients.jacobian_product(W_h, hs[: k + 1]), 2) <= \
            exercises_04.jacobian_norm_bound(W_h, 1.0, k) * (1 + 1e-12)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    assert np.isclose(np.linalg.norm(np.linalg.matrix_power(0.9 * Q, 7), 2),
                      exercises_04.jacobian_norm_bound(0.9 * Q, 1.0, 7), rtol=1e-12)


def test_a_tiny_bound_is_compared_relatively() -> None:
    """The stress case's bound is about 1e-16: a learner returning 0 must not pass on an absolute tolerance."""
    assert quiet_check("jacobian_norm_bound", lambda W_h, gamma, ell: 0.0 if ell >= 50 else
                       bound_svd(W_h, gamma, ell)).status is Status.FAIL
