"""Tests for lecture_code.numpy_tagging: tagger scores, the masked loss, pooling, BIO spans and span F1.

The NumPy references are compared with torch.nn (Linear, cross_entropy, a packed RNN) in float64,
with per-sentence loops, with a literal transcription of conlleval's chunk rules, and with small
examples worked out by hand.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lecture_code.numpy_tagging import entity_spans, masked_mean_loss, pool_hidden_states, span_f1, tagger_logits
from lecture_code.text import length_mask

ATOL = 1e-10


def _batch(rng: np.random.Generator, lengths: list[int], n: int) -> tuple[np.ndarray, np.ndarray]:
    lengths_arr = np.array(lengths, dtype=np.int64)
    return np.tanh(rng.normal(size=(len(lengths), max(lengths), n))), lengths_arr


# =============================================================================================
# tagger_logits


def test_tagger_logits_equals_torch_linear() -> None:
    rng = np.random.default_rng(0)
    B, T, n, K = 3, 6, 5, 4
    H, U, b_2 = rng.normal(size=(B, T, n)), rng.normal(size=(K, n)), rng.normal(size=K)
    linear = nn.Linear(n, K, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(U))
        linear.bias.copy_(torch.from_numpy(b_2))
        expected = linear(torch.from_numpy(H)).numpy()
    got = tagger_logits(H, U, b_2)
    assert got.shape == (B, T, K) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)


def test_tagger_logits_by_hand() -> None:
    H = np.array([[[1.0, 2.0], [0.0, -1.0]]])  # B=1, T=2, n=2
    U = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # K=3
    b_2 = np.array([0.5, 0.0, -1.0])
    np.testing.assert_array_equal(tagger_logits(H, U, b_2), [[[1.5, 2.0, 2.0], [0.5, -1.0, -2.0]]])


@pytest.mark.parametrize(("H", "U", "b_2"), [
    (np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(4)),  # H without a time axis
    (np.zeros((2, 3, 5)), np.zeros((5, 4)), np.zeros(4)),  # U transposed
    (np.zeros((2, 3, 5)), np.zeros((4, 5)), np.zeros(5)),  # bias of the wrong size
])
def test_tagger_logits_rejects_bad_shapes(H: np.ndarray, U: np.ndarray, b_2: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"H \(B, T, n\), U \(K, n\)"):
        tagger_logits(H, U, b_2)


# =============================================================================================
# masked_mean_loss


def _loss_inputs(seed: int = 1, lengths: tuple[int, ...] = (5, 2, 3), K: int = 4
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mask = length_mask(lengths)
    targets = np.where(mask, rng.integers(0, K, size=mask.shape), 0)
    return rng.normal(scale=2.0, size=(*mask.shape, K)), targets, mask


def test_masked_loss_equals_torch_cross_entropy_over_real_tokens() -> None:
    logits, targets, mask = _loss_inputs()
    got = masked_mean_loss(logits, targets, mask)
    z, y = torch.from_numpy(logits), torch.from_numpy(targets)
    m = torch.from_numpy(mask)
    assert got == pytest.approx(F.cross_entropy(z[m], y[m]).item(), rel=0, abs=ATOL)
    ignored = torch.where(m, y, torch.full_like(y, -100))  # torch's ignore_index convention gives the same mean
    assert got == pytest.approx(F.cross_entropy(z.reshape(-1, z.shape[-1]), ignored.reshape(-1)).item(), abs=ATOL)
    assert isinstance(got, float)


def test_masked_loss_ignores_padding_entirely() -> None:
    logits, targets, mask = _loss_inputs()
    other_logits = np.where(mask[..., None], logits, 1e3 * np.random.default_rng(9).normal(size=logits.shape))
    other_targets = np.where(mask, targets, -100)  # padding may hold any id, even an invalid one
    assert masked_mean_loss(other_logits, other_targets, mask) == masked_mean_loss(logits, targets, mask)
    # and it is not the mean over every position
    assert masked_mean_loss(logits, targets, mask) != pytest.approx(masked_mean_loss(logits, targets,
                                                                                      np.ones_like(mask)))


def test_masked_loss_by_hand() -> None:
    # K = 2 with scores (0, log 3): p = (1/4, 3/4). Real tokens: targets 1, 0, 1; the padded one is ignored.
    z = np.array([0.0, np.log(3.0)])
    logits = np.stack([np.stack([z, z]), np.stack([z, z])])  # (B, T, K) = (2, 2, 2)
    targets = np.array([[1, 0], [1, 0]])
    mask = np.array([[True, True], [True, False]])
    expected = (np.log(4 / 3) + np.log(4) + np.log(4 / 3)) / 3
    assert masked_mean_loss(logits, targets, mask) == pytest.approx(expected, rel=1e-14)
    assert masked_mean_loss(np.zeros((1, 1, 7)), np.array([[3]]), np.array([[True]])) == pytest.approx(np.log(7))


def test_masked_loss_is_stable_for_huge_logits() -> None:
    logits, targets, mask = _loss_inputs(seed=2)
    base = masked_mean_loss(logits, targets, mask)
    for shift in (1e3, 1e5, -1e5):  # adding a constant to every score changes nothing
        assert masked_mean_loss(logits + shift, targets, mask) == pytest.approx(base, rel=1e-8)
    gap = logits.copy()
    np.put_along_axis(gap, targets[..., None], -1e4, axis=-1)  # each target 1e4 below: softmax underflows to 0
    loss = masked_mean_loss(gap, targets, mask)
    assert np.isfinite(loss) and loss == pytest.approx(1e4, rel=1e-3)
    assert np.isfinite(masked_mean_loss(np.full((1, 2, 3), 1e300), np.array([[0, 1]]), np.array([[True, True]])))


def test_masked_loss_natural_log() -> None:
    K = 8
    assert masked_mean_loss(np.zeros((2, 3, K)), np.zeros((2, 3), dtype=int), length_mask([3, 1])) == pytest.approx(
        np.log(K), rel=1e-14)


def test_masked_loss_rejects_bad_input() -> None:
    logits, targets, mask = _loss_inputs()
    with pytest.raises(ValueError, match="boolean"):
        masked_mean_loss(logits, targets, mask.astype(int))
    with pytest.raises(ValueError, match="boolean"):
        masked_mean_loss(logits, targets, mask[:, :-1])
    with pytest.raises(ValueError, match="no token"):
        masked_mean_loss(logits, targets, np.zeros_like(mask))
    with pytest.raises(ValueError, match=r"integer targets \(B, T\)"):
        masked_mean_loss(logits, targets.astype(float), mask)
    with pytest.raises(ValueError, match=r"logits \(B, T, K\)"):
        masked_mean_loss(logits[0], targets, mask)


# =============================================================================================
# pool_hidden_states


@pytest.mark.parametrize("lengths", [[5, 2, 3], [4], [1, 1], [3, 3, 3], [1, 6, 2, 6]])
def test_pooling_equals_a_per_sentence_loop(lengths: list[int]) -> None:
    H, L = _batch(np.random.default_rng(len(lengths)), lengths, n=4)
    H = H + 10.0 * ~length_mask(L)[..., None]  # large states at the padding: any that leak in are seen
    loops = {"last": lambda h: h[-1], "max": lambda h: h.max(axis=0), "mean": lambda h: h.mean(axis=0)}
    for mode, per_sentence in loops.items():
        expected = np.stack([per_sentence(H[b, : L[b]]) for b in range(len(L))])
        got = pool_hidden_states(H, L, mode)
        assert got.shape == (len(L), 4) and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL, err_msg=mode)


def test_pooling_a_packed_rnn_last_is_h_n_and_max_ignores_zero_padding() -> None:
    torch.manual_seed(0)
    d, n, lengths = 3, 5, [6, 2, 4]
    rnn = nn.RNN(d, n, batch_first=True, dtype=torch.float64)
    x = torch.randn(len(lengths), max(lengths), d, dtype=torch.float64)
    packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    with torch.no_grad():
        out, h_n = rnn(packed)
    H = pad_packed_sequence(out, batch_first=True)[0].numpy()  # zeros at the padding
    L = np.array(lengths)
    assert not H[1, 2:].any()
    np.testing.assert_allclose(pool_hidden_states(H, L, "last"), h_n[0].numpy(), rtol=0, atol=ATOL)
    negative = np.where(length_mask(L)[..., None], -np.abs(H) - 0.1, 0.0)  # all-negative real states
    assert (pool_hidden_states(negative, L, "max") < 0).all()


def test_pooling_by_hand() -> None:
    H = np.array([[[1.0, -2.0], [3.0, -4.0], [9.0, 9.0]],
                  [[-5.0, 6.0], [0.0, 0.0], [0.0, 0.0]]])  # B=2, T=3, n=2; sentence 1 has one token
    L = np.array([2, 1])
    np.testing.assert_array_equal(pool_hidden_states(H, L, "last"), [[3.0, -4.0], [-5.0, 6.0]])
    np.testing.assert_array_equal(pool_hidden_states(H, L, "max"), [[3.0, -2.0], [-5.0, 6.0]])
    np.testing.assert_array_equal(pool_hidden_states(H, L, "mean"), [[2.0, -3.0], [-5.0, 6.0]])


def test_pooling_rejects_bad_input() -> None:
    H, L = _batch(np.random.default_rng(3), [3, 2], n=4)
    with pytest.raises(ValueError, match=r"mode must be one of \('last', 'max', 'mean'\), got 'first'"):
        pool_hidden_states(H, L, "first")
    with pytest.raises(ValueError, match=r"1\.\.T = 1\.\.3"):
        pool_hidden_states(H, np.array([4, 2]), "last")
    with pytest.raises(ValueError, match=r"1\.\.T"):
        pool_hidden_states(H, np.array([3, 0]), "mean")
    with pytest.raises(ValueError, match=r"\(B,\) = \(2,\) integers"):
        pool_hidden_states(H, np.array([3.0, 2.0]), "max")
    with pytest.raises(ValueError, match=r"\(B, T, n\)"):
        pool_hidden_states(H[0], L, "max")


# =============================================================================================
# entity_spans


def test_entity_spans_hand_worked_example() -> None:
    #         0       1       2      3    4       5       6       7       8      9
    tags = ["B-PER", "I-PER", "I-LOC", "O", "I-ORG", "I-ORG", "B-ORG", "B-PER", "O", "B-creative-work"]
    # B-PER I-PER: PER 0..1; I-LOC after PER: type change, new LOC span at 2; O ends it;
    # I-ORG after O starts ORG at 4, I-ORG continues; B-ORG starts a new ORG even though the type is the
    # same; B-PER ends it; O ends PER; B-creative-work is still open at the end of the sentence.
    assert entity_spans(tags) == [("PER", 0, 2), ("LOC", 2, 3), ("ORG", 4, 6), ("ORG", 6, 7), ("PER", 7, 8),
                                  ("creative-work", 9, 10)]


@pytest.mark.parametrize(("tags", "expected"), [
    ([], []),
    (["O", "O"], []),
    (["I-X"], [("X", 0, 1)]),
    (["B-X", "I-X", "I-X"], [("X", 0, 3)]),
    (["B-X", "B-X"], [("X", 0, 1), ("X", 1, 2)]),
    (["I-X", "I-Y", "I-X"], [("X", 0, 1), ("Y", 1, 2), ("X", 2, 3)]),
    (("O", "B-a-b-c", "I-a-b-c"), [("a-b-c", 1, 3)]),  # any sequence; a type may hold hyphens
])
def test_entity_spans_small_cases(tags: list[str], expected: list[tuple[str, int, int]]) -> None:
    assert entity_spans(tags) == expected


@pytest.mark.parametrize("bad", [["X"], ["B-"], ["O", "I-"], ["B-PER", "E-PER"], ["o"], ["B_PER"], [None]])
def test_entity_spans_rejects_malformed_tags(bad: list) -> None:
    with pytest.raises(ValueError, match="expected BIO tags 'O', 'B-TYPE' or 'I-TYPE'"):
        entity_spans(bad)


def _conlleval_chunks(tags: list[str]) -> list[tuple[str, int, int]]:
    """conlleval.pl's startOfChunk / endOfChunk for BIO tags, transcribed rule by rule."""
    def split(tag: str) -> tuple[str, str]:
        return ("O", "") if tag == "O" else (tag[0], tag[2:])

    chunks, start = [], None
    prev_tag, prev_type = "O", ""
    for t, tag in enumerate([*tags, "O"]):
        tag_, type_ = split(tag)
        end = ((prev_tag == "B" and tag_ in "BO") or (prev_tag == "I" and tag_ in "BO")
               or (prev_tag != "O" and prev_type != type_))
        begin = ((tag_ == "B") or (prev_tag == "O" and tag_ == "I") or (tag_ != "O" and prev_type != type_))
        if end and start is not None:
            chunks.append((prev_type, start, t))
            start = None
        if begin:
            start = t
        prev_tag, prev_type = tag_, type_
    return chunks


def test_entity_spans_agree_with_conlleval_on_every_short_sequence() -> None:
    alphabet = ["O", "B-X", "I-X", "B-Y", "I-Y"]
    count = 0
    for T in range(6):
        for tags in itertools.product(alphabet, repeat=T):
            spans = entity_spans(list(tags))
            assert spans == _conlleval_chunks(list(tags)), tags
            assert all(0 <= s < e <= T for _, s, e in spans)
            assert all(a[2] <= b[1] for a, b in itertools.pairwise(spans)), "in order and not overlapping"
            count += 1
    assert count == sum(5**T for T in range(6))


# =============================================================================================
# span_f1


def test_span_f1_hand_worked_example() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"],        # PER(0, 2), LOC(3, 4)
            ["O", "B-ORG", "I-ORG", "I-ORG", "O"],   # ORG(1, 4)
            ["O", "O"]]                              # none
    pred = [["B-PER", "I-PER", "O", "B-ORG"],        # PER(0, 2) correct; ORG(3, 4) has the wrong type
            ["O", "B-ORG", "I-ORG", "O", "O"],       # ORG(1, 3) ends one token early: wrong
            ["B-MISC", "O"]]                         # MISC(0, 1): not in the gold
    # 1 of 4 predicted spans is right (precision 1/4); 1 of 3 gold spans is found (recall 1/3);
    # F1 = 2 P R / (P + R) = (2/12) / (7/12) = 2/7
    scores = span_f1(gold, pred)
    assert scores == {"precision": 0.25, "recall": pytest.approx(1 / 3), "f1": pytest.approx(2 / 7), "n_gold": 3,
                      "n_pred": 4, "n_correct": 1}


def test_span_f1_matches_spans_within_each_sentence() -> None:
    gold, pred = [["B-PER", "O"], ["O", "O"]], [["O", "O"], ["B-PER", "O"]]  # the same span, another sentence
    assert span_f1(gold, pred) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "n_gold": 1, "n_pred": 1,
                                   "n_correct": 0}


def test_span_f1_perfect_and_empty() -> None:
    gold = [["B-PER", "I-PER", "O", "I-LOC"], []]
    assert span_f1(gold, gold) == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "n_gold": 2, "n_pred": 2,
                                   "n_correct": 2}
    assert span_f1([["O", "O"]], [["O", "O"]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "n_gold": 0,
                                                   "n_pred": 0, "n_correct": 0}
    assert span_f1([], []) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "n_gold": 0, "n_pred": 0,
                               "n_correct": 0}
    only_pred = span_f1([["O"]], [["B-X"]])
    assert (only_pred["precision"], only_pred["recall"], only_pred["f1"]) == (0.0, 0.0, 0.0)


def test_span_f1_rejects_mismatched_input() -> None:
    with pytest.raises(ValueError, match="same number of sentences"):
        span_f1([["O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="sentence 1 has 2 gold tags but 1 predicted"):
        span_f1([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="BIO tags"):
        span_f1([["B-"]], [["O"]])
