"""The model section of run files: named configs load, unknown keys are refused with key and file named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from models.config import (
    CONFIGS_DIR,
    ModelConfigError,
    load_model_config,
    model_config_from_file,
    model_config_to_dict,
    named_model_config,
)


def _tiny_data() -> dict:
    return yaml.safe_load((CONFIGS_DIR / "tiny.yaml").read_text())


def test_named_configs_load_with_their_settings() -> None:
    tiny, sd15 = named_model_config("tiny"), named_model_config("sd15")
    assert (tiny.resolution, tiny.frames, tiny.codec.kind) == ((128, 128), 8, "pixel_unshuffle")
    assert (sd15.resolution, sd15.frames, sd15.codec.kind) == ((512, 512), 24, "vae")
    assert (sd15.context_frames, sd15.context_overlap) == (24, 4)
    for config in (tiny, sd15):
        assert config.scheduler.prediction_type == "v_prediction"
        assert config.scheduler.rescale_betas_zero_snr and config.scheduler.timestep_spacing == "trailing"
        assert (config.scheduler.noise_offset, config.scheduler.snr_gamma) == (0.05, 5.0)


def test_whole_run_file_reads_only_the_model_section(tmp_path: Path) -> None:
    data = _tiny_data() | {"train": {"anything": "the lead's parser checks this"}}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(data))
    assert model_config_from_file(path) == named_model_config("tiny")
    assert load_model_config(data["model"]) == named_model_config("tiny")


@pytest.mark.parametrize(
    ("where", "key"),
    [((), "colour"), (("scheduler",), "snr_gama"), (("unet", "config"), "block_channels"), (("codec",), "kinds")],
)
def test_unknown_keys_are_refused_naming_key_and_file(tmp_path: Path, where: tuple[str, ...], key: str) -> None:
    data = _tiny_data()
    section = data["model"]
    for name in where:
        section = section[name]
    section[key] = 1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ModelConfigError, match=key) as raised:
        model_config_from_file(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"resolution": [100, 128]}, "multiples of 8"),
        ({"context_overlap": 8}, "context_overlap"),
        ({"scheduler": {"prediction_type": "x0"}}, "prediction_type"),
        ({"codec": {"kind": "vae"}}, "pretrained"),
        ({"codec": {"kind": "dct", "luma": 65}}, r"codec.luma must be in 1\.\.64"),
        ({"codec": {"kind": "dct", "scale": 0}}, "positive for dct"),
    ],
)
def test_bad_values_are_refused(change: dict, message: str) -> None:
    data = _tiny_data()["model"] | change
    with pytest.raises(ModelConfigError, match=message):
        load_model_config(data)


def test_missing_required_key_and_unknown_name() -> None:
    data = _tiny_data()["model"]
    del data["frames"]
    with pytest.raises(ModelConfigError, match="frames"):
        load_model_config(data)
    with pytest.raises(ModelConfigError, match="tiny"):
        named_model_config("huge")


def test_plain_data_round_trip() -> None:
    for name in ("tiny", "sd15"):
        config = named_model_config(name)
        plain = model_config_to_dict(config)
        assert yaml.safe_load(yaml.safe_dump(plain)) == plain  # plain YAML data: no tuples, no objects
        assert load_model_config(plain) == config
