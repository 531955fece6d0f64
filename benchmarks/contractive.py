"""The contractive penalty, exact against estimated: speed, effect and accuracy.

On the embedded MNIST split, with the default dense trunk (784-256-128-32):

1. **Speed.** The dense AE (keras_ae's compile defaults), and contractive
   models with the exact closed-form penalty
   (``keras_ae.losses.dense_jacobian_norm``) and with the Hutchinson estimate
   (``penalty="hutchinson"``, ``projections=1``), each with Keras's own
   compile settings (``keras``) and with the dense trunk's speed settings
   (``fast``: :func:`keras_ae.backend.compile_speed`), as the builder compiles
   it or not. After a warm-up past compilation, every round trains each
   model one epoch in turn, so a shared machine's load hits them alike (``--smoke``: Keras's
   settings only). A model's ratio is
   the median of the rounds' (its seconds per epoch / the dense AE's seconds
   per epoch of the same round).
2. **Effect.** Fresh models from the same initial weights, trained
   ``--epochs`` epochs at batch 128 as tutorial 04 trains them: the plain
   dense AE, the exact and the estimated penalty, each as the builder
   compiles it. The exact mean ‖J‖²_F over the test digits
   (``model.jacobian_norm``, the tutorial's ``contractive_loss`` measure) and
   the test MSE, against the plain model's.
3. **Accuracy.** On the model trained with the exact penalty, the estimate's
   relative error against the exact ‖J‖²_F for ``projections`` 1, 4 and 16:
   per test digit (root mean square) and for the mean over a batch of 128
   (what one training step's penalty sees), over ``--draws`` draws.

    python benchmarks/contractive.py --out outputs/contractive.json
    python benchmarks/contractive.py --smoke --out /tmp/contractive.json   # seconds
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import _EpochTimer, machine, warm_up  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae import backend, metrics  # noqa: E402

BATCH = 128
PROJECTIONS = (1, 4, 16)


def build(kind: str, speed: bool | None = None) -> keras.Model:
    """A fresh model of ``kind`` (``dense``, ``exact`` or ``hutchinson``) from
    seed 0; ``speed`` recompiles a contractive model with (True) or without
    (False) the dense trunk's speed settings, None keeps the builder's."""
    keras.utils.set_random_seed(0)
    if kind == "dense":
        return keras_ae.build_dense_autoencoder()
    model = keras_ae.build_contractive_autoencoder(penalty=kind, seed=0)
    if speed is not None:
        keras_defaults = {"jit_compile": "auto", "steps_per_execution": 1}
        model.compile(**(backend.compile_speed("dense") if speed else keras_defaults))
    return model


def timing(x: np.ndarray, rounds: int, smoke: bool) -> dict[str, Any]:
    """Seconds per epoch of every model in alternating rounds, and each one's
    median ratio to the dense AE's seconds in the same round."""
    models = {"dense": build("dense")}
    settings = {"keras": False} if smoke else {"keras": False, "fast": True}
    for kind in ("exact", "hutchinson"):
        for setting, speed in settings.items():
            models[f"{kind}_{setting}"] = build(kind, speed)
    first_epoch = {}
    for name, model in models.items():
        start = time.perf_counter()
        if smoke or name != "dense":
            model.fit(x, x, epochs=1, batch_size=BATCH, verbose=0)
        else:
            warm_up(model, x, x, batch_size=BATCH)
        first_epoch[name] = time.perf_counter() - start
    timers = {name: _EpochTimer() for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            model.fit(x, x, epochs=1, batch_size=BATCH, verbose=0, callbacks=[timers[name]])
    dense = timers["dense"].seconds
    return {
        name: {
            "seconds_per_epoch": statistics.median(timers[name].seconds),
            "ratio_to_dense": statistics.median(
                s / d for s, d in zip(timers[name].seconds, dense, strict=True)
            ),
            "rounds": timers[name].seconds,
            "warm_up_s": first_epoch[name],
        }
        for name in models
    }


def mean_jacobian_norm(model: keras.Model, x: np.ndarray, batch: int = 250) -> np.ndarray:
    """The exact ‖J‖²_F of each row of ``x``."""
    parts = [model.jacobian_norm(x[i : i + batch]) for i in range(0, len(x), batch)]
    return np.concatenate([keras.ops.convert_to_numpy(p) for p in parts])


def effect(x: np.ndarray, x_test: np.ndarray, epochs: int) -> dict[str, Any]:
    """Exact test ‖J‖²_F and MSE of each model trained ``epochs`` epochs, against the plain AE's."""
    results, trained = {}, {}
    for kind in ("dense", "exact", "hutchinson"):
        model = build(kind)
        timer = _EpochTimer()
        model.fit(x, x, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=[timer])
        trained[kind] = model
        results[kind] = {
            "jacobian_norm": float(mean_jacobian_norm(model, x_test).mean()),
            "test_mse": metrics.reconstruction_mse(model, x_test),
            "seconds_per_epoch": statistics.median(timer.seconds[1:] or timer.seconds),
        }
    plain = results["dense"]
    for kind in ("exact", "hutchinson"):
        results[kind]["jacobian_fall"] = plain["jacobian_norm"] / results[kind]["jacobian_norm"]
        results[kind]["mse_ratio"] = results[kind]["test_mse"] / plain["test_mse"]
    return {"results": results, "models": trained}


def accuracy(model: keras.Model, x_test: np.ndarray, draws: int) -> dict[str, Any]:
    """The estimate's relative error against the exact ‖J‖²_F, per digit and per batch mean."""
    exact = mean_jacobian_norm(model, x_test)
    n = len(x_test) // BATCH * BATCH
    out = {}
    for k in PROJECTIONS:
        per_digit, per_batch = [], []
        for _ in range(draws):
            parts = [
                keras.ops.convert_to_numpy(model.jacobian_norm_estimate(x_test[i : i + 250], k))
                for i in range(0, len(x_test), 250)
            ]
            estimate = np.concatenate(parts)
            per_digit.append(estimate / exact - 1.0)
            means = estimate[:n].reshape(-1, BATCH).mean(1) / exact[:n].reshape(-1, BATCH).mean(1)
            per_batch.append(means - 1.0)
        per_digit, per_batch = np.concatenate(per_digit), np.concatenate(per_batch)
        out[str(k)] = {
            "rms_relative_error_per_digit": float(np.sqrt(np.mean(per_digit**2))),
            "rms_relative_error_batch_mean": float(np.sqrt(np.mean(per_batch**2))),
            "bias": float(np.mean(per_digit)),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating timed rounds")
    parser.add_argument("--epochs", type=int, default=15, help="training epochs (effect)")
    parser.add_argument("--draws", type=int, default=5, help="estimates per digit (accuracy)")
    parser.add_argument("--smoke", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    (x, _), (x_test, _) = keras_ae.datasets.load_mnist(source="embedded")
    if args.smoke:
        x, x_test = x[:256], x_test[:256]
        args.rounds, args.epochs, args.draws = 1, 1, 1
    started = time.perf_counter()
    speed = timing(x, args.rounds, args.smoke)
    trained = effect(x, x_test, args.epochs)
    errors = accuracy(trained["models"]["exact"], x_test, args.draws)
    report = {
        "args": vars(args),
        "backend": backend.name(),
        "machine": machine(),
        "keras": keras.__version__,
        "timing": speed,
        "effect": trained["results"],
        "estimator_error": errors,
        "seconds": time.perf_counter() - started,
    }
    print(f"{'model':18} {'s/epoch':>8} {'x dense':>8}")
    for name, row in speed.items():
        print(f"{name:18} {row['seconds_per_epoch']:8.3f} {row['ratio_to_dense']:8.2f}")
    print(f"\n{'trained':12} {'||J||^2':>9} {'fall':>7} {'MSE':>9} {'MSE ratio':>9}")
    for name, row in trained["results"].items():
        print(
            f"{name:12} {row['jacobian_norm']:9.3f} {row.get('jacobian_fall', 1.0):7.1f} "
            f"{row['test_mse']:9.5f} {row.get('mse_ratio', 1.0):9.3f}"
        )
    print(f"\n{'projections':>11} {'per digit':>10} {'batch mean':>11} {'bias':>8}")
    for k, row in errors.items():
        print(
            f"{k:>11} {row['rms_relative_error_per_digit']:10.3f} "
            f"{row['rms_relative_error_batch_mean']:11.4f} {row['bias']:8.4f}"
        )
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
