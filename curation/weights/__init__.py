"""The weights registry: every file a learned backend or a metric reads, with its canonical URL, and the one place
in backdrop that downloads (`backdrop weights download`).

Hashes: a file's sha256 is taken from its publisher where the publisher gives one (OpenAI's CLIP URLs carry the full
sha256; torch.hub-style names such as `pt_inception-2015-12-05-6726825d.pth` carry its first hex digits, checked as
a prefix). Where nobody publishes one, nothing is written here: the sha256 is computed at the first download and
recorded in a lock file (`weights.lock.json` in the weights directory, or `--lock PATH`), and `check` verifies the
file against it from then on.

A download streams into a temporary file beside the target, hashes it on the way, and only a verified file is moved
into place (`os.replace`, atomic on one file system): a partial or mismatching file is never left under the
canonical name. TLS certificates are always verified (urllib's default context); plain http is refused except on
loopback (tests serve files from a local server).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from curation.hashing import file_sha256

LOCK_NAME = "weights.lock.json"
_PYIQA = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
_DWPOSE = "https://huggingface.co/yzd-v/DWPose/resolve/main/"
_SAM2 = "https://dl.fbaipublicfiles.com/segment_anything_2/092824/"
_COTRACKER = "https://huggingface.co/facebook/cotracker3/resolve/main/"
_CLIP = "https://openaipublic.azureedge.net/clip/models/"


class WeightsError(RuntimeError):
    """A weights file could not be fetched or does not match its recorded hash."""


@dataclass(frozen=True)
class WeightFile:
    name: str  # registry name, e.g. "dwpose-wholebody"
    group: str  # what uses it: "dwpose", "sam2.1-tiny", "cotracker3-online", "iqa-musiq", "fid", ...
    filename: str  # canonical file name in the weights directory
    url: str | None  # canonical URL; None where the publisher offers no direct link (fetched by hand)
    licence: str
    sha256: str | None = None  # the publisher's full sha256, where there is one
    sha256_prefix: str | None = None  # the publisher's leading hex digits of the sha256 (torch.hub file names)
    note: str = ""


def _clip(name: str, sha256: str, filename: str) -> WeightFile:
    # OpenAI's CLIP download URLs embed the file's sha256 (the `clip` package verifies it the same way).
    return WeightFile(
        f"clip-{name}", "iqa-clip", filename, f"{_CLIP}{sha256}/{filename}", "MIT (OpenAI CLIP)", sha256=sha256
    )


WEIGHTS: tuple[WeightFile, ...] = (
    WeightFile("dwpose-detector", "dwpose", "yolox_l.onnx", _DWPOSE + "yolox_l.onnx", "Apache-2.0 (YOLOX, DWPose)",
               note="YOLOX-L person detector, 640x640 input"),
    WeightFile("dwpose-wholebody", "dwpose", "dw-ll_ucoco_384.onnx", _DWPOSE + "dw-ll_ucoco_384.onnx",
               "Apache-2.0 (DWPose)", note="DWPose-L whole-body (133 keypoints), 288x384 input, SimCC outputs"),
    *(WeightFile(f"sam2.1-{size}", f"sam2.1-{size}", f"sam2.1_hiera_{size}.pt", f"{_SAM2}sam2.1_hiera_{size}.pt",
                 "Apache-2.0 (SAM 2)") for size in ("tiny", "small", "base_plus", "large")),
    WeightFile("cotracker3-offline", "cotracker3-offline", "scaled_offline.pth", _COTRACKER + "scaled_offline.pth",
               "CC-BY-NC-4.0 (CoTracker): non-commercial"),
    WeightFile("cotracker3-online", "cotracker3-online", "scaled_online.pth", _COTRACKER + "scaled_online.pth",
               "CC-BY-NC-4.0 (CoTracker): non-commercial"),
    WeightFile("iqa-musiq", "iqa-musiq", "musiq_koniq_ckpt-e95806b9.pth", _PYIQA + "musiq_koniq_ckpt-e95806b9.pth",
               "pyiqa: non-commercial", sha256_prefix="e95806b9"),
    WeightFile("iqa-laion-aes-head", "iqa-laion_aes", "sac+logos+ava1-l14-linearMSE.pth",
               _PYIQA + "sac+logos+ava1-l14-linearMSE.pth", "pyiqa: non-commercial; LAION aesthetic predictor (MIT)",
               note="MLP head on CLIP ViT-L/14 embeddings"),
    _clip("rn50", "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762", "RN50.pt"),
    _clip("vit-l-14", "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836", "ViT-L-14.pt"),
    WeightFile("fvd-i3d-400", "fvd", "i3d_pretrained_400.pt",
               "https://github.com/songweige/TATS/raw/main/tats/fvd/i3d_pretrained_400.pt", "MIT (TATS)"),
    WeightFile("fvd-i3d-torchscript", "fvd", "i3d_torchscript.pt",
               "https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt?dl=1", "see StyleGAN-V"),
    WeightFile("cdfvd-videomae-v2-g", "cd-fvd", "vit_g_hybrid_pt_1200e_ssv2_ft.pth",
               "https://pjlab-gvm-data.oss-cn-shanghai.aliyuncs.com/internvideo/videomaev2/"
               "vit_g_hybrid_pt_1200e_ssv2_ft.pth", "CC-BY-NC-4.0 (VideoMAE V2): non-commercial"),
    WeightFile("fid-inception", "fid", "pt_inception-2015-12-05-6726825d.pth",
               "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
               "pt_inception-2015-12-05-6726825d.pth", "Apache-2.0 (pytorch-fid)", sha256_prefix="6726825d"),
    WeightFile("fidvid-r3d50", "fid-vid", "resnet-50-kinetics.pth", None, "MIT (3D-ResNets-PyTorch)",
               note="Google Drive link in the README of https://github.com/kenshohara/3D-ResNets-PyTorch"),
    WeightFile("lpips-alex", "lpips", "LPIPS_v0.1_alex-df73285e.pth", _PYIQA + "LPIPS_v0.1_alex-df73285e.pth",
               "pyiqa: non-commercial; LPIPS (BSD-2)", sha256_prefix="df73285e"),
    WeightFile("torchvision-alexnet", "lpips", "alexnet-owt-7be5be79.pth",
               "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth", "BSD-3 (torchvision)",
               sha256_prefix="7be5be79"),
)  # fmt: skip

REGISTRY: dict[str, WeightFile] = {w.name: w for w in WEIGHTS}


def default_weights_dir() -> Path:
    """`$BACKDROP_WEIGHTS`, else ~/.cache/backdrop/weights: where every backend looks by default."""
    return Path(os.environ.get("BACKDROP_WEIGHTS") or Path.home() / ".cache" / "backdrop" / "weights").expanduser()


def weights_path(filename: str, weights_dir: str | os.PathLike | None = None) -> Path:
    """The canonical location of a weights file: `weights_dir` (None: the default directory) / filename."""
    return Path(weights_dir or default_weights_dir()).expanduser() / filename


def resolve_checkpoint(
    checkpoint: str | None, registry_name: str, weights_dir: str | os.PathLike | None, setting: str
) -> Path:
    """A learned backend's checkpoint: `checkpoint` when given, else the registry file in the weights directory.
    A missing file raises FileNotFoundError saying how to get it (`setting` names the config key that overrides)."""
    path = Path(checkpoint).expanduser() if checkpoint else weights_path(REGISTRY[registry_name].filename, weights_dir)
    if not path.is_file():
        raise FileNotFoundError(
            f"checkpoint {path} not found: run `backdrop weights download {registry_name}` (or set {setting})"
        )
    return path


def select(names: Iterable[str]) -> list[WeightFile]:
    """Registry entries by name or group; "all" selects everything. Unknown names raise ValueError."""
    chosen: dict[str, WeightFile] = {}
    for name in names:
        if name == "all":
            matches = list(WEIGHTS)
        else:
            matches = [w for w in WEIGHTS if name in (w.name, w.group)]
        if not matches:
            known = sorted({w.name for w in WEIGHTS} | {w.group for w in WEIGHTS})
            raise ValueError(f"unknown weights {name!r}; known names and groups: {known}")
        chosen.update((w.name, w) for w in matches)
    return list(chosen.values())


class Lock:
    """The lock file: sha256 computed at a file's first download, for files whose publisher gives none."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.entries: dict[str, dict[str, str | int]] = {}
        if self.path.is_file():
            self.entries = json.loads(self.path.read_text(encoding="utf-8"))

    def sha256(self, filename: str) -> str | None:
        entry = self.entries.get(filename)
        return None if entry is None else str(entry["sha256"])

    def record(self, weight: WeightFile, sha256: str, size: int) -> None:
        self.entries[weight.filename] = {"sha256": sha256, "size": size, "url": weight.url or ""}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.entries, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


def expected_hash(weight: WeightFile, lock: Lock) -> tuple[str | None, str | None]:
    """(full sha256 or None, where it comes from): the publisher's, else the lock's."""
    if weight.sha256:
        return weight.sha256, "publisher"
    recorded = lock.sha256(weight.filename)
    return (recorded, "lock") if recorded else (None, None)


def verify(weight: WeightFile, path: Path, lock: Lock, sha256: str | None = None) -> str | None:
    """None when the file agrees with every known hash, else the reason it does not."""
    sha256 = sha256 or file_sha256(path)
    full, origin = expected_hash(weight, lock)
    if full and sha256 != full:
        return f"sha256 {sha256} differs from the {origin}'s {full}"
    if weight.sha256_prefix and not sha256.startswith(weight.sha256_prefix):
        return f"sha256 {sha256} does not start with the publisher's {weight.sha256_prefix}"
    return None


def _check_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise WeightsError(f"refusing {url}: only https (or http on loopback) is fetched")


def download(
    weight: WeightFile,
    weights_dir: str | os.PathLike | None = None,
    *,
    lock: Lock | None = None,
    url: str | None = None,
    timeout: float = 60.0,
) -> Path:
    """Fetch one file into the weights directory, verified; returns its path. An existing file that verifies is
    kept. `url` overrides the canonical one (a mirror). Raises WeightsError on a mismatch or a failed transfer."""
    target = weights_path(weight.filename, weights_dir)
    lock = lock or Lock(target.parent / LOCK_NAME)
    if target.is_file():
        problem = verify(weight, target, lock)
        if problem is None:
            if expected_hash(weight, lock)[0] is None:
                lock.record(weight, file_sha256(target), target.stat().st_size)
            return target
        raise WeightsError(f"{target} exists but {problem}; remove it to download again")
    url = url or weight.url
    if not url:
        raise WeightsError(
            f"{weight.name}: no direct download; get {weight.filename} by hand ({weight.note}) and put it at {target}"
        )
    _check_url(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{weight.filename}.", suffix=".partial", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest, size = hashlib.sha256(), 0
        request = urllib.request.Request(url, headers={"User-Agent": "backdrop-weights"})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            while block := response.read(1 << 20):
                digest.update(block)
                out.write(block)
                size += len(block)
        if length is not None and int(length) != size:
            raise WeightsError(f"{url}: transfer cut short ({size} of {length} bytes)")
        sha256 = digest.hexdigest()
        problem = verify(weight, tmp, lock, sha256)
        if problem is not None:
            raise WeightsError(f"{url}: refused, {problem}")
        os.replace(tmp, target)
    except OSError as error:  # URLError and HTTPError are OSErrors
        raise WeightsError(f"{url}: download failed: {error}") from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()  # after a failure (or an interrupt) no partial file stays behind
    if expected_hash(weight, lock)[0] is None:
        lock.record(weight, sha256, size)  # first download: this hash is checked from now on
    return target


@dataclass(frozen=True)
class CheckResult:
    weight: WeightFile
    path: Path
    status: str  # "ok", "missing", "mismatch", "unrecorded" (present, but no full hash known to check)
    detail: str = ""


def check(
    weights: Iterable[WeightFile], weights_dir: str | os.PathLike | None = None, *, lock: Lock | None = None
) -> list[CheckResult]:
    """Verify present files against their hashes and say which are missing."""
    results = []
    for weight in weights:
        path = weights_path(weight.filename, weights_dir)
        file_lock = lock or Lock(path.parent / LOCK_NAME)
        if not path.is_file():
            source = weight.url or weight.note
            results.append(
                CheckResult(
                    weight, path, "missing", f"get it with `backdrop weights download {weight.name}` (from {source})"
                )
            )
            continue
        problem = verify(weight, path, file_lock)
        if problem is not None:
            results.append(CheckResult(weight, path, "mismatch", problem))
        elif expected_hash(weight, file_lock)[0] is None:
            results.append(
                CheckResult(
                    weight,
                    path,
                    "unrecorded",
                    "present but not downloaded by `backdrop weights`: no recorded sha256 to check it against",
                )
            )
        else:
            results.append(CheckResult(weight, path, "ok", expected_hash(weight, file_lock)[1] or ""))
    return results
