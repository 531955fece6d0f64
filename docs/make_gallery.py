"""Draw the README's gallery from the pretrained models and record their test metrics.

Loads every model of ``saved_models/`` through :func:`keras_ae.pretrained.load`
(hash-checked SavedModels, the same files users load), runs it on ten embedded
test digits (the first of each class) and writes one labelled row per model
into ``docs/images/gallery.png``: its epochs and test metric, a noisy → denoised
pair for the denoising model, samples from the latent-2 VAE, the anomaly detector's
score on each digit (it was trained on zeros only) and the stacked
classifier's predicted labels.

The test metrics quoted beside the gallery are those of
``saved_models/manifest.json`` (measured by ``keras-ae export-pretrained``).
This script checks them against the SavedModels on the 2,000 test digits,
measures the noisy and denoised PSNR, and records all of it into
``docs/figures.json``, section ``pretrained``::

    python docs/make_gallery.py [--out docs/images/gallery.png] [--figures docs/figures.json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from keras_ae import anomaly, datasets, metrics, plotting, pretrained, report

REPO = Path(__file__).resolve().parents[1]
SECTION = "pretrained"
#: Noise of the noisy → denoised pair: the denoising model's own training corruption.
NOISE_LEVEL = 0.4
#: The models whose reconstruction rows the gallery shows, in order, after the inputs.
AUTOENCODERS = ("dense", "conv", "sparse", "contractive", "tied", "vae16", "vae")
#: Colours of the notes on the anomaly and classifier rows.
GOOD, BAD = "#5cff5c", "#ff4d4d"
#: How far a re-measured metric may drift from the manifest (float32 against float64 sums).
TOLERANCE = 1e-4


def pick_digits(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The first test digit of each class, in class order."""
    return np.stack([x[np.flatnonzero(y == digit)[0]] for digit in range(10)])


def corrupt(x: np.ndarray, level: float = NOISE_LEVEL, seed: int = 0) -> np.ndarray:
    """Gaussian noise of standard deviation ``level``, clipped to [0, 1] (the
    denoising model's ``noise="gaussian"`` corruption), from a fixed seed."""
    rng = np.random.default_rng(seed)
    return np.clip(x + rng.normal(0.0, level, x.shape), 0.0, 1.0).astype("float32")


def psnr(x: np.ndarray, y: np.ndarray) -> float:
    """PSNR in dB of ``y`` against ``x`` (both in [0, 1])."""
    return metrics.psnr_from_mse(float(np.mean(np.square(np.float64(x) - np.float64(y)))))


def check(name: str, metric: str, measured: float, recorded: float) -> None:
    """Refuse to quote a manifest metric that the SavedModel does not reproduce."""
    if abs(measured - recorded) > TOLERANCE * max(1.0, abs(recorded)):
        raise SystemExit(
            f"make_gallery: {name} {metric} measured {measured:.6f} on its SavedModel, "
            f"the manifest says {recorded:.6f}; regenerate it with "
            f"`keras-ae export-pretrained saved_models/ --only {name}`"
        )


def measure(entries: dict[str, Any], x_test: np.ndarray, y_test: np.ndarray) -> dict[str, Any]:
    """Load every model, check its manifest metrics on the test set, and return
    the loaded models plus the figures to record."""
    models = {name: pretrained.load(name) for name in entries}
    values: dict[str, float] = {}
    for name, entry in entries.items():
        values[f"{name}_epochs"] = int(entry["epochs"])
        for metric, value in entry["metrics"].items():
            values[f"{name}_{metric}"] = value
        model = models[name]
        recorded = entry["metrics"]
        if "mse" in recorded:
            reconstruction = np.asarray(model.reconstruct(x_test))
            mse = float(np.mean(np.square(np.float64(x_test) - reconstruction)))
            check(name, "mse", mse, recorded["mse"])
        if "accuracy" in recorded:
            predicted = np.asarray(model.classify(x_test)).argmax(-1)
            check(name, "accuracy", float(np.mean(predicted == y_test)), recorded["accuracy"])
            values[f"{name}_accuracy_percent"] = round(100 * recorded["accuracy"], 4)
        if "auroc" in recorded:
            auroc = anomaly.roc_auc(np.asarray(model.score(x_test)), (y_test != 0).astype(int))
            check(name, "auroc", auroc, recorded["auroc"])
    noisy = corrupt(x_test)
    values["denoising_noisy_psnr"] = round(psnr(x_test, noisy), 4)
    denoised = np.asarray(models["denoising"].reconstruct(noisy))
    values["denoising_denoised_psnr"] = round(psnr(x_test, denoised), 4)
    return {"models": models, "values": values}


def draw(models: dict[str, Any], values: dict[str, float], digits: np.ndarray, path: Path) -> None:
    """Write the gallery: one labelled row per model (see the module docstring)."""
    v = values
    rows = [digits]
    labels = ["ten test digits"]
    for name in AUTOENCODERS[:2]:
        rows.append(np.asarray(models[name].reconstruct(digits)))
        labels.append(f"{name}, {v[f'{name}_epochs']} epochs\nPSNR {v[f'{name}_psnr']:.2f} dB")
    noisy = corrupt(digits)
    rows += [noisy, np.asarray(models["denoising"].reconstruct(noisy))]
    labels += [
        f"noisy input (Gaussian σ {NOISE_LEVEL})\nPSNR {v['denoising_noisy_psnr']:.1f} dB",
        f"denoising, {v['denoising_epochs']} epochs\n"
        f"denoised: PSNR {v['denoising_denoised_psnr']:.1f} dB",
    ]
    for name in AUTOENCODERS[2:5]:
        rows.append(np.asarray(models[name].reconstruct(digits)))
        labels.append(f"{name}, {v[f'{name}_epochs']} epochs\nPSNR {v[f'{name}_psnr']:.2f} dB")
    for name, what in (("vae16", "dense, latent 16"), ("vae", "conv, latent 2")):
        rows.append(np.asarray(models[name].reconstruct(digits)))
        labels.append(
            f"{name} ({what}), {v[f'{name}_epochs']} epochs\n−ELBO {v[f'{name}_neg_elbo']:.1f} nats"
        )
    import tensorflow as tf

    rows.append(np.asarray(models["vae"].sample(tf.constant(10), tf.constant(0))))
    labels.append("vae: new digits,\ndecoded from z ~ N(0, I)")
    scores = np.asarray(models["anomaly"].score(digits))
    flagged = np.asarray(models["anomaly"].is_anomaly(digits))
    rows.append(np.asarray(models["anomaly"].reconstruct(digits)))
    labels.append(
        f"anomaly, {v['anomaly_epochs']} epochs\ntrained on zeros only; "
        f"AUROC {v['anomaly_auroc']:.3f}\nscore (red: flagged)"
    )
    predicted = np.asarray(models["stacked"].classify(digits)).argmax(-1)
    rows.append(digits)
    labels.append(
        f"stacked classifier, {v['stacked_epochs']} epochs\n"
        f"accuracy {v['stacked_accuracy_percent']:.2f}%; label (red: wrong)"
    )
    figure = plotting.image_grid(
        rows,
        row_labels=labels,
        title="keras_ae's pretrained models (saved_models/) on ten test digits",
    )
    ax = figure.axes[0]
    size = digits.shape[1] + 1  # a tile and its one-pixel border (plotting.mosaic)
    # Fixed margins rather than the constrained layout: 2.9 inches for the labels.
    label_width, width = 2.9, 6.3
    height = width * (len(rows) * size + 1) / (10 * size + 1)
    figure.set_layout_engine("none")
    figure.set_size_inches(label_width + width + 0.1, height + 0.55)
    ax.set_position(
        [
            label_width / (label_width + width + 0.1),
            0.1 / (height + 0.55),
            width / (label_width + width + 0.1),
            height / (height + 0.55),
        ]
    )

    def note(row: int, col: int, text: str, colour: str) -> None:
        ax.text(
            col * size + 2, row * size + 3, text, color=colour, fontsize=7, weight="bold", va="top"
        )

    for col, (score, bad) in enumerate(zip(scores, flagged, strict=True)):
        note(len(rows) - 2, col, f"{score:.3f}", BAD if bad else GOOD)
    for col, label in enumerate(predicted):
        note(len(rows) - 1, col, str(label), GOOD if label == col else BAD)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> None:
    """Make the gallery and record the figures (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs/images/gallery.png"), help="the PNG")
    parser.add_argument(
        "--figures", default=str(REPO / "docs/figures.json"), help="the figures file"
    )
    args = parser.parse_args(argv)
    (_, _), (x_test, y_test) = datasets.load_mnist(source="embedded")
    entries = pretrained.read_manifest()["models"]
    measured = measure(entries, x_test, y_test)
    draw(measured["models"], measured["values"], pick_digits(x_test, y_test), Path(args.out))
    # The metrics are the manifest's, measured by `keras-ae export-pretrained saved_models/`.
    command = " ".join(["python docs/make_gallery.py", *(argv if argv is not None else [])])
    report.record_figures(args.figures, SECTION, measured["values"], command=command)
    print(f"wrote {args.out}; recorded {len(measured['values'])} figures in {args.figures}")


if __name__ == "__main__":
    main(sys.argv[1:])
