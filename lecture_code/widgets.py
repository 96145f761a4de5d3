"""Interactive demos. Each has a static figure beside it in the book, so a reader without a kernel sees the point."""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as w

from .generate import generate
from .models import RNNLM
from .text import Vocab


def sampling_explorer(model: RNNLM, vocab: Vocab, prompt: Sequence[str], n_tokens: int = 200,
                      sep: str = "") -> w.VBox:
    """Sliders for temperature, top-k and the seed; shows text sampled from ``model`` after ``prompt``.

    Temperature 0 is greedy decoding; top-k 0 means no top-k filtering.
    """
    wide = {"description_width": "initial"}
    temperature = w.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.05, description="temperature τ",
                                continuous_update=False, style=wide)
    top_k = w.IntSlider(value=0, min=0, max=len(vocab), description="top-k (0 = all)", continuous_update=False,
                        style=wide)
    seed = w.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False)
    out = w.HTML(layout={"border": "1px solid #ddd", "padding": "4px"})
    ids = vocab.encode(prompt)

    def show(*_: object) -> None:
        new = generate(model, ids, n_tokens, temperature=temperature.value,
                       top_k=top_k.value or None, seed=seed.value)
        text = vocab.decode(ids, sep) + sep + vocab.decode(new, sep)
        out.value = f"<pre style='margin:0; white-space:pre-wrap'>{html.escape(text)}</pre>"

    for s in (temperature, top_k, seed):
        s.observe(show, names="value")
    show()
    return w.VBox([w.HBox([temperature, top_k, seed]), out])
