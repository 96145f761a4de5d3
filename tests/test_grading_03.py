"""Tests for exercise set 3 (other uses of RNNs): tagger_logits, masked_mean_loss, pool_hidden_states,
pooling_choice, entity_spans.

As in test_grading_04.py, the wrong implementations are written independently of the registered
``Mistake.fn``s (loops, einsum, tensordot, masked arrays, while loops, other names), the way a learner
would write them; each must be rejected AND named as the registered mistake. The correct
implementations are written in several styles and must all pass.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import assert_passes, assert_rejected_and_named, assert_wrong_and_correct_cover, quiet_check

from lecture_code import numpy_tagging
from lecture_code.grading import EXERCISES, Status, exercises_03
from lecture_code.grading.checker import _same

SET_3 = ["tagger_logits", "masked_mean_loss", "pool_hidden_states", "entity_spans"]
ALL_3 = ["tagger_logits", "masked_mean_loss", "pool_hidden_states", "pooling_choice", "entity_spans"]


# =============================================================================================
# tagger_logits

# ----- wrong


def tag_einsum_untransposed(H, U, b_2):
    return np.einsum("btn,nk->btk", H, U) + b_2


def tag_loop_no_bias(H, U, b_2):
    B, T, _ = H.shape
    out = np.zeros((B, T, U.shape[0]))
    for b in range(B):
        for t in range(T):
            out[b, t] = U @ H[b, t]
    return out


def tag_probabilities(H, U, b_2):
    s = np.tensordot(H, U, axes=([2], [1])) + b_2
    e = np.exp(s)
    return e / e.sum(axis=2, keepdims=True)


def tag_log_probabilities(H, U, b_2):
    s = H @ U.T + b_2
    return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))


def tag_squashed(H, U, b_2):
    return np.tanh(np.einsum("btn,kn->btk", H, U) + b_2)


def tag_final_state(H, U, b_2):
    h_T = H[:, H.shape[1] - 1, :]
    return np.einsum("bn,kn->bk", h_T, U) + b_2


def tag_predicted_ids(H, U, b_2):
    return np.argmax(np.matmul(H, U.T) + b_2[None, None, :], axis=2)


# ----- correct


def tag_einsum(H, U, b_2):
    return np.einsum("btn,kn->btk", H, U) + b_2


def tag_flatten(H, U, b_2):
    B, T, n = H.shape
    return (H.reshape(B * T, n) @ U.T + b_2).reshape(B, T, -1)


def tag_loops(H, U, b_2):
    out = np.empty((*H.shape[:2], len(b_2)))
    for b in range(H.shape[0]):
        for t in range(H.shape[1]):
            out[b, t] = U @ H[b, t] + b_2
    return out


# =============================================================================================
# masked_mean_loss

# ----- wrong


def _stable_nll(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    B, T = targets.shape
    return -logp[np.arange(B)[:, None], np.arange(T)[None, :], targets]


def loss_every_position(logits, targets, mask):
    total = 0.0
    B, T, _ = logits.shape
    for b in range(B):
        for t in range(T):
            z = logits[b, t] - logits[b, t].max()
            total -= z[targets[b, t]] - np.log(np.exp(z).sum())
    return total / (B * T)


def loss_zeroed_then_mean(logits, targets, mask):
    return float(np.mean(np.where(mask, _stable_nll(logits, targets), 0.0)))


def loss_summed(logits, targets, mask):
    total = 0.0
    for b, t in zip(*np.nonzero(mask), strict=True):
        z = logits[b, t] - logits[b, t].max()
        total += np.log(np.exp(z).sum()) - z[targets[b, t]]
    return total


def loss_sentence_averages(logits, targets, mask):
    nll = _stable_nll(logits, targets)
    return float(np.mean([nll[b][mask[b]].mean() for b in range(len(mask))]))


def loss_in_bits(logits, targets, mask):
    z = logits[mask]  # (N, K)
    z = z - z.max(axis=1, keepdims=True)
    log2_p = (z - np.log(np.exp(z).sum(axis=1, keepdims=True))) / np.log(2)
    return float(-log2_p[np.arange(len(z)), targets[mask]].mean())


def loss_plain_softmax(logits, targets, mask):
    p = np.exp(logits) / np.sum(np.exp(logits), axis=-1, keepdims=True)
    picked = np.take_along_axis(p, targets[:, :, None], axis=2).squeeze(2)
    return float(-np.log(picked)[mask].mean())


def loss_pad_id_zero(logits, targets, mask):
    real = targets > 0  # "padding has id 0"
    return float(_stable_nll(logits, targets)[real].sum() / real.sum())


# ----- correct


def loss_boolean_index(logits, targets, mask):
    z, y = logits[mask], targets[mask]  # (N, K), (N,)
    m = z.max(axis=1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y]))


def loss_weighted(logits, targets, mask):
    w = mask.astype(np.float64)
    return float((_stable_nll(logits, targets) * w).sum() / w.sum())


def loss_loop(logits, targets, mask):
    total, count = 0.0, 0
    for b in range(logits.shape[0]):
        for t in range(logits.shape[1]):
            if mask[b, t]:
                z = logits[b, t]
                total += np.logaddexp.reduce(z) - z[targets[b, t]]
                count += 1
    return total / count


# =============================================================================================
# pool_hidden_states


def _loop_pool(H, lengths, mode):
    """A correct per-sentence loop; the wrong versions below change one mode."""
    out = []
    for b, L in enumerate(lengths):
        real = H[b, :L]
        out.append({"last": real[-1], "max": real.max(axis=0), "mean": real.mean(axis=0)}[mode])
    return np.stack(out)


# ----- wrong


def pool_padded_end(H, lengths, mode):
    if mode == "last":
        return np.stack([H[b, -1] for b in range(len(H))])
    return _loop_pool(H, lengths, mode)


def pool_one_past_the_end(H, lengths, mode):
    if mode == "last":
        return np.stack([H[b, L] for b, L in enumerate(lengths)])
    return _loop_pool(H, lengths, mode)


def pool_max_everything(H, lengths, mode):
    if mode == "max":
        return np.amax(H, axis=1)
    return _loop_pool(H, lengths, mode)


def pool_max_zero_fill(H, lengths, mode):
    if mode == "max":
        mask = np.arange(H.shape[1]) < lengths[:, None]
        return np.where(mask[:, :, None], H, 0.0).max(axis=1)
    return _loop_pool(H, lengths, mode)


def pool_mean_everything(H, lengths, mode):
    if mode == "mean":
        return H.sum(axis=1) / H.shape[1]
    return _loop_pool(H, lengths, mode)


def pool_mean_over_T(H, lengths, mode):
    if mode == "mean":
        mask = (np.arange(H.shape[1])[None, :] < lengths[:, None]).astype(float)
        return np.einsum("btn,bt->bn", H, mask) / H.shape[1]
    return _loop_pool(H, lengths, mode)


def pool_mean_batch_count(H, lengths, mode):
    if mode == "mean":
        return np.stack([H[b, :L].sum(axis=0) for b, L in enumerate(lengths)]) / np.sum(lengths)
    return _loop_pool(H, lengths, mode)


# ----- correct


def pool_masked_array(H, lengths, mode):
    if mode == "last":
        return np.take_along_axis(H, (lengths - 1)[:, None, None], axis=1)[:, 0]
    padding = np.arange(H.shape[1])[None, :, None] >= lengths[:, None, None]
    masked = np.ma.masked_array(H, mask=np.broadcast_to(padding, H.shape))
    return (masked.max(axis=1) if mode == "max" else masked.mean(axis=1)).filled(np.nan)


def pool_cumsum(H, lengths, mode):
    B = H.shape[0]
    if mode == "last":
        return H[np.arange(B), lengths - 1]
    if mode == "mean":
        return np.cumsum(H, axis=1)[np.arange(B), lengths - 1] / lengths[:, None]
    out = H[:, 0].copy()
    for t in range(1, H.shape[1]):
        out = np.where((t < lengths)[:, None], np.maximum(out, H[:, t]), out)
    return out


# =============================================================================================
# entity_spans

# ----- wrong


def spans_inclusive_end(tags):
    spans, i = [], 0
    while i < len(tags):
        if tags[i] == "O":
            i += 1
            continue
        kind, j = tags[i][2:], i + 1
        while j < len(tags) and tags[j] == "I-" + kind:
            j += 1
        spans.append((kind, i, j - 1))  # the last token of the span
        i = j
    return spans


def spans_only_b_starts(tags):
    spans, i = [], 0
    while i < len(tags):
        if not tags[i].startswith("B-"):
            i += 1
            continue
        kind, j = tags[i][2:], i + 1
        while j < len(tags) and tags[j] == "I-" + kind:
            j += 1
        spans.append((kind, i, j))
        i = j
    return spans


def spans_any_i_continues(tags):
    spans, i = [], 0
    while i < len(tags):
        if tags[i] == "O":
            i += 1
            continue
        j = i + 1
        while j < len(tags) and tags[j].startswith("I-"):
            j += 1
        spans.append((tags[i][2:], i, j))
        i = j
    return spans


def spans_without_flush(tags):
    spans, current = [], None
    for i, tag in enumerate(tags):
        if current and tag == "I-" + current[0]:
            continue
        if current:
            spans.append((current[0], current[1], i))
            current = None
        if tag != "O":
            current = (tag[2:], i)
    return spans


def spans_flush_at_last_index(tags):
    spans, current = [], None
    for i, tag in enumerate(tags):
        if current and tag == "I-" + current[0]:
            continue
        if current:
            spans.append((current[0], current[1], i))
            current = None
        if tag != "O":
            current = (tag[2:], i)
    if current:
        spans.append((current[0], current[1], len(tags) - 1))
    return spans


def spans_b_merges(tags):
    spans, current = [], None
    for i, tag in enumerate(tags):
        if current and tag != "O" and tag[2:] == current[0]:
            continue  # same type: still the same entity
        if current:
            spans.append((current[0], current[1], i))
            current = None
        if tag != "O":
            current = (tag[2:], i)
    if current:
        spans.append((current[0], current[1], len(tags)))
    return spans


def spans_split_on_hyphen(tags):
    spans, current = [], None
    for i, tag in enumerate([*tags, "O"]):
        parts = tag.split("-")
        prefix, kind = parts[0], (parts[1] if len(parts) > 1 else None)
        if current and prefix == "I" and kind == current[0]:
            continue
        if current:
            spans.append((current[0], current[1], i))
            current = None
        if prefix != "O":
            current = (kind, i)
    return spans


# ----- correct


def spans_with_sentinel(tags):
    spans, start, kind = [], None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, t = tag.partition("-")
        if start is not None and not (prefix == "I" and t == kind):
            spans.append((kind, start, i))
            start = None
        if prefix != "O" and start is None:
            start, kind = i, t
    return spans


def spans_while(tags):
    spans, i = [], 0
    while i < len(tags):
        if tags[i] == "O":
            i += 1
            continue
        kind, j = tags[i][2:], i + 1
        while j < len(tags) and tags[j] == "I-" + kind:
            j += 1
        spans.append((kind, i, j))
        i = j
    return spans


def spans_conlleval_rules(tags):
    spans, start, prev = [], None, ("O", None)
    for i, tag in enumerate([*tags, "O"]):
        cur = ("O", None) if tag == "O" else (tag[0], tag[2:])
        ends = prev[0] != "O" and (cur[0] in ("B", "O") or cur[1] != prev[1])
        begins = cur[0] == "B" or (cur[0] == "I" and (prev[0] == "O" or cur[1] != prev[1]))
        if ends:
            spans.append((prev[1], start, i))
        if begins:
            start = i
        prev = cur
    return spans


# =============================================================================================
# Every independently written mistake is named; every correct version passes

# =============================================================================================
# pooling_choice


def pooling_answer():
    return "C"


def pooling_answer_lower_case():
    return "c."


def pooling_final_state_has_not_read_everything():
    return "A"


def pooling_adds_parameters():
    return "(B)"


def pooling_padding():
    return "d"


WRONG = [
    ("tagger_logits", tag_einsum_untransposed, "U not transposed"),
    ("tagger_logits", tag_loop_no_bias, "missing bias"),
    ("tagger_logits", tag_probabilities, "softmax probabilities returned as scores"),
    ("tagger_logits", tag_log_probabilities, "log-softmax returned"),
    ("tagger_logits", tag_squashed, "tanh applied to the scores"),
    ("tagger_logits", tag_final_state, "only the last time step"),
    ("tagger_logits", tag_predicted_ids, "argmax tags instead of scores"),
    ("masked_mean_loss", loss_every_position, "padding counted in the mean"),
    ("masked_mean_loss", loss_zeroed_then_mean, "masked, but divided by B*T"),
    ("masked_mean_loss", loss_summed, "sum instead of mean"),
    ("masked_mean_loss", loss_sentence_averages, "mean of per-sentence means"),
    ("masked_mean_loss", loss_in_bits, "log base 2"),
    ("masked_mean_loss", loss_plain_softmax, "softmax overflow"),
    ("masked_mean_loss", loss_pad_id_zero, "target id 0 taken for padding"),
    ("pool_hidden_states", pool_padded_end, "'last' taken from the padded end"),
    ("pool_hidden_states", pool_one_past_the_end, "'last' index off by one"),
    ("pool_hidden_states", pool_max_everything, "max taken over the padding"),
    ("pool_hidden_states", pool_max_zero_fill, "padding zeroed before the max"),
    ("pool_hidden_states", pool_mean_everything, "padding counted in the mean"),
    ("pool_hidden_states", pool_mean_over_T, "mean divided by T"),
    ("pool_hidden_states", pool_mean_batch_count, "mean divided by the batch's token count"),
    ("pooling_choice", pooling_final_state_has_not_read_everything, "the final state has not read every word"),
    ("pooling_choice", pooling_adds_parameters, "pooling adds parameters"),
    ("pooling_choice", pooling_padding, "the final state is corrupted by padding"),
    ("entity_spans", spans_inclusive_end, "span end off by one (inclusive)"),
    ("entity_spans", spans_only_b_starts, "an I- tag that does not start a span"),
    ("entity_spans", spans_any_i_continues, "I- of another type continues the span"),
    ("entity_spans", spans_without_flush, "final span dropped"),
    ("entity_spans", spans_flush_at_last_index, "final span end off by one"),
    ("entity_spans", spans_b_merges, "B- of the same type continues the span"),
    ("entity_spans", spans_split_on_hyphen, "type cut at its second hyphen"),
]

CORRECT = [
    ("tagger_logits", tag_einsum),
    ("tagger_logits", tag_flatten),
    ("tagger_logits", tag_loops),
    ("masked_mean_loss", loss_boolean_index),
    ("masked_mean_loss", loss_weighted),
    ("masked_mean_loss", loss_loop),
    ("pool_hidden_states", _loop_pool),
    ("pool_hidden_states", pool_masked_array),
    ("pool_hidden_states", pool_cumsum),
    ("pooling_choice", pooling_answer),
    ("pooling_choice", pooling_answer_lower_case),
    ("entity_spans", spans_with_sentinel),
    ("entity_spans", spans_while),
    ("entity_spans", spans_conlleval_rules),
]


@pytest.mark.parametrize(("exercise", "fn", "mistake"), WRONG, ids=[f.__name__ for _, f, _ in WRONG])
def test_wrong_implementation_is_named(exercise: str, fn: Callable[..., Any], mistake: str) -> None:
    assert_rejected_and_named(exercise, fn, mistake)


@pytest.mark.parametrize(("exercise", "fn"), CORRECT, ids=[f.__name__ for _, f in CORRECT])
def test_correct_implementation_passes(exercise: str, fn: Callable[..., Any]) -> None:
    assert_passes(exercise, fn)


def test_every_exercise_has_at_least_five_wrong_and_two_correct_implementations() -> None:
    assert_wrong_and_correct_cover(SET_3, WRONG, CORRECT)


# =============================================================================================
# The cases


def test_tagger_cases_have_distinct_sizes_B_1_T_1_and_a_square_W_o() -> None:
    cases = [c.args for c in EXERCISES["tagger_logits"].cases()]
    assert all(H.shape[2] == W.shape[1] and W.shape[0] == b.shape[0] for H, W, b in cases)
    assert any(H.shape[0] == 1 for H, _, _ in cases) and any(H.shape[1] == 1 for H, _, _ in cases)
    assert sum(W.shape[0] == W.shape[1] for _, W, _ in cases) == 1, "one square U, so 'H @ U' returns values"
    assert all(len(set(H.shape)) == 3 for H, _, _ in cases)


def test_loss_cases_cover_padding_no_padding_B_1_T_1_large_logits_and_real_id_0() -> None:
    cases = [c.args for c in EXERCISES["masked_mean_loss"].cases()]
    assert all(m.dtype == np.bool_ and y.shape == m.shape == z.shape[:2] for z, y, m in cases)
    assert all(m[:, 0].all() for _, _, m in cases), "every sentence has at least one token"
    assert any(m.all() for _, _, m in cases) and any(not m.all() and m.all(axis=1).any() for _, _, m in cases)
    assert any(z.shape[:2] == (1, 1) for z, _, _ in cases)
    assert any(z.min() > 900 for z, _, _ in cases)
    assert any(((y == 0) & m).any() and not m.all() for _, y, m in cases), "a real tag id 0 in a padded batch"
    assert all(len(set(m.sum(axis=1))) > 1 for _, _, m in cases if m.shape[0] > 1 and not m.all())


def test_pool_cases_cover_every_mode_both_paddings_and_all_negative_states() -> None:
    cases = [c.args for c in EXERCISES["pool_hidden_states"].cases()]
    assert {mode for _, _, mode in cases} == set(numpy_tagging.POOL_MODES)
    for H, L, mode in cases:
        assert L.dtype == np.int64 and L.min() >= 1 and L.max() <= H.shape[1]
        pad = np.arange(H.shape[1])[None, :] >= L[:, None]
        if mode == "max" and pad.any() and not H[pad].any():  # packed: zero padding
            real = H[~pad]
            assert (real < 0).all(), "all-negative real states, so a max over the zero padding returns 0"
    for mode in numpy_tagging.POOL_MODES:
        mine = [(H, L) for H, L, m in cases if m == mode]
        pads = [np.arange(H.shape[1])[None, :] >= L[:, None] for H, L in mine]
        assert any(p.any() and not H[p].any() for (H, _), p in zip(mine, pads, strict=True)), f"{mode}: zero padding"
        assert any(p.any() and np.abs(H[p]).min() > 0 for (H, _), p in zip(mine, pads, strict=True)), mode
    last = [(H, L) for H, L, m in cases if m == "last"]
    assert any((L == H.shape[1]).all() for H, L in last), "all sentences full length"
    assert any((L < H.shape[1]).all() for H, L in last), "'last' off by one returns values somewhere"
    assert any(H.shape[:2] == (1, 1) for H, _, _ in cases)


def test_span_cases_cover_the_edge_cases() -> None:
    tags = [c.args[0] for c in EXERCISES["entity_spans"].cases()]
    spans = [numpy_tagging.entity_spans(t) for t in tags]
    assert [] in tags and any(t and not s for t, s in zip(tags, spans, strict=True)), "empty and all-O sentences"
    assert any(s and s[-1][2] == len(t) for t, s in zip(tags, spans, strict=True)), "ends inside a span"
    assert any(t and t[0].startswith("I-") for t in tags)
    assert any(a.startswith("O") and b.startswith("I-") for t in tags for a, b in itertools.pairwise(t))
    assert any("-" in kind for s in spans for kind, _, _ in s)
    assert any(len(t) == 1 for t in tags)


@pytest.mark.parametrize("exercise", SET_3)
def test_cases_are_seeded_and_float64(exercise: str) -> None:
    a, b = EXERCISES[exercise].cases(), EXERCISES[exercise].cases()
    assert [c.name for c in a] == [c.name for c in b]
    assert all(_same(x.args, y.args) for x, y in zip(a, b, strict=True))
    floats = [x for c in a for x in c.args if isinstance(x, np.ndarray) and x.dtype.kind == "f"]
    assert all(x.dtype == np.float64 for x in floats)


# =============================================================================================
# Messages, the exact comparison of spans, inputs changed in place, stubs


def test_transposed_W_o_gets_the_shape_message_or_hint() -> None:
    result = quiet_check("tagger_logits", tag_einsum_untransposed)
    assert result.status is Status.ERROR and "U.T" in (result.hint or "")


def test_loss_overflow_reports_nan_on_the_large_logits_case() -> None:
    result = quiet_check("masked_mean_loss", loss_plain_softmax)
    assert "large logits" in (result.case or "") and "nan" in result.message


def test_max_over_zero_padding_fails_on_the_packed_case() -> None:
    result = quiet_check("pool_hidden_states", pool_max_everything)
    assert "all-negative" in (result.case or "") and "got 0" in result.message


def test_spans_as_lists_or_a_tuple_are_rejected_with_a_clear_message() -> None:
    as_lists = quiet_check("entity_spans", lambda tags: [list(s) for s in numpy_tagging.entity_spans(tags)])
    assert as_lists.status is Status.FAIL and as_lists.mistake is None
    assert "item 0 is list ['PER', 0, 2], expected a tuple ('PER', 0, 2)" in as_lists.message
    as_tuple = quiet_check("entity_spans", lambda tags: tuple(numpy_tagging.entity_spans(tags)))
    assert as_tuple.status is Status.FAIL and "expected a list" in as_tuple.message


def test_a_wrong_span_is_shown_whole() -> None:
    result = quiet_check("entity_spans", spans_flush_at_last_index)
    assert "item 1 is ('LOC', 3, 4), expected ('LOC', 3, 5)" in result.message, result.report()
    missing = quiet_check("entity_spans", spans_without_flush)
    assert "has 1 item, expected 2" in missing.message, missing.report()


def test_numpy_integers_in_spans_are_accepted_but_not_floats_or_arrays() -> None:
    def np_ints(tags):
        return [(k, np.int64(s), np.int64(e)) for k, s, e in numpy_tagging.entity_spans(tags)]

    assert quiet_check("entity_spans", np_ints)
    arrays = quiet_check("entity_spans", lambda tags: [(k, np.array([s]), e)
                                                  for k, s, e in numpy_tagging.entity_spans(tags)])
    assert arrays.status is Status.FAIL and "item 0 is ('PER', array([0]), 2), expected ('PER', 0, 2)" in arrays.message
    floats = quiet_check("entity_spans", lambda tags: [(k, float(s), float(e))
                                                  for k, s, e in numpy_tagging.entity_spans(tags)])
    assert floats.status is Status.FAIL and "item 0 is ('PER', 0.0, 2.0)" in floats.message


def test_appending_to_the_tags_is_caught_as_an_in_place_change() -> None:
    def with_sentinel_in_place(tags):
        tags.append("O")
        return spans_with_sentinel(tags[:-1])

    result = quiet_check("entity_spans", with_sentinel_in_place)
    assert result.status is Status.FAIL and "changed its input `tags`" in result.message

    def retag_in_place(tags):  # same length, one entry rewritten
        for i, tag in enumerate(tags):
            if tag.startswith("I-") and (i == 0 or tags[i - 1] == "O"):
                tags[i] = "B-" + tag[2:]
        return spans_with_sentinel(tags)

    result = quiet_check("entity_spans", retag_in_place)
    assert result.status is Status.FAIL and "`tags[" in result.message, result.report()


def test_writing_into_H_is_caught() -> None:
    def zero_padding_in_place(H, lengths, mode):
        for b, L in enumerate(lengths):
            H[b, L:] = -np.inf
        return _loop_pool(H, lengths, mode)

    result = quiet_check("pool_hidden_states", zero_padding_in_place)
    assert result.status is Status.FAIL and "`H`" in result.message


def test_empty_sentence_index_error_gets_the_hint() -> None:
    def looks_ahead(tags):
        spans, start = [], None
        for i in range(len(tags)):
            if tags[i] != "O" and start is None:
                start = i
            if start is not None and tags[i + 1] == "O":  # runs past the last tag
                spans.append((tags[start][2:], start, i + 1))
                start = None
        return spans

    result = quiet_check("entity_spans", looks_ahead)
    assert result.status is Status.ERROR and result.mistake is None
    assert "index ran past the tags" in (result.hint or ""), result.report()


def _stub(*args: Any) -> Any:
    raise NotImplementedError("Replace this line with your code.")


@pytest.mark.parametrize("exercise", SET_3)
def test_stub_is_not_implemented(exercise: str) -> None:
    assert quiet_check(exercise, _stub).status is Status.NOT_IMPLEMENTED


# =============================================================================================
# The registry


def test_registry_holds_set_3_in_chapter_3() -> None:
    assert [e.id for e in EXERCISES.values() if e.chapter == 3] == ALL_3
    assert EXERCISES["tagger_logits"].reference is numpy_tagging.tagger_logits
    assert EXERCISES["masked_mean_loss"].reference is numpy_tagging.masked_mean_loss
    assert EXERCISES["pool_hidden_states"].reference is numpy_tagging.pool_hidden_states
    assert EXERCISES["entity_spans"].reference is numpy_tagging.entity_spans
    assert exercises_03.EXERCISES_03 == tuple(EXERCISES[e] for e in ALL_3)
    assert EXERCISES["pooling_choice"].kind == "choice"
    assert EXERCISES["entity_spans"].kind == "exact"
