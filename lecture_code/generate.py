"""Generating text from a language model by repeated sampling.

The sampled token becomes the next step's input. Temperature τ rescales the logits before
the softmax, p = softmax(z / τ): τ < 1 sharpens the distribution, τ > 1 flattens it, and
τ → 0 becomes greedy decoding. Top-k sampling keeps only the k most likely tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .models import RNNLM
from .numpy_rnn import sample_next  # noqa: F401  (the NumPy sampler lives with the other references)


def top_k_logits(logits: torch.Tensor, k: int | None) -> torch.Tensor:
    """Keep the k largest logits in the last axis and set the rest to -inf (k=None keeps all)."""
    if k is None or k >= logits.shape[-1]:
        return logits
    if k < 1:
        raise ValueError(f"top_k must be >= 1, got {k}")
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def next_token_probs(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None) -> torch.Tensor:
    """The sampling distribution softmax(top_k(logits) / τ) over the last axis."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return torch.softmax(top_k_logits(logits, top_k) / temperature, dim=-1)


@torch.no_grad()
def generate(
    model: RNNLM,
    prompt: Sequence[int],
    n_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
) -> list[int]:
    """Continue ``prompt`` (token ids) by ``n_tokens`` sampled tokens; returns only the new ids.

    ``temperature=0`` means greedy decoding (always the most likely token).
    """
    if len(prompt) == 0:
        raise ValueError("the prompt needs at least one token")
    model.eval()
    dev = next(model.parameters()).device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.as_tensor(list(prompt), dtype=torch.long, device=dev)[None]
    logits, state = model(x)  # read the whole prompt
    out: list[int] = []
    for _ in range(n_tokens):
        last = logits[0, -1].float().cpu()
        if temperature == 0:
            nxt = int(last.argmax())
        else:
            nxt = int(torch.multinomial(next_token_probs(last, temperature, top_k), 1, generator=gen))
        out.append(nxt)
        logits, state = model(torch.tensor([[nxt]], device=dev), state)  # the sample is the next input
    return out
