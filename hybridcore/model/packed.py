"""A BERT forward pass over real tokens only, for training.

A training batch holds short queries and long positives, each padded to its own longest
text: about half the tokens a padded forward multiplies are padding (measured on MLQA-R,
batches of 16 and 32). Here every group of texts (the queries, the positives, the hard
negatives) is flattened to its real tokens and all groups go through the model together:
the linear layers, GELU, layer norms and residuals see only real tokens, in one product per
layer, and the word embedding runs (and is differentiated) once a step instead of once a
group. Only attention works on padded tensors, one group at a time, with its padding masked
as the padded forward masks it (``hybridcore.model.attention``); for training, on blocks of
texts of similar length within a group instead (:func:`attention_blocks`): in a batch of 16
sentences one of 159 tokens padded all to 159 for attention, whose work grows with the
square of the width.

The arithmetic is the padded forward's: the same modules and weights, in the same order, on
the same real tokens; dropout draws differ (it masks a differently shaped tensor), so runs
with dropout match in distribution, and runs without it match within fp32 rounding
(``tests/test_packed.py``). In eval, with one block per group, the hidden states equal the
padded forward's bit for bit on e5-small in fp32 with PyTorch's own linear layers (measured;
the encoder's cache relies on it there, ``tests/test_encoder.py``). Only the plain BERT
encoder (absolute positions, no decoder) is packed; :func:`can_pack` says so, and other
models take their own forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import BertModel

from hybridcore.model.attention import attend
from hybridcore.model.dropout import dropout


def can_pack(model: torch.nn.Module) -> bool:
    """Whether ``model`` is a BERT encoder this module computes exactly."""
    if type(model) is not BertModel:
        return False
    c = model.config
    return (
        getattr(c, "position_embedding_type", "absolute") == "absolute"
        and not c.is_decoder
        and not c.add_cross_attention
        and not c.chunk_size_feed_forward
    )


# With ``by_length``, a group's texts are cut into attention blocks, longest first, a new block
# starting where a text is shorter than this share of its block's longest: attention's work
# grows with a block's rows x width^2, and one long text in a batch of short ones would
# otherwise set the width of all.
BLOCK_LENGTH_SHARE = 0.75


@dataclass
class _Grid:
    """A run of packed tokens laid out as a padded grid: one input group, or one attention block."""

    start: int  # first packed token of the run
    end: int
    rows: int  # texts in the grid
    width: int  # its padded length
    flat: torch.Tensor  # each packed token's position in the (rows * width) grid, in packed order
    key_mask: torch.Tensor  # (rows, 1, 1, width): True on real keys


def attention_blocks(lengths: Sequence[int], by_length: bool) -> list[list[int]]:
    """The rows of one group in attention blocks: all in one, in order, or ``by_length``
    longest first, a block ending before a text shorter than ``BLOCK_LENGTH_SHARE`` of its
    first."""
    if not by_length:
        return [list(range(len(lengths)))]
    blocks: list[list[int]] = []
    for row in sorted(range(len(lengths)), key=lambda r: -lengths[r]):
        if not blocks or lengths[row] < BLOCK_LENGTH_SHARE * lengths[blocks[-1][0]]:
            blocks.append([])
        blocks[-1].append(row)
    return blocks


def _pack(
    groups: Sequence[dict[str, torch.Tensor]], by_length: bool
) -> tuple[dict[str, torch.Tensor], list[_Grid], list[_Grid]]:
    """The packed inputs, each group's grid and the attention blocks' grids. Every block is a
    contiguous run of packed tokens, and a group's blocks follow one another."""
    ids, types, positions, outputs, blocks, start = [], [], [], [], [], 0
    for inputs in groups:
        mask = inputs["attention_mask"].bool()
        rows, width = mask.shape
        if bool((mask[:, 1:] > mask[:, :-1]).any()):
            raise ValueError("packing needs right-padded inputs: this batch has padding before real tokens")
        lengths = mask.sum(1).tolist()
        token_types = inputs.get("token_type_ids")
        group_start, group_flat = start, []
        for block in attention_blocks(lengths, by_length):
            block_width = max(lengths[r] for r in block) if by_length else width
            block_mask = mask[block, :block_width]
            flat = block_mask.reshape(-1).nonzero().squeeze(1)
            column = flat % block_width  # left-aligned texts: a token's column is its position
            in_group = torch.tensor(block, device=mask.device)[flat // block_width] * width + column
            ids.append(inputs["input_ids"].reshape(-1)[in_group])
            types.append(token_types.reshape(-1)[in_group] if token_types is not None else torch.zeros_like(flat))
            positions.append(column)
            group_flat.append(in_group)
            blocks.append(
                _Grid(start, start + flat.numel(), len(block), block_width, flat, block_mask[:, None, None, :])
            )
            start += flat.numel()
        outputs.append(_Grid(group_start, start, rows, width, torch.cat(group_flat), mask[:, None, None, :]))
    packed = {"input_ids": torch.cat(ids), "token_type_ids": torch.cat(types), "position_ids": torch.cat(positions)}
    return packed, outputs, blocks


def _unpad(padded: torch.Tensor, group: _Grid) -> torch.Tensor:
    return padded.reshape(group.rows * group.width, -1)[group.flat]


def _pad(packed: torch.Tensor, group: _Grid) -> torch.Tensor:
    grid = packed.new_zeros(group.rows * group.width, packed.shape[-1])
    return grid.index_copy(0, group.flat, packed).view(group.rows, group.width, -1)


def _attention(layer, hidden: torch.Tensor, layout: list[_Grid]) -> torch.Tensor:
    attn = layer.attention.self
    heads, size = attn.num_attention_heads, attn.attention_head_size
    q, k, v = attn.query(hidden), attn.key(hidden), attn.value(hidden)
    dropout = attn.dropout.p if attn.training else 0.0
    outputs = []
    for g in layout:

        def split(x: torch.Tensor, g: _Grid = g) -> torch.Tensor:
            return _pad(x[g.start : g.end], g).view(g.rows, g.width, heads, size).transpose(1, 2)

        out = attend(split(q), split(k), split(v), g.key_mask, dropout, attn.scaling)
        outputs.append(_unpad(out.transpose(1, 2), g))
    return _residual(layer.attention.output, torch.cat(outputs), hidden)


def _dropout(module: torch.nn.Dropout, x: torch.Tensor) -> torch.Tensor:
    return dropout(x, module.p, module.training)


def _residual(output, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
    """``BertSelfOutput`` and ``BertOutput``: projection, dropout, residual, layer norm."""
    return output.LayerNorm(_dropout(output.dropout, output.dense(x)) + residual)


def packed_hidden_states(
    model: BertModel, groups: Sequence[dict[str, torch.Tensor]], by_length: bool = False
) -> list[torch.Tensor]:
    """The last hidden states of each padded group of inputs, as ``model(**inputs)`` gives
    them on real tokens (zeros on padding), computed in one packed pass; ``by_length``,
    attention runs on blocks of texts of similar length (:func:`attention_blocks`)."""
    packed, outputs, blocks = _pack(groups, by_length)
    emb = model.embeddings
    hidden = (
        emb.word_embeddings(packed["input_ids"])
        + emb.token_type_embeddings(packed["token_type_ids"])
        + emb.position_embeddings(packed["position_ids"])
    )
    hidden = _dropout(emb.dropout, emb.LayerNorm(hidden))
    for layer in model.encoder.layer:
        attended = _attention(layer, hidden, blocks)
        hidden = _residual(layer.output, layer.intermediate(attended), attended)
    return [_pad(hidden[g.start : g.end], g) for g in outputs]


def hidden_states(
    model: torch.nn.Module, groups: Sequence[dict[str, torch.Tensor]], packed: bool, by_length: bool = False
) -> list[torch.Tensor]:
    """Each padded group's last hidden states: in one packed pass where ``packed`` (the
    caller has checked :func:`can_pack`), else the model's own padded forward, group by group."""
    if packed:
        return packed_hidden_states(model, groups, by_length)  # type: ignore[arg-type]
    return [model(**inputs).last_hidden_state for inputs in groups]
