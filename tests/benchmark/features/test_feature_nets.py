"""Feature networks with random weights on CPU: standard checkpoint keys, strict local loading, preprocessing."""

from __future__ import annotations

import argparse
import unittest.mock

import numpy as np
import pytest
import torch
from PIL import Image

from benchmark.features import load_feature_net
from benchmark.features.i3d import I3DFeatures, TorchScriptI3DFeatures, build_i3d, i3d_input
from benchmark.features.inception import InceptionFeatures, build_fid_inception
from benchmark.features.r3d50 import KINETICS_MEAN, R3D50Features, build_r3d50, r3d50_segments
from benchmark.features.videomae import VIDEOMAE_G, VideoMAEFeatures, build_videomae, videomae_input
from benchmark.protocol import sha256_file
from curation.weights import WeightsNotFoundError, load_state_dict_file, load_strict, resolve_weights

# Key names and shapes of the published checkpoints (i3d_pretrained_400.pt, pt_inception-2015-12-05-6726825d.pth,
# resnet-50-kinetics.pth, vit_g_hybrid_pt_1200e_ssv2_ft.pth): the architectures must carry exactly these.
STANDARD_KEYS = {
    "i3d": {
        "Conv3d_1a_7x7.conv3d.weight": (64, 3, 7, 7, 7),
        "Conv3d_1a_7x7.bn.running_mean": (64,),
        "Mixed_3b.b0.conv3d.weight": (64, 192, 1, 1, 1),
        "Mixed_5c.b1b.conv3d.weight": (384, 192, 3, 3, 3),
        "logits.conv3d.weight": (400, 1024, 1, 1, 1),
        "logits.conv3d.bias": (400,),
    },
    "inception": {
        "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
        "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
        "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
        "fc.weight": (1008, 2048),
        "fc.bias": (1008,),
    },
    "r3d50": {
        "conv1.weight": (64, 3, 7, 7, 7),
        "layer1.0.downsample.0.weight": (256, 64, 1, 1, 1),
        "layer3.5.conv2.weight": (256, 256, 3, 3, 3),
        "layer4.2.conv3.weight": (2048, 512, 1, 1, 1),
        "fc.weight": (400, 2048),
    },
    "videomae": {
        "patch_embed.proj.weight": (1408, 3, 2, 14, 14),
        "blocks.1.attn.qkv.weight": (4224, 1408),
        "blocks.0.mlp.fc1.weight": (6144, 1408),
        "fc_norm.weight": (1408,),
        "head.weight": (174, 1408),
    },
}


def _check_standard_keys(module: torch.nn.Module, table: dict[str, tuple[int, ...]]) -> None:
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    for key, shape in table.items():
        assert shapes.get(key) == shape, f"{key}: {shapes.get(key)} != {shape}"


def _randomize(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random weights *and* BN statistics, so that a load that silently did nothing would change the outputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if t.is_floating_point():
                if name.endswith("running_var"):
                    t.copy_(torch.rand(t.shape, generator=g) + 0.5)
                else:
                    t.copy_(torch.randn(t.shape, generator=g) * 0.05)
    return module.eval()


def _legacy_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    # Checkpoints written before PyTorch 0.4 have no BatchNorm num_batches_tracked: strict loading must still work.
    return {k: v.clone() for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")}


def _clips(b: int, t: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (b, t, h, w, 3), dtype=np.uint8)


def test_i3d_loads_strictly_and_gives_400_logits(tmp_path) -> None:
    source = _randomize(build_i3d(), 1)
    _check_standard_keys(source, STANDARD_KEYS["i3d"])
    path = tmp_path / "i3d_pretrained_400.pt"
    torch.save(_legacy_state(source), path)
    net = load_feature_net("fvd-i3d-400", path)
    assert isinstance(net, I3DFeatures) and net.sha256 == sha256_file(path)
    clips = _clips(1, 16, 48, 64)
    feats = net.features(clips)
    assert feats.shape == (1, 400) and feats.dtype == np.float64
    with torch.no_grad():
        expected = source(i3d_input(clips)).double().numpy()
    np.testing.assert_allclose(feats, expected, rtol=1e-5, atol=1e-6)


def test_i3d_preprocessing_is_cdfvds() -> None:
    from cdfvd.third_party.i3d.utils import preprocess_i3d

    clips = _clips(2, 3, 20, 36)
    ours = i3d_input(clips)
    assert ours.shape == (2, 3, 3, 224, 224)
    assert float(ours.min()) >= -1.0 and float(ours.max()) <= 1.0
    torch.testing.assert_close(ours, preprocess_i3d(clips), rtol=1e-5, atol=1e-5)


class _TinyScriptedI3D(torch.nn.Module):
    """Stands in for StyleGAN-V's i3d_torchscript.pt: same call signature, 400 outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(3, 400)

    def forward(self, x: torch.Tensor, rescale: bool = True, resize: bool = True, return_features: bool = False):
        if rescale:
            x = x / 127.5 - 1
        y = self.proj(x.mean(dim=(2, 3, 4)))
        return y if return_features else torch.softmax(y, dim=1)


def test_stylegan_v_torchscript_loads_behind_the_same_interface(tmp_path) -> None:
    path = tmp_path / "i3d_torchscript.pt"
    scripted = torch.jit.script(_TinyScriptedI3D())
    scripted.save(str(path))
    net = load_feature_net("fvd-i3d-torchscript", path)
    assert isinstance(net, TorchScriptI3DFeatures)
    clips = _clips(3, 16, 32, 32)
    feats = net.features(clips)
    with torch.no_grad():
        expected = scripted(i3d_input(clips), rescale=False, resize=False, return_features=True).double().numpy()
    np.testing.assert_allclose(feats, expected, rtol=1e-6)
    assert not np.allclose(feats.sum(1), 1.0)  # raw features, not softmax probabilities
    bad = tmp_path / "not_script.pt"
    torch.save({"a": torch.zeros(1)}, bad)
    with pytest.raises(ValueError, match="not a TorchScript archive"):
        load_feature_net("fvd-i3d-torchscript", bad)


def test_inception_loads_strictly_and_matches_pytorch_fid(tmp_path) -> None:
    import pytorch_fid.inception as pfi

    source = _randomize(build_fid_inception(), 2)
    _check_standard_keys(source, STANDARD_KEYS["inception"])
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(_legacy_state(source), path)
    net = load_feature_net("fid-inception", path)
    assert isinstance(net, InceptionFeatures)
    frames = _clips(1, 2, 40, 52)[0]
    feats = net.features(frames)
    assert feats.shape == (2, 2048)
    # pytorch-fid's own InceptionV3 forward on the same weights (its builder patched so that it does not download)
    with unittest.mock.patch.object(pfi, "fid_inception_v3", lambda: source):
        reference = pfi.InceptionV3([3]).eval()
    with torch.no_grad():
        expected = reference(torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255)[0].flatten(1)
    np.testing.assert_allclose(feats, expected.double().numpy(), rtol=1e-4, atol=1e-5)


def test_r3d50_loads_hara_checkpoint_and_averages_segments(tmp_path) -> None:
    source = _randomize(build_r3d50(), 3)
    _check_standard_keys(source, STANDARD_KEYS["r3d50"])
    path = tmp_path / "resnet-50-kinetics.pth"
    # Hara's checkpoints: {'epoch', 'arch', 'state_dict' with DataParallel's 'module.' prefix, 'optimizer'}
    state = {f"module.{k}": v for k, v in _legacy_state(source).items()}
    torch.save({"epoch": 200, "arch": "resnet-50", "state_dict": state}, path)
    net = load_feature_net("fidvid-r3d50", path, batch_size=1)
    assert isinstance(net, R3D50Features)
    video = _clips(1, 20, 40, 56)[0]
    segments = r3d50_segments(video)
    assert segments.shape == (2, 3, 16, 112, 112)  # 20 frames -> padded to 32 with the last frame
    torch.testing.assert_close(segments[1, :, 4:], segments[1, :, 3:4].expand(-1, 12, -1, -1))
    mean = torch.tensor(KINETICS_MEAN).view(3, 1, 1, 1)
    # DisCo's resize: per channel, float (PIL mode F), bicubic, no rounding or clipping
    frame = video[0]
    by_channel = np.stack(
        [
            np.asarray(Image.fromarray(frame[..., c].astype(np.float32)).resize((112, 112), Image.BICUBIC))
            for c in range(3)
        ],
        axis=-1,
    )
    np.testing.assert_allclose((segments[0, :, 0] + mean[:, 0]).permute(1, 2, 0).numpy(), by_channel, atol=1e-4)
    rounded = np.asarray(Image.fromarray(frame).resize((112, 112), Image.BICUBIC)).astype(np.float32)
    assert np.abs(by_channel - rounded).max() > 0.01  # not the uint8 route
    edges = np.zeros((16, 40, 56, 3), np.uint8)
    edges[:, :, 28:] = 255  # a hard edge: bicubic overshoots, and the overshoot is kept
    values = r3d50_segments(edges) + mean
    assert float(values.min()) < 0 and float(values.max()) > 255
    feats = net.video_features(video)
    with torch.no_grad():
        expected = source(segments).double().mean(0, keepdim=True).numpy()
    assert feats.shape == (1, 2048)
    np.testing.assert_allclose(feats, expected, rtol=1e-4, atol=1e-6)


TINY_VIDEOMAE = dict(embed_dim=24, depth=1, num_heads=2, num_classes=174)


def test_videomae_architecture_and_strict_loading(tmp_path) -> None:
    # The ViT-g's widths at depth 2 (all 40 blocks are alike; 1B parameters would slow the suite for nothing).
    assert VIDEOMAE_G["depth"] == 40
    _check_standard_keys(build_videomae(depth=2), STANDARD_KEYS["videomae"])
    source = _randomize(build_videomae(**TINY_VIDEOMAE), 4)
    path = tmp_path / "tiny_videomae.pth"
    torch.save({"module": source.state_dict()}, path)
    tiny = load_strict(build_videomae(**TINY_VIDEOMAE), path)
    net = VideoMAEFeatures(tiny, sha256=sha256_file(path), feature_dim=24)
    clips = _clips(2, 16, 30, 40)
    feats = net.features(clips)
    with torch.no_grad():
        expected = source.forward_features(videomae_input(clips)).double().numpy()
    assert feats.shape == (2, 24)
    np.testing.assert_allclose(feats, expected, rtol=1e-4, atol=1e-6)


def test_videomae_preprocessing_is_cdfvds() -> None:
    from cdfvd.third_party.VideoMAEv2.utils import preprocess_videomae

    clips = _clips(2, 4, 18, 30)
    torch.testing.assert_close(videomae_input(clips), preprocess_videomae(clips), rtol=1e-5, atol=1e-6)


def test_missing_weights_name_the_path_and_the_source(tmp_path, monkeypatch) -> None:
    from benchmark.protocol import get_protocol
    from benchmark.scoring import ScoreOptions, build_metrics

    with pytest.raises(WeightsNotFoundError, match=r"i3d_pretrained_400\.pt.*songweige/TATS"):
        resolve_weights("fvd-i3d-400", weights_dir=tmp_path)
    with pytest.raises(WeightsNotFoundError, match=str(tmp_path / "x.pth")):
        resolve_weights("fid-inception", tmp_path / "x.pth")
    # No folder given: the default weights directory (here an empty one); the error says how score takes another.
    monkeypatch.setenv("BACKDROP_WEIGHTS", str(tmp_path / "default"))
    with pytest.raises(WeightsNotFoundError, match="--weights-dir"):
        build_metrics(ScoreOptions(get_protocol("bd16"), metrics=("fid-vid",)))


def test_wrong_or_unsafe_weights_are_refused(tmp_path) -> None:
    wrong = tmp_path / "wrong.pt"
    torch.save({"conv1.weight": torch.zeros(1)}, wrong)
    with pytest.raises(ValueError, match=r"wrong\.pt.*do not match"):
        load_feature_net("fvd-i3d-400", wrong)
    unsafe = tmp_path / "unsafe.pt"
    torch.save({"args": argparse.Namespace(x=1), "state_dict": {}}, unsafe)  # needs pickle to read
    with pytest.raises(ValueError, match="weights_only=True"):
        load_state_dict_file(unsafe)
