"""Tests for nn.serialization: round trips, atomic writes, and refusing anything that is not a checkpoint.

Both formats: ``.npz`` (NumPy only) and ``.safetensors`` (the optional safetensors package;
those tests are skipped without it).
"""

import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import pytest

import autograd as ag
from nn.layers import MLP, LayerNorm
from nn.serialization import load, load_metadata, save

FORMATS = [".npz", ".safetensors"]


@pytest.fixture
def safetensors():
    """The safetensors package, or a skip: it is an optional extra (gradwire[safetensors])."""
    return pytest.importorskip("safetensors", reason="needs the optional safetensors package: gradwire[safetensors]")


@pytest.fixture(params=FORMATS)
def extension(request):
    """Each checkpoint format, skipping .safetensors when its package is not installed."""
    if request.param == ".safetensors":
        request.getfixturevalue("safetensors")
    return request.param


def model(seed):
    return MLP([3, 4, 2], rng=np.random.default_rng(seed))


def directory_listing(path):
    return sorted(os.listdir(path))


def test_module_round_trip(tmp_path, extension):
    path = tmp_path / f"model{extension}"
    source = model(0)
    save(source, path)
    state = load(path)
    assert sorted(state) == sorted(source.state_dict())
    target = model(1)
    target.load_state_dict(state)
    for (name, p), q in zip(source.named_parameters(), target.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
        assert q.dtype == p.dtype
    x = ag.Tensor(np.ones((2, 3), dtype=np.float32))
    np.testing.assert_array_equal(source(x).data, target(x).data)


def test_dict_round_trip_keeps_dtypes_shapes_and_awkward_names(tmp_path):
    state = {
        "w": np.arange(6, dtype=np.float64).reshape(2, 3),
        "step": np.array(7, dtype=np.int64),
        "file": ag.Tensor([1.0, 2.0]),  # names that are np.savez's own keywords
        "allow_pickle": np.array([True, False]),
        "blocks.0.attn.qkv.weight": np.ones((2, 2), dtype=np.float16),
    }
    path = tmp_path / "state.v2.npz"  # used exactly as given: only the last extension counts
    save(state, str(path))
    assert directory_listing(tmp_path) == ["state.v2.npz"]
    loaded = load(path)
    assert list(loaded) == list(state)  # .npz keeps the order
    for name, value in state.items():
        expected = value.data if isinstance(value, ag.Tensor) else value
        np.testing.assert_array_equal(loaded[name], expected)
        assert loaded[name].dtype == expected.dtype and loaded[name].shape == expected.shape


def test_checkpoint_is_a_plain_npz(tmp_path):
    path = tmp_path / "model.npz"
    source = model(0)
    save(source, path)
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(source.state_dict())


def test_save_overwrites_and_leaves_no_temporary_files(tmp_path, extension):
    path = tmp_path / f"model{extension}"
    save(model(0), path)
    save(model(1), path)
    assert directory_listing(tmp_path) == [f"model{extension}"]
    np.testing.assert_array_equal(load(path)["layers.0.weight"], model(1).layers[0].weight.data)


class Interrupted(Exception):
    pass


def failing_after(calls_before_failure, original):
    count = {"n": 0}

    def fail(*args, **kwargs):
        count["n"] += 1
        if count["n"] > calls_before_failure:
            raise Interrupted("disk full")
        return original(*args, **kwargs)

    return fail


@pytest.mark.parametrize(
    ("target", "attribute", "calls_before_failure"),
    [
        (np.lib.format, "write_array", 1),  # fails midway, after the first array is written
        (os, "fsync", 0),
        (os, "replace", 0),
    ],
)
def test_failed_save_keeps_the_old_file_and_removes_the_temporary(
    tmp_path, monkeypatch, target, attribute, calls_before_failure
):
    path = tmp_path / "model.npz"
    save(model(0), path)
    before = path.read_bytes()
    monkeypatch.setattr(target, attribute, failing_after(calls_before_failure, getattr(target, attribute)))
    with pytest.raises(Interrupted):
        save(model(1), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert directory_listing(tmp_path) == ["model.npz"]
    np.testing.assert_array_equal(load(path)["layers.0.weight"], model(0).layers[0].weight.data)


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", failing_after(0, os.replace))
    with pytest.raises(Interrupted):
        save(model(0), tmp_path / "model.npz")
    assert directory_listing(tmp_path) == []


def test_save_refuses_non_numeric_values_before_touching_the_file(tmp_path):
    path = tmp_path / "model.npz"
    save(model(0), path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="'bad' has dtype object"):
        save({"w": np.zeros(2), "bad": np.array([{"a": 1}], dtype=object)}, path)
    with pytest.raises(TypeError, match="keys must be non-empty strings"):
        save({3: np.zeros(2)}, path)
    with pytest.raises(TypeError, match="expected a Module or a dict"):
        save([np.zeros(2)], path)
    assert path.read_bytes() == before
    assert directory_listing(tmp_path) == ["model.npz"]


def test_load_refuses_pickled_object_arrays(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.zeros(2), payload=np.array([{"code": "run me"}], dtype=object))  # np.savez pickles objects
    with pytest.raises(ValueError, match=r"evil\.npz.*'payload'"):
        load(path)


def test_load_refuses_a_pickle_file(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"w": np.zeros(2)}))
    with pytest.raises(ValueError, match=r"model\.pt.*not a checkpoint"):
        load(path)


def test_load_refuses_a_single_npy_array(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match=r"weights\.npy.*single \.npy array"):
        load(path)


def test_load_refuses_text_and_truncated_files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    with pytest.raises(ValueError, match=r"notes\.txt.*not a checkpoint"):
        load(text)
    good = tmp_path / "model.npz"
    save(model(0), good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"truncated\.npz"):
        load(truncated)


def test_load_refuses_zip_members_that_are_not_arrays(tmp_path):
    path = tmp_path / "archive.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match=r"archive\.npz.*'readme.txt' is not a NumPy array"):
        load(path)


def test_load_refuses_non_numeric_arrays(tmp_path):
    path = tmp_path / "strings.npz"
    np.savez(path, names=np.array(["a", "b"]))
    with pytest.raises(ValueError, match=r"strings\.npz.*'names' has dtype <U1"):
        load(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load(tmp_path / "absent.npz")


def test_loaded_state_is_checked_against_the_module(tmp_path, extension):
    path = tmp_path / f"norm{extension}"
    save(LayerNorm(4), path)
    with pytest.raises(ValueError, match=r"shape mismatch for 'weight'.*\(4,\).*\(5,\)"):
        LayerNorm(5).load_state_dict(load(path))
    with pytest.raises(ValueError, match=r"dtype mismatch for 'weight'.*float32.*float64"):
        LayerNorm(4, dtype=np.float64).load_state_dict(load(path))


def test_a_text_file_is_named_as_such_not_as_a_pickle(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("not a checkpoint\n")
    with pytest.raises(ValueError, match="is not a checkpoint .*neither a .npz archive nor a .npy array"):
        load(path)


# ───────────── the extension chooses the format ─────────────


@pytest.mark.parametrize("name", ["model.pt", "model.ckpt", "model", "model.npz.bak", "model.safetensor"])
def test_save_refuses_an_extension_it_does_not_know_and_writes_nothing(tmp_path, name):
    with pytest.raises(ValueError, match=r"save: .*" + name.replace(".", r"\.") + r".*\.npz or \.safetensors"):
        save(model(0), tmp_path / name)
    assert directory_listing(tmp_path) == []


def test_the_extension_is_case_insensitive(tmp_path):
    save(model(0), tmp_path / "model.NPZ")
    np.testing.assert_array_equal(load(tmp_path / "model.NPZ")["layers.0.weight"], model(0).layers[0].weight.data)


def test_load_of_a_checkpoint_under_another_extension_says_how_to_rename_it(tmp_path, safetensors):
    for written, renamed, hint in [("a.npz", "a.ckpt", r"rename it to end in \.npz"), ("b.safetensors", "b.bin", "")]:
        save(model(0), tmp_path / written)
        os.replace(tmp_path / written, tmp_path / renamed)
        suffix = os.path.splitext(written)[1]
        with pytest.raises(ValueError, match=rf"load: .*{renamed}.*looks like a \{suffix} file.*{hint}"):
            load(tmp_path / renamed)
        with pytest.raises(ValueError, match=rf"load_metadata: .*{renamed}"):
            load_metadata(tmp_path / renamed)


def test_load_of_a_directory_is_a_clear_error(tmp_path):
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(ValueError, match=r"model\.npz' is a directory"):
        load(tmp_path / "model.npz")


# ───────────── .safetensors ─────────────

EVERY_DTYPE = {
    "f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
    "f64": np.array([np.pi, -np.e, 1e-300, np.inf]),
    "f16": np.array([0.5, -2.0, 65504.0], dtype=np.float16),
    "i64": np.array([-(2**62), 0, 2**62 + 1], dtype=np.int64),
    "i32": np.array([[-7], [9]], dtype=np.int32),
    "u8": np.array([0, 255], dtype=np.uint8),
    "bool": np.array([[True, False], [False, True]]),
    "c64": np.array([1 + 2j, -3j], dtype=np.complex64),
    "scalar": np.array(7, dtype=np.int64),  # 0-d: a step count
    "empty": np.zeros((0, 4), dtype=np.float32),
    "transposed": np.arange(12, dtype=np.float64).reshape(3, 4).T,  # not C-contiguous
    "big_endian": np.arange(3, dtype=">f8"),
    "blocks.0.attn.qkv.weight": np.full((2, 2), -1.5, dtype=np.float32),
}


def test_safetensors_round_trip_of_every_dtype_and_layout(tmp_path, safetensors):
    path = tmp_path / "state.safetensors"
    save({**EVERY_DTYPE, "tensor": ag.Tensor([1.0, 2.0])}, path)
    loaded = load(path)
    assert sorted(loaded) == sorted([*EVERY_DTYPE, "tensor"])  # the format keeps names, not their order
    for name, value in [*EVERY_DTYPE.items(), ("tensor", np.array([1.0, 2.0], dtype=np.float32))]:
        assert loaded[name].shape == value.shape, name
        assert loaded[name].dtype == value.dtype.newbyteorder("="), name  # stored little-endian
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)
    loaded["f32"][0, 0] = 5.0  # arrays come back writable, like .npz ones
    assert loaded["f32"][0, 0] == 5.0


def test_the_file_is_plain_safetensors_both_ways(tmp_path, safetensors):
    import safetensors.numpy

    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    save(model(0), ours)
    read = safetensors.numpy.load_file(ours)
    for name, value in model(0).state_dict().items():
        np.testing.assert_array_equal(read[name], value)
    safetensors.numpy.save_file({"w": np.eye(3, dtype=np.float64), "n": np.array([4], dtype=np.int64)}, theirs)
    loaded = load(theirs)
    np.testing.assert_array_equal(loaded["w"], np.eye(3))
    assert loaded["n"].dtype == np.int64 and loaded["n"].tolist() == [4]


def test_save_refuses_what_safetensors_cannot_hold_before_touching_the_file(tmp_path, safetensors):
    path = tmp_path / "model.safetensors"
    save(model(0), path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"'z' has dtype complex128, which a \.safetensors file cannot hold"):
        save({"w": np.zeros(2), "z": np.zeros(2, dtype=np.complex128)}, path)
    with pytest.raises(ValueError, match="'__metadata__' cannot name an array"):
        save({"__metadata__": np.zeros(2)}, path)
    assert path.read_bytes() == before
    assert directory_listing(tmp_path) == ["model.safetensors"]


def _handmade_safetensors(header: dict, data: bytes) -> bytes:
    """A .safetensors file built from the format's spec: an 8-byte little-endian header length, JSON, data."""
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_the_handmade_file_reader_agrees_with_the_spec(tmp_path, safetensors):
    path = tmp_path / "hand.safetensors"
    header = {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "__metadata__": {"who": "hand"}}
    path.write_bytes(_handmade_safetensors(header, np.array([1.5, -2.0], dtype="<f4").tobytes()))
    np.testing.assert_array_equal(load(path)["w"], [1.5, -2.0])
    assert load_metadata(path) == {"who": "hand"}


def test_load_refuses_a_dtype_numpy_lacks_naming_the_entry(tmp_path, safetensors):
    path = tmp_path / "bf16.safetensors"
    header = {"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}
    path.write_bytes(_handmade_safetensors(header, b"\x80\x3f\x00\x40"))  # bfloat16 1.0, 2.0
    with pytest.raises(ValueError, match=r"bf16\.safetensors.*entry 'w' has dtype BF16, which NumPy cannot hold"):
        load(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (pickle.dumps({"w": np.zeros(2)}), "pickled Python objects, which are never loaded"),
        (b"not a checkpoint\n", "not a .safetensors file"),
        (None, r"looks like a \.npz archive: rename it to end in \.npz"),
    ],
)
def test_load_refuses_a_file_that_is_not_safetensors(tmp_path, safetensors, content, reason):
    path = tmp_path / "model.safetensors"
    if content is None:
        save(model(0), tmp_path / "model.npz")
        os.replace(tmp_path / "model.npz", path)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=r"load: .*model\.safetensors.*" + reason):
        load(path)


def test_load_refuses_a_truncated_safetensors_file(tmp_path, safetensors):
    good, truncated = tmp_path / "good.safetensors", tmp_path / "truncated.safetensors"
    save(model(0), good)
    truncated.write_bytes(good.read_bytes()[:-5])
    with pytest.raises(ValueError, match=r"truncated\.safetensors' is not a \.safetensors file"):
        load(truncated)


def test_a_safetensors_file_named_npz_is_named_as_such(tmp_path, safetensors):
    save(model(0), tmp_path / "model.safetensors")
    os.replace(tmp_path / "model.safetensors", tmp_path / "model.npz")
    with pytest.raises(ValueError, match=r"looks like a \.safetensors file: rename it to end in \.safetensors"):
        load(tmp_path / "model.npz")


def test_a_foreign_safetensors_file_is_checked_against_the_module(tmp_path, safetensors):
    import safetensors.numpy

    foreign = tmp_path / "foreign.safetensors"  # written by another program, in float64
    safetensors.numpy.save_file({"weight": np.ones(4), "bias": np.zeros(4)}, foreign)
    with pytest.raises(ValueError, match=r"dtype mismatch for '(weight|bias)'.*the checkpoint has float64"):
        LayerNorm(4).load_state_dict(load(foreign))


# ───────────── metadata ─────────────


def test_metadata_round_trip_strings_as_given_the_rest_json_encoded(tmp_path, safetensors):
    from safetensors import safe_open

    path = tmp_path / "model.safetensors"
    config = {"n_layer": 2, "d_model": 8, "bias": True, "dropout": 0.0, "name": None}
    save(model(0), path, metadata={"config": config, "format": "np", "step": 1200, "tags": ["a", "é"]})
    metadata = load_metadata(path)
    assert metadata == {
        "config": '{"n_layer": 2, "d_model": 8, "bias": true, "dropout": 0.0, "name": null}',
        "format": "np",
        "step": "1200",
        "tags": '["a", "\\u00e9"]',
    }
    assert json.loads(metadata["config"]) == config and json.loads(metadata["tags"]) == ["a", "é"]
    with safe_open(path, framework="np") as file:  # the header any safetensors reader sees
        assert file.metadata() == metadata
    np.testing.assert_array_equal(load(path)["layers.0.weight"], model(0).layers[0].weight.data)


def test_metadata_is_empty_when_none_was_saved(tmp_path, safetensors):
    save(model(0), tmp_path / "plain.safetensors")
    save(model(0), tmp_path / "empty.safetensors", metadata={})
    save(model(0), tmp_path / "model.npz")
    assert load_metadata(tmp_path / "plain.safetensors") == {}
    assert load_metadata(tmp_path / "empty.safetensors") == {}
    assert load_metadata(tmp_path / "model.npz") == {}  # .npz files hold no metadata


def test_bad_metadata_is_refused_before_touching_the_file(tmp_path, safetensors):
    path = tmp_path / "model.safetensors"
    save(model(0), path, metadata={"v": "1"})
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"metadata\['hook'\] is a function, which is neither a str nor JSON"):
        save(model(1), path, metadata={"hook": lambda: 0})
    with pytest.raises(TypeError, match="metadata keys must be strings, got 3"):
        save(model(1), path, metadata={3: "three"})
    with pytest.raises(TypeError, match="metadata must be a dict"):
        save(model(1), path, metadata=["v", "1"])
    with pytest.raises(ValueError, match=r"metadata is stored only in \.safetensors files.*model\.npz"):
        save(model(1), tmp_path / "model.npz", metadata={"v": "1"})
    assert path.read_bytes() == before
    assert directory_listing(tmp_path) == ["model.safetensors"]


def test_load_metadata_of_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="load_metadata: no checkpoint at"):
        load_metadata(tmp_path / "absent.safetensors")


# ───────────── atomic writes, both formats ─────────────


class HalfWriter:
    """A file whose first write puts half its bytes on disk, then fails: a crash mid-write."""

    def __init__(self, file, written):
        self.file, self.written = file, written

    def write(self, data):
        data = bytes(data)
        self.file.write(data[: len(data) // 2])
        self.file.flush()
        self.written.append(len(data) // 2)
        raise Interrupted("disk full")

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.file.close()


@pytest.mark.parametrize("failure", ["mid-write", "fsync", "replace"])
def test_a_failed_save_keeps_the_old_file_in_either_format(tmp_path, monkeypatch, extension, failure):
    path = tmp_path / f"model{extension}"
    save(model(0), path)
    before = path.read_bytes()
    written = []
    if failure == "mid-write":
        fdopen = os.fdopen
        monkeypatch.setattr(os, "fdopen", lambda *args, **kwargs: HalfWriter(fdopen(*args, **kwargs), written))
    else:
        monkeypatch.setattr(os, failure, failing_after(0, getattr(os, failure)))
    with pytest.raises(Interrupted):
        save(model(1), path)
    monkeypatch.undo()
    if failure == "mid-write":
        assert written and written[0] > 0  # some bytes of the new file did reach the temporary file
    assert path.read_bytes() == before
    assert directory_listing(tmp_path) == [f"model{extension}"]  # the temporary file is gone
    np.testing.assert_array_equal(load(path)["layers.0.weight"], model(0).layers[0].weight.data)


# ───────────── the optional extra ─────────────


def test_without_the_safetensors_package_the_error_names_the_extra(tmp_path, monkeypatch):
    for name in [name for name in sys.modules if name == "safetensors" or name.startswith("safetensors.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "safetensors", None)  # makes `import safetensors` raise ImportError
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"placeholder")
    hint = r"pip install 'gradwire\[safetensors\]'"
    with pytest.raises(ImportError, match=r"save: \.safetensors files need the optional safetensors package.*" + hint):
        save(model(0), tmp_path / "new.safetensors")
    with pytest.raises(ImportError, match=r"load: .*" + hint):
        load(path)
    with pytest.raises(ImportError, match=r"load_metadata: .*" + hint):
        load_metadata(path)
    assert directory_listing(tmp_path) == ["model.safetensors"]
    save(model(0), tmp_path / "model.npz")  # .npz needs nothing but NumPy
    np.testing.assert_array_equal(load(tmp_path / "model.npz")["layers.0.weight"], model(0).layers[0].weight.data)
