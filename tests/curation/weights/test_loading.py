"""The one resolver (explicit path > weights directory > default directory, errors that say how to get the file) and
the one strict loader (weights_only pickles, safetensors, strict keys)."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from curation import weights as w


@pytest.fixture()
def default_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "default"
    folder.mkdir()
    monkeypatch.setenv("BACKDROP_WEIGHTS", str(folder))
    return folder


def _touch(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / w.REGISTRY[name].filename
    path.write_bytes(b"x")
    return path


def test_precedence_explicit_path_then_weights_dir_then_default_dir(tmp_path: Path, default_dir: Path) -> None:
    in_default = _touch(default_dir, "fid-inception")
    assert w.resolve_weights("fid-inception") == in_default
    in_dir = _touch(tmp_path / "given", "fid-inception")
    assert w.resolve_weights("fid-inception", weights_dir=in_dir.parent) == in_dir
    explicit = tmp_path / "elsewhere" / "my-inception.pth"
    explicit.parent.mkdir()
    explicit.write_bytes(b"y")
    assert w.resolve_weights("fid-inception", explicit, weights_dir=in_dir.parent) == explicit
    # A location the caller chose is never swapped for another one that happens to hold the file.
    with pytest.raises(w.WeightsNotFoundError, match=re.escape(str(tmp_path / "empty"))):
        w.resolve_weights("fid-inception", weights_dir=tmp_path / "empty")
    with pytest.raises(w.WeightsNotFoundError, match="the path given"):
        w.resolve_weights("fid-inception", tmp_path / "absent.pth", weights_dir=in_dir.parent)


def test_default_dir_is_read_when_called(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BACKDROP_WEIGHTS", str(tmp_path / "a"))
    assert w.locate_weights("lpips-alex").parent == tmp_path / "a"
    monkeypatch.setenv("BACKDROP_WEIGHTS", str(tmp_path / "b"))
    assert w.locate_weights("lpips-alex").parent == tmp_path / "b"
    monkeypatch.delenv("BACKDROP_WEIGHTS")
    assert w.locate_weights("lpips-alex").parent == Path.home() / ".cache" / "backdrop" / "weights"


def test_missing_file_with_a_url_names_the_exact_download_command(tmp_path: Path, default_dir: Path) -> None:
    with pytest.raises(w.WeightsNotFoundError) as default:
        w.resolve_weights("fvd-i3d-400", override="--weights fvd-i3d-400=PATH")
    message = str(default.value)
    assert "fvd-i3d-400" in message and str(default_dir / "i3d_pretrained_400.pt") in message
    assert "`backdrop weights download fvd-i3d-400`" in message  # the default directory: no --dir
    assert "--weights fvd-i3d-400=PATH" in message and "by hand" not in message
    with pytest.raises(w.WeightsNotFoundError) as given:
        w.resolve_weights("fvd-i3d-400", weights_dir=tmp_path / "mine")
    assert f"`backdrop weights download fvd-i3d-400 --dir {tmp_path / 'mine'}`" in str(given.value)


def test_missing_file_without_a_url_says_where_to_get_it_by_hand(tmp_path: Path, default_dir: Path) -> None:
    entry = w.REGISTRY["fidvid-r3d50"]
    assert entry.url is None
    with pytest.raises(w.WeightsNotFoundError) as error:
        w.resolve_weights("fidvid-r3d50", weights_dir=tmp_path)
    message = str(error.value)
    assert "backdrop weights download" not in message  # it would only refuse
    assert "by hand" in message and entry.note in message and str(tmp_path / entry.filename) in message


def test_unknown_names_are_refused_with_the_known_ones() -> None:
    for call in (w.resolve_weights, w.locate_weights, w.get_entry):
        with pytest.raises(w.UnknownWeightsError, match=r"unknown weights 'i3d-400'.*fvd-i3d-400"):
            call("i3d-400")
    with pytest.raises(w.UnknownWeightsError, match="known names and groups"):
        w.select(["i3d-400"])


class _Exploit:
    """Unpickling this object would create a file: what a malicious checkpoint would do instead."""

    marker: Path

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def test_weights_only_refuses_pickled_objects_and_runs_no_code(tmp_path: Path) -> None:
    exploit = _Exploit()
    exploit.marker = tmp_path / "code-ran"
    bad = tmp_path / "exploit.pth"
    torch.save({"state_dict": {"w": exploit}}, bad)
    with pytest.raises(ValueError, match=r"exploit\.pth: cannot be read with torch\.load\(weights_only=True\)"):
        w.load_state_dict_file(bad)
    assert not exploit.marker.exists()
    raw = tmp_path / "exploit.pkl"  # a bare pickle, not torch's zip layout: refused the same way
    raw.write_bytes(pickle.dumps({"w": exploit}, protocol=2))
    with pytest.raises(ValueError, match="weights_only=True"):
        w.load_state_dict_file(raw)
    assert not exploit.marker.exists()
    # The payload is real: a full unpickler runs its code (bytes made by this test, touching a file in tmp_path).
    pickle.loads(raw.read_bytes())
    assert exploit.marker.exists()
    # Readable without code, but not a state dict of tensors: refused too.
    numbers = tmp_path / "numbers.pth"
    torch.save({"epoch": 3, "lr": 0.1}, numbers)
    with pytest.raises(ValueError, match="does not hold a state dict of tensors"):
        w.load_state_dict_file(numbers)


def test_state_dicts_unwrapped_and_loaded_strictly_from_pickles_and_safetensors(tmp_path: Path) -> None:
    module = torch.nn.Linear(3, 2)
    state = {k: torch.randn_like(v) for k, v in module.state_dict().items()}
    wrapped = tmp_path / "wrapped.pth"
    torch.save({"epoch": 1, "state_dict": {f"module.{k}": v for k, v in state.items()}}, wrapped)
    flat = tmp_path / "flat.safetensors"
    save_file(state, flat)
    for path in (wrapped, flat):
        loaded = w.load_state_dict_file(path)
        assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)
        target = torch.nn.Linear(3, 2).train()
        assert w.load_strict(target, path) is target and not target.training
        assert torch.equal(target.weight, state["weight"])
    with pytest.raises(ValueError, match=r"flat\.safetensors: weights do not match the Linear architecture"):
        w.load_strict(torch.nn.Linear(3, 4), flat)
    with pytest.raises(ValueError, match="not a TorchScript archive"):
        w.load_torchscript(wrapped)
