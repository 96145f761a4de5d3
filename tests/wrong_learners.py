"""Wrong implementations, exercise by exercise, of the kinds that used to pass the checker (none of them
a registered mistake): log-softmax edge cases (a shift by the mean, the min or a per-sequence max, an
epsilon or a clamp in the log), thresholds and sizes left in from small examples (clipping, truncated
loops, hard-coded V or 32 tags, an overflow guard on J), a low temperature taken for greedy, shortcuts
for B = 1 in one mode, tanh and sigmoid written with an exp that overflows on large pre-activations,
the caller's objects returned where new ones are asked for, and max(lengths) taken for T; for the derived
formulas, a count in int32 or float32 and an approximate spectral norm; for the multiple-choice questions,
answers that name no single option (every letter, two letters, a list, the option's number, the letter with
its reason).
"""

from __future__ import annotations

import numpy as np

from lecture_code.grading import EXERCISES


def _ref(exercise: str):
    return EXERCISES[exercise].reference


def _lse(z: np.ndarray, shift: np.ndarray) -> np.ndarray:
    return shift + np.log(np.exp(z - shift).sum(axis=-1, keepdims=True))


def _logp_shifted_by(how: str):
    """A learner's log-softmax, shifted by the row's mean or min, or by the max of each whole sequence."""
    def logp(z: np.ndarray) -> np.ndarray:
        if how == "sequence max":
            shift = z.max(axis=tuple(range(1, z.ndim)), keepdims=True)
        else:
            shift = getattr(z, how)(axis=-1, keepdims=True)
        return z - _lse(z, shift)
    return logp


def _logp_eps(z: np.ndarray) -> np.ndarray:
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    return np.log(p / p.sum(axis=-1, keepdims=True) + 1e-12)  # "avoid log(0)"


def _logp_clamped(z: np.ndarray) -> np.ndarray:
    return np.maximum(z - _lse(z, z.max(axis=-1, keepdims=True)), -100.0)  # as torch's BCE clamps


LOGP = {"shifted by the row's mean": _logp_shifted_by("mean"), "shifted by the row's min": _logp_shifted_by("min"),
        "shifted by each sequence's max": _logp_shifted_by("sequence max"), "log(p + 1e-12)": _logp_eps,
        "log-probabilities clamped at -100": _logp_clamped}


def _pick(logp: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]


def _softmax_with(logp):
    return lambda z: np.exp(logp(z))


def _lm_loss_with(logp):
    return lambda z, y: float(-_pick(logp(z), y).mean())


def _masked_loss_with(logp):
    return lambda z, y, m: float(-_pick(logp(z), y)[m].mean())


def _sample_with(rule: str):
    def sample(logits, temperature, rng):
        if rule == "greedy below 0.1" and temperature < 0.1:
            return logits.argmax(axis=-1)
        t = max(temperature, 0.1) if rule == "temperature clamped at 0.1" else temperature
        z = logits / t
        shift = {"global max subtracted": z.max(), "row mean subtracted": z.mean(axis=-1, keepdims=True)}
        p = np.exp(z - shift.get(rule, z.max(axis=-1, keepdims=True)))
        p /= p.sum(axis=-1, keepdims=True)
        if rule == "V = 7 hard-coded":
            return np.array([rng.choice(7, p=row) for row in p])
        ids = (p.cumsum(axis=-1) < rng.random((len(p), 1))).sum(axis=-1)
        return int(ids[0]) if rule == "a number for one row" and len(p) == 1 else ids
    return sample


def _tanh_by_exp(a: np.ndarray) -> np.ndarray:
    return (np.exp(2 * a) - 1) / (np.exp(2 * a) + 1)  # nan once exp(2a) overflows (a > 355)


def _sigmoid_by_ratio(a: np.ndarray) -> np.ndarray:
    return np.exp(a) / (1 + np.exp(a))  # nan once exp(a) overflows (a > 709)


def rnn_step_tanh_by_exp(e_t, h_prev, W_h, W_e, b1):
    return _tanh_by_exp(h_prev @ W_h.T + e_t @ W_e.T + b1)


def rnn_step_bias_column(e_t, h_prev, W_h, W_e, b1):
    return np.tanh(h_prev @ W_h.T + e_t @ W_e.T + b1.reshape(-1, 1))


def perplexity_float32(J):
    return float(np.exp(np.float32(J)))


def perplexity_guarded(J):
    return float(np.exp(min(J, 100.0)))  # "avoid overflow"


def perplexity_series(J):
    return float(sum(J**k / np.prod(np.arange(1.0, k + 1)) for k in range(40)))


def _clipped(exercise: str, limit: float = 5.0):
    """The reference with element-wise gradient clipping to [-limit, limit] left in."""
    def learner(*args):
        out = _ref(exercise)(*args)
        if isinstance(out, tuple) and len(out) == 4:  # lstm_step_backward: (dx, dh, dc, grads)
            return (*out[:3], {k: np.clip(g, -limit, limit) for k, g in out[3].items()})
        return tuple(np.clip(g, -limit, limit) for g in out)
    return learner


def bptt_truncated(dh_all, cache):
    """BPTT truncated to the last 20 steps (as in the chapter's truncated BPTT)."""
    e, h, W_h, W_e = cache
    T = e.shape[1]
    de, dh_next = np.zeros_like(e), np.zeros_like(h[:, 0])
    dW_h, dW_e, db1 = np.zeros_like(W_h), np.zeros_like(W_e), np.zeros(len(W_h))
    for t in reversed(range(max(0, T - 20), T)):
        da = (dh_all[:, t] + dh_next) * (1 - h[:, t + 1] ** 2)
        de[:, t], dh_next = da @ W_e, da @ W_h
        dW_h, dW_e, db1 = dW_h + da.T @ h[:, t], dW_e + da.T @ e[:, t], db1 + da.sum(axis=0)
    return de, dh_next, dW_h, dW_e, db1


def sgd_norm_clipped(params, tokens, h0, lr):
    from lecture_code.numpy_rnn import PARAM_NAMES, rnn_lm_backward, rnn_lm_forward
    loss, cache = rnn_lm_forward(params, tokens[:, :-1], h0, targets=tokens[:, 1:])
    grads = rnn_lm_backward(cache)
    norm = np.sqrt(sum(np.sum(grads[k] ** 2) for k in PARAM_NAMES))
    scale = min(1.0, 5.0 / norm)  # clipping from chapter 4, left in
    return {k: params[k] - lr * scale * grads[k] for k in PARAM_NAMES}, loss


def _sgd_own_loss(logp):
    """The reference's update, but the loss computed by the learner's own log-softmax of the logits."""
    def sgd(params, tokens, h0, lr):
        from lecture_code.numpy_rnn import PARAM_NAMES, rnn_lm_backward, rnn_lm_forward
        _, cache = rnn_lm_forward(params, tokens[:, :-1], h0, targets=tokens[:, 1:])
        grads = rnn_lm_backward(cache)
        loss = _lm_loss_with(logp)(cache["logits"], tokens[:, 1:])
        return {k: params[k] - lr * grads[k] for k in PARAM_NAMES}, loss
    return sgd


def tagger_bias_column(H, U, b_2):
    return H @ U.T + b_2[:, None]


def pool_b1_shortcut(H, lengths, mode):
    if len(H) == 1:  # "one sentence has no padding"
        return {"last": H[:, -1], "max": H.max(axis=1), "mean": H.mean(axis=1)}[mode]
    return _ref("pool_hidden_states")(H, lengths, mode)


def _pool_squeezed_in(which: str):
    def pool(H, lengths, mode):
        out = _ref("pool_hidden_states")(H, lengths, mode)
        return out.squeeze() if mode == which else out
    return pool


def pool_mask_from_max_length(H, lengths, mode):
    mask = np.arange(lengths.max()) < lengths[:, None]  # (B, max(lengths)), taken for (B, T)
    if mode == "last":
        return H[np.arange(len(H)), lengths - 1]
    if mode == "max":
        return np.where(mask[..., None], H, -np.inf).max(axis=1)
    return (H * mask[..., None]).sum(axis=1) / lengths[:, None]


def pool_mean_over_max_length(H, lengths, mode):
    if mode != "mean":
        return _ref("pool_hidden_states")(H, lengths, mode)
    mask = np.arange(H.shape[1]) < lengths[:, None]
    return (H * mask[..., None]).sum(axis=1) / lengths.max()


def spans_first_32_tags(tags):
    return _ref("entity_spans")(tags[:32])  # a fixed buffer of 32 tags


_OFFSET = [0]


def spans_corpus_offsets(tags):
    """Positions counted from the start of the corpus: a global offset that grows with every sentence seen."""
    spans = [(kind, start + _OFFSET[0], end + _OFFSET[0]) for kind, start, end in _ref("entity_spans")(tags)]
    _OFFSET[0] += len(tags)
    return spans


def clip_returns_its_input(grads, threshold):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    return grads if norm < threshold else {k: g * (threshold / norm) for k, g in grads.items()}


def clip_same_arrays_below(grads, threshold):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    scale = threshold / norm if norm >= threshold else None
    return {k: g if scale is None else g * scale for k, g in grads.items()}


def clip_norm_of_rnn_weights(grads, threshold):
    norm = np.sqrt(sum(np.sum(grads[k] ** 2) for k in ("W_h", "W_e", "b1") if k in grads))
    return {k: g * (threshold / norm) if norm >= threshold else g.copy() for k, g in grads.items()}


def jacobian_last_20_steps(W_h, hs):
    M = np.eye(len(W_h))
    for t in range(max(1, len(hs) - 20), len(hs)):
        M = ((1 - hs[t] ** 2)[:, None] * W_h) @ M
    return M


def norms_at_most_20_steps(W_h, g, L):
    out, v = [], g.copy()
    for _ in range(min(L, 20) + 1):
        out.append(np.linalg.norm(v))
        v = v @ W_h
    return np.array(out)


def _gates(x, h, p, g, act):
    return act(h @ p[f"W_{g}"].T + x @ p[f"U_{g}"].T + p[f"b_{g}"])


def _lstm_with(sigmoid, tanh):
    def lstm(x_t, h_prev, c_prev, p):
        f, i, o = (_gates(x_t, h_prev, p, g, sigmoid) for g in "fio")
        c = f * c_prev + i * _gates(x_t, h_prev, p, "c", tanh)
        return o * tanh(c), c
    return lstm


def _gru_with(sigmoid, tanh):
    def gru(x_t, h_prev, p):
        u, r = _gates(x_t, h_prev, p, "u", sigmoid), _gates(x_t, h_prev, p, "r", sigmoid)
        h_tilde = tanh(x_t @ p["U_c"].T + p["b_c"] + r * (h_prev @ p["W_c"].T + p["b_rc"]))
        return (1 - u) * h_prev + u * h_tilde
    return gru


def _run(x, p, h, tanh=_tanh_by_exp):
    states = []
    for t in range(x.shape[1]):
        h = tanh(h @ p["W_h"].T + x[:, t] @ p["W_e"].T + p["b1"])
        states.append(h)
    return np.stack(states, axis=1)


def birnn_tanh_by_exp(x, lengths, pf, pb):
    B, T, _ = x.shape
    n = len(pf["W_h"])
    H = np.zeros((B, T, 2 * n))
    for b, L in enumerate(lengths):
        H[b, :L, :n] = _run(x[b:b + 1, :L], pf, np.zeros((1, n)))[0]
        H[b, :L, n:] = _run(x[b:b + 1, :L][:, ::-1], pb, np.zeros((1, n)))[0, ::-1]
    return H


def birnn_allocated_to_max_length(x, lengths, pf, pb):
    return _ref("birnn_forward")(x, lengths, pf, pb)[:, :lengths.max()]  # H = np.zeros((B, max(lengths), 2n))


def stacked_tanh_by_exp(x, layers, h0=None):
    H = x
    for i, p in enumerate(layers):
        H = _run(H, p, np.zeros((len(x), len(p["W_h"]))) if h0 is None else h0[i])
    return H, H[:, -1]


def params_int32(V, d, n):
    """The RNN-LM's count in int32 arithmetic (np.int32 sizes): it wraps around past 2**31."""
    V, d, n = np.int32(V), np.int32(d), np.int32(n)
    with np.errstate(over="ignore"):
        return d * V + n * n + n * d + n + V * n + V


def params_float32(V, d, n):
    return np.float32(d * V + n * n + n * d + n + V * n + V)


def uniform_perplexity_float32(V):
    return np.exp(np.log(np.float32(V)))


def jacobian_float32(W_h, h_t):
    return ((1 - h_t**2)[:, None] * W_h).astype(np.float32)


def bound_power_iteration(W_h, gamma, ell, steps: int = 3):
    """||W_h||_2 estimated by a few steps of power iteration on W_h^T W_h (it creeps up on s_1 from below)."""
    v = np.ones(W_h.shape[1])
    for _ in range(steps):
        v = W_h.T @ (W_h @ v)
        v /= np.linalg.norm(v)
    return float((gamma * np.linalg.norm(W_h @ v)) ** ell)


def bound_float32(W_h, gamma, ell):
    return (np.float32(gamma) * np.linalg.norm(W_h.astype(np.float32), 2)) ** ell


def _choice_wrong(exercise: str) -> dict[str, object]:
    """Answers to a multiple-choice question that name no single option."""
    answer = _ref(exercise)()
    other = next(m.fn() for m in EXERCISES[exercise].mistakes)
    return {"every letter at once": lambda: "ABCD",
            "two letters": lambda: f"{answer} or {other}",
            "a list of one letter": lambda: [answer],
            "the option's number": lambda: "ABCDEF".index(answer) + 1,
            "the letter with its reason": lambda: f"{answer}: because of the gradient"}


CHOICE = [ex for ex, e in EXERCISES.items() if e.kind == "choice"]


SPECIFIC = {
    "rnn_step": {"tanh as (e^2a - 1)/(e^2a + 1)": rnn_step_tanh_by_exp, "bias as a column": rnn_step_bias_column},
    "softmax": {k: _softmax_with(f) for k, f in LOGP.items() if "clamp" not in k and "1e-12" not in k},
    "lm_loss": {k: _lm_loss_with(f) for k, f in LOGP.items()},
    "perplexity": {"float32": perplexity_float32, "overflow guard min(J, 100)": perplexity_guarded,
                   "Taylor series of exp": perplexity_series},
    "sample_next": {k: _sample_with(k) for k in ("greedy below 0.1", "temperature clamped at 0.1",
                                                 "V = 7 hard-coded", "a number for one row",
                                                 "global max subtracted", "row mean subtracted")},
    "rnn_step_backward": {"element-wise clipping left in": _clipped("rnn_step_backward")},
    "rnn_backward": {"truncated to 20 steps": bptt_truncated, "element-wise clipping left in":
                     _clipped("rnn_backward")},
    "sgd_step": {"norm clipping at 5 left in": sgd_norm_clipped,
                 **{f"loss with its own log-softmax, {k}": _sgd_own_loss(f) for k, f in LOGP.items()
                    if k in ("log(p + 1e-12)", "shifted by the row's mean", "shifted by each sequence's max")}},
    "tagger_logits": {"bias as a column": tagger_bias_column},
    "masked_mean_loss": {k: _masked_loss_with(f) for k, f in LOGP.items()},
    "pool_hidden_states": {"B = 1 taken as unpadded": pool_b1_shortcut,
                           "squeezed in mode 'max' only": _pool_squeezed_in("max"),
                           "squeezed in mode 'mean' only": _pool_squeezed_in("mean"),
                           "mask built from max(lengths)": pool_mask_from_max_length,
                           "mean divided by max(lengths)": pool_mean_over_max_length},
    "entity_spans": {"a buffer of 32 tags": spans_first_32_tags,
                     "a global offset counted over the corpus": spans_corpus_offsets},
    "clip_grad_norm": {"the caller's dict returned below the threshold": clip_returns_its_input,
                       "the caller's arrays returned below the threshold": clip_same_arrays_below,
                       "norm of W_h, W_e, b1 only": clip_norm_of_rnn_weights},
    "jacobian_product": {"the last 20 steps only": jacobian_last_20_steps},
    "gradient_norms_over_distance": {"at most 20 steps": norms_at_most_20_steps},
    "lstm_step": {"sigmoid as e^a / (1 + e^a)": _lstm_with(_sigmoid_by_ratio, np.tanh),
                  "tanh as (e^2a - 1)/(e^2a + 1)": _lstm_with(lambda a: 1 / (1 + np.exp(-a)), _tanh_by_exp)},
    "lstm_step_backward": {"element-wise clipping left in": _clipped("lstm_step_backward")},
    "gru_step": {"sigmoid as e^a / (1 + e^a)": _gru_with(_sigmoid_by_ratio, np.tanh),
                 "tanh as (e^2a - 1)/(e^2a + 1)": _gru_with(lambda a: 1 / (1 + np.exp(-a)), _tanh_by_exp)},
    "birnn_forward": {"tanh as (e^2a - 1)/(e^2a + 1)": birnn_tanh_by_exp,
                      "H allocated to max(lengths)": birnn_allocated_to_max_length},
    "stacked_rnn_forward": {"tanh as (e^2a - 1)/(e^2a + 1)": stacked_tanh_by_exp},
    "rnn_lm_num_params": {"counted in int32": params_int32, "counted in float32": params_float32},
    "uniform_perplexity": {"float32": uniform_perplexity_float32},
    "rnn_step_jacobian": {"float32": jacobian_float32},
    "jacobian_norm_bound": {"3 steps of power iteration for ||W_h||_2": bound_power_iteration,
                            "float32": bound_float32},
    **{exercise: _choice_wrong(exercise) for exercise in CHOICE},
}
"""exercise -> {what the learner did: their function}."""
