"""The simple RNN language model from scratch in NumPy, written the way the slides write it.

Notation (lecture 6, slide "The Simple RNN Language Model")::

    e(t) = E x(t)                                   E   : d x |V|
    h(t) = tanh(W_h h(t-1) + W_e e(t) + b_1)        W_h : n x n,  W_e : n x d,  b_1 : n
    y^(t) = softmax(U h(t) + b_2)                   U   : |V| x n, b_2 : |V|

Each matrix acts on a column vector, as on the slides and in ``torch.nn``'s weight layout.
Arrays are batch-first, so one step computes ``h_prev @ W_h.T + e_t @ W_e.T + b1`` on
rows: ``h_prev`` is (B, n) and ``e_t`` is (B, d).

These functions are the reference the exercise checker compares learners' code against,
so they favour clarity and float64 exactness over speed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Params = dict[str, np.ndarray]

PARAM_NAMES = ("E", "W_h", "W_e", "b1", "U", "b2")


def init_rnn_lm_params(V: int, d: int, n: int, rng: np.random.Generator, scale: float = 0.1) -> Params:
    """Random RNN-LM parameters with the lecture's names and shapes, float64.

    Returns a dict with ``E`` (d, V), ``W_h`` (n, n), ``W_e`` (n, d), ``b1`` (n,),
    ``U`` (V, n) and ``b2`` (V,), entries uniform in [-scale, scale].
    """
    shapes = {"E": (d, V), "W_h": (n, n), "W_e": (n, d), "b1": (n,), "U": (V, n), "b2": (V,)}
    return {name: rng.uniform(-scale, scale, size=shape) for name, shape in shapes.items()}


def rnn_step(e_t: np.ndarray, h_prev: np.ndarray, W_h: np.ndarray, W_e: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """One step of the simple RNN: h(t) = tanh(W_h h(t-1) + W_e e(t) + b_1).

    Args:
        e_t: (B, d) embeddings of the current inputs.
        h_prev: (B, n) previous hidden states h(t-1).
        W_h: (n, n) hidden-to-hidden weights.
        W_e: (n, d) input-to-hidden weights.
        b1: (n,) bias.

    Returns:
        (B, n) new hidden states h(t).
    """
    return np.tanh(h_prev @ W_h.T + e_t @ W_e.T + b1)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, stable for any finite logits (subtracts the row max)."""
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax over the last axis, stable for large logits. Same shape as ``z``."""
    z = z - z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=-1, keepdims=True)


def lm_loss(logits: np.ndarray, targets: np.ndarray) -> float:
    """Mean cross-entropy J = mean_t -log y^(t)[x(t+1)], computed from logits.

    Args:
        logits: (B, T, V) scores U h(t) + b_2 for every step.
        targets: (B, T) integer ids of the next tokens x(t+1).

    Returns:
        The mean over all B*T positions, in nats, as a Python float.
    """
    logp = log_softmax(logits)
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    return float(-picked.mean())


def perplexity(mean_nll: float) -> float:
    """Perplexity = exp(J), where J is the mean negative log-likelihood per token in nats."""
    return float(np.exp(mean_nll))


def sample_next(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """Draw one next token per row from softmax(logits / temperature).

    Args:
        logits: (B, V) unnormalised scores.
        temperature: τ > 0.
        rng: the NumPy generator to draw from (so results are reproducible).

    Returns:
        (B,) int64 token ids.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    p = softmax(np.asarray(logits, dtype=np.float64) / temperature)
    u = rng.random((*p.shape[:-1], 1))
    idx = (np.cumsum(p, axis=-1) < u).sum(axis=-1)  # inverse-CDF sampling
    return np.minimum(idx, p.shape[-1] - 1).astype(np.int64)


def rnn_forward(
    params: Params, x: np.ndarray, h0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Run the RNN over a batch of token-id sequences.

    Args:
        params: the RNN-LM parameters (see :func:`init_rnn_lm_params`).
        x: (B, T) integer token ids x(1..T).
        h0: (B, n) initial hidden state h(0).

    Returns:
        ``(e, h)`` with embeddings e: (B, T, d) and hidden states h: (B, T + 1, n),
        where ``h[:, 0]`` is h(0) and ``h[:, t]`` is h(t).
    """
    B, T = x.shape
    e = params["E"].T[x]  # E x(t) for one-hot x(t) is column x(t) of E: (B, T, d)
    h = np.empty((B, T + 1, h0.shape[-1]), dtype=np.result_type(h0, params["W_h"]))
    h[:, 0] = h0
    for t in range(T):
        h[:, t + 1] = rnn_step(e[:, t], h[:, t], params["W_h"], params["W_e"], params["b1"])
    return e, h


def rnn_lm_forward(
    params: Params, inputs: np.ndarray, h0: np.ndarray, targets: np.ndarray | None = None
) -> tuple[float, dict[str, Any]]:
    """Forward pass of the RNN-LM with teacher forcing, and its mean loss.

    Args:
        params: the RNN-LM parameters.
        inputs: (B, T + 1) token ids. The model reads ``inputs[:, :-1]`` (x(1..T)) and is
            scored on predicting ``inputs[:, 1:]`` (x(2..T+1)). If ``targets`` is given,
            ``inputs`` is instead the (B, T) ids the model reads, and ``targets`` the (B, T)
            ids it must predict.
        h0: (B, n) initial hidden state.

    Returns:
        ``(loss, cache)``: the mean loss J over the B*T predictions, and a dict holding
        everything a backward pass needs: ``x``, ``targets``, ``e``, ``h`` (B, T+1, n),
        ``logits`` (B, T, V), ``probs`` (B, T, V) and ``params``.
    """
    inputs = np.asarray(inputs)
    if targets is not None:
        targets = np.asarray(targets)
        if inputs.ndim != 2 or targets.shape != inputs.shape:
            raise ValueError(f"inputs and targets must both be (B, T) token ids, got {inputs.shape} and "
                             f"{targets.shape}")
        return _rnn_lm_forward(params, inputs, targets, h0)
    if inputs.ndim != 2 or inputs.shape[1] < 2:
        raise ValueError(f"inputs must be (B, T+1) token ids with T >= 1, got shape {inputs.shape}")
    return _rnn_lm_forward(params, inputs[:, :-1], inputs[:, 1:], h0)


def _rnn_lm_forward(params: Params, x: np.ndarray, targets: np.ndarray, h0: np.ndarray
                    ) -> tuple[float, dict[str, Any]]:
    """The forward pass on explicit inputs x (B, T) and targets (B, T)."""
    e, h = rnn_forward(params, x, h0)
    logits = h[:, 1:] @ params["U"].T + params["b2"]
    loss = lm_loss(logits, targets)
    cache = {"x": x, "targets": targets, "e": e, "h": h, "logits": logits,
             "probs": softmax(logits), "params": params}
    return loss, cache


# ---------------------------------------------------------------------------------------------
# Backpropagation through time (Chapter 2)
#
# With a(t) = W_h h(t-1) + W_e e(t) + b_1 and h(t) = tanh(a(t)), one step's local derivatives are
# dJ/da(t) = dJ/dh(t) * (1 - h(t)^2), and then, on batch-first rows,
#   dJ/dh(t-1) = da @ W_h,  dJ/de(t) = da @ W_e,  dJ/dW_h|(t) = da.T @ h(t-1),
#   dJ/dW_e|(t) = da.T @ e(t),  dJ/db_1|(t) = da summed over the batch.
# The gradient for a weight used at every step is the sum of its per-step terms.

StepCache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def rnn_step_forward(
    e_t: np.ndarray, h_prev: np.ndarray, W_h: np.ndarray, W_e: np.ndarray, b1: np.ndarray
) -> tuple[np.ndarray, StepCache]:
    """:func:`rnn_step`, also returning the cache ``(e_t, h_prev, h, W_h, W_e)`` its backward pass needs."""
    h = rnn_step(e_t, h_prev, W_h, W_e, b1)
    return h, (e_t, h_prev, h, W_h, W_e)


def rnn_step_backward(dh: np.ndarray, cache: StepCache) -> tuple[np.ndarray, ...]:
    """Backward pass of one RNN step.

    Args:
        dh: (B, n) gradient of the loss with respect to this step's output h(t).
        cache: ``(e_t, h_prev, h, W_h, W_e)`` from :func:`rnn_step_forward`.

    Returns:
        ``(de_t, dh_prev, dW_h, dW_e, db1)`` with shapes (B, d), (B, n), (n, n), (n, d), (n,).
    """
    e_t, h_prev, h, W_h, W_e = cache
    da = dh * (1.0 - h**2)  # tanh'(a) = 1 - tanh(a)^2, with the CURRENT h(t)
    return da @ W_e, da @ W_h, da.T @ h_prev, da.T @ e_t, da.sum(axis=0)


def rnn_backward(dh_all: np.ndarray, cache: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                 steps: list[np.ndarray] | None = None) -> tuple[np.ndarray, ...]:
    """Backpropagation through time over a whole sequence.

    Args:
        dh_all: (B, T, n) gradient of the loss with respect to each h(t) through the output layer
            only (the recurrent path is added here).
        cache: ``(e, h, W_h, W_e)`` with e: (B, T, d) and h: (B, T + 1, n) from :func:`rnn_forward`.
        steps: if a list is given, each step's own term dJ/dW_h|(t) is appended to it, in the order
            the backward pass visits them (t = T, ..., 1).

    Returns:
        ``(de, dh0, dW_h, dW_e, db1)`` with shapes (B, T, d), (B, n), (n, n), (n, d), (n,).
        dW_h, dW_e and db1 are summed over time steps t = T, ..., 1.
    """
    e, h, W_h, W_e = cache
    T = e.shape[1]
    de = np.zeros_like(e)
    dW_h, dW_e, db1 = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(W_h.shape[0], dtype=W_h.dtype)
    dh_next = np.zeros_like(h[:, 0])  # gradient arriving at h(t) from step t+1
    for t in reversed(range(T)):
        step = (e[:, t], h[:, t], h[:, t + 1], W_h, W_e)
        de[:, t], dh_next, dW_h_t, dW_e_t, db1_t = rnn_step_backward(dh_all[:, t] + dh_next, step)
        dW_h += dW_h_t
        if steps is not None:
            steps.append(dW_h_t)
        dW_e += dW_e_t
        db1 += db1_t
    return de, dh_next, dW_h, dW_e, db1


def rnn_lm_backward(cache: dict[str, Any]) -> dict[str, np.ndarray]:
    """Gradients of the mean loss J from :func:`rnn_lm_forward` with respect to every parameter and h(0).

    Returns:
        A dict with the lecture's names, each the shape of its parameter: ``E``, ``W_h``, ``W_e``,
        ``b1``, ``U``, ``b2``, and ``h0`` (B, n).
    """
    p, x, targets, h = cache["params"], cache["x"], cache["targets"], cache["h"]
    B, T = x.shape
    dlogits = cache["probs"].copy()  # d(mean CE)/dlogits = (softmax - onehot) / (B T)
    np.put_along_axis(dlogits, targets[..., None], np.take_along_axis(dlogits, targets[..., None], -1) - 1, -1)
    dlogits /= B * T
    dU = np.einsum("btv,btn->vn", dlogits, h[:, 1:])
    db2 = dlogits.sum(axis=(0, 1))
    de, dh0, dW_h, dW_e, db1 = rnn_backward(dlogits @ p["U"], (cache["e"], h, p["W_h"], p["W_e"]))
    dE = np.zeros_like(p["E"])
    np.add.at(dE.T, x, de)  # e(t) = column x(t) of E, so its gradient lands in that column
    return {"E": dE, "W_h": dW_h, "W_e": dW_e, "b1": db1, "U": dU, "b2": db2, "h0": dh0}
