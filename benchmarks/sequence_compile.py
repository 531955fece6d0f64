"""Training speed of the sequence autoencoders under each compile setting.

Times ``fit`` of the LSTM autoencoder (and the Conv1D autoencoder, for
comparison) on windows of a sine series with four compile settings: Keras's
defaults, ``jit_compile=True`` (XLA), ``steps_per_execution=32``, and both.
The settings run interleaved for ``--rounds`` rounds and each keeps its best
round, so that load from other processes on the machine biases every setting
alike. The first epoch (tracing and XLA compilation) is timed apart.
``keras_ae.backend.COMPILE_SPEED`` holds the choice these figures support
(``benchmarks/conv_speed.py`` times them against plain Keras).

    python benchmarks/sequence_compile.py --out outputs/sequence_compile.json
    python benchmarks/sequence_compile.py --smoke   # a few seconds
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import keras
import numpy as np

import keras_ae

SETTINGS = {
    "default": {},
    "jit": {"jit_compile": True},
    "steps32": {"steps_per_execution": 32},
    "jit+steps32": {"jit_compile": True, "steps_per_execution": 32},
}
BUILDERS = {
    "lstm": lambda shape: keras_ae.build_lstm_autoencoder(shape, units=(64,), latent_dim=16),
    "conv1d": lambda shape: keras_ae.build_conv_autoencoder(
        shape, filters=(16, 32), latent_dim=16, kernel_size=5, output_activation=None
    ),
}


def windows(n: int, window: int) -> np.ndarray:
    """``n`` windows of a noisy sine series, shape (n, window, 1)."""
    t = np.arange(n + window - 1)
    series = np.sin(2 * np.pi * t / 24) + 0.1 * np.random.default_rng(0).standard_normal(t.size)
    return keras_ae.datasets.make_windows(series.astype("float32"), window)[:n]


def time_setting(arch: str, setting: str, x: np.ndarray, batch: int, epochs: int) -> dict:
    """First-epoch seconds and steady samples/s of one architecture and setting."""
    keras.utils.set_random_seed(0)
    model = BUILDERS[arch](x.shape[1:])
    model.compile(optimizer="adam", loss="mse", **SETTINGS[setting])
    start = time.perf_counter()
    model.fit(x, x, epochs=1, batch_size=batch, verbose=0)
    first = time.perf_counter() - start
    start = time.perf_counter()
    model.fit(x, x, epochs=epochs, batch_size=batch, verbose=0)
    return {
        "first_epoch_s": first,
        "samples_per_s": epochs * len(x) / (time.perf_counter() - start),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", nargs="+", default=sorted(BUILDERS), choices=sorted(BUILDERS))
    parser.add_argument("--window", type=int, default=48)
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny run")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    if args.smoke:
        args.samples, args.epochs, args.rounds = 256, 1, 1
    x = windows(args.samples, args.window)
    best: dict = {}
    for _ in range(args.rounds):
        for arch in args.arch:
            for setting in SETTINGS:
                result = time_setting(arch, setting, x, args.batch_size, args.epochs)
                key = (arch, setting)
                if key not in best or result["samples_per_s"] > best[key]["samples_per_s"]:
                    best[key] = result
    print(f"window {args.window}, batch {args.batch_size}, best of {args.rounds} rounds")
    print(f"{'model':8} {'setting':12} {'samples/s':>10} {'first epoch s':>14}")
    for (arch, setting), r in best.items():
        print(f"{arch:8} {setting:12} {r['samples_per_s']:10.0f} {r['first_epoch_s']:14.1f}")
    if args.out:
        report = {
            "args": vars(args),
            "machine": platform.processor() or platform.machine(),
            "results": [{"model": a, "setting": s, **r} for (a, s), r in best.items()],
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
