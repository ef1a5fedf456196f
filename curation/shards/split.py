"""The train/test split, decided per source video (never per clip), so no source leaks across splits."""

from __future__ import annotations

import hashlib

SPLITS = ("train", "test")
#: Salts the split's hash; recorded in the job's settings (a new salt is a new split).
SPLIT_SALT = "backdrop-split-v1"


def split_of(source_id: str, test_fraction: float, salt: str = SPLIT_SALT) -> str:
    """`test` for about `test_fraction` of sources, `train` otherwise; the same source id always gets the same split.

    The source id is already a content hash; hashing it again with a salt keeps the split independent of any
    other use of the id (its order, for instance).
    """
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test fraction must lie in [0, 1], got {test_fraction}")
    digest = hashlib.sha256(f"{salt}:{source_id}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if position < test_fraction else "train"
