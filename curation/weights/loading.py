"""Finding a weights file and reading it: the one resolver and the one strict loader of backdrop.

`resolve_weights(name, path, weights_dir=...)` turns a registry name into a local file: an explicit path wins, else
the canonical file name in `weights_dir`, else in the default weights directory (the one `backdrop weights download`
fills). It never falls back from a location the caller chose to another one, so the file that is loaded is the one
asked for; a missing file raises `WeightsNotFoundError` naming the entry, where it looked, and how to get the file.

Checkpoints are read with `torch.load(weights_only=True)` (no code runs from the file) or as safetensors, and loaded
with `strict=True`. torch is imported inside the functions: the registry and `backdrop weights` do not need it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from curation.weights.registry import default_weights_dir, get_entry, how_to_get, weights_path

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "WeightsNotFoundError",
    "load_state_dict_file",
    "load_strict",
    "load_torchscript",
    "locate_weights",
    "resolve_weights",
]

Module = TypeVar("Module", bound="nn.Module")
_CONTAINER_KEYS = ("state_dict", "model", "module")


class WeightsNotFoundError(FileNotFoundError):
    """A weights file is missing; the message names the entry, the path looked at and how to get the file."""


def locate_weights(
    name: str, path: str | os.PathLike | None = None, *, weights_dir: str | os.PathLike | None = None
) -> Path:
    """Where the file of registry entry `name` is looked for: `path` when given, else its canonical file name in
    `weights_dir`, else in `default_weights_dir()`. Unknown names raise UnknownWeightsError; nothing is checked."""
    entry = get_entry(name)
    if path:
        return Path(path).expanduser()
    return weights_path(entry.filename, weights_dir)


def resolve_weights(
    name: str,
    path: str | os.PathLike | None = None,
    *,
    weights_dir: str | os.PathLike | None = None,
    override: str = "",
) -> Path:
    """The local file of registry entry `name` (see `locate_weights` for the order), or WeightsNotFoundError.

    `override` tells the user how the caller sets another location (`--weights NAME=PATH or --weights-dir DIR`,
    `cotracker.checkpoint`); it is added to the error message.
    """
    located = locate_weights(name, path, weights_dir=weights_dir)
    if located.is_file():
        return located
    entry = get_entry(name)
    if path:
        where = "the path given"
    elif weights_dir:
        where = "the weights directory given"
    else:
        where = "the default weights directory ($BACKDROP_WEIGHTS, else ~/.cache/backdrop/weights)"
    # The canonical file goes where the caller would look without an explicit path.
    how = how_to_get(entry, weights_dir or default_weights_dir())
    message = f"weights {name} ({entry.filename}) not found at {located}, {where}; backdrop never downloads them on "
    message += f"its own: {how}"
    if override:
        message += f"; or set another location with {override}"
    raise WeightsNotFoundError(message)


def load_state_dict_file(path: str | os.PathLike, *, map_location: str = "cpu") -> dict[str, torch.Tensor]:
    """A state dict from a local checkpoint: safetensors by suffix, else `torch.load(weights_only=True)`.

    Unwraps the usual containers ({'state_dict': ...} of 3D-ResNets, {'model'|'module': ...} of VideoMAE and SAM 2)
    and the 'module.' prefix DataParallel adds, so the keys are the architecture's own.
    """
    import torch

    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            obj: object = load_file(os.fspath(path), device=map_location)
        else:
            obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # the unpickler raises several types; all mean the same to the user
        raise ValueError(f"{path}: cannot be read with torch.load(weights_only=True) or safetensors: {exc}") from exc
    for key in _CONTAINER_KEYS:
        if isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
            obj = obj[key]
            break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{path}: does not hold a state dict of tensors")
    return {(k[len("module.") :] if k.startswith("module.") else k): v for k, v in obj.items()}


def load_strict(module: Module, path: str | os.PathLike, *, map_location: str = "cpu") -> Module:
    """Load `path` into `module` with strict=True and return it in eval mode; a mismatch names the file and the
    differing keys."""
    state = load_state_dict_file(path, map_location=map_location)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not match the {type(module).__name__} architecture: {exc}") from exc
    return module.eval()


def load_torchscript(path: str | os.PathLike, *, map_location: str = "cpu") -> torch.jit.ScriptModule:
    """A TorchScript archive (StyleGAN-V's I3D), on `map_location`."""
    import torch

    # torch.jit.load restores a serialized TorchScript program (code and tensors from the archive), not a pickle.
    try:
        return torch.jit.load(os.fspath(path), map_location=map_location)
    except Exception as exc:
        raise ValueError(f"{path}: not a TorchScript archive: {exc}") from exc
