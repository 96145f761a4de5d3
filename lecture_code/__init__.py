"""Shared code for the CS224N Lecture 6 companion: simple and LSTM recurrent neural networks.

One module per idea of the lecture, in the book's order:

- ``config``            quick and full run modes, seeding, progress bars
- ``data``, ``corpora``   the dataset registry and checked downloads; readers for EWT, WNUT-17, SST-2, rt-polarity
- ``text``              vocabularies; LM streams for truncated BPTT; padded batches with lengths and masks
- ``claims``            measured claims: each prose sentence that reads a number, checked where it is made

Chapter 1, RNN language models:

- ``numpy_rnn``         the RNN-LM from scratch in NumPy, forward and BPTT, as the slides write it
- ``models``            the lecture's cells with torch ops (RNN, LSTM, GRU), and the RNN language models
- ``ngram``             the count-based baseline: interpolated modified Kneser-Ney
- ``train``, ``generate`` one training loop for every chapter; sampling with temperature and top-k

Chapter 2, backpropagation through time: ``bptt`` (per-occurrence gradients, truncation) and ``gradients``
(finite-difference checks, Jacobian products, eigen-terms, clipping).

Chapter 3, other uses of RNNs:

- ``numpy_tagging``     tagging and pooling heads in NumPy; entity spans and span F1
- ``tagging``           sequence taggers (POS, NER); ``classify`` sentence classifiers; ``seq2seq`` an
  encoder-decoder (a conditional LM) that spells numbers

Chapter 4, vanishing and exploding gradients: ``exploding`` (the one-unit cliff of Pascanu et al. 2013),
``deep_feedforward`` (the same problem in deep feed-forward nets, and its fixes), ``tasks`` (the copy task).

Chapter 5, LSTMs: ``numpy_lstm`` (the LSTM and GRU from scratch, forward and BPTT) and ``lstm_experiments``
(gate traces, interpretable cells, cell gradients, memory spans, the Zaremba et al. recipe).

Chapter 6, bidirectional and multi-layer RNNs: ``numpy_deep_rnn`` (NumPy references), ``deep_rnn`` (the
PyTorch modules) and ``deep_rnn_experiments`` (which side decides, why a bidirectional RNN is no LM, depth).

Around the chapters: ``plots`` (figures and tables), ``diagrams`` (the architecture diagrams, SVG written from
code into chapters/diagrams/), ``widgets`` (interactive demos), ``grading`` (the exercise
checker, registry, generator and sandboxed grader), ``reproduce`` (recorded runs of the long experiments).
"""

__version__ = "0.1.0"
