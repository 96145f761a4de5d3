"""Chapter 5: looking inside a trained LSTM, and measuring what its cell buys.

- :func:`lstm_trace` runs a trained LSTM language model over a text and returns every gate and state.
- :func:`char_features`, :func:`cell_feature_correlations` and :func:`best_units` look for interpretable
  cells, as Karpathy et al. (2015) did: a unit whose cell value tracks a simple property of the text.
- :func:`cell_recurrence` and :func:`candidate_pattern` compute the cell equation for gate values you choose.
- :func:`state_gradient_norms` measures ||dJ(T)/dc(T-l)|| and ||dJ(T)/dh(T-l)|| against the distance l.
- :func:`copy_sweep` and :func:`memory_span` put a number on how far back a model remembers (the copy task);
  :func:`sweep_mean_accuracy` and :func:`plot_copy_sweeps` read and plot the sweeps.
- :func:`seconds_per_step` and :func:`matched_steps` give two models the same training time.
- :func:`train_zaremba` trains with the recipe of Zaremba et al. (2014): SGD, per-epoch learning-rate decay,
  uniform initialisation (:func:`uniform_init_`), norm clipping of the per-sequence gradient.

Notation as in :mod:`lecture_code.numpy_lstm`: f, i, o gates, c̃ the candidate, c the cell, h the hidden state;
arrays are batch-first, a passage is (T, n) with one row per character.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from . import config, published, tasks
from .models import ScratchGRU, ScratchLSTM, ScratchRNN, copy_cell_weights, detach_state
from .numpy_lstm import LSTM_GATES, lstm_forward, sigmoid, torch_layer_params
from .text import batchify, lm_batches
from .train import History, evaluate_lm, train_lm

# ---------------------------------------------------------------------------------------------
# The gates and the cell over a real text


def _lstm_params(rnn: nn.Module) -> dict[str, np.ndarray]:
    """Lecture-named float64 parameters of a one-layer nn.LSTM or a ScratchLSTM."""
    if isinstance(rnn, ScratchLSTM):
        return {k: v.double().cpu().numpy() for k, v in rnn.lecture_params().items()}
    if isinstance(rnn, nn.LSTM) and rnn.num_layers == 1 and not rnn.bidirectional:
        return torch_layer_params(rnn, "_l0")
    raise ValueError(f"expected a one-layer, one-direction nn.LSTM or a ScratchLSTM, got {type(rnn).__name__}")


def lstm_trace(model: nn.Module, ids: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
    """Every gate and state of a model's LSTM while it reads ``ids`` from the zero state, in float64.

    Args:
        model: a model with ``.embedding`` and a one-layer LSTM ``.rnn`` (nn.LSTM or ScratchLSTM), e.g. an
            ``RNNLM`` with cell ``"lstm"`` or ``"scratch_lstm"``.
        ids: (T,) token ids.

    Returns:
        dict with keys ``f``, ``i``, ``o``, ``c_tilde``, ``c`` and ``h``, each (T, n): row t holds the value
        after reading token t. c and h come from :func:`~lecture_code.numpy_lstm.lstm_forward`; the gates are
        recomputed from h(t-1) and e(t) with the six equations.
    """
    p = _lstm_params(model.rnn)
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) == 0:
        raise ValueError(f"ids must be a non-empty 1-D sequence of token ids, got shape {ids.shape}")
    x = model.embedding.weight.detach().double().cpu().numpy()[ids]  # (T, d): e(t) = E x(t)
    n = p["W_f"].shape[0]
    H, C, _ = lstm_forward(x[None], np.zeros((1, n)), np.zeros((1, n)), p)  # the reference forward pass
    H_prev = np.concatenate([np.zeros((1, n)), H[0, :-1]])  # h(0..T-1)
    pre = {g: H_prev @ p[f"W_{g}"].T + x @ p[f"U_{g}"].T + p[f"b_{g}"] for g in LSTM_GATES}  # (T, n) each
    out = {g: sigmoid(pre[g]) for g in ("f", "i", "o")}
    return out | {"c_tilde": np.tanh(pre["c"]), "c": C[0], "h": H[0]}


def char_features(text: str) -> dict[str, np.ndarray]:
    """Simple properties of each character of ``text``, as float arrays of shape (T,).

    - ``line position``: characters since the last newline (0 for the first character of a line);
    - ``word position``: characters since the last space or newline;
    - ``space``, ``newline``, ``uppercase``: 1 where the character is one;
    - ``speaker line``: 1 on every character of a line like ``ROMEO:`` (a line that ends with ':' and has
      capitals but no lowercase letter: a speaker's name), its newline included.
    """
    T = len(text)
    feats = {k: np.zeros(T) for k in ("line position", "word position", "space", "newline", "uppercase",
                                      "speaker line")}
    line = word = 0
    for t, ch in enumerate(text):
        feats["line position"][t], feats["word position"][t] = line, word
        feats["space"][t], feats["newline"][t], feats["uppercase"][t] = ch == " ", ch == "\n", ch.isupper()
        line = 0 if ch == "\n" else line + 1
        word = 0 if ch in " \n" else word + 1
    start = 0
    for row in text.split("\n"):
        name = row.endswith(":") and any(ch.isupper() for ch in row) and not any(ch.islower() for ch in row)
        if name:
            feats["speaker line"][start : start + len(row) + 1] = 1.0  # the name, its colon and its newline
        start += len(row) + 1
    return feats


def cell_feature_correlations(C: np.ndarray, features: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pearson correlation of every unit's cell value with every feature.

    Args:
        C: (T, n) cell values c(t), one row per character. features: name -> (T,) values.

    Returns:
        name -> (n,) correlations in [-1, 1]; a unit that never changes gets 0.
    """
    C = np.asarray(C, dtype=np.float64)
    if C.ndim != 2:
        raise ValueError(f"C must be (T, n), got shape {C.shape}")
    Cc = C - C.mean(axis=0)
    c_norm = np.linalg.norm(Cc, axis=0)
    out = {}
    for name, v in features.items():
        v = np.asarray(v, dtype=np.float64)
        if v.shape != (C.shape[0],):
            raise ValueError(f"feature {name!r} must have shape ({C.shape[0]},) like C's rows, got {v.shape}")
        vc = v - v.mean()
        if not np.linalg.norm(vc) > 0:
            raise ValueError(f"feature {name!r} is constant on this text, so its correlation is undefined")
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (vc @ Cc) / (np.linalg.norm(vc) * c_norm)
        out[name] = np.where(c_norm > 0, r, 0.0)
    return out


def best_units(corrs: Mapping[str, np.ndarray]) -> dict[str, tuple[int, float]]:
    """name -> (the unit with the largest |correlation|, its signed correlation)."""
    best = {}
    for name, r in corrs.items():
        j = int(np.argmax(np.abs(r)))
        best[name] = (j, float(r[j]))
    return best


# ---------------------------------------------------------------------------------------------
# The cell equation with gate values you choose (the widget and its static figure)

CANDIDATE_PATTERNS = ("pulses", "constant", "alternating", "sine", "noise")


def candidate_pattern(name: str, T: int, amplitude: float = 1.0) -> np.ndarray:
    """A (T,) candidate sequence c̃(1..T): ``pulses`` (amplitude at t = 5 and t = 20, else 0), ``constant``,
    ``alternating`` (+, -, +, ...), ``sine`` (period 16) or ``noise`` (uniform in ±amplitude, seed 0)."""
    t = np.arange(1, T + 1)
    patterns = {
        "pulses": np.where((t == 5) | (t == 20), 1.0, 0.0),
        "constant": np.ones(T),
        "alternating": np.where(t % 2 == 1, 1.0, -1.0),
        "sine": np.sin(2 * np.pi * t / 16),
        "noise": np.random.default_rng(0).uniform(-1, 1, size=T),
    }
    if name not in patterns:
        raise ValueError(f"pattern must be one of {CANDIDATE_PATTERNS}, got {name!r}")
    return amplitude * patterns[name]


def cell_recurrence(f: np.ndarray | float, i: np.ndarray | float, o: np.ndarray | float, c_tilde: np.ndarray,
                    c0: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """c(t) = f(t) ⊙ c(t-1) + i(t) ⊙ c̃(t) and h(t) = o(t) ⊙ tanh(c(t)) for given gate values.

    Args:
        f, i, o: gate values, scalars (constant over time) or arrays that broadcast with c_tilde.
        c_tilde: (T,) or (T, n) candidates c̃(1..T). c0: c(0), a scalar or (n,).

    Returns:
        (c, h), each shaped like c_tilde: c(1..T) and h(1..T).
    """
    c_tilde = np.asarray(c_tilde, dtype=np.float64)
    if c_tilde.ndim not in (1, 2):
        raise ValueError(f"c_tilde must be (T,) or (T, n), got shape {c_tilde.shape}")
    f, i, o = (np.broadcast_to(np.asarray(g, dtype=np.float64), c_tilde.shape) for g in (f, i, o))
    C, c = np.empty_like(c_tilde), np.broadcast_to(np.asarray(c0, dtype=np.float64), c_tilde.shape[1:])
    for t in range(len(c_tilde)):
        c = f[t] * c + i[t] * c_tilde[t]
        C[t] = c
    return C, o * np.tanh(C)


# ---------------------------------------------------------------------------------------------
# How far back the gradient of the last loss reaches


def _scratch_copy(rnn: nn.Module) -> nn.Module:
    """A float64 from-scratch copy (ScratchRNN, ScratchLSTM or ScratchGRU) of a one-layer recurrent layer."""
    if isinstance(rnn, ScratchRNN | ScratchLSTM | ScratchGRU):
        return copy.deepcopy(rnn).double()
    if not isinstance(rnn, nn.RNN | nn.LSTM | nn.GRU) or rnn.num_layers != 1 or rnn.bidirectional:
        raise ValueError(f"expected a one-layer, one-direction recurrent layer (nn.RNN, nn.LSTM, nn.GRU or a "
                         f"scratch cell), got {rnn!r}")
    d, n = rnn.input_size, rnn.hidden_size
    if isinstance(rnn, nn.LSTM | nn.GRU):
        return copy_cell_weights(rnn, (ScratchLSTM if isinstance(rnn, nn.LSTM) else ScratchGRU)(d, n).double())
    if rnn.nonlinearity != "tanh":
        raise ValueError("expected a tanh nn.RNN")
    cell = ScratchRNN(d, n).double()
    with torch.no_grad():
        cell.W_h.copy_(rnn.weight_hh_l0)
        cell.W_e.copy_(rnn.weight_ih_l0)
        cell.b1.copy_(rnn.bias_ih_l0.double() + rnn.bias_hh_l0.double() if rnn.bias else torch.zeros(n))
    return cell


def state_gradient_norms(model: nn.Module, x: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray
                         ) -> dict[str, np.ndarray]:
    """||dJ(T)/dh(T-l)|| and, for an LSTM, ||dJ(T)/dc(T-l)||, for l = 0, ..., T-1.

    The model reads x from the zero state; J(T) is the cross-entropy of ``model.head(h(T))`` against y, the
    loss at the last step only. The recurrence runs step by step on a float64 from-scratch copy of the model's
    recurrent layer, and autograd gives the gradient with respect to each state: dJ/dc(t) is all of it, through
    h(t) = o(t) ⊙ tanh(c(t)) and through c(t+1) (what :func:`~lecture_code.numpy_lstm.lstm_backward` calls "all
    of dJ/dc(t)"); dJ/dh(t) flows through the gates of step t+1 (and the output layer, at t = T).

    Args:
        model: an ``RNNLM`` (cell rnn, scratch, lstm, scratch_lstm, gru or scratch_gru; one layer) or a
            ``tasks.CopyClassifier``: anything with ``.embedding``, a one-layer ``.rnn`` and ``.head``. It is
            not changed, and its ``.grad`` are not touched.
        x: (B, T) token ids. y: (B,) targets (for a language model, the token after x).

    Returns:
        ``{"h": (T,), "c": (T,)}`` (``"c"`` only for an LSTM), float64; entry l is the batch mean of the
        per-example norms ||dJ_b(T)/dh_b(T-l)|| (J_b(T) is example b's own loss). Entry 0 is h(T).
    """
    x, y = torch.as_tensor(np.asarray(x)), torch.as_tensor(np.asarray(y))
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"x must be (B, T) and y (B,), got {tuple(x.shape)} and {tuple(y.shape)}")
    cell = _scratch_copy(model.rnn).cpu().requires_grad_(False)  # float64 on the CPU: a small computation
    head = copy.deepcopy(model.head).double().cpu().requires_grad_(False)
    e = model.embedding.weight.detach().double().cpu()[x.cpu()]  # (B, T, d)
    state = cell.init_state(x.shape[0])
    with torch.enable_grad():
        state = tuple(s.requires_grad_() for s in state) if isinstance(state, tuple) else state.requires_grad_()
        hs, cs = [], []
        for t in range(x.shape[1]):
            h, state = cell.step(e[:, t], state)
            hs.append(h)
            if isinstance(state, tuple):
                cs.append(state[1])
        loss = F.cross_entropy(head(h), y.cpu(), reduction="sum")  # sum: each example's own gradient
        grads = torch.autograd.grad(loss, hs + cs)
    norms = [g.norm(dim=1).mean().item() for g in grads]
    T = x.shape[1]
    out = {"h": np.array(norms[:T][::-1])}
    if cs:
        out["c"] = np.array(norms[T:][::-1])
    return out


# ---------------------------------------------------------------------------------------------
# The copy task over many gaps, and the memory span


def copy_sweep(cell: str, Ls: Sequence[int], seeds: Sequence[int] = (0,), threshold: float = 0.9,
               stop_below: bool = False, **kw) -> dict:
    """:func:`lecture_code.tasks.train_copy` for every gap L (ascending) and seed.

    With ``stop_below``, a seed's sweep stops at the first L whose accuracy is below ``threshold``: longer gaps
    are harder still, so they are not run (their accuracy is NaN). Other keyword arguments go to train_copy.

    Returns:
        dict with ``L`` (the sorted gaps), ``accuracy`` (len(seeds), len(L)) with NaN where not run, and
        ``seconds`` (the total training time).
    """
    Ls = sorted(Ls)
    acc, seconds = np.full((len(seeds), len(Ls)), np.nan), 0.0
    for s, seed in enumerate(seeds):
        for k, L in enumerate(Ls):
            r = tasks.train_copy(cell, L, seed=seed, **kw)
            acc[s, k], seconds = r["accuracy"], seconds + r["seconds"]
            if stop_below and r["accuracy"] < threshold:
                break
    return {"L": Ls, "accuracy": acc, "seconds": seconds}


def memory_span(Ls: Sequence[int], accuracy: Sequence[float], threshold: float = 0.9) -> int:
    """The largest gap L such that the accuracy is at least ``threshold`` at L and at every shorter gap tried.

    0 if the shortest gap already fails; a NaN accuracy (not run) counts as a failure. When every gap passes,
    the true span may be longer than the longest gap tried.
    """
    if len(Ls) != len(accuracy) or len(Ls) == 0:
        raise ValueError(f"Ls and accuracy must be non-empty and of equal length, got {len(Ls)} and {len(accuracy)}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    span = 0
    for L, a in sorted(zip(Ls, accuracy, strict=True)):
        if not a >= threshold:  # NaN fails too
            break
        span = L
    return span


def sweep_mean_accuracy(sweep: Mapping) -> dict[int, float]:
    """Mean test accuracy over seeds at each gap of a :func:`copy_sweep` result; NaN where a seed did not run."""
    acc = np.asarray(sweep["accuracy"], dtype=float)
    mean = np.where(np.isnan(acc).any(axis=0), np.nan, np.nanmean(np.where(np.isnan(acc), 0.0, acc), axis=0))
    return {int(L): float(a) for L, a in zip(sweep["L"], mean, strict=True)}


def plot_copy_sweeps(sweeps: Mapping[str, Mapping], ax, threshold: float = 0.9, chance: float = 0.25) -> dict[str, int]:
    """Plot the mean test accuracy (error bars: the spread over seeds) of each :func:`copy_sweep` against the gap
    L, on a matplotlib Axes, with the threshold and chance lines; return each model's :func:`memory_span`.

    A subscripted setting in a model's name, such as ``b_f = 3``, is shown in mathtext in the legend ($b_f = 3$).
    """
    spans = {}
    for k, (name, s) in enumerate(sweeps.items()):
        acc = np.asarray(s["accuracy"], dtype=float)
        mean = sweep_mean_accuracy(s)
        Ls = [L for L in s["L"] if not np.isnan(mean[L])]
        cols = [j for j, L in enumerate(s["L"]) if L in Ls]
        label = re.sub(r"\b([A-Za-z]_[A-Za-z]+ = -?[\d.]+)", r"$\1$", name)
        ax.errorbar(Ls, [mean[L] for L in Ls], yerr=acc[:, cols].std(axis=0), fmt="o-", color=f"C{k}", label=label,
                    capsize=3)
        spans[name] = memory_span(s["L"], [mean[L] for L in s["L"]], threshold)
    ax.axhline(threshold, color="gray", ls=":", label=f"threshold {threshold:g}")
    ax.axhline(chance, color="gray", ls="--", label="chance")
    ax.set(xscale="log", xlabel="gap $L$ (distractor tokens)", ylabel="test accuracy", ylim=(0, 1.05))
    gaps = sorted({L for s in sweeps.values() for L in s["L"]})
    ax.set_xticks(gaps, [str(L) for L in gaps])  # the gaps tried, as plain numbers
    ax.minorticks_off()
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return spans


# ---------------------------------------------------------------------------------------------
# The same training time for two models


def seconds_per_step(models: Mapping[str, nn.Module], train_ids: np.ndarray, steps: int = 3, rounds: int = 5,
                     clock: Callable[[], float] = time.perf_counter, **kw) -> dict[str, float]:
    """Wall-clock seconds per step of :func:`lecture_code.train.train_lm` (keyword arguments as there) for each
    model, timed on copies (the models themselves are not changed).

    After one warm-up step each, the models take turns, ``rounds`` times, at ``steps`` steps; each model's time
    is its fastest turn. Taking turns and keeping the fastest makes the comparison robust to other work on the
    machine, which slows whichever model happens to be running. ``clock=time.process_time`` measures the CPU
    time of this process instead of wall time (with one torch thread: unaffected by waiting for the CPU).
    """
    if steps < 1 or rounds < 1:
        raise ValueError(f"steps and rounds must be at least 1, got {steps} and {rounds}")
    kw = {**kw, "progress": False}
    copies = {name: copy.deepcopy(m) for name, m in models.items()}
    for m in copies.values():
        train_lm(m, train_ids, steps=1, **kw)
    best = dict.fromkeys(copies, float("inf"))
    for _ in range(rounds):
        for name, m in copies.items():
            start = clock()
            train_lm(m, train_ids, steps=steps, **kw)
            best[name] = min(best[name], (clock() - start) / steps)
    return best


def matched_steps(seconds: float, seconds_per_step: float, multiple: int = 50) -> int:
    """How many steps fit in ``seconds`` at ``seconds_per_step``, rounded to a multiple of ``multiple`` (at least
    one multiple), so that small timing noise does not change the count."""
    if not (seconds > 0 and seconds_per_step > 0 and multiple >= 1):
        raise ValueError(f"expected positive seconds, seconds_per_step and multiple, got {seconds}, "
                         f"{seconds_per_step}, {multiple}")
    return max(multiple, round(seconds / seconds_per_step / multiple) * multiple)


# ---------------------------------------------------------------------------------------------
# Zaremba et al. (2014), "small": the recipe of the published PTB result

ZAREMBA_SMALL = {"d": 200, "n": 200, "num_layers": 2, "init_scale": 0.1, "B": 20, "T": 20, "lr": 1.0,
                 "decay": 0.5, "decay_after": 4, "epochs": 13, "clip": 5.0}
ZAREMBA_SMALL_TEST_PPL = published.ZAREMBA_SMALL_TEST.value  # their Table 1, this configuration (no dropout)


def uniform_init_(model: nn.Module, scale: float) -> nn.Module:
    """Set every parameter (weights, biases, embeddings) uniform in [-scale, scale], in place; returns the model."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-scale, scale)
    return model


def zaremba_lr(epoch: int, lr: float = 1.0, decay: float = 0.5, decay_after: int = 4) -> float:
    """The learning rate of epoch ``epoch`` (1-based): ``lr`` for the first ``decay_after`` epochs, then
    multiplied by ``decay`` after each further epoch."""
    if epoch < 1:
        raise ValueError(f"epochs count from 1, got {epoch}")
    return lr * decay ** max(0, epoch - decay_after)


def train_zaremba(model: nn.Module, train_ids: np.ndarray, valid_ids: np.ndarray | None = None, *, epochs: int,
                  B: int, T: int, lr: float, decay: float, decay_after: int, clip: float, progress: bool = True,
                  ) -> tuple[History, list[float]]:
    """Train a language model the way Zaremba et al. (2014) trained their non-regularised LSTM.

    Plain SGD over whole epochs of a contiguous stream cut into B rows, truncated BPTT over windows of T steps
    with the state carried between windows (and reset at each epoch), the learning rate of :func:`zaremba_lr`,
    and gradient-norm clipping at ``clip``. As in their code, the loss whose gradient is clipped and followed
    is summed over the T steps and averaged over the B rows: T times :func:`train_lm`'s mean per token.

    Returns:
        ``(history, lrs)``: a :class:`~lecture_code.train.History` (train_loss per step is the mean per token;
        one validation loss per epoch) and the learning rate of each epoch.
    """
    dev = next(model.parameters()).device
    rows = torch.as_tensor(batchify(train_ids, B), device=dev)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    hist, lrs, start = History(), [], time.perf_counter()
    for epoch in range(1, epochs + 1):
        lrs.append(zaremba_lr(epoch, lr, decay, decay_after))
        for group in opt.param_groups:
            group["lr"] = lrs[-1]
        state = None
        batches = lm_batches(rows, T)
        for x, y in tqdm(batches, desc=f"epoch {epoch}", disable=not config.show_progress(progress), leave=False):
            model.train()
            logits, state = model(x, state)
            state = detach_state(state)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))  # mean per token
            opt.zero_grad(set_to_none=True)
            (loss * x.shape[1]).backward()  # summed over the window, averaged over the rows
            hist.grad_norm.append(float(nn.utils.clip_grad_norm_(model.parameters(), clip)))
            opt.step()
            hist.train_loss.append(loss.item())
            hist.tokens += y.numel()
        if valid_ids is not None:
            hist.valid_step.append(hist.steps)
            hist.valid_loss.append(evaluate_lm(model, valid_ids))
    hist.seconds = time.perf_counter() - start
    return hist, lrs
