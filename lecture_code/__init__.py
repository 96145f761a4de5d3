"""Shared code for the CS224N Lecture 6 companion: simple and LSTM recurrent neural networks.

One module per idea of the lecture:

- :mod:`lecture_code.config`     quick and full run modes, seeding
- :mod:`lecture_code.data`       the dataset registry, checked downloads, corpus readers
- :mod:`lecture_code.text`       vocabularies and batching for language modelling
- :mod:`lecture_code.numpy_rnn`  the RNN-LM from scratch in NumPy, forward and BPTT, as the slides write it
- :mod:`lecture_code.models`     the same models in PyTorch
- :mod:`lecture_code.ngram`      the count-based baseline: interpolated modified Kneser-Ney
- :mod:`lecture_code.train`      one training loop for every chapter
- :mod:`lecture_code.generate`   sampling with temperature and top-k
- :mod:`lecture_code.bptt`       per-occurrence gradients and truncated BPTT, measured
- :mod:`lecture_code.gradients`  gradient checks; Jacobian products, eigen-terms, clipping
- :mod:`lecture_code.exploding`  the error-surface cliff of a one-unit RNN (Pascanu et al. 2013)
- :mod:`lecture_code.tasks`      the long-distance dependency (copy) task
- :mod:`lecture_code.deep`       vanishing gradients in deep feed-forward networks
- :mod:`lecture_code.plots`      figures; :mod:`lecture_code.widgets` interactive demos
- :mod:`lecture_code.grading`    the exercise checker, registry and generator
"""

__version__ = "0.1.0"
