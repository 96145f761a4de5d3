"""Tests for lecture_code.classify: pooling against the NumPy reference, the sentence classifier's padding
invariance, training, the bag-of-words baseline, and nearest neighbours of sentence vectors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from lecture_code.classify import (
    SentenceClassifier,
    bow_loss_and_grad,
    build_word_vocab,
    classification_accuracy,
    encode_labelled,
    fit_bow_logreg,
    misclassified,
    nearest_neighbours,
    neighbour_label_agreement,
    pool_hidden_states_torch,
    predict_proba,
    sentence_vectors,
    tokens_and_label,
    train_classifier,
)
from lecture_code.corpora import LabeledSentence
from lecture_code.numpy_tagging import pool_hidden_states
from lecture_code.text import pad_sequences

CELLS = ["rnn", "lstm", "gru"]
POOLS = ["last", "max", "mean"]
V, d, n, C = 11, 5, 7, 3


def _classifier(cell: str, pool: str, bidirectional: bool, seed: int = 0) -> SentenceClassifier:
    torch.manual_seed(seed)
    return SentenceClassifier(V, d, n, C, cell=cell, pool=pool, bidirectional=bidirectional).double().eval()


def _pad(seqs: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    ids, lengths = pad_sequences(seqs)
    return torch.from_numpy(ids), torch.from_numpy(lengths)


# ---------------------------------------------------------------------------------------------- pooling


@pytest.mark.parametrize("mode", POOLS)
def test_torch_pooling_equals_the_numpy_reference(mode: str, rng: np.random.Generator) -> None:
    H = rng.normal(size=(4, 6, 3)) - 2.0  # mostly negative: zeros at padding would win a careless max
    lengths = np.array([6, 1, 3, 4])
    want = pool_hidden_states(H, lengths, mode)
    H_t = torch.from_numpy(H.copy())
    H_t[1, 1:] = torch.nan  # whatever sits at padding never matters
    got = pool_hidden_states_torch(H_t, torch.from_numpy(lengths), mode)
    assert got.shape == (4, 3)
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-12)


def test_bidirectional_last_pooling_is_forward_end_and_backward_start(rng: np.random.Generator) -> None:
    H = torch.from_numpy(rng.normal(size=(2, 5, 4)))
    got = pool_hidden_states_torch(H, [3, 5], "last", bidirectional=True)
    torch.testing.assert_close(got[0], torch.cat([H[0, 2, :2], H[0, 0, 2:]]), rtol=0, atol=0)
    torch.testing.assert_close(got[1], torch.cat([H[1, 4, :2], H[1, 0, 2:]]), rtol=0, atol=0)
    # for max and mean the direction does not matter
    for mode in ("max", "mean"):
        torch.testing.assert_close(pool_hidden_states_torch(H, [3, 5], mode, bidirectional=True),
                                   pool_hidden_states_torch(H, [3, 5], mode), rtol=0, atol=0)


@pytest.mark.parametrize("cell", CELLS)
def test_last_pooling_equals_the_final_states_of_torch_rnn(cell: str) -> None:
    """The bidirectional 'last' encoding is exactly h_n (forward, backward) of the RNN on the packed batch."""
    model = _classifier(cell, "last", True)
    ids, lengths = _pad([np.array([3, 4, 5, 6]), np.array([7, 8])])
    packed = pack_padded_sequence(model.encoder.embedding(ids), lengths, batch_first=True, enforce_sorted=False)
    _, h_n = model.encoder.rnn(packed)
    h_n = h_n[0] if cell == "lstm" else h_n  # (2 directions, B, n)
    torch.testing.assert_close(model.encode(ids, lengths), torch.cat([h_n[0], h_n[1]], dim=-1), rtol=0, atol=1e-12)


def test_pooling_rejects_bad_input() -> None:
    H = torch.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="mode"):
        pool_hidden_states_torch(H, [1, 2], "sum")
    with pytest.raises(ValueError, match="lengths"):
        pool_hidden_states_torch(H, [1, 4], "max")
    with pytest.raises(ValueError, match=r"\(B, T, k\)"):
        pool_hidden_states_torch(torch.zeros(3, 4), [1, 2, 3], "max")
    with pytest.raises(ValueError, match="even"):
        pool_hidden_states_torch(torch.zeros(2, 3, 5), [1, 2], "last", bidirectional=True)
    with pytest.raises(ValueError, match="pool"):
        SentenceClassifier(V, d, n, C, pool="attention")


# ---------------------------------------------------------------------------------------------- the model


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("cell", CELLS)
def test_classifier_shapes_and_padding_invariance(cell: str, pool: str, bidirectional: bool) -> None:
    model = _classifier(cell, pool, bidirectional)
    rng = np.random.default_rng(1)
    x = rng.integers(1, V, size=5)
    alone_z = model.encode(torch.from_numpy(x[None]), torch.tensor([5]))
    alone = model(torch.from_numpy(x[None]), torch.tensor([5]))
    assert alone_z.shape == (1, 2 * n if bidirectional else n) and alone.shape == (1, C)
    for other_len in (2, 12):
        ids, lengths = _pad([rng.integers(1, V, size=other_len), x])
        torch.testing.assert_close(model.encode(ids, lengths)[1], alone_z[0], rtol=0, atol=1e-12)
        torch.testing.assert_close(model(ids, lengths)[1], alone[0], rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------------- training, evaluation


def _synthetic_labelled(rng: np.random.Generator, N: int) -> list[tuple[np.ndarray, int]]:
    """Sentences of ids 2..V-1; the label is which of the ids 2, 3, 4 occurs first (0 when none does)."""
    out = []
    for _ in range(N):
        x = rng.integers(2, V, size=int(rng.integers(2, 10)))
        first = [int(v) - 2 for v in x if v in (2, 3, 4)]
        out.append((x.astype(np.int64), first[0] if first else 0))
    return out


def test_a_tiny_training_run_lowers_the_loss(rng: np.random.Generator) -> None:
    train, dev = _synthetic_labelled(rng, 300), _synthetic_labelled(rng, 60)
    torch.manual_seed(0)
    model = SentenceClassifier(V, 8, 16, C, cell="gru", pool="max")
    hist = train_classifier(model, train, dev, steps=80, B=16, lr=2e-2, seed=0, progress=False)
    assert hist.steps == 80 and hist.valid_step == [80]
    assert np.mean(hist.train_loss[-10:]) < 0.6 * np.mean(hist.train_loss[:10])
    assert classification_accuracy(model, dev) > 0.7


def test_predictions_vectors_and_mistakes_keep_the_data_order(rng: np.random.Generator) -> None:
    data = _synthetic_labelled(rng, 17)
    model = _classifier("lstm", "mean", False)
    Z, P = sentence_vectors(model, data), predict_proba(model, data)
    assert Z.shape == (17, n) and P.shape == (17, C)
    for i, (x, _) in enumerate(data):
        ids, lengths = torch.from_numpy(x[None]), torch.tensor([len(x)])
        np.testing.assert_allclose(Z[i], model.encode(ids, lengths)[0].detach().numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(P[i], torch.softmax(model(ids, lengths), -1)[0].detach().numpy(), atol=1e-12)
    gold = np.array([y for _, y in data])
    assert classification_accuracy(model, data) == (P.argmax(1) == gold).mean()
    wrong = misclassified(model, data, k=100)
    assert sorted(i for i, *_ in wrong) == np.flatnonzero(P.argmax(1) != gold).tolist()
    confidences = [p for *_, p in wrong]
    assert confidences == sorted(confidences, reverse=True)
    assert all(g == gold[i] and p == P[i].argmax() for i, g, p, _ in wrong)
    assert misclassified(model, data, k=2) == wrong[:2]


def test_encoding_labelled_items() -> None:
    items = [LabeledSentence(["a", "good", "film"], 1), LabeledSentence(["a", "bad", "film"], 0), (["good"], 1)]
    vocab = build_word_vocab(items, min_freq=2)
    assert vocab.itos == ["<pad>", "<unk>", "a", "film", "good"]
    (x0, y0), _, (x2, y2) = encode_labelled(items, vocab)
    assert x0.tolist() == [2, 4, 3] and (y0, y2) == (1, 1) and x2.tolist() == [4]
    with pytest.raises(ValueError, match="tokens"):
        tokens_and_label({"tokens": []})
    with pytest.raises(ValueError, match="item 1 has no tokens"):
        encode_labelled([(["a"], 0), ([], 1)], vocab)


# ---------------------------------------------------------------------------------------------- the baseline


def test_bow_logreg_needs_bigrams_for_negation() -> None:
    """good/+ bad/- 'not good'/- 'not bad'/+ cannot be separated by unigram weights, and can by bigrams."""
    base = [(["good"], 1), (["bad"], 0), (["not", "good"], 0), (["not", "bad"], 1)]
    train = [([*toks, filler], y) for toks, y in base for filler in ("film", "movie", "story")]
    test = [([*toks, "plot"], y) for toks, y in base]
    uni = fit_bow_logreg(train, train, l2_grid=(1e-3, 1e-2))
    bi = fit_bow_logreg(train, train, bigrams=True, l2_grid=(1e-3, 1e-2))
    assert uni.accuracy(test) <= 0.75 and bi.accuracy(test) == 1.0
    assert set(bi.dev_accuracy) == {1e-3, 1e-2} and bi.l2 in bi.dev_accuracy
    assert bi.predict(test).tolist() == [1, 0, 0, 1]
    # L-BFGS found the minimum: the gradient of the regularised loss vanishes there
    X, y = bi.matrix(train).to_dense(), torch.tensor([lab for _, lab in train], dtype=torch.float64)
    w, b = bi.w.clone().requires_grad_(), bi.b.clone().requires_grad_()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ w + b, y)
    (loss + 0.5 * bi.l2 * (w @ w)).backward()
    assert w.grad.abs().max() < 1e-6 and abs(b.grad.item()) < 1e-6
    with pytest.raises(ValueError, match="binary"):
        fit_bow_logreg([(["a"], 2)], [(["a"], 1)])


def test_bow_gradient_by_hand_matches_autograd_and_finite_differences(rng: np.random.Generator) -> None:
    X = torch.from_numpy(rng.poisson(0.7, size=(9, 6)).astype(np.float64))
    y = torch.from_numpy(rng.integers(0, 2, size=9).astype(np.float64))
    w, b, l2 = torch.from_numpy(rng.normal(size=6)), torch.tensor(0.3, dtype=torch.float64), 0.05
    loss, gw, gb = bow_loss_and_grad(X, y, w, b, l2)
    w_, b_ = w.clone().requires_grad_(), b.clone().requires_grad_()
    auto = torch.nn.functional.binary_cross_entropy_with_logits(X @ w_ + b_, y) + 0.5 * l2 * (w_ @ w_)
    auto.backward()
    assert abs(loss.item() - auto.item()) < 1e-12
    torch.testing.assert_close(gw, w_.grad, rtol=0, atol=1e-12)
    assert abs(gb.item() - b_.grad.item()) < 1e-12
    eps = 1e-6
    for j in range(6):
        e = torch.zeros(6, dtype=torch.float64)
        e[j] = eps
        fd = (bow_loss_and_grad(X, y, w + e, b, l2)[0] - bow_loss_and_grad(X, y, w - e, b, l2)[0]) / (2 * eps)
        assert abs(fd.item() - gw[j].item()) < 1e-8
    # the sparse path (CSR X with a precomputed X^T) gives the same numbers
    Xs = X.to_sparse_csr()
    sparse = bow_loss_and_grad(Xs, y, w, b, l2, X.T.to_sparse_csr())
    for a, c in zip(sparse, (loss, gw, gb), strict=True):
        torch.testing.assert_close(a, c, rtol=0, atol=1e-12)


def test_bow_features_counts_or_binary() -> None:
    items = [(["a", "a", "b"], 1), (["b", "c"], 0)]
    counts = fit_bow_logreg(items, items, binary=False, l2_grid=(1.0,))
    binary = fit_bow_logreg(items, items, binary=True, l2_grid=(1.0,))
    a, b = counts.features["a"], counts.features["b"]
    assert counts.matrix([(["a", "a", "b", "zzz"], 0)]).to_dense()[0, [a, b]].tolist() == [2.0, 1.0]
    assert binary.matrix([(["a", "a", "b"], 0)]).to_dense()[0, [a, b]].tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------------------------------- neighbours


def test_nearest_neighbours_by_cosine_by_hand() -> None:
    Z = np.array([[1.0, 0.0], [10.0, 1.0], [0.0, 1.0], [-1.0, 0.2], [0.1, 2.0]])
    nn_ = nearest_neighbours(Z, k=2)
    # cosine, not distance: row 1 (far away, same direction) is row 0's nearest neighbour
    assert nn_.tolist() == [[1, 4], [0, 4], [4, 3], [2, 4], [2, 1]]
    assert nn_.dtype == np.int64 and not (nn_ == np.arange(5)[:, None]).any()
    assert nearest_neighbours(Z, k=2, chunk=2).tolist() == nn_.tolist()  # chunking changes nothing
    dup = nearest_neighbours(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), k=1)
    assert dup[:, 0].tolist() == [1, 0, 0]  # an identical copy is a neighbour, the item itself never
    labels = [0, 0, 1, 1, 1]
    # row 0: 1, 4 -> 1 of 2 agree; row 1: 0, 4 -> 1; row 2: 4, 3 -> 2; row 3: 2, 4 -> 2; row 4: 2, 1 -> 1
    assert neighbour_label_agreement(Z, labels, k=2) == 7 / 10
    with pytest.raises(ValueError, match="k must"):
        nearest_neighbours(Z, k=5)
    with pytest.raises(ValueError, match="one label per row"):
        neighbour_label_agreement(Z, [0, 1], k=2)
