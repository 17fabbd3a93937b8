"""Tests for nn.serialization: round trips, atomic writes, and refusing anything that is not a checkpoint."""

import os
import pickle
import zipfile

import numpy as np
import pytest

import autograd as ag
from nn.layers import MLP, LayerNorm
from nn.serialization import load, save


def model(seed):
    return MLP([3, 4, 2], rng=np.random.default_rng(seed))


def directory_listing(path):
    return sorted(os.listdir(path))


def test_module_round_trip(tmp_path):
    path = tmp_path / "model.npz"
    source = model(0)
    save(source, path)
    state = load(path)
    assert list(state) == list(source.state_dict())
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
    path = tmp_path / "state.ckpt"  # used exactly as given: no .npz appended
    save(state, str(path))
    assert directory_listing(tmp_path) == ["state.ckpt"]
    loaded = load(path)
    assert list(loaded) == list(state)
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


def test_save_overwrites_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "model.npz"
    save(model(0), path)
    save(model(1), path)
    assert directory_listing(tmp_path) == ["model.npz"]
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


def test_loaded_state_is_checked_against_the_module(tmp_path):
    path = tmp_path / "norm.npz"
    save(LayerNorm(4), path)
    with pytest.raises(ValueError, match=r"shape mismatch for 'weight'.*\(4,\).*\(5,\)"):
        LayerNorm(5).load_state_dict(load(path))
    with pytest.raises(ValueError, match=r"dtype mismatch for 'weight'.*float32.*float64"):
        LayerNorm(4, dtype=np.float64).load_state_dict(load(path))


def test_a_text_file_is_named_as_such_not_as_a_pickle(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a checkpoint\n")
    with pytest.raises(ValueError, match="is not a checkpoint .*neither a .npz archive nor a .npy array"):
        load(path)
