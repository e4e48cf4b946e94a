"""Frozen lower layers run once per sentence, not once per epoch.

With ``freeze_layers`` set, the embeddings and the lowest encoder layers never change while a
model is fine-tuned, so their output for a sentence is the same in every epoch, in the dev
scoring after each epoch and in the refit. :func:`memoise_frozen_layers` puts a stand-in in
their place in the encoder's layer stack: the first time a sentence is seen, the real layers
run (in eval mode, without gradients); later passes read the stored output. Frozen layers
therefore run without dropout. :func:`restore_frozen_layers` puts the real layers back before
the model is saved. The store is keyed by token ids, so it outlives one model: the refit, a
fresh model from the same base, reads what the early-stopping run stored.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

Key = tuple[int, ...]


class FrozenOutputs:
    """The frozen layers' output per sentence (token ids without padding → [tokens, hidden])."""

    def __init__(self) -> None:
        self.rows: dict[Key, torch.Tensor] = {}
        self.current: list[Key] = []
        self.returns_tuple = False

    def remember_inputs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> None:
        """Key each sentence of the batch by its token ids. The key drops the padding and the
        stored output is read back from position 0, so the padding must be on the right."""
        if not torch.equal(attention_mask.cummin(dim=1).values, attention_mask):
            raise ValueError(
                "frozen layers are stored per sentence only for right-padded batches; "
                "set the tokenizer's padding_side to 'right' or train with --freeze-layers 0"
            )
        self.current = [
            tuple(ids[mask.bool()].tolist())
            for ids, mask in zip(input_ids.cpu(), attention_mask.cpu(), strict=True)
        ]

    def lookup(self, width: int, like: torch.Tensor) -> torch.Tensor | None:
        """The current batch's stored output padded to ``width`` tokens, or None on a miss."""
        if not all(key in self.rows for key in self.current):
            return None
        batch = like.new_zeros(len(self.current), width, like.shape[-1])
        for i, key in enumerate(self.current):
            batch[i, : len(key)] = self.rows[key]
        return batch

    def store(self, output: torch.Tensor) -> None:
        for i, key in enumerate(self.current):
            self.rows[key] = output[i, : len(key)].detach().clone()


class FrozenStack(nn.Module):
    """Stands in for the frozen layers at the bottom of the stack: reads the stored output of
    the current batch, or runs the real layers and stores theirs."""

    def __init__(self, layers: list[nn.Module], outputs: FrozenOutputs) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.outputs = outputs
        self.dropout: nn.Module = nn.Identity()
        self.hook: Any = None

    def forward(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        found = self.outputs.lookup(hidden_states.shape[1], hidden_states)
        if found is None:
            found = self.run_layers(hidden_states, *args, **kwargs)
            self.outputs.store(found)
        return (found,) if self.outputs.returns_tuple else found

    def run_layers(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        self.layers.eval()
        with torch.no_grad():
            for layer in self.layers:
                result = layer(hidden_states, *args, **kwargs)
                self.outputs.returns_tuple = isinstance(result, tuple)
                hidden_states = result[0] if self.outputs.returns_tuple else result
        return hidden_states


class PassThrough(nn.Module):
    """Fills the frozen layers' other places in the stack; what the real layer would have
    taken in, it hands on, in the shape a layer returns."""

    def __init__(self, outputs: FrozenOutputs) -> None:
        super().__init__()
        self.outputs = outputs

    def forward(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        return (hidden_states,) if self.outputs.returns_tuple else hidden_states


def memoise_frozen_layers(model: nn.Module, layers: int, outputs: FrozenOutputs) -> None:
    """Replace the ``layers`` lowest encoder layers of ``model`` by a :class:`FrozenStack`,
    and the embeddings' dropout by an identity, so that what is stored is what the frozen
    layers give in eval mode."""
    base: Any = model.base_model
    stack = base.encoder.layer
    frozen = FrozenStack(list(stack[:layers]), outputs)
    frozen.dropout = base.embeddings.dropout
    frozen.hook = model.register_forward_pre_hook(remember_batch(outputs), with_kwargs=True)
    base.embeddings.dropout = nn.Identity()
    stack[0] = frozen
    for i in range(1, layers):
        stack[i] = PassThrough(outputs)


def remember_batch(outputs: FrozenOutputs) -> Any:
    def hook(_module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        outputs.remember_inputs(kwargs["input_ids"], kwargs["attention_mask"])

    return hook


def restore_frozen_layers(model: nn.Module) -> None:
    """Put the real layers back in place of the stand-ins, and drop the hook."""
    base: Any = model.base_model
    frozen = base.encoder.layer[0]
    if not isinstance(frozen, FrozenStack):
        return
    for i, layer in enumerate(list(frozen.layers)):
        base.encoder.layer[i] = layer
    base.embeddings.dropout = frozen.dropout
    frozen.hook.remove()
