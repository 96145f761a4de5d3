"""Backpropagation through time, measured: per-occurrence gradients and truncation.

The loss depends on the repeated weight W_h through every step that uses it. Giving each step
its own copy of W_h turns "the gradient with respect to the i-th occurrence" into an ordinary
gradient that autograd can report, and the lecture's identity
dJ/dW_h = sum_i dJ/dW_h|(i) can be checked numerically.

Truncated BPTT cuts the graph every k steps (the hidden state's value is carried over, its
gradient is not). :func:`lm_gradient` and :func:`truncation_error` measure what that drops.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from . import numpy_rnn
from .models import RNNLM, detach_state
from .numpy_rnn import Params


def per_occurrence_grads(params: Params, inputs: np.ndarray, h0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """dJ/dW_h|(i) for every step i, and autograd's dJ/dW_h for the shared weight, in float64.

    Args:
        params: RNN-LM parameters with the lecture's names (see ``numpy_rnn``).
        inputs: (B, T + 1) token ids, read and scored as in ``numpy_rnn.rnn_lm_forward``.
        h0: (B, n) initial hidden state.

    Returns:
        ``(per_step, shared)``: per_step is (T, n, n), the gradient with respect to the copy of
        W_h used at step i = 1..T; shared is (n, n), the gradient when one W_h is used everywhere.
    """
    p = {k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()}
    ids = torch.as_tensor(np.asarray(inputs, dtype=np.int64))
    x, y = ids[:, :-1], ids[:, 1:]
    T = x.shape[1]

    def loss(W_h_at: list[torch.Tensor]) -> torch.Tensor:
        e = p["E"].T[x]
        h, hs = torch.tensor(h0, dtype=torch.float64), []
        for t in range(T):
            h = torch.tanh(h @ W_h_at[t].T + e[:, t] @ p["W_e"].T + p["b1"])
            hs.append(h)
        logits = torch.stack(hs, 1) @ p["U"].T + p["b2"]
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    copies = [p["W_h"].clone().requires_grad_(True) for _ in range(T)]
    per_step = torch.autograd.grad(loss(copies), copies)
    shared = p["W_h"].clone().requires_grad_(True)
    (grad_shared,) = torch.autograd.grad(loss([shared] * T), [shared])
    return torch.stack(per_step).numpy(), grad_shared.numpy()


def _flat_grad(model: RNNLM) -> torch.Tensor:
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()])


def lm_gradient(model: RNNLM, tokens: torch.Tensor, k: int | None = None) -> dict[str, torch.Tensor]:
    """The gradient of the mean loss over one batch of sequences, with the graph cut every k steps.

    Args:
        model: a language model (its parameters' ``.grad`` are overwritten).
        tokens: (B, T + 1) token ids; the model reads the first T and predicts the last T.
        k: truncation length; None means full backpropagation through time.

    Returns:
        ``{"W_h": ..., "all": ...}``: the gradient of the recurrent weight (torch.nn.RNN's
        ``weight_hh_l0``) and of all parameters flattened into one vector.
    """
    x, y = tokens[:, :-1], tokens[:, 1:]
    T = x.shape[1]
    k = T if k is None else k
    if k < 1:
        raise ValueError(f"the truncation length k must be >= 1, got {k}")
    model.zero_grad(set_to_none=False)
    state, losses = None, []
    for start in range(0, T, k):
        if state is not None:
            state = detach_state(state)  # the truncation: the value flows on, the gradient stops here
        logits, state = model(x[:, start : start + k], state)
        losses.append(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[:, start : start + k].reshape(-1),
                                      reduction="sum"))
    (torch.stack(losses).sum() / y.numel()).backward()
    W_h = model.rnn.W_h if model.cell == "scratch" else model.rnn.weight_hh_l0
    return {"W_h": W_h.grad.detach().clone().reshape(-1), "all": _flat_grad(model).clone()}


def truncation_error(model: RNNLM, tokens: torch.Tensor, ks: list[int | None]) -> list[dict[str, float]]:
    """How far truncated-BPTT gradients are from the full one, for each truncation length k.

    Returns one row per k with the cosine similarity and the relative norm
    ||g_k - g|| / ||g||, for W_h alone and for all parameters together.
    """
    full = lm_gradient(model, tokens)
    rows = []
    for k in ks:
        g = lm_gradient(model, tokens, k)
        row: dict[str, float] = {"k": k}
        for name in ("W_h", "all"):
            row[f"cos_{name}"] = float(F.cosine_similarity(g[name], full[name], dim=0))
            row[f"rel_{name}"] = float((g[name] - full[name]).norm() / full[name].norm())
        rows.append(row)
    return rows


def occurrence_contributions(radius: float, V: int = 30, d: int = 16, n: int = 32, B: int = 4, T: int = 40,
                             seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """What each occurrence of W_h contributes to dJ(T)/dW_h, walking back from the loss at the last step.

    A random NumPy RNN-LM (:mod:`lecture_code.numpy_rnn`, |V|, d, n; batch B of T + 1 random tokens) whose W_h
    has spectral radius about ``radius`` (Gaussian entries of standard deviation ``radius / sqrt(n)``).

    Returns:
        ``(contrib, gap)``, each of length T: ``contrib[j]`` = ||dJ(T)/dW_h|(T - j)||, the Frobenius norm of the
        term of the occurrence j steps before the loss; ``gap[j]`` = ||S_j - dJ/dW_h|| / ||dJ/dW_h||, where S_j sums
        the terms of distances 0..j (so ``gap[-1]`` is 0 up to rounding).
    """
    r = np.random.default_rng(seed)
    p = numpy_rnn.init_rnn_lm_params(V, d, n, r, scale=0.1)
    p["W_h"] = radius * r.normal(size=(n, n)) / np.sqrt(n)
    toks = r.integers(0, V, size=(B, T + 1))
    _, c = numpy_rnn.rnn_lm_forward(p, toks, 0.5 * r.normal(size=(B, n)))
    dlogits = c["probs"][:, -1].copy()  # the gradient of J(T) alone: softmax minus one-hot, at the last step
    dlogits[np.arange(B), c["targets"][:, -1]] -= 1
    dh_all = np.zeros((B, T, n))
    dh_all[:, -1] = dlogits @ p["U"] / B
    steps: list[np.ndarray] = []
    dW_h = numpy_rnn.rnn_backward(dh_all, (c["e"], c["h"], p["W_h"], p["W_e"]), steps=steps)[2]
    running = np.cumsum(steps, axis=0)
    contrib = np.array([np.linalg.norm(s) for s in steps])
    gap = np.array([np.linalg.norm(s - dW_h) / np.linalg.norm(dW_h) for s in running])
    return contrib, gap
