"""Contrastive loss of the dual encoder."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def info_nce(
    queries: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor | None = None, temperature: float = 0.05
) -> torch.Tensor:
    """InfoNCE over in-batch negatives: query i's positive is passage i, every other passage
    in the batch (and every hard negative) is a negative. Inputs are L2-normalised, so the
    logits are cosine similarities divided by the temperature."""
    passages = positives if negatives is None else torch.cat([positives, negatives])
    logits = queries @ passages.T / temperature
    return F.cross_entropy(logits, torch.arange(len(queries), device=queries.device))
