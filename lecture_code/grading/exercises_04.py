"""Exercise set 4: vanishing and exploding gradients, in NumPy, with the lecture's names.

On top of the cases listed here come the concept cases of :mod:`.cases` (B = 1, n = 1, a stress case at
realistic sizes twice, and per concept: softmax edge rows, max(lengths) < T).

Gradient-norm clipping (Pascanu et al. 2013, Algorithm 1) over a dict of gradients, the Jacobian
dh(T)/dh(0) of a tanh RNN as a product of step Jacobians, the upper bound (gamma ||W_h||_2)^l on the
norm of that Jacobian over l steps (derived from the bound on one step), a multiple-choice question on
whether ||W_h||_2 < 1/gamma is necessary or sufficient for vanishing, and the norm of a gradient sent
back l steps through a linear RNN. The cases use distinct sizes, a non-symmetric and a non-normal W_h
(so that a transpose or a wrong order of the product changes the values), T = 1, L = 0, zero
hidden states and an all-zero gradient. Each known mistake is written as the wrong code a learner
would write; every pair of them gives different results on some case, so a hint always names one
mistake.

In ``clip_grad_norm`` the first case has its global norm BELOW the threshold: there the right
scale is 1, so an in-place ``g *= scale`` changes nothing, and a function that scales in place and
returns None is caught by its None (and named) before the next case catches the change in place.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..gradients import clip_grad_norm as clip_grad_norm_ref
from ..gradients import global_norm
from ..gradients import gradient_norms_over_distance as gradient_norms_ref
from ..gradients import jacobian_product as jacobian_product_ref
from .cases import size_cases
from .checker import Case, Exercise, Mistake
from .questions import choice_exercise, derived_exercise

# ---------------------------------------------------------------------------------------------
# clip_grad_norm


def _grads(rng: np.random.Generator, shapes: dict[str, tuple[int, ...]], scale: float) -> dict[str, np.ndarray]:
    return {name: rng.normal(scale=scale, size=shape) for name, shape in shapes.items()}


def _clip_cases() -> list[Case]:
    rng = np.random.default_rng(401)
    below = _grads(rng, {"W_h": (4, 4), "W_e": (4, 6), "b1": (4,), "U": (7, 4)}, scale=0.3)
    above = _grads(rng, {"W_h": (5, 5), "W_e": (5, 3), "b1": (5,)}, scale=2.0)
    # integer entries whose squares add up to 49: the global norm is exactly 7.0
    equal = {"W_h": np.array([[1.0, -2.0], [2.0, 0.0]]), "W_e": np.array([[0.0, 2.0, 0.0], [-4.0, 0.0, 0.0]]),
             "b1": np.array([2.0, 4.0])}
    zero = {"W_h": np.zeros((3, 3)), "W_e": np.zeros((3, 2)), "b1": np.zeros(3)}
    single = {"W_h": rng.normal(scale=1.5, size=(6, 6))}
    return [
        Case(f"global norm {global_norm(below):.3g} below the threshold 5.0", (below, 5.0)),
        Case(f"W_h (5, 5), W_e (5, 3), b1 (5,): global norm {global_norm(above):.3g} above the threshold 1.0",
             (above, 1.0)),
        Case("global norm exactly equal to the threshold 7.0", (equal, 7.0)),
        Case("all-zero gradients, threshold 1.0", (zero, 1.0)),
        Case(f"a single array W_h (6, 6), global norm {global_norm(single):.3g}, threshold 2.5", (single, 2.5)),
        *_realistic_clip_cases(np.random.default_rng(402)),
    ]


def _realistic_clip_cases(rng: np.random.Generator) -> list[Case]:
    """The RNN-LM's six gradients at realistic sizes (V = 50, d = 16, n = 32), far above and below the threshold,
    the same sizes again with other values, and one array of one entry (n = 1)."""
    shapes = {"E": (16, 50), "W_h": (32, 32), "W_e": (32, 16), "b1": (32,), "U": (50, 32), "b2": (50,)}
    big, again, small = _grads(rng, shapes, 3.0), _grads(rng, shapes, 2.0), _grads(rng, shapes, 0.01)
    one = {"b1": np.array([-3.5])}
    return [Case(f"stress: the RNN-LM's six gradients (V=50, n=32), global norm {global_norm(big):.3g}, "
                 "threshold 5.0", (big, 5.0)),
            Case(f"the same sizes again with other values, global norm {global_norm(again):.3g}, threshold 1.0",
                 (again, 1.0)),
            Case(f"the same sizes, global norm {global_norm(small):.3g} far below the threshold 5.0 (return new "
                 "arrays all the same)", (small, 5.0)),
            Case("n=1: one array of one entry, -3.5, threshold 2.0", (one, 2.0)),
            Case("n=1: one array of one entry, -3.5, threshold 5.0 (below)", (one, 5.0))]


def _norm(grads) -> np.float64:
    """The global norm as a NumPy float, as a learner computes it: 0/0 gives NaN, not ZeroDivisionError."""
    return np.sqrt(sum(np.sum(g**2) for g in grads.values()))


def _clip_each_element(grads, threshold):
    return {k: np.clip(g, -threshold, threshold) for k, g in grads.items()}


def _clip_each_tensor(grads, threshold):
    out = {}
    for k, g in grads.items():
        norm = np.linalg.norm(g)
        out[k] = g * (threshold / norm) if norm >= threshold else g.copy()
    return out


def _clip_always_rescale(grads, threshold):
    norm = _norm(grads)
    return {k: g * (threshold / norm) for k, g in grads.items()}


def _clip_inverted(grads, threshold):
    norm = _norm(grads)
    scale = norm / threshold if norm >= threshold else 1.0
    return {k: g * scale for k, g in grads.items()}


def _clip_in_place_returns_none(grads, threshold):
    norm = _norm(grads)
    if norm >= threshold:
        for g in grads.values():
            g *= threshold / norm


def _clip_divides_by_zero(grads, threshold):
    norm = _norm(grads)
    return {k: g / norm * min(norm, threshold) for k, g in grads.items()}


SHAPES_HINT = ("the gradients have different shapes, so they cannot go into one array as they are: the global "
               "norm is sqrt(sum over the arrays of np.sum(g**2)), or np.linalg.norm of "
               "np.concatenate([g.ravel() for g in grads.values()]).")

ZERO_HINT = ("an all-zero gradient has ||g|| = 0: divide by ||g|| only when you rescale (||g|| >= threshold > 0); "
             "otherwise return the gradient as it is.")

CLIP_GRAD_NORM = Exercise(
    id="clip_grad_norm",
    chapter=4,
    signature="clip_grad_norm(grads, threshold)",
    summary="Gradient-norm clipping (Pascanu et al. 2013, Algorithm 1): a NEW dict with every array scaled by "
            "threshold / ||g|| if the global norm ||g|| of all arrays together is >= threshold, else unchanged.",
    reference=clip_grad_norm_ref,
    make_cases=_clip_cases,
    arg_names=("grads", "threshold"),
    fresh_output=True,
    error_hints=(("division by zero", ZERO_HINT), ("inhomogeneous", SHAPES_HINT),
                 ("could not be broadcast", SHAPES_HINT), ("must have same number of dimensions", SHAPES_HINT)),
    mistakes=(
        Mistake("clipped each element", "np.clip(g, -threshold, threshold) clips every entry on its own and changes "
                "the gradient's DIRECTION. Norm clipping rescales the whole gradient: g * (threshold / ||g||).",
                _clip_each_element),
        Mistake("each array clipped on its own norm", "||g|| is the GLOBAL norm of all the gradients together, as "
                "if flattened into one vector: sqrt(sum over the arrays of np.sum(g**2)). Clipping each array on "
                "its own norm changes the direction of the whole gradient.", _clip_each_tensor),
        Mistake("rescaled below the threshold", "only rescale when ||g|| >= threshold; a gradient that is already "
                "short enough is returned unchanged (you scaled every gradient to length threshold).",
                _clip_always_rescale),
        Mistake("scale factor inverted", "the new gradient has norm threshold, so the factor is threshold / ||g|| "
                "(at most 1), not ||g|| / threshold.", _clip_inverted),
        Mistake("scaled in place, returned None", "return a NEW dict, e.g. {name: g * scale for name, g in "
                "grads.items()}. Scaling the arrays in place (g *= scale) changes the caller's gradients, and "
                "the function returned nothing.", _clip_in_place_returns_none),
        Mistake("division by zero on a zero gradient", "an all-zero gradient has ||g|| = 0 and g / ||g|| is 0/0 = "
                "NaN. Divide only when you rescale (||g|| >= threshold > 0); otherwise return the gradient as it is.",
                _clip_divides_by_zero),
    ),
)

# ---------------------------------------------------------------------------------------------
# jacobian_product


def _hidden_states(rng: np.random.Generator, W_h: np.ndarray, T: int) -> np.ndarray:
    """h(0), ..., h(T) of one sequence of a tanh RNN with random inputs, as rows (T + 1, n)."""
    n = W_h.shape[0]
    hs = np.empty((T + 1, n))
    hs[0] = np.tanh(rng.normal(size=n))
    for t in range(1, T + 1):
        hs[t] = np.tanh(W_h @ hs[t - 1] + rng.normal(size=n))
    return hs


def _jac_case(name: str, n: int, T: int, seed: int, zero_states: bool = False) -> Case:
    return Case(name, _jac_inputs(np.random.default_rng(seed), n, T, zero_states))


def _jac_inputs(rng: np.random.Generator, n: int, T: int, zero_states: bool = False) -> tuple[np.ndarray, ...]:
    W_h = rng.normal(scale=1.0 / np.sqrt(n), size=(n, n)) + np.triu(np.full((n, n), 0.4), 1)  # not symmetric
    hs = np.zeros((T + 1, n)) if zero_states else _hidden_states(rng, W_h, T)
    return W_h, hs


def _jac_cases() -> list[Case]:
    return [
        _jac_case("n=4, T=5", 4, 5, seed=411),
        _jac_case("T=1 (one step), n=5", 5, 1, seed=412),
        _jac_case("n=3, T=3, non-symmetric W_h", 3, 3, seed=413),
        _jac_case("zero hidden states h(t) = 0, n=6, T=4", 6, 4, seed=414, zero_states=True),
        *size_cases(_jac_inputs, dict(n=4, T=5), dict(n=32, T=25), seed=415, ones=("n",)),
    ]


def _jac(W_h, hs, *, order: str = "J_T ... J_1", deriv: str | None = "h(t)", weights: str = "W_h",
         steps: str = "1..T", product: str = "matrix"):
    """J_T ... J_1 with one thing changed from the reference by a keyword (the defaults give the right answer)."""
    W = W_h if weights == "W_h" else W_h.T
    M = np.eye(W_h.shape[0])
    for t in range(0 if steps == "0..T" else 1, hs.shape[0]):
        d = np.ones(W_h.shape[0]) if deriv is None else 1 - (hs[t] if deriv == "h(t)" else hs[t - 1]) ** 2
        J = d[:, None] * W
        if product == "elementwise":
            M = J * M
        else:
            M = J @ M if order == "J_T ... J_1" else M @ J
    return M


def _jac_with(**wrong) -> Callable[..., np.ndarray]:
    return lambda W_h, hs: _jac(W_h, hs, **wrong)


JACOBIAN_PRODUCT = Exercise(
    id="jacobian_product",
    chapter=4,
    signature="jacobian_product(W_h, hs)",
    summary="dh(T)/dh(0) = J_T ... J_1 with J_t = diag(1 - h(t)**2) W_h, for hidden states hs (T+1, n) = "
            "h(0), ..., h(T) of one sequence; an (n, n) array.",
    reference=jacobian_product_ref,
    make_cases=_jac_cases,
    arg_names=("W_h", "hs"),
    error_hints=(("matmul", "each step Jacobian J_t = diag(1 - h(t)**2) @ W_h is (n, n): build it with "
                  "np.diag(1 - hs[t]**2) @ W_h, or (1 - hs[t]**2)[:, None] * W_h."),),
    mistakes=(
        Mistake("product in the wrong order", "the chain rule puts the LATEST step on the left: "
                "dh(T)/dh(0) = J_T ... J_2 J_1, so each new Jacobian multiplies from the left, M = J_t @ M "
                "(you computed J_1 J_2 ... J_T with M = M @ J_t).", _jac_with(order="J_1 ... J_T")),
        Mistake("missing tanh derivative", "h(t) = tanh(W_h h(t-1) + ...), so each step's Jacobian is "
                "diag(1 - h(t)**2) W_h, not W_h alone: you returned W_h to the power T.", _jac_with(deriv=None)),
        Mistake("W_h transposed", "dh_i(t)/dh_j(t-1) = (1 - h_i(t)**2) W_h[i, j]: the step Jacobian is "
                "diag(1 - h(t)**2) @ W_h, with W_h itself, not W_h.T (the transpose belongs to the batch-first "
                "forward pass h_prev @ W_h.T).", _jac_with(weights="W_h.T")),
        Mistake("tanh derivative at h(t-1)", "an off-by-one in hs: step t's derivative uses its own OUTPUT, "
                "1 - h(t)**2 = 1 - hs[t]**2, for t = 1, ..., T; you used hs[t-1].", _jac_with(deriv="h(t-1)")),
        Mistake("one factor too many", "there are T step Jacobians, J_1, ..., J_T, one per step t = 1..T, i.e. "
                "hs[1:], not T + 1: h(0) is the starting state and no tanh produced it here.",
                _jac_with(steps="0..T")),
        Mistake("elementwise product", "chain Jacobians with the matrix product, M = J_t @ M, not the "
                "elementwise J_t * M (which keeps only the diagonal of the identity you started from).",
                _jac_with(product="elementwise")),
    ),
)

# ---------------------------------------------------------------------------------------------
# jacobian_norm_bound: derive the bound over l steps from the bound on one step


def jacobian_norm_bound(W_h: np.ndarray, gamma: float, ell: int) -> float:
    """(gamma ||W_h||_2)^l: each of the l step Jacobians diag(sigma'(a)) W_h has spectral norm at most
    gamma ||W_h||_2 (Pascanu et al. 2013), and the norm of a product is at most the product of the norms."""
    return float((gamma * np.linalg.norm(W_h, ord=2)) ** ell)


def _bound_inputs(rng: np.random.Generator, n: int, ell: int, gamma: float = 0.25) -> tuple[np.ndarray, float, int]:
    return rng.normal(scale=1.0 / np.sqrt(n), size=(n, n)), gamma, ell


def _bound_cases() -> list[Case]:
    rng = np.random.default_rng(431)
    non_normal = np.array([[0.9, 4.0], [0.0, 0.8]])  # the chapter's example: eigenvalues 0.9 and 0.8, s_1 = 4.17
    c, s = np.cos(0.4), np.sin(0.4)
    rotation = 1.1 * np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 0.5]])  # normal: s_1 = |lambda|_max = 1.1
    return [
        Case("the chapter's non-normal W_h: eigenvalues 0.9, 0.8, largest singular value 4.17; tanh (gamma=1), l=5",
             (non_normal, 1.0, 5)),
        Case("W_h (5, 5), sigmoid (gamma=0.25), l=3", (rng.normal(size=(5, 5)), 0.25, 3)),
        Case("W_h (4, 4), tanh (gamma=1), l=1: one step", (rng.normal(scale=0.5, size=(4, 4)), 1.0, 1)),
        Case("l=0: no step at all, sigmoid (gamma=0.25)", (rng.normal(size=(3, 3)), 0.25, 0)),
        Case("a scaled rotation (a normal W_h), tanh (gamma=1), l=10", (rotation, 1.0, 10)),
        Case("W_h (6, 6), gamma=0.5, l=7", (rng.normal(size=(6, 6)), 0.5, 7)),
        *size_cases(_bound_inputs, dict(n=4, ell=6), dict(n=64, ell=50), seed=432, ones=("n",)),
    ]


def _bound(W_h, gamma, ell, *, norm: str = "spectral", how: str = "(gamma s)^l") -> float:
    """The bound with one thing changed from the reference by a keyword (the defaults give the right answer)."""
    s = {"spectral": np.linalg.norm(W_h, ord=2), "Frobenius": np.linalg.norm(W_h),
         "radius": np.max(np.abs(np.linalg.eigvals(W_h)))}[norm]
    return float({"(gamma s)^l": (gamma * s) ** ell, "gamma s^l": gamma * s**ell, "s^l": s**ell,
                  "(s / gamma)^l": (s / gamma) ** ell, "l gamma s": ell * gamma * s}[how])


def _bound_with(**wrong) -> Callable[..., float]:
    return lambda W_h, gamma, ell: _bound(W_h, gamma, ell, **wrong)


JACOBIAN_NORM_BOUND = derived_exercise(
    id="jacobian_norm_bound",
    chapter=4,
    signature="jacobian_norm_bound(W_h, gamma, ell)",
    summary="Derive: the upper bound on ||dh(t)/dh(t-l)||_2 of an RNN whose |sigma'| <= gamma, from the bound "
            "gamma ||W_h||_2 on one step, as a function of W_h (n, n), gamma and l; a float.",
    reference=jacobian_norm_bound,
    make_cases=_bound_cases,
    arg_names=("W_h", "gamma", "ell"),
    atol=0.0,
    mistakes=(
        Mistake("Frobenius norm", "np.linalg.norm(W_h) is the Frobenius norm, sqrt(sum of squares); the bound uses "
                "the spectral norm, the largest singular value s_1: np.linalg.norm(W_h, ord=2).",
                _bound_with(norm="Frobenius")),
        Mistake("spectral radius instead of the norm", "the largest |eigenvalue| does not bound how much W_h "
                "stretches a vector when W_h is not normal (the chapter's example: eigenvalues 0.9 and 0.8, but "
                "s_1 = 4.17). The bound uses the largest singular value.", _bound_with(norm="radius")),
        Mistake("gamma outside the power", "each of the l steps has its own factor diag(sigma'(a)), bounded by "
                "gamma, so gamma is raised to the power l with ||W_h||_2: (gamma ||W_h||_2)^l.",
                _bound_with(how="gamma s^l")),
        Mistake("gamma left out", "||diag(sigma'(a)) W_h|| <= gamma ||W_h||: the derivative's bound gamma "
                "(1 for tanh, 1/4 for the sigmoid) multiplies every step.", _bound_with(how="s^l")),
        Mistake("divided by gamma", "the slide's gamma is a threshold on the eigenvalues; here gamma bounds "
                "|sigma'|, so it multiplies: each step is at most gamma ||W_h||_2, and the condition for vanishing "
                "reads ||W_h||_2 < 1/gamma.", _bound_with(how="(s / gamma)^l")),
        Mistake("bounds added instead of multiplied", "the Jacobian over l steps is a PRODUCT of l step "
                "Jacobians, and ||AB|| <= ||A|| ||B||: the bounds multiply, (gamma ||W_h||_2)^l, they do not add.",
                _bound_with(how="l gamma s")),
    ),
)

# ---------------------------------------------------------------------------------------------
# vanishing_condition_choice

VANISHING_CONDITION_CHOICE = choice_exercise(
    id="vanishing_condition_choice",
    chapter=4,
    summary="whether ||W_h||_2 < 1/gamma is necessary, sufficient, both or neither for the gradient to vanish.",
    answer="D",
    why="If ||W_h||_2 < 1/gamma, every step Jacobian has norm at most gamma ||W_h||_2 < 1, so the gradient sent "
        "back l steps shrinks at least like (gamma ||W_h||_2)^l: it must vanish. The converse fails: the chapter's "
        "trained character model has ||W_h||_2 well above 1 and yet its gradient vanishes, because the step "
        "Jacobians change from step to step and their stretching directions need not line up.",
    wrong=[
        ("A", "necessary and sufficient", "half right: it is sufficient, since every step then shrinks the gradient. "
         "But the chapter's trained character model has ||W_h||_2 well above 1, and its gradient 20 steps back "
         "still vanished: a large W_h does not prevent vanishing."),
        ("B", "necessary but not sufficient", "the other way round. Below 1/gamma every step Jacobian has norm "
         "below 1 and the product MUST shrink, so the condition is a guarantee; and above it the gradient can "
         "still vanish (the trained model does), so it is not necessary."),
        ("C", "only the eigenvalues matter", "the eigenvalues are what guarantee nothing in the first steps: a "
         "non-normal W_h with eigenvalues 0.9 and 0.8 can stretch a vector 4 times. The largest singular value "
         "bounds every step's stretch, so ||W_h||_2 < 1/gamma is a guarantee of vanishing."),
    ],
)

# ---------------------------------------------------------------------------------------------
# gradient_norms_over_distance


def _with_radius(W: np.ndarray, rho: float) -> np.ndarray:
    return W * (rho / np.max(np.abs(np.linalg.eigvals(W))))


def _norms_cases() -> list[Case]:
    rng = np.random.default_rng(421)
    non_normal = np.array([[0.9, 2.0, 0.0, 0.0], [0.0, 0.8, 1.5, 0.0], [0.0, 0.0, 0.7, 1.0], [0.0, 0.0, 0.0, 0.6]])
    c, s = np.cos(0.5), np.sin(0.5)
    rotation = np.array([[0.95 * c, -0.95 * s, 0.3], [0.95 * s, 0.95 * c, 0.0], [0.0, 0.0, 0.5]])
    shrinking = _with_radius(rng.normal(size=(5, 5)), 0.7)
    growing = _with_radius(rng.normal(size=(6, 6)), 1.3)
    one = rng.normal(size=(2, 2))
    return [
        Case("non-normal W_h (4, 4) (W_h and W_h.T give different norms), L=7",
             (non_normal, rng.normal(size=4), 7)),
        Case("rotation-like W_h (3, 3) with complex eigenvalues 0.95 e^(+-0.5i), L=9",
             (rotation, rng.normal(size=3), 9)),
        Case("spectral radius 0.7 < 1 (vanishing), n=5, L=12", (shrinking, rng.normal(size=5), 12)),
        Case("spectral radius 1.3 > 1 (exploding), n=6, L=10", (growing, rng.normal(size=6), 10)),
        Case("L=0 (no step back), n=2", (one, 2.0 * rng.normal(size=2), 0)),
        *size_cases(_norms_inputs, dict(n=4, L=7), dict(n=32, L=30), seed=422, ones=("n",)),
    ]


def _norms_inputs(rng: np.random.Generator, n: int, L: int) -> tuple[np.ndarray, np.ndarray, int]:
    return _with_radius(rng.normal(size=(n, n)), 1.05), rng.normal(size=n), L


def _norms(W_h, g, L, *, start: int = 0, count: str = "L+1", weights: str = "W_h", power: str = "matrix",
           squared: bool = False, relative: bool = False):
    """||g W_h^l|| with one thing changed from the reference by a keyword (the defaults give the right answer)."""
    W = W_h if weights == "W_h" else W_h.T
    out = []
    for l in range(start, start + (L + 1 if count == "L+1" else L)):
        v = g @ (np.linalg.matrix_power(W, l) if power == "matrix" else W**l)
        out.append(np.sum(v**2) if squared else np.linalg.norm(v))
    norms = np.array(out, dtype=np.float64)
    return norms / np.linalg.norm(g) if relative else norms


def _norms_with(**wrong) -> Callable[..., np.ndarray]:
    return lambda W_h, g, L: _norms(W_h, g, L, **wrong)


GRADIENT_NORMS = Exercise(
    id="gradient_norms_over_distance",
    chapter=4,
    signature="gradient_norms_over_distance(W_h, g, L)",
    summary="In a linear RNN, ||g W_h^l|| for l = 0, ..., L: the norm of a gradient (row vector g, shape (n,)) "
            "sent back l steps; an (L+1,) array.",
    reference=gradient_norms_ref,
    make_cases=_norms_cases,
    arg_names=("W_h", "g", "L"),
    mistakes=(
        Mistake("starts at l = 1", "the first entry is l = 0, the gradient before any step back: ||g||. Record "
                "the norm first, then multiply by W_h (you are one step ahead everywhere).", _norms_with(start=1)),
        Mistake("L entries instead of L + 1", "l runs over 0, 1, ..., L: that is L + 1 entries, "
                "range(L + 1).", _norms_with(count="L")),
        Mistake("W_h transposed", "dJ/dh(i-l) = dJ/dh(i) W_h^l with the gradient as a ROW vector: g @ W_h, not "
                "g @ W_h.T. For a non-normal W_h the two give different norms.", _norms_with(weights="W_h.T")),
        Mistake("elementwise power", "W_h ** l raises each ENTRY to the power l; the l-th matrix power is "
                "np.linalg.matrix_power(W_h, l), or multiply g by W_h l times.", _norms_with(power="elementwise")),
        Mistake("squared norms", "return the norm ||v|| = np.linalg.norm(v) = sqrt(sum(v**2)), not its square.",
                _norms_with(squared=True)),
        Mistake("divided by ||g||", "return the norms themselves, ||g W_h^l||, not divided by ||g|| (the first "
                "entry is ||g||, not 1).", _norms_with(relative=True)),
    ),
)

EXERCISES_04 = (CLIP_GRAD_NORM, JACOBIAN_PRODUCT, JACOBIAN_NORM_BOUND, VANISHING_CONDITION_CHOICE, GRADIENT_NORMS)
