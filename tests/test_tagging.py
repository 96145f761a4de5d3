"""Tests for lecture_code.tagging: the packed RNN encoder and tagger, the masked loss, vocabularies and
bucketed batches, the shared training loop, and the tagging metrics, on small synthetic data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lecture_code.corpora import read_conll_bio, read_conllu
from lecture_code.numpy_tagging import masked_mean_loss, span_f1
from lecture_code.tagging import (
    SequenceTagger,
    WordVocab,
    bucket_batches,
    build_vocabs,
    confusion_matrix,
    encode_tagged,
    entity_f1,
    evaluate_loss,
    make_batch,
    masked_cross_entropy,
    most_confused_pairs,
    most_frequent_tag_baseline,
    predict_tags,
    tag_accuracy,
    train_tagger,
    words_and_tags,
)
from lecture_code.text import Vocab, pad_sequences

CELLS = ["rnn", "lstm", "gru"]
V, d, n, K = 11, 5, 7, 4


def _tagger(cell: str, bidirectional: bool, seed: int = 0) -> SequenceTagger:
    torch.manual_seed(seed)
    return SequenceTagger(V, d, n, K, cell=cell, bidirectional=bidirectional).double().eval()


def _synthetic_tagged(rng: np.random.Generator, N: int, lo: int = 2, hi: int = 9) -> list[tuple[np.ndarray, ...]]:
    """Sentences of ids 2..V-1 whose tag is the previous word's id mod K (the tagger must remember one step)."""
    out = []
    for _ in range(N):
        x = rng.integers(2, V, size=int(rng.integers(lo, hi + 1)))
        y = np.concatenate([[0], x[:-1] % K]).astype(np.int64)
        out.append((x.astype(np.int64), y))
    return out


# ---------------------------------------------------------------------------------------------- the model


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_tagger_shapes_and_padding_invariance(cell: str, bidirectional: bool) -> None:
    model = _tagger(cell, bidirectional)
    rng = np.random.default_rng(0)
    x = rng.integers(1, V, size=6)
    alone = model(torch.from_numpy(x[None]), torch.tensor([6]))
    assert alone.shape == (1, 6, K) and alone.dtype == torch.float64
    for other_len in (2, 13):  # batched with a shorter sentence, then with a longer one (x gets padding)
        ids, lengths = _pad([rng.integers(1, V, size=other_len), x, rng.integers(1, V, size=3)])
        logits = model(ids, lengths)
        assert logits.shape == (3, ids.shape[1], K)
        torch.testing.assert_close(logits[1, :6], alone[0], rtol=0, atol=1e-12)


def _pad(seqs: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    ids, lengths = pad_sequences(seqs)
    return torch.from_numpy(ids), torch.from_numpy(lengths)


def test_padding_changes_a_bidirectional_rnn_without_packing() -> None:
    """The invariance above is not automatic: run on the padded batch unpacked, the backward RNN reads the pads."""
    model = _tagger("lstm", True)
    x = torch.tensor([[3, 4, 5, 0, 0, 0]])
    H_unpacked, _ = model.encoder.rnn(model.encoder.embedding(x))
    H_packed = model.encoder(x, torch.tensor([3]))
    assert (H_unpacked[0, :3] - H_packed[0, :3]).abs().max() > 1e-3
    assert torch.all(H_packed[0, 3:] == 0)  # padding rows are zero


def test_encoder_rejects_bad_lengths() -> None:
    model = _tagger("rnn", False)
    ids = torch.ones(2, 4, dtype=torch.int64)
    for bad in ([4], [0, 3], [2, 5]):
        with pytest.raises(ValueError, match="length"):
            model(ids, torch.tensor(bad))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        model(torch.ones(4, dtype=torch.int64), torch.tensor([4]))
    with pytest.raises(ValueError, match="cell"):
        SequenceTagger(V, d, n, K, cell="scratch")


def test_pad_embedding_is_zero() -> None:
    model = _tagger("gru", False)
    assert torch.all(model.encoder.embedding.weight[0] == 0)


# ---------------------------------------------------------------------------------------------- the loss


def test_masked_cross_entropy_by_hand_and_ignores_padding() -> None:
    logits = torch.tensor([[[1.0, 2.0, 0.0], [0.5, 0.5, 3.0]], [[2.0, -1.0, 0.0], [9.0, 9.0, 9.0]]]).double()
    targets = torch.tensor([[1, 2], [0, 1]])
    mask = torch.tensor([[True, True], [True, False]])
    by_hand = 0.0
    for b, t in [(0, 0), (0, 1), (1, 0)]:
        z = logits[b, t].tolist()
        by_hand += -(z[targets[b, t]] - math.log(sum(math.exp(v) for v in z)))
    loss = masked_cross_entropy(logits, targets, mask)
    assert abs(loss.item() - by_hand / 3) < 1e-12
    # changing what sits at the padding changes nothing, even garbage values and out-of-range targets
    logits2, targets2 = logits.clone(), targets.clone()
    logits2[1, 1] = torch.tensor([1e6, -1e6, float("inf")])
    targets2[1, 1] = -100
    assert masked_cross_entropy(logits2, targets2, mask).item() == loss.item()
    # but the same position counts once unmasked
    assert abs(masked_cross_entropy(logits, targets, torch.ones(2, 2, dtype=torch.bool)).item() - loss.item()) > 1e-3


def test_masked_cross_entropy_equals_numpy_reference(rng: np.random.Generator) -> None:
    logits = rng.normal(size=(3, 5, 4))
    targets = rng.integers(0, 4, size=(3, 5))
    mask = np.arange(5)[None, :] < np.array([5, 1, 3])[:, None]
    got = masked_cross_entropy(torch.from_numpy(logits), torch.from_numpy(targets), torch.from_numpy(mask))
    assert abs(got.item() - masked_mean_loss(logits, targets, mask)) < 1e-12


def test_masked_cross_entropy_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="no tokens"):
        masked_cross_entropy(torch.zeros(1, 2, 3), torch.zeros(1, 2, dtype=torch.int64), torch.zeros(1, 2, dtype=bool))
    with pytest.raises(ValueError, match=r"\(B, T, K\)"):
        masked_cross_entropy(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.int64), torch.ones(2, 3, dtype=bool))


# ---------------------------------------------------------------------------------------------- data plumbing

CONLLU = "\n".join([
    "1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_",
    "2\tCat\tcat\tNOUN\t_\t_\t3\tnsubj\t_\t_",
    "3\tsat\tsit\tVERB\t_\t_\t0\troot\t_\t_",
    "",
    "1\tthe\tthe\tDET\t_\t_\t2\tdet\t_\t_",
    "2\tcat\tcat\tNOUN\t_\t_\t0\troot\t_\t_",
    "",
])
BIO = "Paris\tB-location\nis\tO\n\nNew\tB-location\nYork\tI-location\n"


def test_vocabs_and_encoding_from_the_corpus_readers() -> None:
    ud = read_conllu(CONLLU)
    words, tags = build_vocabs(ud, min_freq=1)
    assert words.itos[:2] == ["<pad>", "<unk>"] and words.stoi["<pad>"] == 0 and words.unk_id == 1
    assert tags.itos == ["DET", "NOUN", "VERB"]  # by frequency, ties alphabetical
    (x0, y0), (x1, y1) = encode_tagged(ud, words, tags)
    assert x0.tolist() == [words.stoi["The"], words.stoi["Cat"], words.stoi["sat"]] and y0.tolist() == [0, 1, 2]
    assert x1.tolist() == [words.stoi["the"], words.stoi["cat"]] and y1.tolist() == [0, 1]  # case is kept
    assert words.encode(["dog"]).tolist() == [1]
    lower = WordVocab(["The", "the", "Cat"], lower=True)
    assert "The" not in lower and lower.encode(["THE", "cat"]).tolist() == [lower.stoi["the"], lower.stoi["cat"]]
    rare = WordVocab(["a", "a", "b"], min_freq=2)
    assert rare.encode(["a", "b"]).tolist() == [2, 1]  # b is rarer than min_freq: <unk>
    wnut = read_conll_bio(BIO)
    assert words_and_tags(wnut[1]) == (["New", "York"], ["B-location", "I-location"])
    assert words_and_tags((["a"], ["X"])) == (["a"], ["X"])
    with pytest.raises(ValueError, match="words"):
        words_and_tags("not a sentence")
    with pytest.raises(ValueError, match="tags"):
        encode_tagged([(["a", "b"], ["X"])], words, tags)
    with pytest.raises(ValueError, match="sentence 1"):
        encode_tagged([(["The"], ["DET"]), ([], [])], words, tags)  # no silent drop: indices stay aligned


def test_bucket_batches_cover_everything_once_with_little_padding(rng: np.random.Generator) -> None:
    data = _synthetic_tagged(rng, 103, lo=1, hi=30)
    batches = list(bucket_batches(data, 10, np.random.default_rng(0)))
    seen = np.concatenate([b.index for b in batches])
    assert sorted(seen.tolist()) == list(range(103)) and len(batches) == 11
    for b in batches:
        lens = np.array([len(data[i][0]) for i in b.index])
        assert b.lengths.tolist() == lens.tolist() and b.ids.shape == (len(lens), lens.max())
        assert torch.equal(b.mask, torch.arange(lens.max())[None] < b.lengths[:, None])
        for row, i in enumerate(b.index):
            assert b.ids[row, : lens[row]].tolist() == data[i][0].tolist()
            assert b.targets[row, : lens[row]].tolist() == data[i][1].tolist()
    padding = sum(int((~b.mask).sum()) for b in batches)
    unsorted = [make_batch(data, c) for c in np.array_split(np.arange(103), 11)]
    random_padding = sum(int((~b.mask).sum()) for b in unsorted)
    assert padding < random_padding / 3  # sorting by length avoids most of the padding
    again = [b.index.tolist() for b in bucket_batches(data, 10, np.random.default_rng(0))]
    other = [b.index.tolist() for b in bucket_batches(data, 10, np.random.default_rng(1))]
    assert again == [b.index.tolist() for b in batches] and other != again
    with pytest.raises(ValueError, match="B must"):
        next(bucket_batches(data, 0))


# ---------------------------------------------------------------------------------------------- training


def test_a_tiny_training_run_lowers_the_loss_and_is_reproducible(rng: np.random.Generator) -> None:
    train, dev = _synthetic_tagged(rng, 200), _synthetic_tagged(rng, 50)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = SequenceTagger(V, 8, 16, K, cell="lstm")
        before = evaluate_loss(model, dev)
        hist = train_tagger(model, train, dev, steps=60, B=16, lr=2e-2, seed=3, eval_every=30, progress=False)
        runs.append(hist.train_loss)
    assert hist.steps == 60 and hist.valid_step == [30, 60] and hist.tokens > 60 * 16
    assert hist.valid_loss[-1] < 0.5 * before
    assert tag_accuracy(model, dev) > 0.9
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="steps"):
        train_tagger(model, train)


def test_training_stops_on_the_time_budget(rng: np.random.Generator) -> None:
    model = SequenceTagger(V, 4, 4, K, cell="rnn")
    hist = train_tagger(model, _synthetic_tagged(rng, 20), seconds=0.0, progress=False)
    assert hist.steps == 0
    hist = train_tagger(model, _synthetic_tagged(rng, 20), steps=1000, seconds=0.3, B=2, progress=False)
    assert 0 < hist.steps < 1000


# ---------------------------------------------------------------------------------------------- evaluation


def test_predict_tags_keeps_the_data_order(rng: np.random.Generator) -> None:
    data = _synthetic_tagged(rng, 23, lo=1, hi=12)
    model = _tagger("gru", True)
    pred = predict_tags(model, data, B=4)
    for (x, _), p in zip(data, pred, strict=True):
        alone = model(torch.from_numpy(x[None]), torch.tensor([len(x)]))[0].argmax(-1).numpy()
        assert p.tolist() == alone.tolist()
    hits = sum(int((p == y).sum()) for p, (_, y) in zip(pred, data, strict=True))
    assert tag_accuracy(model, data) == hits / sum(len(y) for _, y in data)


def test_most_frequent_tag_baseline_by_hand() -> None:
    train = [(["the", "can", "can"], ["DET", "AUX", "NOUN"]), (["a", "can"], ["DET", "NOUN"]),
             (["run"], ["VERB"]), (["dogs"], ["NOUN"])]
    # can -> NOUN (2 of 3); unknown words -> the commonest tag overall, NOUN (3 of 7)
    test = [(["the", "can", "run", "fish"], ["DET", "AUX", "VERB", "NOUN"]), (["dog"], ["VERB"])]
    assert most_frequent_tag_baseline(train, test) == 3 / 5
    with pytest.raises(ValueError, match="no tagged words"):
        most_frequent_tag_baseline([], test)


def test_confusion_matrix_and_most_confused_pairs_by_hand() -> None:
    labels = ["NOUN", "VERB", "ADJ"]
    gold = [["NOUN", "NOUN", "VERB"], ["ADJ", "NOUN", "VERB"]]
    pred = [["NOUN", "VERB", "VERB"], ["NOUN", "VERB", "NOUN"]]
    cm = confusion_matrix(gold, pred, labels)
    assert cm.tolist() == [[1, 2, 0], [1, 1, 0], [1, 0, 0]] and cm.dtype == np.int64
    flat = confusion_matrix(np.array([0, 0, 1, 2, 0, 1]), np.array([0, 1, 1, 0, 1, 0]), [0, 1, 2])
    assert flat.tolist() == cm.tolist()
    assert most_confused_pairs(cm, labels, 2) == [("NOUN", "VERB", 2), ("VERB", "NOUN", 1)]
    assert len(most_confused_pairs(cm, labels, 10)) == 3  # only the non-zero off-diagonal cells
    with pytest.raises(ValueError, match="not in the label list"):
        confusion_matrix(["NOUN"], ["DET"], labels)
    with pytest.raises(ValueError, match="labels"):
        confusion_matrix(["NOUN", "VERB"], ["NOUN"], labels)


def test_entity_f1_of_a_tagger_that_always_says_b_loc() -> None:
    tag_vocab = Vocab(["O", "B-LOC", "I-LOC"])
    model = SequenceTagger(V, d, n, 3)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(torch.eye(3)[tag_vocab.stoi["B-LOC"]])  # every token is predicted B-LOC
    data = encode_tagged([(["a", "b", "c"], ["B-LOC", "I-LOC", "O"]), (["d"], ["B-LOC"])],
                         WordVocab("abcd"), tag_vocab)
    got = entity_f1(model, data, tag_vocab)
    assert got == span_f1([["B-LOC", "I-LOC", "O"], ["B-LOC"]], [["B-LOC"] * 3, ["B-LOC"]])
    assert (got["n_gold"], got["n_pred"], got["n_correct"]) == (2, 4, 1)


def test_word_shape_signatures() -> None:
    from lecture_code.tagging import SHAPES, word_shape

    cases = {"Obama": "<unk:Xx>", "NASA": "<unk:XX>", "walked": "<unk:x>", "3.5": "<unk:0>", "@bob": "<unk:@>",
             "#nlp": "<unk:#>", "https://t.co/x": "<unk:url>", "!!": "<unk:-->", "e-mail": "<unk:x>", "I": "<unk:Xx>"}
    assert {w: word_shape(w) for w in cases} == cases
    assert set(cases.values()) == set(SHAPES)


def test_shape_vocab_encodes_unknown_words_by_shape_and_known_words_lowercased() -> None:
    from lecture_code.tagging import WordVocab

    v = WordVocab(["the", "The", "cat", "cat", "Zork"], min_freq=2, lower=True, shapes=True)
    ids = v.encode(["THE", "cat", "Paris", "1999", "dog"])
    assert [v.itos[i] for i in ids] == ["the", "cat", "<unk:Xx>", "<unk:0>", "<unk:x>"]
    plain = WordVocab(["the", "The", "cat", "cat"], min_freq=2, lower=True)
    assert [plain.itos[i] for i in plain.encode(["Paris", "cat"])] == ["<unk>", "cat"]
