"""Property-based fuzzing of the entry points beyond the builders.

Each call either works or raises the documented error type with a message
that names the bad argument (or, for files, the file). The bad inputs tried
are the strategies below plus the explicit lists ``CORRUPT_FILES`` and
``DAMAGED_MANIFESTS``; add to them whenever a new one turns up.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil

import keras
import numpy as np
import pytest
from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keras_ae
from keras_ae import anomaly, cli, datasets, pretrained

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# -- AnomalyDetector ----------------------------------------------------------------------------

#: argument -> (good values, bad values)
DETECTOR_ARGUMENTS = {
    "score": (["mse", "bce"], ["l2", 3, None]),
    "threshold": (
        ["percentile", "mean_std", "contamination", "max"],
        ["median", 0.5],
    ),
    "q": ([0.0, 50.0, 99.0, 100.0], [-1.0, 100.5, float("nan"), "99"]),
    "k": ([0.0, 3.0], [-0.1, float("inf"), "3"]),
    "contamination": ([0.01, 0.5, 0.99], [0.0, 1.0, -0.2, 1.5]),
    "batch_size": ([1, 64], [0, -3, 2.5, True]),
}


def _data(kind: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.random((40, 6, 6, 1)).astype("float32")
    return {
        "good": x,
        "all_equal": np.zeros((40, 6, 6, 1), "float32"),  # every score the same
        "nan": np.where(x > 0.9, np.nan, x).astype("float32"),
        "empty": x[:0],
        "wrong_shape": rng.random((40, 5, 5, 1)).astype("float32"),
        "flat": x.reshape(40, -1),
        "above_one": x * 255.0,
        "text": np.array([["a"] * 6] * 40),
    }[kind]


BAD_DATA = {"nan", "empty", "wrong_shape", "flat", "text"}


@pytest.fixture(scope="module")
def tiny_model():
    keras.utils.set_random_seed(0)
    return keras_ae.build_dense_autoencoder(
        (6, 6, 1), hidden_units=(8,), latent_dim=2, output_activation=None
    )


@FUZZ
@given(
    choices=st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(
                st.tuples(st.sampled_from(good), st.just(False)),
                st.tuples(st.sampled_from(bad), st.just(True)),
            )
            for name, (good, bad) in DETECTOR_ARGUMENTS.items()
        },
    ),
    data=st.sampled_from(["good", "all_equal", *sorted(BAD_DATA), "above_one"]),
    train=st.booleans(),
)
def test_detector_works_or_names_the_bad_argument(tiny_model, choices, data, train):
    kwargs = {name: value for name, (value, _) in choices.items()}
    bad = [name for name, (_, is_bad) in choices.items() if is_bad]
    x = _data(data)
    try:
        detector = anomaly.AnomalyDetector(tiny_model, **kwargs)
    except (ValueError, TypeError) as err:
        assert bad, f"good arguments {kwargs} refused: {err}"
        assert any(f"`{name}`" in str(err) for name in bad), (bad, str(err))
        return
    assert not bad, f"bad arguments {bad} accepted"
    try:
        detector.fit(x, epochs=1, train=train)
    except (ValueError, TypeError) as err:
        assert data in BAD_DATA or (data == "above_one" and kwargs.get("score") == "bce"), err
        assert "`x_normal`" in str(err), str(err)
        return
    assert data not in BAD_DATA
    scores = detector.score_samples(x)
    assert scores.shape == (len(x),) and np.all(np.isfinite(scores))
    flags = detector.predict(x)
    assert set(np.unique(flags)) <= {0, 1}
    with pytest.raises((ValueError, TypeError), match="`x`"):
        detector.predict(_data("wrong_shape"))


# -- command line -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory, mnist):
    """Good and bad files for the command line and the loaders."""
    root = tmp_path_factory.mktemp("fuzz")
    (x, y), _ = mnist
    np.savez(root / "good.npz", x_train=(x[:50, ..., 0] * 255).astype("uint8"))
    np.savez(root / "no_x_train.npz", images=x[:10])
    np.savez(root / "text.npz", x_train=np.array([["a", "b"]] * 10))
    np.savez(root / "one_d.npz", x_train=np.arange(10.0))
    (root / "garbage.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    good = (root / "good.npz").read_bytes()
    (root / "truncated.npz").write_bytes(good[: len(good) // 2])
    (root / "garbage.keras").write_bytes(b"not a keras file")
    (root / "empty.keras").write_bytes(b"")
    (root / "folder.npz").mkdir()
    np.save(root / "good.npy", (x[:50] * 255).astype("uint8"))
    npy = (root / "good.npy").read_bytes()
    (root / "truncated.npy").write_bytes(npy[: len(npy) // 3])
    (root / "garbage.npy").write_bytes(b"\x93NUMPY garbage")
    np.save(root / "one_d.npy", np.arange(10.0))
    np.save(root / "empty.npy", np.zeros((0, 4), "float32"))
    np.save(root / "text.npy", np.array([["a"] * 4] * 5))
    return root


#: explicit bad files: (file, the loader, what the error must name)
CORRUPT_FILES = [
    ("truncated.npy", "from_array_file", "`path`"),
    ("garbage.npy", "from_array_file", "`path`"),
    ("one_d.npy", "from_array_file", "`path`"),
    ("empty.npy", "from_array_file", "`path`"),
    ("text.npy", "from_array_file", "`path`"),
    ("missing.npy", "from_array_file", "`path`"),
    ("truncated.npz", "cli", "truncated.npz"),
    ("garbage.npz", "cli", "garbage.npz"),
    ("no_x_train.npz", "cli", "x_train"),
    ("text.npz", "cli", "numeric"),
    ("one_d.npz", "cli", "shape"),
    ("folder.npz", "cli", "folder.npz"),
    ("missing.npz", "cli", "missing.npz"),
]


@pytest.mark.parametrize("name, loader, named", CORRUPT_FILES)
def test_loaders_refuse_corrupt_files_naming_them(files, name, loader, named):
    if loader == "from_array_file":
        with pytest.raises(ValueError, match=named):
            datasets.from_array_file(files / name)
    else:
        with pytest.raises(cli.UsageError, match=named):
            cli.load_data(str(files / name))


def _main(argv: list[str]) -> tuple[int, list[str]]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(argv)
    return code, err.getvalue().strip().splitlines()


def _argv(draw_one, files) -> list[str]:
    """A command line with at least one mistake in it (so nothing trains)."""
    bad_number = st.sampled_from(["0", "-2", "x", "1.5", "", "nan"])
    good_number = st.sampled_from(["1", "2"])
    data = st.sampled_from(
        [str(files / n) for n in ("truncated.npz", "garbage.npz", "no_x_train.npz", "text.npz",
                                  "one_d.npz", "folder.npz", "missing.npz")]
        + ["imagenet", "", "embedded.csv"]
    )  # fmt: skip
    command = draw_one(st.sampled_from(["train", "evaluate", "export", "pretrained", "bogus"]))
    if command == "train":
        argv = ["train", draw_one(st.sampled_from(["dense", "vae", "gan", ""]))]
        mistakes = {
            "--epochs": bad_number,
            "--batch-size": bad_number,
            "--latent-dim": bad_number,
            "--noise-level": st.sampled_from(["-1", "x", "inf"]),
            "--data": data,
            "--strategy": st.sampled_from(["multiworker", "tpu", "data-parallel"]),
            "--precision": st.sampled_from(["float16", "int8"]),
        }
        chosen = draw_one(st.lists(st.sampled_from(sorted(mistakes)), min_size=1, max_size=3))
        for flag in chosen:
            argv += [flag, draw_one(mistakes[flag])]
        if draw_one(st.booleans()):
            argv += ["--epochs", draw_one(good_number)]
        if argv[1] in ("dense", "vae") and "--data" not in chosen:
            argv += ["--data", draw_one(data)]  # a mistake that reaches the data check
        if draw_one(st.booleans()):
            argv += ["--out", str(files / "out")]
        return argv
    if command == "evaluate":
        path = draw_one(st.sampled_from(["garbage.keras", "empty.keras", "missing", "good.npz"]))
        return ["evaluate", str(files / path), "--data", draw_one(data | st.just("embedded"))]
    if command == "export":
        path = draw_one(
            st.sampled_from(["garbage.keras", "empty.keras", "missing.keras", "good.npz"])
        )
        argv = ["export", str(files / path)]
        if draw_one(st.booleans()):
            argv += ["--out", str(files / "exported")]
        if draw_one(st.booleans()):
            argv += ["--format", draw_one(st.sampled_from(["saved_model", "onnx2", ""]))]
        return argv
    if command == "pretrained":
        return ["pretrained", "--directory", str(files / draw_one(st.sampled_from(["", "x"])))]
    return ["bogus", *draw_one(st.lists(st.sampled_from(["--x", "1", "dense"]), max_size=2))]


@FUZZ
@given(st.data())
def test_cli_mistakes_give_one_line_and_exit_2(files, data):
    argv = _argv(data.draw, files)
    code, err = _main(argv)
    assert code == 2, (argv, code, err)
    assert len(err) == 1 and err[0].startswith("keras-ae: error:"), (argv, err)
    assert not (files / "exported").exists(), argv


# -- pretrained.load against damaged manifests ---------------------------------------------------

#: explicit damages: (what is done to manifest.json, the error type)
DAMAGED_MANIFESTS = [
    ("truncated", pretrained.DamagedManifestError),
    ("not_json", pretrained.DamagedManifestError),
    ("no_models", pretrained.DamagedManifestError),
    ("models_is_a_list", pretrained.DamagedManifestError),
    ("entry_without_files", pretrained.DamagedManifestError),
    ("entry_without_path", pretrained.DamagedManifestError),
    ("path_outside", pretrained.DamagedManifestError),
    ("absolute_path", pretrained.DamagedManifestError),
    ("wrong_hash", pretrained.TamperedModelError),
    ("missing_file", pretrained.TamperedModelError),
    ("no_manifest", FileNotFoundError),
]


def _damage(root, how):
    manifest_file = root / "manifest.json"
    text = manifest_file.read_text()
    manifest = json.loads(text)
    entry = manifest["models"]["tied"]
    if how == "truncated":
        manifest_file.write_text(text[: len(text) // 2])
        return
    if how == "not_json":
        manifest_file.write_bytes(b"\xff\xfe not json")
        return
    if how == "no_manifest":
        manifest_file.unlink()
        return
    if how == "no_models":
        manifest = {"version": 1}
    elif how == "models_is_a_list":
        manifest["models"] = ["tied"]
    elif how == "entry_without_files":
        del entry["files"]
    elif how == "entry_without_path":
        del entry["path"]
    elif how == "path_outside":
        entry["path"] = "../../etc"
    elif how == "absolute_path":
        entry["path"] = "/etc"
    elif how == "wrong_hash":
        entry["files"]["saved_model.pb"] = "0" * 64
    elif how == "missing_file":
        (root / "tied" / "saved_model.pb").unlink()
    manifest_file.write_text(json.dumps(manifest))


@pytest.mark.parametrize("how, error", DAMAGED_MANIFESTS, ids=[h for h, _ in DAMAGED_MANIFESTS])
def test_pretrained_load_refuses_a_damaged_manifest(tmp_path, how, error):
    root = tmp_path / "saved_models"
    root.mkdir()
    shutil.copy(REPO / "saved_models" / "manifest.json", root)
    shutil.copytree(REPO / "saved_models" / "tied", root / "tied")
    _damage(root, how)
    with pytest.raises(error) as err:
        pretrained.load("tied", directory=root)
    assert "manifest.json" in str(err.value) or "'tied'" in str(err.value), str(err.value)


@FUZZ
@given(
    name=st.one_of(st.text(max_size=8), st.integers(), st.none(), st.just("tied")),
    directory=st.sampled_from(["ok", "missing", 3, "file"]),
)
def test_pretrained_load_arguments(tmp_path_factory, name, directory):
    root = tmp_path_factory.mktemp("sm")
    shutil.copy(REPO / "saved_models" / "manifest.json", root)
    (root / "file").write_text("x")
    argument = {"ok": root, "missing": root / "missing", "file": root / "file", 3: 3}[directory]
    if directory == "ok" and name == "tied":
        return  # the one good call (its files are not copied here), checked elsewhere
    with pytest.raises((ValueError, TypeError, FileNotFoundError)) as err:
        pretrained.load(name, directory=argument)
    message = str(err.value)
    assert "`name`" in message or "`directory`" in message or "manifest.json" in message, message
