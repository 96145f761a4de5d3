"""Tests for the padded batches of lecture_code.text: pad_sequences and length_mask."""

from __future__ import annotations

import numpy as np
import pytest

from lecture_code.text import length_mask, pad_sequences

SEQS = [[5, 6, 7], [8], [9, 10]]  # B = 3 sentences of lengths 3, 1, 2


def test_pad_sequences_shapes_and_values() -> None:
    ids, lengths = pad_sequences(SEQS)
    np.testing.assert_array_equal(ids, [[5, 6, 7], [8, 0, 0], [9, 10, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 2])
    assert ids.shape == (3, 3) and ids.dtype == np.int64 and lengths.dtype == np.int64


def test_pad_sequences_pad_id_and_T() -> None:
    ids, lengths = pad_sequences(SEQS, pad_id=-1, T=5)
    np.testing.assert_array_equal(ids, [[5, 6, 7, -1, -1], [8, -1, -1, -1, -1], [9, 10, -1, -1, -1]])
    np.testing.assert_array_equal(lengths, [3, 1, 2])
    ids, _ = pad_sequences(SEQS, T=3)  # T equal to the longest sequence is fine
    assert ids.shape == (3, 3)


def test_pad_sequences_accepts_arrays_and_keeps_the_input() -> None:
    seqs = [np.array([3, 1, 4, 1]), np.array([5, 9], dtype=np.int32), (2, 6, 5)]
    ids, lengths = pad_sequences(seqs, pad_id=7)
    np.testing.assert_array_equal(ids, [[3, 1, 4, 1], [5, 9, 7, 7], [2, 6, 5, 7]])
    np.testing.assert_array_equal(lengths, [4, 2, 3])
    ids[0, 0] = 99
    assert seqs[0][0] == 3  # a copy, not a view of the input
    one, one_len = pad_sequences([[4]])
    assert one.shape == (1, 1) and one[0, 0] == 4 and one_len.tolist() == [1]


def test_pad_sequences_round_trips(rng: np.random.Generator) -> None:
    seqs = [rng.integers(1, 50, size=int(n)) for n in rng.integers(1, 20, size=16)]
    ids, lengths = pad_sequences(seqs)
    assert ids.shape == (16, max(len(s) for s in seqs))
    for b, s in enumerate(seqs):
        np.testing.assert_array_equal(ids[b, : lengths[b]], s)
        assert (ids[b, lengths[b] :] == 0).all()


def test_pad_sequences_errors() -> None:
    with pytest.raises(ValueError, match="at least one sequence"):
        pad_sequences([])
    with pytest.raises(ValueError, match="sequence 1 is empty"):
        pad_sequences([[1, 2], [], [3]])
    with pytest.raises(ValueError, match=r"T=2 is shorter than the longest sequence \(3 tokens\)"):
        pad_sequences(SEQS, T=2)


def test_length_mask_values() -> None:
    mask = length_mask([3, 1, 2])
    np.testing.assert_array_equal(mask, [[True, True, True], [True, False, False], [True, True, False]])
    assert mask.dtype == np.bool_
    wide = length_mask(np.array([3, 1, 2]), T=5)
    assert wide.shape == (3, 5)
    np.testing.assert_array_equal(wide.sum(axis=1), [3, 1, 2])
    assert not wide[:, 3:].any()


def test_length_mask_matches_pad_sequences(rng: np.random.Generator) -> None:
    seqs = [rng.integers(1, 50, size=int(n)) for n in rng.integers(1, 12, size=10)]
    ids, lengths = pad_sequences(seqs, pad_id=0, T=15)
    np.testing.assert_array_equal(length_mask(lengths, T=15), ids != 0)  # ids are >= 1, so pads are exactly the 0s


def test_length_mask_rejects_non_1d_lengths() -> None:
    with pytest.raises(ValueError, match=r"non-empty 1-D array \(B,\)"):
        length_mask(np.array([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match="1-D"):
        length_mask(np.int64(3))


def test_length_mask_rejects_empty_lengths_and_a_short_T() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        length_mask([])
    with pytest.raises(ValueError, match="shorter than the longest"):
        length_mask([3, 5], T=4)
