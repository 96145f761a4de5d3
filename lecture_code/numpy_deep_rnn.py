"""Bidirectional and multi-layer (stacked) simple RNNs from scratch in NumPy: the references of Chapter 6.

Bidirectional (lecture 6, slide "Bidirectional RNNs"), two RNNs with separate weights::

    h_fwd(t) = RNN_FW(h_fwd(t-1), x(t))          from h_fwd(0)   = 0, left to right
    h_bwd(t) = RNN_BW(h_bwd(t+1), x(t))          from h_bwd(L+1) = 0, right to left
    h(t)     = [h_fwd(t); h_bwd(t)]              the "hidden state" passed on, forward half first (as torch)

In a padded batch, row b has L = ``lengths[b]`` real tokens at positions 0..L-1 (0-based) and padding after
them. The backward RNN starts at the row's LAST REAL token, position L-1, not at the padded end T-1, as packed
sequences do in torch; positions t >= L hold zeros in both halves (what ``pad_packed_sequence`` returns).

Multi-layer (slide "Multi-layer RNNs"): the hidden states of layer i are the inputs of layer i+1::

    h^(1)(t) = tanh(W_h^(1) h^(1)(t-1) + W_e^(1) x(t)       + b_1^(1))     W_e^(1): n x d
    h^(i)(t) = tanh(W_h^(i) h^(i)(t-1) + W_e^(i) h^(i-1)(t) + b_1^(i))     W_e^(i): n x n for i >= 2

Each direction and layer is a vanilla tanh RNN with the params dict ``{"W_h" (n, n), "W_e" (n, d), "b1" (n,)}``
of :mod:`lecture_code.numpy_rnn`. Arrays are batch-first: x is (B, T, d). :func:`numpy_params_from_torch` reads
one layer and direction out of a ``torch.nn.RNN``, e.g. ``weight_ih_l1_reverse``.
"""

from __future__ import annotations

import numpy as np

from .numpy_rnn import rnn_step

Params = dict[str, np.ndarray]


def _check_x(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must be (B, T, d) inputs, got shape {x.shape}")
    if x.shape[1] < 1:
        raise ValueError("x must have at least one time step (T >= 1)")
    return x


def check_params(p: Params, d: int, what: str = "params") -> int:
    """Check one tanh-RNN params dict against the input size d; return its hidden size n.

    Raises ValueError, naming the key and the expected shape, unless p has ``W_h`` (n, n), ``W_e`` (n, d), ``b1`` (n,).
    """
    missing = [k for k in ("W_h", "W_e", "b1") if k not in p]
    if missing:
        raise ValueError(f"{what} needs the keys 'W_h', 'W_e' and 'b1'; missing {missing}")
    n = np.shape(p["W_h"])[0]
    for k, shape in (("W_h", (n, n)), ("W_e", (n, d)), ("b1", (n,))):
        if np.shape(p[k]) != shape:
            raise ValueError(f"{what}[{k!r}] must have shape {shape} (n={n}, d={d}), got {np.shape(p[k])}")
    return n


def check_lengths(lengths: np.ndarray, B: int, T: int) -> np.ndarray:
    """``lengths`` as a (B,) int64 array, after checking that every length is an integer in 1..T."""
    arr = np.asarray(lengths)
    if arr.shape != (B,):
        raise ValueError(f"lengths must have shape (B,) = ({B},), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"lengths must be integers, got dtype {arr.dtype}")
    if arr.min() < 1 or arr.max() > T:
        raise ValueError(f"every length must be between 1 and T={T}, got {arr.tolist()}")
    return arr.astype(np.int64)


def rnn_direction(x: np.ndarray, p: Params, lengths: np.ndarray, reverse: bool = False,
                  h0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One tanh RNN run over the real tokens of a padded batch, left to right or (``reverse``) right to left.

    Args:
        x: (B, T, d) inputs. p: ``{"W_h" (n, n), "W_e" (n, d), "b1" (n,)}``.
        lengths: (B,) real lengths, 1 <= lengths[b] <= T (already checked).
        reverse: run from position lengths[b]-1 down to 0 instead of from 0 up to lengths[b]-1.
        h0: (B, n) initial state, zero if None.

    Returns:
        ``(H, h_last)``: H (B, T, n) with H[b, t] = h(t) at real tokens and 0 at padding; h_last (B, n) the state
        after each row's last step (position lengths[b]-1 forward, position 0 in reverse).
    """
    B, T, _ = x.shape
    n = p["W_h"].shape[0]
    dtype = np.result_type(x, p["W_h"], p["W_e"], p["b1"])
    h = np.zeros((B, n), dtype=dtype) if h0 is None else np.asarray(h0, dtype=dtype)
    H = np.zeros((B, T, n), dtype=dtype)
    for t in reversed(range(T)) if reverse else range(T):
        real = (t < lengths)[:, None]  # (B, 1): is position t a real token of row b?
        h = np.where(real, rnn_step(x[:, t], h, p["W_h"], p["W_e"], p["b1"]), h)  # padding: state unchanged
        H[:, t] = np.where(real, h, 0.0)
    return H, h


def birnn_forward(x: np.ndarray, lengths: np.ndarray, params_fwd: Params, params_bwd: Params) -> np.ndarray:
    """A bidirectional tanh RNN over a padded batch: h(t) = [h_fwd(t); h_bwd(t)].

    Args:
        x: (B, T, d) inputs, row b real at positions 0..lengths[b]-1 and padding after.
        lengths: (B,) integers, 1 <= lengths[b] <= T.
        params_fwd, params_bwd: the two directions' separate weights, each ``{"W_h" (n, n), "W_e" (n, d), "b1" (n,)}``.

    Returns:
        H: (B, T, 2n), ``H[b, t] = [h_fwd(t); h_bwd(t)]`` for t < lengths[b] and 0 for t >= lengths[b]. Both
        directions start from a zero state; the backward one at each row's last real token.
    """
    x = _check_x(x)
    B, T, d = x.shape
    check_params(params_fwd, d, "params_fwd")
    check_params(params_bwd, d, "params_bwd")
    lengths = check_lengths(lengths, B, T)
    H_fwd, _ = rnn_direction(x, params_fwd, lengths)
    H_bwd, _ = rnn_direction(x, params_bwd, lengths, reverse=True)
    return np.concatenate([H_fwd, H_bwd], axis=-1)


def stacked_rnn_forward(x: np.ndarray, layers: list[Params], h0: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """A multi-layer (stacked) tanh RNN: layer 1 reads x, layer i+1 reads layer i's hidden states.

    Args:
        x: (B, T, d) inputs (no padding).
        layers: L params dicts, bottom first; layer 1's ``W_e`` is (n, d), the others' (n, n).
        h0: (L, B, n) initial states, one per layer, or None for zeros.

    Returns:
        ``(H, h_final)``: H (B, T, n) the top layer's states h^(L)(1..T); h_final (B, n) the top layer's state at
        time T (torch's ``h_n[-1]``).
    """
    x = _check_x(x)
    B, T, d = x.shape
    if len(layers) == 0:
        raise ValueError("layers must hold at least one params dict")
    n = d
    for i, p in enumerate(layers):  # layer i reads the states below it: its W_e is (n_i, n_{i-1}), n_0 = d
        n = check_params(p, n, f"layers[{i}]")
        if h0 is not None and (np.ndim(h0) != 3 or np.shape(h0)[1:] != (B, n) or len(h0) != len(layers)):
            raise ValueError(f"h0 must have shape (L, B, n) = {(len(layers), B, n)}, got {np.shape(h0)}")
    lengths = np.full(B, T)
    H, h = x, None
    for i, p in enumerate(layers):
        H, h = rnn_direction(H, p, lengths, h0=None if h0 is None else h0[i])
    return H, h


def numpy_params_from_torch(rnn, layer: int = 0, reverse: bool = False) -> Params:
    """One layer and direction of a tanh ``torch.nn.RNN`` as float64 lecture-named params.

    torch names them ``weight_hh_l{layer}`` (W_h), ``weight_ih_l{layer}`` (W_e) and two biases whose sum is b_1,
    with the suffix ``_reverse`` for the backward direction.
    """
    if getattr(rnn, "mode", None) != "RNN_TANH":
        raise ValueError(f"expected a torch.nn.RNN with tanh, got {type(rnn).__name__}")
    if not 0 <= layer < rnn.num_layers or (reverse and not rnn.bidirectional):
        raise ValueError(f"no layer {layer}{' reverse' if reverse else ''} in this RNN "
                         f"(num_layers={rnn.num_layers}, bidirectional={rnn.bidirectional})")
    sfx = f"_l{layer}" + ("_reverse" if reverse else "")

    def get(name: str) -> np.ndarray:
        return getattr(rnn, name + sfx).detach().cpu().double().numpy().copy()

    n = rnn.hidden_size
    b1 = get("bias_ih") + get("bias_hh") if rnn.bias else np.zeros(n)
    return {"W_h": get("weight_hh"), "W_e": get("weight_ih"), "b1": b1}
