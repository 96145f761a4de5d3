"""Tests for lecture_code.text: vocabularies, tokenisation, and batching for truncated BPTT."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecture_code.text import UNK, Vocab, batchify, chars, lm_batches, split_stream

TOKENS = "the cat sat on the mat the cat ran".split()  # the:3 cat:2 mat ran sat on:1


# ----------------------------------------------------------------------------- Vocab


def test_vocab_orders_by_frequency_then_alphabet() -> None:
    v = Vocab(TOKENS)
    assert v.itos == ["the", "cat", "mat", "on", "ran", "sat"]
    assert v.stoi == {t: i for i, t in enumerate(v.itos)}
    assert v.unk_id is None
    assert v.counts["the"] == 3 and v.counts["cat"] == 2
    assert Vocab(reversed(TOKENS)).itos == v.itos  # independent of the order of appearance


def test_vocab_specials_come_first() -> None:
    v = Vocab(TOKENS, specials=["<pad>", "<eos>"], unk=UNK)
    assert v.itos[:3] == ["<pad>", "<eos>", UNK]
    assert v.itos[3:] == ["the", "cat", "mat", "on", "ran", "sat"]
    assert v.unk_id == 2
    # unk already among the specials, or specials in the text: no duplicates
    v2 = Vocab([*TOKENS, "<eos>", "<eos>", "<eos>", "<eos>"], specials=[UNK, "<eos>"], unk=UNK)
    assert v2.itos == [UNK, "<eos>", "the", "cat", "mat", "on", "ran", "sat"]
    assert v2.unk_id == 0
    assert len(set(v2.itos)) == len(v2.itos)


def test_vocab_min_freq() -> None:
    assert Vocab(TOKENS, min_freq=2).itos == ["the", "cat"]
    assert Vocab(TOKENS, min_freq=3, unk=UNK).itos == [UNK, "the"]
    assert Vocab(TOKENS, min_freq=4).itos == []


def test_encode_unknown_maps_to_unk() -> None:
    v = Vocab(TOKENS, min_freq=2, unk=UNK)
    ids = v.encode(["the", "dog", "cat", "mat"])
    assert ids.dtype == np.int64
    assert ids.tolist() == [v.stoi["the"], v.unk_id, v.stoi["cat"], v.unk_id]


def test_encode_unknown_without_unk_is_key_error() -> None:
    v = Vocab(TOKENS)
    with pytest.raises(KeyError, match=r"'dog' is not in the vocabulary \(and it has no <unk>\)"):
        v.encode(["the", "dog"])


def test_encode_decode_round_trip() -> None:
    v = Vocab(TOKENS)
    ids = v.encode(TOKENS)
    assert ids.dtype == np.int64 and ids.shape == (len(TOKENS),)
    assert v.decode(ids, sep=" ") == " ".join(TOKENS)
    assert v.decode(ids.tolist(), sep=" ") == " ".join(TOKENS)
    assert v.decode(v.encode(["cat", "sat"])) == "catsat"  # default sep is ""
    assert v.encode([]).dtype == np.int64 and v.encode([]).shape == (0,)
    text = "hello world"
    cv = Vocab(chars(text))
    assert cv.decode(cv.encode(chars(text))) == text


def test_vocab_len_contains_repr() -> None:
    v = Vocab(TOKENS, unk=UNK)
    assert len(v) == 7
    assert "cat" in v and UNK in v and "dog" not in v
    r = repr(v)
    assert r.startswith("Vocab(size=7, first=[") and "'<unk>'" in r and "'the'" in r
    big = Vocab([str(i) for i in range(20)])
    # only the first 8 tokens (alphabetical here: all counts are 1) are shown
    assert repr(big) == "Vocab(size=20, first=['0', '1', '10', '11', '12', '13', '14', '15', ...])"


# ----------------------------------------------------------------------------- chars


def test_chars() -> None:
    assert chars("ab c\n") == ["a", "b", " ", "c", "\n"]
    assert chars("") == []


# ----------------------------------------------------------------------------- batchify


def test_batchify_shapes_contiguity_and_tail() -> None:
    ids = np.arange(23)
    rows = batchify(ids, 4)
    assert rows.shape == (4, 5)  # 23 // 4 = 5 per row, the ragged tail of 3 is dropped
    for b in range(4):
        np.testing.assert_array_equal(rows[b], ids[b * 5 : (b + 1) * 5])  # contiguous pieces of the stream
    assert rows.flags.c_contiguous
    assert 20 not in rows and 22 not in rows
    assert batchify(np.arange(10), 5).shape == (5, 2)
    assert batchify(list(range(12)), 3).shape == (3, 4)  # lists are accepted


def test_batchify_errors() -> None:
    with pytest.raises(ValueError, match="1-D"):
        batchify(np.zeros((2, 10), dtype=np.int64), 2)
    with pytest.raises(ValueError, match="too short"):
        batchify(np.arange(7), 4)  # 1 token per row


# ----------------------------------------------------------------------------- lm_batches


@pytest.mark.parametrize(("L", "T", "sizes"), [(12, 4, [4, 4, 3]), (13, 4, [4, 4, 4]), (5, 10, [4]), (2, 3, [1])])
def test_lm_batches_tile_the_rows(L: int, T: int, sizes: list[int]) -> None:
    rows = np.arange(3 * L).reshape(3, L) * 7 % 101  # distinct values, not simply increasing
    windows = list(lm_batches(rows, T))
    assert [x.shape[1] for x, _ in windows] == sizes  # only the last window may be shorter
    for x, y in windows:
        assert x.shape == y.shape and x.shape[0] == 3
        np.testing.assert_array_equal(x[:, 1:], y[:, :-1])  # targets are the inputs shifted by one
    np.testing.assert_array_equal(np.concatenate([x for x, _ in windows], axis=1), rows[:, :-1])
    np.testing.assert_array_equal(np.concatenate([y for _, y in windows], axis=1), rows[:, 1:])


def test_lm_batches_accepts_torch_tensors() -> None:
    rows = torch.arange(30).reshape(3, 10)
    windows = list(lm_batches(rows, 4))
    assert [x.shape[1] for x, _ in windows] == [4, 4, 1]
    assert torch.equal(torch.cat([y for _, y in windows], dim=1), rows[:, 1:])


# ----------------------------------------------------------------------------- split_stream


def test_split_stream_default_fractions() -> None:
    ids = np.arange(100)
    parts = split_stream(ids)
    assert [len(p) for p in parts] == [90, 5, 5]
    np.testing.assert_array_equal(np.concatenate(parts), ids)


def test_split_stream_custom_fractions_cover_the_stream() -> None:
    ids = np.arange(101)
    parts = split_stream(ids, (0.5, 0.25, 0.25))
    assert len(parts) == 3
    assert sum(len(p) for p in parts) == 101
    assert abs(len(parts[0]) - 50.5) <= 0.5
    np.testing.assert_array_equal(np.concatenate(parts), ids)
    assert [len(p) for p in split_stream(ids, (0.3, 0.7))] == [30, 71]


def test_split_stream_error() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        split_stream(np.arange(10), (0.5, 0.4))


def test_batchify_rejects_nonpositive_rows() -> None:
    for B in (0, -1):
        with pytest.raises(ValueError, match="positive"):
            batchify(np.arange(10), B)
