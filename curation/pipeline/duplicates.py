"""Sources with the same content: one is curated, the others are recorded against it.

Two files with the same bytes would give clips with the same keys (keys come from the content hash), and which one's
clips ended in the shards would depend on which finished last. So duplicates are found before the job runs (files
of equal size are hashed; others cannot be equal), and the copy kept is the one with the most information: one with
a pose sidecar beside it before one without, then the first named. Each other copy gets one manifest row, rejected
with the path of the copy kept.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from curation.hashing import file_sha256
from curation.person.pose_sidecar import find_sidecar
from curation.record import REJECTED, Record


@dataclass(frozen=True)
class Duplicate:
    path: str
    kept: str  # the source curated in its place
    sha256: str
    why: str  # why that one was kept


def _information(path: str) -> int:
    """What a copy brings beside its bytes: a pose sidecar."""
    return int(find_sidecar(path) is not None)


def find_duplicates(sources: Sequence[str]) -> list[Duplicate]:
    """The sources to leave out because another source has the same content, in the order given."""
    by_size: dict[int, list[str]] = defaultdict(list)
    for source in sources:
        try:
            if os.path.isfile(source):
                by_size[os.path.getsize(source)].append(source)
        except OSError:
            continue  # unreadable: the source stage reports it
    duplicates: list[Duplicate] = []
    for same_size in by_size.values():
        if len(same_size) < 2:
            continue
        by_hash: dict[str, list[str]] = defaultdict(list)
        for source in same_size:
            try:
                by_hash[file_sha256(source)].append(source)
            except OSError:
                continue
        for sha256, copies in by_hash.items():
            if len(copies) < 2:
                continue
            kept = max(copies, key=lambda path: (_information(path), -copies.index(path)))
            why = "it has a pose sidecar" if _information(kept) else "it is named first"
            duplicates += [Duplicate(path, kept, sha256, why) for path in copies if path != kept]
    order = {source: i for i, source in enumerate(sources)}
    return sorted(duplicates, key=lambda d: order[d.path])


def duplicate_record(duplicate: Duplicate) -> Record:
    """The manifest record of a copy left out: keyed by its path (its content's keys belong to the copy kept)."""
    return {
        "key": "duplicate-" + hashlib.sha256(os.fsencode(duplicate.path)).hexdigest()[:16],
        "source": duplicate.path,
        "source_id": None,
        "source_sha256": duplicate.sha256,
        "clip_index": -1,
        "status": REJECTED,
        "stage": "decode",
        "reason": f"{duplicate.path}: same content as {duplicate.kept}, which is curated instead ({duplicate.why})",
    }
