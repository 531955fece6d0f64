"""Tabular anomaly detection: keras_ae's detector against scikit-learn and PyOD (AUROC).

One-class protocol, the same for every detector, dataset and seed: one class
of a table is normal and every other class is anomalous. Per seed, the normal
rows are shuffled; 70% are the training rows (normal only), and the test set
is the other 30% plus every anomalous row. The figure is the AUROC of the
test scores (:func:`keras_ae.anomaly.roc_auc`), averaged over the seeds and,
for wine and digits, over each class taken as the normal one in turn.

Datasets (scikit-learn's own copies, no download):

- breast cancer (569 x 30): benign normal, malignant anomalous;
- wine (178 x 13): each cultivar normal in turn;
- digits (1797 x 64, 8x8 images as features): each digit normal in turn.

Detectors (the baselines see features standardised on the training rows;
keras_ae's detector takes raw values and standardises inside its model):

- keras_ae: ``AnomalyDetector(normalize=True)`` with its tabular defaults
  (:func:`keras_ae.anomaly.tabular_model`, early stopping on 20% of the
  training rows);
- IsolationForest, OneClassSVM (scikit-learn defaults, ``gamma="scale"``);
- PCA: squared reconstruction error with as many components as keras_ae's
  code (``max(2, features // 4)``);
- PyOD's AutoEncoder (its defaults), when pyod is installed.

    python benchmarks/tabular_anomaly.py --markdown outputs/tabular.md
    python benchmarks/tabular_anomaly.py --smoke   # seconds, for CI

scikit-learn (and PyOD) are development dependencies only (``pip install
keras_ae[dev]``), never needed by keras_ae itself.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from keras_ae.anomaly import AnomalyDetector, roc_auc, tabular_units

TRAIN_FRACTION = 0.7


def load_datasets(names: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray, list[int]]]:
    """name -> (x, y, normal classes); breast cancer's normal class is benign (1)."""
    from sklearn import datasets

    loaders = {
        "breast_cancer": (datasets.load_breast_cancer, [1]),
        "wine": (datasets.load_wine, None),
        "digits": (datasets.load_digits, None),
    }
    out = {}
    for name in names:
        loader, normal = loaders[name]
        bunch = loader()
        x, y = bunch.data.astype("float32"), bunch.target
        out[name] = (x, y, normal if normal is not None else sorted(set(y.tolist())))
    return out


def split(
    x: np.ndarray, y: np.ndarray, normal: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows (normal only), test rows and test labels (1 = anomaly)."""
    rng = np.random.default_rng(seed)
    normal_rows = rng.permutation(np.flatnonzero(y == normal))
    cut = int(round(TRAIN_FRACTION * len(normal_rows)))
    train, held = normal_rows[:cut], normal_rows[cut:]
    anomalies = np.flatnonzero(y != normal)
    test = np.concatenate([held, anomalies])
    labels = np.concatenate([np.zeros(len(held)), np.ones(len(anomalies))]).astype("int32")
    return x[train], x[test], labels


def _standardised(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train)
    return scaler.transform(train), scaler.transform(test)


def keras_ae_scores(
    train: np.ndarray, test: np.ndarray, seed: int, epochs: int | None
) -> np.ndarray:
    keras.utils.set_random_seed(seed)
    detector = AnomalyDetector(normalize=True).fit(train, epochs=epochs, seed=seed)
    return detector.score_samples(test)


def isolation_forest_scores(train, test, seed, epochs):  # noqa: ANN001, ANN201
    from sklearn.ensemble import IsolationForest

    train, test = _standardised(train, test)
    return -IsolationForest(random_state=seed).fit(train).score_samples(test)


def one_class_svm_scores(train, test, seed, epochs):  # noqa: ANN001, ANN201
    from sklearn.svm import OneClassSVM

    train, test = _standardised(train, test)
    return -OneClassSVM(gamma="scale").fit(train).score_samples(test)


def pca_scores(train, test, seed, epochs):  # noqa: ANN001, ANN201
    from sklearn.decomposition import PCA

    train, test = _standardised(train, test)
    _, latent = tabular_units(train.shape[1])
    pca = PCA(n_components=min(latent, len(train) - 1), random_state=seed).fit(train)
    recon = pca.inverse_transform(pca.transform(test))
    return np.square(test - recon).mean(axis=1)


def pyod_autoencoder_scores(train, test, seed, epochs):  # noqa: ANN001, ANN201
    from pyod.models.auto_encoder import AutoEncoder

    model = AutoEncoder(random_state=seed, verbose=0)
    return model.fit(train).decision_function(test)


def detectors(include_pyod: bool = True) -> dict[str, Callable[..., np.ndarray]]:
    """Detector name -> ``scores(train, test, seed, epochs)`` (higher = more anomalous)."""
    table = {
        "keras_ae": keras_ae_scores,
        "IsolationForest": isolation_forest_scores,
        "OneClassSVM": one_class_svm_scores,
        "PCA": pca_scores,
    }
    if include_pyod:
        try:
            import pyod  # noqa: F401
        except ImportError:
            print("pyod is not installed: no PyOD AutoEncoder column")
        else:
            table["PyOD AutoEncoder"] = pyod_autoencoder_scores
    return table


def run(
    names: list[str],
    seeds: list[int],
    epochs: int | None = None,
    max_classes: int | None = None,
    include_pyod: bool = True,
) -> dict:
    """AUROC per dataset and detector (mean over seeds and normal classes)."""
    data = load_datasets(names)
    table = detectors(include_pyod)
    results: dict = {"datasets": {}, "seconds": {name: 0.0 for name in table}}
    for name, (x, y, normal_classes) in data.items():
        aurocs: dict[str, list[float]] = {det: [] for det in table}
        for normal in normal_classes[:max_classes]:
            for seed in seeds:
                train, test, labels = split(x, y, normal, seed)
                for det, scores_fn in table.items():
                    start = time.perf_counter()
                    scores = scores_fn(train, test, seed, epochs)
                    results["seconds"][det] += time.perf_counter() - start
                    aurocs[det].append(roc_auc(np.asarray(scores, "float64"), labels))
        results["datasets"][name] = {det: float(np.mean(v)) for det, v in aurocs.items()}
        row = "  ".join(f"{det} {v:.4f}" for det, v in results["datasets"][name].items())
        print(f"{name}: {row}", flush=True)
    results["mean"] = {
        det: float(np.mean([results["datasets"][n][det] for n in data])) for det in table
    }
    return results


def markdown(results: dict) -> str:
    """The AUROC table: one row per detector, one column per dataset, then the mean."""
    names = list(results["datasets"])
    lines = [
        "| detector | " + " | ".join(names) + " | mean |",
        "|---|" + "---:|" * (len(names) + 1),
    ]
    best = max(results["mean"].values())
    for det, mean in results["mean"].items():
        cells = [f"{results['datasets'][n][det]:.3f}" for n in names]
        total = f"**{mean:.3f}**" if mean == best else f"{mean:.3f}"
        lines.append(f"| {det} | " + " | ".join(cells) + f" | {total} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Tabular anomaly detection: AUROC table.")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per normal class (default 3)")
    parser.add_argument(
        "--datasets", nargs="+", default=["breast_cancer", "wine", "digits"], help="datasets"
    )
    parser.add_argument("--no-pyod", action="store_true", help="leave PyOD's AutoEncoder out")
    parser.add_argument("--out", help="write the results as JSON to this file")
    parser.add_argument("--markdown", help="write the table as markdown to this file")
    parser.add_argument(
        "--smoke", action="store_true", help="one seed, two normal classes, 5 epochs"
    )
    args = parser.parse_args(argv)

    epochs, max_classes, seeds = None, None, list(range(args.seeds))
    if args.smoke:
        epochs, max_classes, seeds = 5, 2, [0]
    start = time.perf_counter()
    results = run(args.datasets, seeds, epochs, max_classes, include_pyod=not args.no_pyod)
    results.update(
        seeds=seeds,
        smoke=args.smoke,
        total_seconds=time.perf_counter() - start,
        keras=keras.__version__,
        backend=keras.backend.backend(),
    )
    table = markdown(results)
    print(table)
    best = max(results["mean"], key=results["mean"].get)
    print(f"best mean AUROC: {best}; total {results['total_seconds']:.0f}s")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(table)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
