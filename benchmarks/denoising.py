"""Denoising quality: keras_ae's default denoising model against keras-io's example.

Protocol: both models train 20 epochs at batch 128 on the 8,000 embedded
training digits, each batch corrupted afresh by additive Gaussian noise of
standard deviation 0.4 clipped to [0, 1] (keras_ae's ``GaussianCorruption``
layer in front of each model, active only in training). The 2,000 test digits
get the same noise once, from ``GaussianCorruption(0.4, seed=2024)`` (as in
tutorial 02); the figure is the PSNR of each model's output for the noisy
digits against the clean ones, over the whole test set.

keras_ae's side is ``keras_ae.build_denoising_autoencoder(noise="gaussian",
noise_level=0.4)`` with its default architecture and compile settings. The
reference is the model of keras-io's ``examples/vision/autoencoder.py``:
Conv2D(32) -> MaxPooling -> Conv2D(32) -> MaxPooling (a 7×7×32 code, no
bottleneck) -> two stride-2 Conv2DTranspose(32) -> Conv2D(1, sigmoid), binary
cross-entropy, Adam(1e-3).

    python benchmarks/denoising.py --out outputs/denoising.json --figures docs/figures.json
    python benchmarks/denoising.py --smoke           # a few seconds, for CI
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import keras
from keras import layers

import keras_ae
from keras_ae import metrics
from keras_ae.layers import GaussianCorruption

NOISE_LEVEL = 0.4
TEST_NOISE_SEED = 2024
BATCH_SIZE = 128
#: the section of the figures file (``--figures``) this script records
SECTION = "benchmarks_denoising"


def build_reference(seed: int) -> keras.Model:
    """keras-io's denoising autoencoder, with the training corruption in front."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = GaussianCorruption(NOISE_LEVEL, seed=seed)(inputs)
    x = layers.Conv2D(32, 3, activation="relu", padding="same")(x)
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Conv2D(32, 3, activation="relu", padding="same")(x)
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, activation="relu", padding="same")(x)
    outputs = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    model = keras.Model(inputs, outputs, name="keras_io_denoising")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each training epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._t0)


def run(epochs: int, n_train: int | None, seed: int) -> dict:
    (x_train, _), (x_test, _) = keras_ae.datasets.load_mnist(source="embedded")
    x_train = x_train[:n_train]
    noisy = GaussianCorruption(NOISE_LEVEL, seed=TEST_NOISE_SEED)(x_test, training=True)
    x_test_noisy = keras.ops.convert_to_numpy(noisy)
    builders = {
        "keras_ae.build_denoising_autoencoder": lambda: keras_ae.build_denoising_autoencoder(
            noise="gaussian", noise_level=NOISE_LEVEL, seed=seed
        ),
        "keras-io denoising example": lambda: build_reference(seed),
    }
    results = {}
    for name, build in builders.items():
        keras.utils.set_random_seed(seed)
        model = build()
        timer = EpochTimer()
        model.fit(
            x_train, x_train, epochs=epochs, batch_size=BATCH_SIZE, callbacks=[timer], verbose=0
        )
        encoder = getattr(model, "encoder", None)
        results[name] = {
            "parameters": model.count_params(),
            "code_size": int(encoder.output.shape[-1]) if encoder is not None else 7 * 7 * 32,
            "test_psnr_db": metrics.psnr(x_test, model.predict(x_test_noisy, verbose=0)),
            "seconds_per_epoch": statistics.median(timer.seconds[1:] or timer.seconds),
        }
        print(f"{name}: {results[name]}", flush=True)
        keras.backend.clear_session()
    return {
        "epochs": epochs,
        "batch_size": BATCH_SIZE,
        "noise_level": NOISE_LEVEL,
        "train_images": len(x_train),
        "test_images": len(x_test),
        "noisy_test_psnr_db": metrics.psnr(x_test, x_test_noisy),
        "seed": seed,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_1_5_15_min": [round(v, 2) for v in os.getloadavg()],
        "models": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="denoising PSNR: keras_ae vs keras-io")
    parser.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a tiny run, for CI")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument("--figures", metavar="FILE", help="record the figures the docs quote")
    args = parser.parse_args()
    if args.smoke:
        report = run(epochs=1, n_train=512, seed=args.seed)
    else:
        report = run(args.epochs, None, args.seed)
    print(
        f"\n{report['epochs']} epochs, batch {report['batch_size']}, noisy test digits "
        f"{report['noisy_test_psnr_db']:.2f} dB"
    )
    for name, result in report["models"].items():
        print(
            f"  {name}: {result['test_psnr_db']:.2f} dB, code {result['code_size']}, "
            f"{result['parameters']:,} parameters, {result['seconds_per_epoch']:.1f} s/epoch"
        )
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {out}")
    if args.figures:
        ours = report["models"]["keras_ae.build_denoising_autoencoder"]
        reference = report["models"]["keras-io denoising example"]
        values = {
            "noisy_psnr": report["noisy_test_psnr_db"],
            "keras_ae_psnr": ours["test_psnr_db"],
            "keras_ae_code_size": ours["code_size"],
            "keras_ae_parameters": ours["parameters"],
            "keras_ae_seconds_per_epoch": ours["seconds_per_epoch"],
            "keras_io_psnr": reference["test_psnr_db"],
            "keras_io_code_size": reference["code_size"],
            "keras_io_parameters": reference["parameters"],
            "keras_io_seconds_per_epoch": reference["seconds_per_epoch"],
        }
        command = "python benchmarks/denoising.py" + " --smoke" * args.smoke
        if args.epochs != 20 and not args.smoke:
            command += f" --epochs {args.epochs}"
        command += f" --seed {args.seed}" * (args.seed != 0)
        command += f" --figures {args.figures}"
        path = keras_ae.report.record_figures(args.figures, SECTION, values, command=command)
        print(f"recorded section {SECTION!r} of {path}")


if __name__ == "__main__":
    main()
