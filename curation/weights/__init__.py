"""Weights of the learned backends and metrics: one registry, one downloader, one resolver, one strict loader.

- `curation.weights.registry`: every file under one name (URL or by-hand source, hash, licence, user, file name),
  the default weights directory, and how to get a file (`how_to_get`).
- `curation.weights.fetch`: `backdrop weights download` and `check`, and the lock of hashes recorded at first download.
- `curation.weights.loading`: `resolve_weights` (name [+ explicit path] [+ weights directory] to a local file, or an
  error saying how to get it) and the strict loaders (`load_state_dict_file`, `load_strict`, `load_torchscript`).

The public names of the three modules are re-exported here.
"""

from curation.weights.fetch import (
    LOCK_NAME,
    CheckResult,
    Lock,
    WeightsError,
    check,
    download,
    expected_hash,
    verify,
)
from curation.weights.loading import (
    WeightsNotFoundError,
    load_state_dict_file,
    load_strict,
    load_torchscript,
    locate_weights,
    resolve_weights,
)
from curation.weights.registry import (
    REGISTRY,
    WEIGHTS,
    UnknownWeightsError,
    WeightFile,
    default_weights_dir,
    get_entry,
    how_to_get,
    select,
    weights_path,
)

__all__ = [
    "LOCK_NAME",
    "REGISTRY",
    "WEIGHTS",
    "CheckResult",
    "Lock",
    "UnknownWeightsError",
    "WeightFile",
    "WeightsError",
    "WeightsNotFoundError",
    "check",
    "default_weights_dir",
    "download",
    "expected_hash",
    "get_entry",
    "how_to_get",
    "load_state_dict_file",
    "load_strict",
    "load_torchscript",
    "locate_weights",
    "resolve_weights",
    "select",
    "verify",
    "weights_path",
]
