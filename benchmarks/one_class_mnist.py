"""One-class MNIST: keras_ae's default anomaly detector against PCA.

For each digit d, both methods learn from the embedded training digits equal
to d only, then score all 2,000 embedded test digits; the anomalies are the
test digits that are not d (about 90% of them). The figure is the AUROC of
the scores (:func:`keras_ae.anomaly.roc_auc`).

- PCA: 32 components (:class:`keras_ae.baselines.PCA`) fitted on the
  digit's training images; score = per-image mean squared reconstruction
  error.
- Detector: ``keras_ae.anomaly.AnomalyDetector()`` with its defaults
  (:func:`keras_ae.anomaly.default_model`, ``score="mse"``), trained for
  ``--epochs`` epochs.

    python benchmarks/one_class_mnist.py --out outputs/one_class_mnist.json
    python benchmarks/one_class_mnist.py --smoke   # a few seconds, for CI
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
from keras_ae.anomaly import DEFAULT_EPOCHS, AnomalyDetector, roc_auc
from keras_ae.baselines import PCA

PCA_COMPONENTS = 32


def pca_scores(x_normal: np.ndarray, x: np.ndarray, n_components: int) -> np.ndarray:
    """Per-image mean squared error of PCA fitted on ``x_normal``."""
    pca = PCA(n_components).fit(x_normal)
    return np.square(x - pca.reconstruct(x)).reshape(len(x), -1).mean(axis=1)


def run(
    digits: list[int], epochs: int, n_train: int | None, n_test: int | None, seed: int = 0
) -> dict:
    """AUROC of PCA and of the detector for each digit, and the seconds each took."""
    (x_train, y_train), (x_test, y_test) = keras_ae.datasets.load_mnist(source="embedded")
    x_test, y_test = x_test[:n_test], y_test[:n_test]
    rows = []
    for digit in digits:
        x_normal = x_train[y_train == digit][:n_train]
        labels = (y_test != digit).astype("int32")  # 1 = anomaly

        start = time.perf_counter()
        pca_auc = roc_auc(pca_scores(x_normal, x_test, PCA_COMPONENTS), labels)
        pca_seconds = time.perf_counter() - start

        keras.utils.set_random_seed(seed + digit)
        start = time.perf_counter()
        detector = AnomalyDetector().fit(x_normal, epochs=epochs)
        ae_auc = roc_auc(detector.score_samples(x_test), labels)
        ae_seconds = time.perf_counter() - start

        rows.append(
            {
                "digit": digit,
                "n_train": len(x_normal),
                "pca_auroc": pca_auc,
                "detector_auroc": ae_auc,
                "pca_seconds": pca_seconds,
                "detector_seconds": ae_seconds,
            }
        )
        print(
            f"{digit:>5}  {pca_auc:>7.4f}  {ae_auc:>8.4f}  {ae_auc - pca_auc:>+7.4f}"
            f"  {ae_seconds:>6.1f}s",
            flush=True,
        )
    return {
        "rows": rows,
        "pca_mean_auroc": float(np.mean([r["pca_auroc"] for r in rows])),
        "detector_mean_auroc": float(np.mean([r["detector_auroc"] for r in rows])),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="One-class MNIST: detector vs PCA (AUROC).")
    parser.add_argument(
        "--epochs", type=int, default=DEFAULT_EPOCHS, help=f"default {DEFAULT_EPOCHS}"
    )
    parser.add_argument("--digits", default="0123456789", help="digits to use as the normal class")
    parser.add_argument("--out", help="write the results as JSON to this file")
    parser.add_argument("--smoke", action="store_true", help="two digits, tiny data, one epoch")
    args = parser.parse_args(argv)

    digits = [int(c) for c in args.digits]
    epochs, n_train, n_test = args.epochs, None, None
    if args.smoke:
        digits, epochs, n_train, n_test = digits[:2], 1, 64, 300

    print(f"{'digit':>5}  {'PCA-32':>7}  {'detector':>8}  {'diff':>7}  {'time':>7}")
    start = time.perf_counter()
    results = run(digits, epochs, n_train, n_test)
    total = time.perf_counter() - start
    pca_mean, ae_mean = results["pca_mean_auroc"], results["detector_mean_auroc"]
    print(f"{'mean':>5}  {pca_mean:>7.4f}  {ae_mean:>8.4f}  {ae_mean - pca_mean:>+7.4f}")
    print(f"total {total:.0f}s ({epochs} epochs per digit)")

    results.update(
        epochs=epochs,
        pca_components=PCA_COMPONENTS,
        smoke=args.smoke,
        total_seconds=total,
        keras=keras.__version__,
        backend=keras.backend.backend(),
        machine=platform.machine(),
    )
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
