"""Recorded runs: the experiments whose claims need more than a one-minute chapter.

``python -m lecture_code.reproduce list`` prints them; ``python -m lecture_code.reproduce run NAME [--smoke]``
runs one and writes ``results/NAME.json`` (see :mod:`lecture_code.reproduce.record`) and a figure beside it.
"""

from __future__ import annotations

from .clipping import EXPERIMENT as CLIPPING_LM
from .core import Context, Experiment, Outcome, run_experiment
from .depth import EXPERIMENT as DEPTH
from .memory_span import EXPERIMENT as MEMORY_SPAN
from .ptb_lm import EXPERIMENT as PTB_LM
from .zaremba import EXPERIMENT as ZAREMBA_SMALL

EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in (PTB_LM, ZAREMBA_SMALL, MEMORY_SPAN, CLIPPING_LM, DEPTH)}

__all__ = ["EXPERIMENTS", "Context", "Experiment", "Outcome", "run_experiment"]
