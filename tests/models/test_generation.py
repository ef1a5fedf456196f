"""Generation's bookkeeping: a clip that cannot be generated is a row with its reason (the job goes on), a clip
already generated is kept, and a clip's seed depends on the seed and its key alone."""

from __future__ import annotations

from pathlib import Path

from models.generation import ClipGenerator, clip_seed


class _Clips:
    def __init__(self, samples: list) -> None:
        self.samples = samples

    def __getitem__(self, index: int) -> dict:
        sample = self.samples[index]
        if isinstance(sample, Exception):
            raise sample
        return sample


def test_a_failing_clip_is_a_row_and_a_finished_one_is_kept(tmp_path: Path) -> None:
    (tmp_path / "0123456789abcdef-0001.mp4").write_bytes(b"made earlier")
    settings = {"out": str(tmp_path)}
    clips = _Clips([ValueError("shard x: sample y: broken mp4"), {"__key__": "0123456789abcdef-0001"}])
    generator = ClipGenerator(model=None, settings=settings, clips=clips)
    failed = generator.generate_to_file(0)
    assert failed["status"] == "failed" and failed["error_message"] == "ValueError: shard x: sample y: broken mp4"
    kept = generator.generate_to_file(1)
    assert kept["status"] == "kept" and kept["key"] == "0123456789abcdef-0001"
    assert (tmp_path / "0123456789abcdef-0001.mp4").read_bytes() == b"made earlier"


def test_clip_seeds_depend_on_seed_and_key() -> None:
    assert clip_seed(0, "a") == clip_seed(0, "a")
    assert len({clip_seed(0, "a"), clip_seed(1, "a"), clip_seed(0, "b")}) == 3
    assert 0 <= clip_seed(7, "k") < 2**63
