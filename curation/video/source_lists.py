"""Which videos a curation job reads: video files, folders (searched recursively), or lists of paths (a text file
with one path per line, or a Parquet file with a `path`, `source` or `uri` column). Relative paths in a list are
read relative to the list's folder."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".gif"})
LIST_SUFFIXES = frozenset({".txt", ".lst", ".list"})
PARQUET_COLUMNS = ("path", "source", "uri")


class SourceListError(ValueError):
    """An argument that names no video, or a list that cannot be read."""


def _from_text(path: Path) -> list[Path]:
    # utf-8-sig: editors on Windows start a UTF-8 file with a byte-order mark, which is not part of the first path.
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    paths = [(path.parent / line.strip()) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not paths:
        raise SourceListError(f"{path}: the list names no video (no line other than blanks and # comments)")
    return paths


def _from_parquet(path: Path) -> list[Path]:
    import pyarrow.parquet as pq  # only needed for Parquet lists

    try:
        table = pq.read_table(path)
    except Exception as error:
        raise SourceListError(f"{path}: cannot read the Parquet list: {error}") from error
    column = next((c for c in PARQUET_COLUMNS if c in table.column_names), None)
    if column is None:
        raise SourceListError(
            f"{path}: a Parquet list needs one of the columns {list(PARQUET_COLUMNS)}, found {table.column_names}"
        )
    return [path.parent / str(value) for value in table.column(column).to_pylist() if value]


def _from_folder(path: Path) -> list[Path]:
    # A broken symbolic link is kept: it is reported in the manifest, not silently passed over.
    return sorted(
        p
        for p in path.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")
    )


def resolve_sources(arguments: Iterable[str | os.PathLike]) -> list[str]:
    """Absolute paths of every source named by the arguments, in a stable order, each once.

    A file whose suffix is not a known list type is taken as a video even when its suffix is unusual (a bad
    video is then reported in the manifest, not refused here); a missing path is refused with its name.
    """
    found: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if not path.exists() and not path.is_symlink():
            raise SourceListError(f"{path}: no such file or folder")
        if path.is_dir():
            videos = _from_folder(path)
            if not videos:
                raise SourceListError(f"{path}: the folder holds no video (looked for {sorted(VIDEO_SUFFIXES)})")
            found.extend(videos)
        elif path.suffix.lower() in LIST_SUFFIXES:
            found.extend(_from_text(path))
        elif path.suffix.lower() == ".parquet":
            found.extend(_from_parquet(path))
        else:
            found.append(path)
    seen: dict[str, None] = {}
    for path in found:
        seen.setdefault(os.path.abspath(path), None)
    if not seen:
        raise SourceListError("no video to curate: the arguments name none")
    return list(seen)
