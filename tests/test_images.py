"""Folders of images: keras_ae.datasets.from_directory and `keras-ae train --data DIR`."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from keras_ae import cli, datasets
from keras_ae.images import count_images, from_directory


def write_digits(folder, digits, labels, size=None, rgb=False, suffix=".png"):
    """One image file per digit, in class subfolders; ``size`` resizes, ``rgb``
    tints each digit with a colour of its own."""
    rng = np.random.default_rng(len(digits))
    for i, (digit, label) in enumerate(zip(digits, labels, strict=True)):
        image = (
            digit
            if size is None
            else keras.ops.convert_to_numpy(keras.ops.image.resize(digit, size))
        )
        if rgb:
            image = image * rng.uniform(0.3, 1.0, 3)
        path = folder / str(label) / f"{image.shape[0]}px_{i:04d}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        keras.utils.save_img(path, np.clip(image * 255, 0, 255).round(), scale=False)


@pytest.fixture(scope="module")
def folders(tmp_path_factory, mnist):
    """``gray``: 400 28x28 grayscale PNGs; ``color``: 300 tinted RGB images,
    150 28x28 PNGs and 150 36x36 JPEGs; both in class subfolders."""
    (x, y), _ = mnist
    root = tmp_path_factory.mktemp("images")
    write_digits(root / "gray", x[:400], y[:400])
    write_digits(root / "color", x[400:550], y[400:550], rgb=True)
    write_digits(root / "color", x[550:700], y[550:700], size=(36, 36), rgb=True, suffix=".jpg")
    return root


def read_all(dataset):
    return np.concatenate([x for x, _ in dataset.as_numpy_iterator()])


@pytest.mark.backends
def test_from_directory_streams_unit_pairs_that_fit_trains_on(tmp_path, mnist):
    (x, y), _ = mnist
    write_digits(tmp_path, x[:40], y[:40])
    folder = from_directory(
        tmp_path, image_size=(28, 28), color_mode="grayscale", validation_split=0.25, seed=1
    )
    assert folder.image_shape == (28, 28, 1)
    pairs = next(folder.train.as_numpy_iterator())
    assert pairs[0].dtype == np.float32 and np.array_equal(pairs[0], pairs[1])
    train, val = read_all(folder.train), read_all(folder.validation)
    assert (len(train), len(val)) == (30, 10)
    # the files' pixels, scaled to [0, 1]: the same 40 digits, in some order
    expected = np.sort(np.round(x[:40] * 255).sum(axis=(1, 2, 3)) / 255)
    found = np.sort(np.concatenate([train, val]).sum(axis=(1, 2, 3)))
    np.testing.assert_allclose(found, expected, rtol=1e-5)
    # seed None with a split means seed 0: the same split in every call
    again = from_directory(tmp_path, 28, "grayscale", validation_split=0.25)
    seeded = from_directory(tmp_path, 28, "grayscale", validation_split=0.25, seed=0)
    sums = [np.sort(read_all(f.validation).sum(axis=(1, 2, 3))) for f in (again, seeded)]
    np.testing.assert_array_equal(*sums)
    rgb = from_directory(tmp_path, image_size=(20, 24), color_mode="rgb", batch_size=8)
    assert rgb.validation is None and rgb.image_shape == (20, 24, 3)
    batch = next(rgb.train.as_numpy_iterator())[0]
    assert batch.shape == (8, 20, 24, 3) and 0 <= batch.min() and batch.max() <= 1
    np.testing.assert_allclose(batch[..., 0], batch[..., 2])  # grey files: equal channels

    from keras_ae import build_dense_autoencoder
    from keras_ae.training import train

    model = build_dense_autoencoder(input_shape=(28, 28, 1), hidden_units=(32,), latent_dim=8)
    history = train(model, folder.train, epochs=1, validation_data=folder.validation, verbose=0)
    assert np.isfinite(history.history["val_loss"]).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"path": 7}, TypeError, "path=7"),
        ({"path": "missing"}, ValueError, "missing"),
        ({"image_size": 0}, ValueError, "image_size=0"),
        ({"image_size": (28,)}, ValueError, "image_size=(28,)"),
        ({"image_size": "28"}, TypeError, "image_size='28'"),
        ({"image_size": (28, 2.5)}, TypeError, "image_size=(28, 2.5)"),
        ({"color_mode": "rgba"}, ValueError, "color_mode='rgba'"),
        ({"validation_split": 1.5}, ValueError, "validation_split=1.5"),
        ({"validation_split": 0.01}, ValueError, "validation_split=0.01"),
        ({"seed": -1}, ValueError, "seed=-1"),
        ({"batch_size": 0}, ValueError, "batch_size=0"),
    ],
)
def test_from_directory_refuses_bad_arguments(tmp_path, mnist, kwargs, error, fragment):
    write_digits(tmp_path / "d", mnist[0][0][:4], mnist[0][1][:4])
    kwargs = {"path": tmp_path / "d", **kwargs}
    if kwargs["path"] == "missing":
        kwargs["path"] = tmp_path / "missing"
    with pytest.raises(error, match=r"`\w+`") as info:
        from_directory(**kwargs)
    assert fragment in str(info.value)


def test_a_folder_without_images_is_refused_by_name(tmp_path):
    (tmp_path / "notes" / "sub").mkdir(parents=True)
    (tmp_path / "notes" / "sub" / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match="holds no image") as info:
        datasets.from_directory(tmp_path / "notes")
    assert str(tmp_path / "notes") in str(info.value)
    # a file named .png that is not an image is named before any training
    (tmp_path / "notes" / "sub" / "page.png").write_text("<html>not an image</html>")
    with pytest.raises(ValueError, match="not a PNG, JPEG, GIF or BMP image") as info:
        datasets.from_directory(tmp_path / "notes")
    assert "page.png" in str(info.value)


def run_cli(capsys, *args):
    code = cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def mean_image_mse(folder, image_size, color_mode, validation_split):
    """Test MSE of predicting every validation image by the training images' mean,
    on the CLI's split (seed 0)."""
    split = from_directory(folder, image_size, color_mode, validation_split, seed=0)
    mean = read_all(split.train).mean(axis=0)
    return float(np.mean((read_all(split.validation) - mean) ** 2))


@pytest.mark.parametrize(
    ("kind", "data", "size", "color_mode", "split", "epochs"),
    [
        ("dense", "gray", (28, 28), "grayscale", None, 6),
        ("conv", "color", (32, 32), "rgb", 0.2, 8),
        ("vae", "gray", (28, 28), "grayscale", None, 8),
    ],
    ids=["dense-gray", "conv-rgb", "vae-gray"],
)
def test_cli_trains_on_a_folder_and_the_export_serves(
    folders, tmp_path, capsys, kind, data, size, color_mode, split, epochs
):
    import tensorflow as tf

    out = tmp_path / kind
    keras.utils.set_random_seed(0)
    code, stdout, stderr = run_cli(
        capsys,
        *("train", kind, "--data", folders / data, "--image-size", *size),
        *("--color-mode", color_mode, "--epochs", epochs, "--batch-size", 16, "--out", out),
        *(() if split is None else ("--validation-split", split)),
    )
    assert code == 0, stderr[-3000:]
    record = json.loads((out / "metrics.json").read_text())
    # a real figure: the model reconstructs the held-out images better than their mean
    held_out = int((split or 0.1) * count_images(folders / data))
    assert f"Using {held_out} files for validation." in stdout
    baseline = mean_image_mse(folders / data, size, color_mode, split or 0.1)
    assert record["test"]["mse"] < baseline
    assert (out / "reconstructions.png").stat().st_size > 1000
    model = keras.saving.load_model(out / "model.keras")
    assert model.input_shape[1:] == (*size, 3 if color_mode == "rgb" else 1)
    batch = read_all(from_directory(folders / data, size, color_mode, batch_size=8).train)[:8]
    loaded = tf.saved_model.load(str(out / "saved_model"))  # kept: it owns the variables
    served = loaded.reconstruct(tf.constant(batch))
    expected = model.reconstruct(batch) if hasattr(model, "reconstruct") else model(batch)
    np.testing.assert_allclose(np.asarray(served), np.asarray(expected), atol=1e-5)


def test_cli_refuses_what_a_folder_cannot_train(folders, tmp_path, capsys):
    out = tmp_path / "out"
    empty = tmp_path / "empty"
    (empty / "cats").mkdir(parents=True)
    broken = tmp_path / "broken"
    (broken / "dogs").mkdir(parents=True)
    (broken / "dogs" / "1.jpg").write_bytes(bytes(16))
    cases = [
        (("stacked", "--data", folders / "gray", "--image-size", 28, 28), "KIND stacked"),
        (("anomaly", "--data", folders / "gray", "--image-size", 28, 28), "KIND anomaly"),
        (("dense", "--data", empty, "--image-size", 28, 28), str(empty)),
        (("dense", "--data", broken, "--image-size", 28, 28), "1.jpg"),
        (("dense", "--data", tmp_path / "nowhere", "--image-size", 28, 28), "nowhere"),
        (("dense", "--data", folders / "gray"), "--image-size H W"),
        (("dense", "--color-mode", "rgb"), "--color-mode"),
        (
            ("dense", "--data", folders / "gray", "--image-size", 28, 28, "--validation-split", 1),
            "--validation-split",
        ),
    ]
    for args, fragment in cases:
        code, _, stderr = run_cli(capsys, "train", *args, "--out", out)
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1, stderr
        assert lines[0].startswith("keras-ae: error:") and fragment in lines[0], lines[0]
        assert not out.exists()


def test_streaming_memory_benchmark_smoke(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "streaming_memory.py"
    rows_file = tmp_path / "rows.json"
    proc = subprocess.run(
        [
            sys.executable,
            script,
            *("--sizes", "60", "--repeats", "1", "--batch-size", "16"),
            "--json",
            rows_file,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (row,) = json.loads(rows_file.read_text())
    assert row["images"] == 60 and row["batch_size"] == 16 and len(row["peak_rss_runs_mb"]) == 1
    assert 0 < row["peak_rss_before_training_mb"] <= row["peak_rss_mb"] < 8192
    assert np.isfinite(row["final_loss"]) and "peak RSS MB" in proc.stdout
