"""Shared code for the CS224N Lecture 6 companion: simple and LSTM recurrent neural networks.

One module per idea of the lecture:

- :mod:`lecture_code.config`     quick and full run modes, seeding
- :mod:`lecture_code.data`       the dataset registry, checked downloads, corpus readers
- :mod:`lecture_code.corpora`    readers for the tagging and classification corpora (EWT, WNUT-17, SST-2, rt-polarity)
- :mod:`lecture_code.text`       vocabularies; LM streams for truncated BPTT; padded batches with lengths and masks
- :mod:`lecture_code.numpy_rnn`  the RNN-LM from scratch in NumPy, forward and BPTT, as the slides write it
- :mod:`lecture_code.numpy_lstm` the LSTM (forward and BPTT) and the GRU from scratch in NumPy
- :mod:`lecture_code.models`     the same cells with torch ops, and the RNN language models
- :mod:`lecture_code.ngram`      the count-based baseline: interpolated modified Kneser-Ney
- :mod:`lecture_code.train`      one training loop for every chapter
- :mod:`lecture_code.generate`   sampling with temperature and top-k
- :mod:`lecture_code.bptt`       per-occurrence gradients and truncated BPTT, measured
- :mod:`lecture_code.gradients`  gradient checks; Jacobian products, eigen-terms, clipping
- :mod:`lecture_code.exploding`  the error-surface cliff of a one-unit RNN (Pascanu et al. 2013)
- :mod:`lecture_code.tasks`      the long-distance dependency (copy) task
- :mod:`lecture_code.deep`       vanishing gradients in deep feed-forward networks
- :mod:`lecture_code.numpy_tagging` tagging and pooling references in NumPy; entity spans and span F1
- :mod:`lecture_code.tagging`    sequence taggers (POS, NER); :mod:`lecture_code.classify` sentence classifiers
- :mod:`lecture_code.seq2seq`    a conditional language model: an encoder-decoder that spells numbers
- :mod:`lecture_code.lstm_analysis` gate traces, cell gradients and memory spans of trained LSTMs
- :mod:`lecture_code.birnn`      bidirectional and stacked RNNs in NumPy; :mod:`lecture_code.deep_rnn` in PyTorch
- :mod:`lecture_code.plots`      figures; :mod:`lecture_code.widgets` interactive demos
- :mod:`lecture_code.grading`    the exercise checker, registry and generator
- :mod:`lecture_code.reproduce`  recorded runs of the long experiments, each with a results file and a verdict
"""

__version__ = "0.1.0"
