"""Tests for lecture_code.seq2seq: number spelling data, the encoder-decoder, its loss, training and decoding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecture_code import seq2seq as s2s
from lecture_code.seq2seq import (
    BOS_ID,
    EOS_ID,
    MAX_WORDS,
    PAD_ID,
    SRC_VOCAB,
    TGT_VOCAB,
    WORDS,
    Seq2Seq,
    evaluate_seq2seq,
    exact_match,
    greedy_decode,
    make_batch,
    num_digits,
    number_splits,
    number_to_digits,
    number_to_words,
    seq2seq_config,
    seq2seq_loss,
    spell,
    train_seq2seq,
)
from lecture_code.train import History

V_SRC, V_TGT = len(SRC_VOCAB), len(TGT_VOCAB)
D, N = 5, 7


def _model(cell: str = "gru", seed: int = 0, d: int = D, n: int = N) -> Seq2Seq:
    torch.manual_seed(seed)
    return Seq2Seq(V_SRC, V_TGT, d, n, cell=cell).double()


# ----------------------------------------------------------------------------- number_to_words

HAND = {
    0: "zero", 7: "seven", 13: "thirteen", 20: "twenty", 21: "twenty one", 100: "one hundred",
    101: "one hundred one", 110: "one hundred ten", 342: "three hundred forty two",
    999: "nine hundred ninety nine", 1000: "one thousand", 1001: "one thousand one",
    12345: "twelve thousand three hundred forty five", 100_000: "one hundred thousand",
    700_010: "seven hundred thousand ten",
    999_999: "nine hundred ninety nine thousand nine hundred ninety nine",
}


@pytest.mark.parametrize("k", list(HAND))
def test_number_to_words_by_hand(k: int) -> None:
    assert number_to_words(k) == HAND[k].split()


def _words_to_number(words: list[str]) -> int:
    """An independent parser of the convention (no "and", tens and units as separate words)."""
    small = {w: i for i, w in enumerate(s2s.ONES)} | {w: 10 * i for i, w in enumerate(s2s.TENS) if w}
    total, group = 0, 0
    for w in words:
        if w == "hundred":
            group *= 100
        elif w == "thousand":
            total, group = group * 1000, 0
        else:
            group += small[w]
    return total + group


def test_number_to_words_round_trip(rng: np.random.Generator) -> None:
    ks = np.r_[np.arange(2000), rng.integers(0, 1_000_000, size=3000), 999_999]
    seen: set[tuple[str, ...]] = set()
    for k in ks:
        words = number_to_words(int(k))
        assert _words_to_number(words) == k
        assert set(words) <= set(WORDS) and 1 <= len(words) <= MAX_WORDS
        assert "zero" not in words or k == 0
        seen.add(tuple(words))
    assert len(seen) == len(set(ks.tolist()))  # different numbers, different spellings
    assert len(number_to_words(777_777)) == MAX_WORDS
    assert number_to_words(np.int64(42)) == ["forty", "two"]  # NumPy integers are fine


@pytest.mark.parametrize("bad", [-1, 1_000_000, 3.5, "12", True, None])
def test_number_to_words_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match=r"integer in 0\.\.999999"):
        number_to_words(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"integer in 0\.\.999999"):
        number_to_digits(bad)  # type: ignore[arg-type]


def test_digits_and_vocabularies() -> None:
    assert number_to_digits(342) == ["3", "4", "2"] and number_to_digits(0) == ["0"]
    ks = np.array([0, 9, 10, 99, 100, 999, 1000, 99_999, 100_000, 999_999])
    np.testing.assert_array_equal(num_digits(ks), [len(str(k)) for k in ks])
    assert SRC_VOCAB.itos[PAD_ID] == "<pad>" and SRC_VOCAB.encode(["0", "9"]).tolist() == [1, 10]
    assert (TGT_VOCAB.itos[PAD_ID], TGT_VOCAB.itos[BOS_ID], TGT_VOCAB.itos[EOS_ID]) == ("<pad>", "<bos>", "<eos>")
    assert V_SRC == 11 and V_TGT == 3 + len(WORDS) == 33


# ----------------------------------------------------------------------------- number_splits


def test_splits_disjoint_and_deterministic() -> None:
    a = number_splits(3000, 200, 400, seed=3)
    b = number_splits(3000, 200, 400, seed=3)
    c = number_splits(3000, 200, 400, seed=4)
    assert {k: len(v) for k, v in a.items()} == {"train": 3000, "valid": 200, "test": 400}
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
        assert a[name].dtype == np.int64 and a[name].min() >= 0 and a[name].max() <= 999_999
    assert not np.array_equal(a["test"], c["test"])
    everything = np.concatenate(list(a.values()))
    assert len(np.unique(everything)) == len(everything)  # no number in two sets, none twice
    # every digit length shows up, far more short numbers than uniform sampling (which gives 0.1% below 1000)
    assert set(num_digits(a["train"]).tolist()) == {1, 2, 3, 4, 5, 6}
    assert (a["train"] < 1000).mean() > 0.1


def test_splits_do_not_depend_on_the_order_of_argpartition(monkeypatch: pytest.MonkeyPatch) -> None:
    # np.argpartition returns the same set in a CPU-dependent order (SIMD sorting networks); the splits
    # must not change with that order, or a chapter's numbers change from one machine to another
    expected = number_splits(3000, 200, 400, seed=3)
    argpartition = np.argpartition

    def reordered(a, kth, *args, **kwargs):
        out = argpartition(a, kth, *args, **kwargs)
        n = int(np.max(kth)) + 1
        return np.concatenate([out[:n][::-1], out[n:]])

    monkeypatch.setattr(np, "argpartition", reordered)
    got = number_splits(3000, 200, 400, seed=3)
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name])


def test_splits_small_range_and_errors() -> None:
    s = number_splits(60, 20, 20, seed=0, hi=100)
    np.testing.assert_array_equal(np.sort(np.concatenate(list(s.values()))), np.arange(100))
    with pytest.raises(ValueError, match="distinct numbers"):
        number_splits(60, 20, 21, hi=100)
    with pytest.raises(ValueError, match=">= 0"):
        number_splits(-1, 2, 2)
    with pytest.raises(ValueError, match="hi must be"):
        number_splits(1, 1, 1, hi=2_000_000)


# ----------------------------------------------------------------------------- batches


def test_make_batch_layout() -> None:
    ks = [42, 0, 123_456]
    b = make_batch(ks)
    m = [len(number_to_words(k)) for k in ks]  # 2, 1, 8 words
    assert b.src.shape == (3, 6) and b.tgt_in.shape == b.tgt_out.shape == (3, max(m) + 1)
    assert b.src.dtype == b.tgt_in.dtype == b.tgt_out.dtype == torch.int64
    assert SRC_VOCAB.decode(b.src[0, :2].tolist()) == "42" and (b.src[0, 2:] == PAD_ID).all()
    for r, k in enumerate(ks):
        words = TGT_VOCAB.encode(number_to_words(k)).tolist()
        assert b.tgt_in[r, : m[r] + 1].tolist() == [BOS_ID, *words]
        assert b.tgt_out[r, : m[r] + 1].tolist() == [*words, EOS_ID]
        assert (b.tgt_in[r, m[r] + 1 :] == PAD_ID).all() and (b.tgt_out[r, m[r] + 1 :] == PAD_ID).all()
    with pytest.raises(ValueError, match="at least one number"):
        make_batch([])


# ----------------------------------------------------------------------------- the model


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_model_shapes_and_conditioning(cell: str) -> None:
    model = _model(cell)
    b = make_batch([41, 42, 420, 123_456])
    logits = model(b.src, b.tgt_in)
    assert logits.shape == (4, b.tgt_in.shape[1], V_TGT) and logits.dtype == torch.float64
    state = model.encode(b.src)
    h = state[0] if cell == "lstm" else state
    assert h.shape == (1, 4, N)
    if cell == "lstm":
        assert state[1].shape == (1, 4, N)
    # the decoder is conditioned on the source: the same decoder input, different digits, different logits
    same = torch.full((2, 3), BOS_ID)
    out = model(make_batch([41, 42]).src, same)
    assert (out[0] - out[1]).abs().max() > 1e-6


def test_model_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="cell must be one of"):
        Seq2Seq(V_SRC, V_TGT, D, N, cell="scratch")
    model = _model()
    with pytest.raises(ValueError, match="padded on the right"):
        model.encode(torch.tensor([[PAD_ID, 3, 4]]))
    with pytest.raises(ValueError, match="at least one non-padding"):
        model.encode(torch.tensor([[2, 3], [PAD_ID, PAD_ID]]))
    with pytest.raises(ValueError, match=r"\(B, S\)"):
        model.encode(torch.tensor([2, 3]))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_padding_does_not_change_the_encoder_state(cell: str) -> None:
    model = _model(cell)
    alone = model.encode(make_batch([42]).src)
    padded_src = make_batch([42, 123_456]).src  # row 0 is "42" followed by four padding tokens
    batched = model.encode(padded_src)
    pairs = zip(alone, batched, strict=True) if cell == "lstm" else [(alone, batched)]
    for a, b in pairs:
        assert (a[:, 0] - b[:, 0]).abs().max() <= 1e-12
    # the test can fail: running the RNN over the padding tokens, unpacked, moves the state
    _, naive = model.encoder(model.src_embedding(padded_src))
    naive_h = naive[0] if cell == "lstm" else naive
    alone_h = alone[0] if cell == "lstm" else alone
    assert (naive_h[:, 0] - alone_h[:, 0]).abs().max() > 1e-3


def test_loss_masks_padding(rng: np.random.Generator) -> None:
    B, T, V = 3, 5, 6
    logits = torch.from_numpy(rng.normal(size=(B, T, V)))
    y = torch.from_numpy(rng.integers(1, V, size=(B, T)))
    lengths = [5, 2, 3]
    for r, L in enumerate(lengths):
        y[r, L:] = PAD_ID
    logp = torch.log_softmax(logits, -1)
    by_hand = -sum(logp[r, t, y[r, t]] for r, L in enumerate(lengths) for t in range(L)) / sum(lengths)
    assert abs(seq2seq_loss(logits, y).item() - by_hand.item()) <= 1e-12
    moved = logits.clone()
    moved[1, 2:] += torch.from_numpy(rng.normal(size=(3, V)))  # only padded positions change
    assert seq2seq_loss(moved, y).item() == seq2seq_loss(logits, y).item()
    moved[1, 1, 0] += 1.0  # a real position changes the loss
    assert seq2seq_loss(moved, y).item() != seq2seq_loss(logits, y).item()


def test_batched_loss_equals_the_rows_alone() -> None:
    """End to end: a short pair's token NLL does not depend on what it is batched with."""
    model = _model("lstm")
    ks = [7, 41, 123_456]

    def nll_sum(numbers: list[int]) -> tuple[float, int]:
        b = make_batch(numbers)
        count = int((b.tgt_out != PAD_ID).sum())
        return seq2seq_loss(model(b.src, b.tgt_in), b.tgt_out).item() * count, count

    together, n_all = nll_sum(ks)
    parts = [nll_sum([k]) for k in ks]
    assert n_all == sum(c for _, c in parts) == sum(len(number_to_words(k)) + 1 for k in ks)
    assert abs(together - sum(s for s, _ in parts)) <= 1e-10


# ----------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def trained() -> tuple[Seq2Seq, History, dict[str, np.ndarray]]:
    splits = number_splits(5000, 100, 100, seed=0)
    torch.manual_seed(0)
    model = Seq2Seq(V_SRC, V_TGT, 16, 32, cell="gru")
    hist = train_seq2seq(model, splits["train"], splits["valid"], steps=80, B=32, lr=1e-2, seed=0,
                         eval_every=30, progress=False)
    return model, hist, splits


def test_training_lowers_the_loss(trained: tuple[Seq2Seq, History, dict[str, np.ndarray]]) -> None:
    model, hist, splits = trained
    assert hist.steps == 80 and len(hist.grad_norm) == 80 and hist.tokens > 80 * 32 and hist.seconds > 0
    assert np.mean(hist.train_loss[-10:]) < 0.5 * np.mean(hist.train_loss[:5])
    assert hist.valid_step == [30, 60, 80] and hist.valid_loss[-1] < hist.valid_loss[0]
    nll, acc = evaluate_seq2seq(model, splits["valid"])
    assert abs(nll - hist.valid_loss[-1]) <= 1e-6 and 0.5 < acc <= 1.0


def test_training_is_seeded() -> None:
    def run(seed: int) -> list[float]:
        torch.manual_seed(0)
        model = Seq2Seq(V_SRC, V_TGT, 4, 8)
        return train_seq2seq(model, np.arange(100, 200), steps=4, B=8, seed=seed, progress=False).train_loss

    assert run(1) == run(1) and run(1) != run(2)


def test_training_budgets_and_errors() -> None:
    model = Seq2Seq(V_SRC, V_TGT, 4, 8)
    hist = train_seq2seq(model, np.arange(50), seconds=0.2, B=4, progress=False)
    assert hist.steps >= 1 and hist.seconds < 10 and hist.valid_loss == []
    hist = train_seq2seq(model, np.arange(50), steps=3, seconds=60.0, B=4, progress=False)
    assert hist.steps == 3  # whichever budget ends first
    with pytest.raises(ValueError, match="give a budget"):
        train_seq2seq(model, np.arange(50), progress=False)
    with pytest.raises(ValueError, match="at least one number"):
        train_seq2seq(model, np.arange(0), steps=1, progress=False)


def test_config_modes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LECTURE_CODE_FULL", raising=False)
    quick = seq2seq_config()
    monkeypatch.setenv("LECTURE_CODE_FULL", "1")
    full = seq2seq_config()
    assert quick.keys() == full.keys() and quick["cell"] in s2s.CELLS
    assert full["steps"] > quick["steps"] and full["n"] >= quick["n"]


# ----------------------------------------------------------------------------- decoding


def _rigged(favourite: int) -> Seq2Seq:
    """A decoder whose output layer ignores the state and always prefers token ``favourite``."""
    model = _model()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
        model.head.bias[favourite] = 5.0
    return model


def test_greedy_stops_at_eos_and_respects_max_len() -> None:
    src = make_batch([7, 41, 123_456]).src
    assert greedy_decode(_rigged(EOS_ID), src, max_len=6) == [[], [], []]
    one = TGT_VOCAB.stoi["one"]
    assert greedy_decode(_rigged(one), src, max_len=4) == [[one] * 4] * 3
    assert greedy_decode(_rigged(one), src, max_len=1) == [[one]] * 3
    with pytest.raises(ValueError, match="max_len must be >= 1"):
        greedy_decode(_rigged(one), src, max_len=0)


def test_greedy_feeds_back_its_own_predictions(trained: tuple[Seq2Seq, History, dict[str, np.ndarray]]) -> None:
    model = trained[0]
    ks, max_len = [7, 41, 342, 123_456, 999_999], 4
    src = make_batch(ks).src
    outs = greedy_decode(model, src, max_len)
    assert any(len(o) < max_len for o in outs) and any(len(o) == max_len for o in outs)  # both endings occur
    for r, out in enumerate(outs):
        assert EOS_ID not in out and len(out) <= max_len
        assert greedy_decode(model, src[r : r + 1], max_len) == [out]  # batching does not change a row
        # teacher-forcing the generated words reproduces them as the argmax at every step, then <eos>
        with torch.no_grad():
            logits = model(src[r : r + 1], torch.tensor([[BOS_ID, *out]]))
        expected = [*out, EOS_ID] if len(out) < max_len else out
        assert logits[0].argmax(-1).tolist()[: len(expected)] == expected


def test_spell_and_exact_match(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _rigged(EOS_ID)
    assert spell(model, [5, 6]) == [[], []] and exact_match(model, [5, 6]) == 0.0
    # always <eos> under teacher forcing: only the <eos> positions are right
    ks = [0, 21, 342]
    nll, acc = evaluate_seq2seq(model, ks)
    n_tokens = sum(len(number_to_words(k)) + 1 for k in ks)
    assert acc == pytest.approx(len(ks) / n_tokens)
    lse = float(torch.logsumexp(model.head.bias.detach(), 0))
    assert nll == pytest.approx(((n_tokens - len(ks)) * lse + len(ks) * (lse - 5.0)) / n_tokens, abs=1e-12)
    # exact match counts whole sequences, chunk by chunk
    fake = {0: ["zero"], 7: ["seven", "one"], 21: ["twenty", "one"], 1000: ["one"]}
    monkeypatch.setattr(s2s, "spell", lambda m, numbers: [fake[int(k)] for k in numbers])
    assert exact_match(model, [0, 7, 21, 1000], B=3) == 0.5
