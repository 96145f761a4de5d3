"""Exercise set 6: bidirectional and multi-layer (stacked) RNNs, in NumPy, batch-first, with the lecture's names.

On top of the cases listed here come the concept cases of :mod:`.cases` (B = 1, n = 1, a stress case at
realistic sizes twice, and per concept: softmax edge rows, max(lengths) < T).

Both exercises use vanilla tanh cells with a params dict {"W_h" (n, n), "W_e" (n, d), "b1" (n,)}; one step is
``rnn_step(x_t, h_prev, W_h, W_e, b1) = tanh(h_prev @ W_h.T + x_t @ W_e.T + b1)``.

``birnn_forward`` runs a padded batch with per-sequence ``lengths``, as packed sequences do: the backward RNN
starts at each sequence's last REAL token, and padded positions of the output are 0. Its cases hold a full-length
row, a row of length 1, unsorted lengths, padding that holds junk (which no direction may read), B = 1 and T = 1.
``stacked_rnn_forward``'s cases hold L = 1 and L = 3 layers, d != n (so that a layer reading the wrong input
fails on its shape) and d == n (so that it fails on its values too), h0 given, None and left out.
Each known mistake is written as the wrong code a learner would write; every pair of them gives different
results on some case, so a hint always names one mistake.

Two questions ask for reasoning: a multiple-choice one on why a bidirectional RNN cannot be a language model,
and the number of parameters of a stacked bidirectional RNN (derived, checked on many sizes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..numpy_deep_rnn import birnn_forward as birnn_forward_ref
from ..numpy_deep_rnn import stacked_rnn_forward as stacked_rnn_forward_ref
from ..numpy_rnn import rnn_step
from .cases import PRE, lengths_below, scaled, size_cases
from .checker import Case, Exercise, Mistake, shape_hints
from .questions import choice_exercise, derived_exercise, int_cases


def _params(rng: np.random.Generator, d: int, n: int) -> dict[str, np.ndarray]:
    """One tanh RNN's weights: W_h (n, n), W_e (n, d), b1 (n,), scaled so that tanh does not saturate."""
    return {"W_h": rng.normal(scale=0.9 / np.sqrt(n), size=(n, n)),
            "W_e": rng.normal(scale=1.0 / np.sqrt(d), size=(n, d)),
            "b1": rng.normal(scale=0.3, size=n)}


def _run(x: np.ndarray, p: dict[str, np.ndarray], h: np.ndarray | None = None) -> np.ndarray:
    """One RNN left to right over every position of x (B, T, d), from h (B, n) or zeros: states (B, T, n)."""
    h = np.zeros((x.shape[0], p["W_h"].shape[0])) if h is None else h
    states = []
    for t in range(x.shape[1]):
        h = rnn_step(x[:, t], h, p["W_h"], p["W_e"], p["b1"])
        states.append(h)
    return np.stack(states, axis=1)


# ---------------------------------------------------------------------------------------------
# birnn_forward


def _birnn_case(name: str, lengths: list[int], T: int, d: int, n: int, seed: int, junk: bool = False) -> Case:
    return Case(name, _birnn_inputs(np.random.default_rng(seed), np.array(lengths), T, d, n, junk))


def _birnn_inputs(rng: np.random.Generator, lengths: np.ndarray, T: int, d: int, n: int, junk: bool = False,
                  pre: float = 0.0) -> tuple[Any, ...]:
    x = scaled(rng, (len(lengths), T, d), pre, d, 1.0 / np.sqrt(d))
    pad = np.arange(T)[None, :] >= np.array(lengths)[:, None]
    x[pad] = rng.normal(scale=3.0, size=(int(pad.sum()), d)) if junk else 0.0
    return x, lengths, _params(rng, d, n), _params(rng, d, n)


def _birnn_sized(rng: np.random.Generator, B: int, T: int, d: int, n: int, pre: float = 0.0) -> tuple[Any, ...]:
    """max(lengths) < T, junk in the padding."""
    return _birnn_inputs(rng, lengths_below(rng, B, T), T, d, n, junk=True, pre=pre)


def _birnn_cases() -> list[Case]:
    return [
        _birnn_case("B=3, T=5, d=4, n=3, lengths [5, 3, 1], zero padding", [5, 3, 1], 5, 4, 3, seed=601),
        _birnn_case("B=1 (one full-length sequence), T=4, d=2, n=5", [4], 4, 2, 5, seed=602),
        _birnn_case("T=1, B=2, d=3, n=4", [1, 1], 1, 3, 4, seed=603),
        _birnn_case("B=4, T=6, d=5, n=2, unsorted lengths [2, 6, 1, 4], junk in the padding (never read it)",
                    [2, 6, 1, 4], 6, 5, 2, seed=604, junk=True),
        *size_cases(_birnn_sized, dict(B=3, T=5, d=4, n=3), dict(B=4, T=24, d=16, n=32), seed=605,
                    large=dict(pre=PRE), note="max(lengths) < T, pre-activations in the hundreds"),
    ]


def _reverse_each(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Reverse the first lengths[b] positions of every row of x (B, T, ...); the padding stays where it is."""
    T = x.shape[1]
    idx = np.array([[L - 1 - t if t < L else t for t in range(T)] for L in lengths])
    return x[np.arange(x.shape[0])[:, None], idx]


def _mask(lengths: np.ndarray, T: int) -> np.ndarray:
    """(B, T, 1): 1.0 at real tokens, 0.0 at padding."""
    return (np.arange(T)[None, :] < np.asarray(lengths)[:, None])[..., None].astype(np.float64)


def _birnn_not_re_reversed(x, lengths, params_fwd, params_bwd):
    h_fwd = _run(x, params_fwd)
    h_bwd = _run(_reverse_each(x, lengths), params_bwd)  # position k holds the state of token lengths-1-k
    return np.concatenate([h_fwd, h_bwd], axis=-1) * _mask(lengths, x.shape[1])


def _birnn_padding_reversed(x, lengths, params_fwd, params_bwd):
    h_fwd = _run(x, params_fwd)
    h_bwd = _run(x[:, ::-1], params_bwd)[:, ::-1]  # starts at T-1, in the padding
    return np.concatenate([h_fwd, h_bwd], axis=-1) * _mask(lengths, x.shape[1])


def _birnn_lengths_ignored(x, lengths, params_fwd, params_bwd):
    return np.concatenate([_run(x, params_fwd), _run(x[:, ::-1], params_bwd)[:, ::-1]], axis=-1)


def _birnn_shared_weights(x, lengths, params_fwd, params_bwd):
    return birnn_forward_ref(x, lengths, params_fwd, params_fwd)


def _birnn_swapped(x, lengths, params_fwd, params_bwd):
    h_fwd = _run(x, params_fwd)
    h_bwd = _reverse_each(_run(_reverse_each(x, lengths), params_bwd), lengths)
    return np.concatenate([h_bwd, h_fwd], axis=-1) * _mask(lengths, x.shape[1])


def _birnn_not_zeroed(x, lengths, params_fwd, params_bwd):
    h_fwd = _run(x, params_fwd)
    h_bwd = _reverse_each(_run(_reverse_each(x, lengths), params_bwd), lengths)
    return np.concatenate([h_fwd, h_bwd], axis=-1)


def _birnn_from_forward_final(x, lengths, params_fwd, params_bwd):
    h_fwd = _run(x, params_fwd)
    last = h_fwd[np.arange(x.shape[0]), np.asarray(lengths) - 1]  # (B, n): the forward RNN's final states
    h_bwd = _reverse_each(_run(_reverse_each(x, lengths), params_bwd, last), lengths)
    return np.concatenate([h_fwd, h_bwd], axis=-1) * _mask(lengths, x.shape[1])


def _birnn_not_reversed(x, lengths, params_fwd, params_bwd):
    h_fwd, h_bwd = _run(x, params_fwd), _run(x, params_bwd)
    return np.concatenate([h_fwd, h_bwd], axis=-1) * _mask(lengths, x.shape[1])


BIRNN_SHAPE_HINT = ("a matrix product has mismatched shapes. Each direction reads x[:, t] (B, d) with its own "
                    "W_e (n, d) and W_h (n, n): h = tanh(h_prev @ W_h.T + x_t @ W_e.T + b1), h is (B, n); the "
                    "result H is (B, T, 2n).")

BIRNN_FORWARD = Exercise(
    id="birnn_forward",
    chapter=6,
    signature="birnn_forward(x, lengths, params_fwd, params_bwd)",
    summary="A bidirectional tanh RNN on a padded batch: H[b, t] = [h_fwd(t); h_bwd(t)], both directions from "
            "zero states, the backward one from each sequence's last real token; 0 at padding. (B, T, d) -> "
            "(B, T, 2n).",
    reference=birnn_forward_ref,
    make_cases=_birnn_cases,
    arg_names=("x", "lengths", "params_fwd", "params_bwd"),
    error_hints=shape_hints(BIRNN_SHAPE_HINT, "two arrays of different shapes met element-wise: each direction's "
                            "states are (B, T, n), H is (B, T, 2n), and a mask of real tokens needs a last axis, "
                            "(B, T, 1), to multiply them."),
    mistakes=(
        Mistake("backward outputs not re-reversed", "the backward RNN reads the tokens last to first, so its k-th "
                "state belongs to position lengths[b]-1-k. Reverse its states back before concatenating: "
                "H[b, t] must hold h_bwd(t), the state after reading x(T_b), ..., x(t).", _birnn_not_re_reversed),
        Mistake("padding reversed together with the tokens", "x[:, ::-1] puts the padding FIRST, so the backward "
                "RNN starts at position T-1 and reads the padding before the real tokens. Reverse only the first "
                "lengths[b] positions of each row: the backward RNN starts from zero at the last real token, "
                "lengths[b]-1.", _birnn_padding_reversed),
        Mistake("lengths ignored", "both directions ran over the padding as if it were text, and the padded "
                "positions kept their states. Use lengths: the backward RNN starts at position lengths[b]-1 (not "
                "T-1), and H[b, t] = 0 for t >= lengths[b].", _birnn_lengths_ignored),
        Mistake("shared weights between the directions", "the forward and the backward RNN have SEPARATE weights: "
                "run the backward direction with params_bwd, not params_fwd.", _birnn_shared_weights),
        Mistake("concatenation order swapped", "the lecture's hidden state is [h_fwd(t); h_bwd(t)]: the forward "
                "state first (H[..., :n]), the backward state second (H[..., n:]).", _birnn_swapped),
        Mistake("padding positions not zeroed", "the states are right at the real tokens, but positions "
                "t >= lengths[b] must be 0 in both halves (as pad_packed_sequence returns them): multiply by a "
                "(B, T, 1) mask, or write only the first lengths[b] positions of each row.", _birnn_not_zeroed),
        Mistake("backward run from the forward final state", "each direction starts from a ZERO state: the "
                "backward RNN is a separate RNN, not a continuation of the forward one, so do not hand it the "
                "forward RNN's last state.", _birnn_from_forward_final),
        Mistake("backward direction not reversed", "the backward RNN reads the sequence right to left: "
                "h_bwd(t) = RNN_BW(h_bwd(t+1), x(t)), from the last real token down to position 0. You ran it "
                "left to right, like the forward one.", _birnn_not_reversed),
    ),
)

# ---------------------------------------------------------------------------------------------
# birnn_lm_choice

BIRNN_LM_CHOICE = choice_exercise(
    id="birnn_lm_choice",
    chapter=6,
    summary="why a bidirectional RNN cannot be used as a language model.",
    answer="B",
    why="A language model predicts x(t+1) from x(1), ..., x(t) only. The backward state at t has read x(t+1), "
        "..., x(T): trained to predict x(t+1), the model copies it from there (the chapter measured a perplexity "
        "close to 1), and when it generates, the words to the right do not exist yet.",
    wrong=[
        ("A", "too many parameters", "size is not the problem: the chapter's bidirectional tagger has FEWER "
         "parameters than its unidirectional twin. A bidirectional language model fails because of what its "
         "backward half reads, not because of how big it is."),
        ("C", "BPTT cannot run through the backward RNN", "the backward RNN is an ordinary RNN run over the "
         "reversed sequence, and BPTT goes through it like through any RNN (autograd trains "
         "nn.RNN(bidirectional=True) without trouble)."),
        ("D", "its perplexity would be too high", "the opposite: trained as a language model its perplexity falls "
         "close to 1, because its backward state has read the very word it must predict. It fails only when it "
         "is used, left to right, where nothing after x(t) is there to copy."),
    ],
)

# ---------------------------------------------------------------------------------------------
# stacked_birnn_num_params


def stacked_birnn_num_params(d: int, n: int, L: int) -> int:
    """L bidirectional layers of simple RNNs with n units per direction. Each direction of layer 1 has W_h (n x n),
    W_e (n x d) and b_1 (n); each direction of a layer above reads the 2n-wide concatenated states of the layer
    below, so its W_e is n x 2n."""
    return 2 * (n * n + n * d + n) + (L - 1) * 2 * (n * n + n * 2 * n + n)


def _stacked_count(d: int, n: int, L: int, *, upper_input: str = "2n", directions: int = 2, biases: int = 1) -> int:
    """The count with one thing changed from the reference by a keyword (the defaults give the right answer)."""
    upper = {"2n": 2 * n, "n": n, "d": d}[upper_input]
    return directions * ((n * n + n * d + biases * n) + (L - 1) * (n * n + n * upper + biases * n))


STACKED_BIRNN_NUM_PARAMS = derived_exercise(
    exact=True,
    id="stacked_birnn_num_params",
    chapter=6,
    signature="stacked_birnn_num_params(d, n, L)",
    summary="Derive: the number of parameters of L stacked bidirectional simple-RNN layers with n units per "
            "direction (W_h, W_e, b_1 per direction and layer) over inputs of size d.",
    reference=stacked_birnn_num_params,
    make_cases=int_cases(("d", "n", "L"), [
        ("", (3, 6, 2)),
        ("one layer", (4, 5, 1)),
        ("three layers", (7, 4, 3)),
        ("d = n", (5, 5, 2)),
        ("n = 1", (2, 1, 3)),
        ("", (6, 3, 4)),
        ("stress", (300, 512, 4)),
        ("stress: 8 layers", (1024, 1024, 8)),
    ]),
    arg_names=("d", "n", "L"),
    mistakes=(
        Mistake("upper layers read n, not 2n", "a layer above the first reads the concatenated state [h->; h<-] "
                "of the layer below, which has 2n entries: its W_e is n x 2n in each direction.",
                lambda d, n, L: _stacked_count(d, n, L, upper_input="n")),
        Mistake("one direction only", "each bidirectional layer holds two RNNs with SEPARATE weights, one per "
                "direction: count every layer twice.", lambda d, n, L: _stacked_count(d, n, L, directions=1)),
        Mistake("every layer reads d", "only the first layer reads the input x(t), of size d; every layer above "
                "reads the states of the layer below, of size 2n.",
                lambda d, n, L: _stacked_count(d, n, L, upper_input="d")),
        Mistake("torch's two biases", "the simple RNN here has one bias b_1 per direction and layer; torch keeps "
                "two (bias_ih and bias_hh) whose sum is b_1. Count the lecture's parameters.",
                lambda d, n, L: _stacked_count(d, n, L, biases=2)),
        Mistake("biases forgotten", "every direction of every layer has its bias b_1, of n numbers.",
                lambda d, n, L: _stacked_count(d, n, L, biases=0)),
    ),
)

# ---------------------------------------------------------------------------------------------
# stacked_rnn_forward


def _stacked_case(name: str, B: int, T: int, d: int, n: int, L: int, seed: int, h0: str = "given") -> Case:
    return Case(name, _stacked_inputs(np.random.default_rng(seed), B, T, d, n, L, h0))


def _stacked_inputs(rng: np.random.Generator, B: int, T: int, d: int, n: int, L: int, h0: str = "given",
                    pre: float = 0.0) -> tuple[Any, ...]:
    """h0: "given" (a random (L, B, n) array), "None" (passed as None) or "omitted" (left to its default)."""
    x = scaled(rng, (B, T, d), pre, d, 1.0 / np.sqrt(d))
    layers = [_params(rng, d if i == 0 else n, n) for i in range(L)]
    if h0 == "omitted":
        return x, layers
    return x, layers, np.tanh(rng.normal(size=(L, B, n))) if h0 == "given" else None


def _stacked_cases() -> list[Case]:
    return [
        _stacked_case("L=3 layers, B=2, T=5, d=3, n=4, h0 given", 2, 5, 3, 4, 3, seed=611),
        _stacked_case("L=1 layer, B=3, T=4, d=5, n=2, h0 left out", 3, 4, 5, 2, 1, seed=612, h0="omitted"),
        _stacked_case("L=3 layers, d = n = 3 (every W_e is square), B=2, T=4, h0=None", 2, 4, 3, 3, 3, seed=613,
                      h0="None"),
        _stacked_case("L=2 layers, d = n = 4, B=3, T=3, h0 given", 3, 3, 4, 4, 2, seed=614),
        _stacked_case("B=1, T=1, L=2 layers, d=2, n=5, h0 given", 1, 1, 2, 5, 2, seed=615),
        *(case for k, h0 in enumerate(("given", "None", "omitted"))  # every way of passing h0 meets B = 1 and n = 1
          for case in size_cases(_stacked_inputs, dict(B=2, T=5, d=3, n=4, L=3), dict(B=4, T=24, d=16, n=32, L=3),
                                 seed=616 + 20 * k, extra=dict(h0=h0), large=dict(pre=PRE), label=f"h0 {h0}: ",
                                 note="pre-activations in the hundreds")),
    ]


def _zeros_h0(x, layers, h0):
    return np.zeros((len(layers), x.shape[0], layers[0]["W_h"].shape[0])) if h0 is None else h0


def _stacked_raw_input(x, layers, h0=None):
    h0 = _zeros_h0(x, layers, h0)
    for i, p in enumerate(layers):
        H = _run(x, p, h0[i])  # every layer reads x
    return H, H[:, -1]


def _stacked_layer0_weights(x, layers, h0=None):
    h0 = _zeros_h0(x, layers, h0)
    H = x
    for i in range(len(layers)):
        H = _run(H, layers[0], h0[i])
    return H, H[:, -1]


def _stacked_first_final(x, layers, h0=None):
    h0 = _zeros_h0(x, layers, h0)
    finals, H = [], x
    for i, p in enumerate(layers):
        H = _run(H, p, h0[i])
        finals.append(H[:, -1])
    return H, finals[0]


def _stacked_first_states(x, layers, h0=None):
    h0 = _zeros_h0(x, layers, h0)
    outputs, H = [], x
    for i, p in enumerate(layers):
        H = _run(H, p, h0[i])
        outputs.append(H)
    return outputs[0], H[:, -1]


def _stacked_h0_only_bottom(x, layers, h0=None):
    H = x
    for i, p in enumerate(layers):
        H = _run(H, p, h0[0] if (h0 is not None and i == 0) else None)
    return H, H[:, -1]


def _stacked_chained_states(x, layers, h0=None):
    h = None if h0 is None else h0[0]
    H = x
    for p in layers:
        H = _run(H, p, h)
        h = H[:, -1]  # the next layer starts where this one ended
    return H, h


def _stacked_all_finals(x, layers, h0=None):
    h0 = _zeros_h0(x, layers, h0)
    finals, H = [], x
    for i, p in enumerate(layers):
        H = _run(H, p, h0[i])
        finals.append(H[:, -1])
    return H, np.stack(finals)  # (L, B, n), torch's h_n


def _stacked_h0_ignored(x, layers, h0=None):
    H = x
    for p in layers:
        H = _run(H, p)
    return H, H[:, -1]


STACKED_SHAPE_HINT = ("a matrix product has mismatched shapes. Layer 0 reads x (B, T, d) with its W_e (n, d); "
                      "every layer above reads the states of the layer below, (B, T, n), with its OWN W_e (n, n).")

STACKED_RNN_FORWARD = Exercise(
    id="stacked_rnn_forward",
    chapter=6,
    signature="stacked_rnn_forward(x, layers, h0=None)",
    summary="A stack of L tanh RNNs: layer i+1 reads layer i's states. (B, T, d), [L params dicts], h0 (L, B, n) "
            "or None -> (H (B, T, n) of the top layer, h_final (B, n) = the top layer's state at T).",
    reference=stacked_rnn_forward_ref,
    make_cases=_stacked_cases,
    arg_names=("x", "layers", "h0"),
    output_names=("H", "h_final"),
    error_hints=shape_hints(STACKED_SHAPE_HINT, "two arrays of different shapes met element-wise: each layer's "
                            "states are (B, T, n), h0[i] is (B, n), and each bias (n,) is added to (B, n) rows."),
    mistakes=(
        Mistake("every layer reads the raw input", "the hidden states of layer i are the INPUTS of layer i+1: "
                "feed each layer the states the layer below returned, not x (only layer 0 reads x).",
                _stacked_raw_input),
        Mistake("layer 0's weights in every layer", "each layer has its own weights: layer i uses layers[i], "
                "not layers[0].", _stacked_layer0_weights),
        Mistake("returned the first layer's final state", "h_final is the TOP layer's state at the last step, "
                "as torch's h_n[-1]; you returned layer 0's.", _stacked_first_final),
        Mistake("returned the first layer's states as H", "H is the output of the stack: the TOP layer's states "
                "(B, T, n), the ones the next part of the network reads; you returned layer 0's.",
                _stacked_first_states),
        Mistake("h0 used only in the bottom layer", "h0 holds one initial state per layer: layer i starts from "
                "h0[i]. You started the layers above 0 from zeros.", _stacked_h0_only_bottom),
        Mistake("each layer starts from the layer below's final state", "every layer starts from its own initial "
                "state, h0[i] (zeros when h0 is None), not from where the layer below ended.",
                _stacked_chained_states),
        Mistake("returned every layer's final state", "h_final is ONE state, the top layer's, (B, n): torch's "
                "h_n[-1], not the whole (L, B, n) h_n.", _stacked_all_finals),
        Mistake("h0 ignored", "when h0 is given, layer i starts from h0[i], not from zeros; use zeros only when "
                "h0 is None.", _stacked_h0_ignored),
    ),
)

EXERCISES_06 = (BIRNN_FORWARD, BIRNN_LM_CHOICE, STACKED_RNN_FORWARD, STACKED_BIRNN_NUM_PARAMS)
