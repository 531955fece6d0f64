"""Anomaly detection with an autoencoder: train on normal data, flag what it reconstructs badly.

An autoencoder trained only on normal samples reconstructs them well and
anything unlike them badly, so the reconstruction error is an anomaly score.
:class:`AnomalyDetector` wraps an autoencoder in a scikit-learn-like API::

    detector = AnomalyDetector().fit(x_normal)  # trains, then sets threshold_
    detector.score_samples(x)  # per-sample score, higher = more anomalous
    detector.predict(x)  # 1 = anomalous, 0 = normal

Scores (:data:`SCORES`), each written once with ``keras.ops`` and used both by
:meth:`AnomalyDetector.score_samples` and by the exported ``score`` endpoint:

- ``"mse"``: mean squared error per sample;
- ``"bce"``: binary cross-entropy summed over the values of a sample
  (nats per sample; data in [0, 1]);
- ``"elbo"``: −ELBO per sample of a
  :class:`~keras_ae.models.VariationalAutoencoder`, deterministic: the
  reconstruction term at the posterior mean (``decoder(z_mean)``, no
  sampling) plus the analytic KL(q(z|x) ‖ N(0, I)) with weight 1 (not β).
  With ``z = z_mean`` the reconstruction term is the one-point estimate of
  ``E_q[−log p(x|z)]`` at the mode of q, so the score is repeatable rather
  than an unbiased Monte Carlo estimate.

A VAE is reconstructed through the mean for every score.

Threshold rules (:data:`THRESHOLD_RULES`), applied to the scores of the
training data in :meth:`AnomalyDetector.fit`:

- ``"max"``: the largest training score (the keras-io example
  "Timeseries anomaly detection using an Autoencoder");
- ``"mean_std"``: mean + ``k`` standard deviations of the training scores
  (population σ; the TensorFlow "Intro to Autoencoders" tutorial uses k = 1,
  the default here is the 3σ rule, k = 3);
- ``"percentile"`` (default): the ``q``-th percentile of the training scores,
  ``numpy.percentile`` with linear interpolation (default q = 99: about 1% of
  the normal training data flagged);
- ``"contamination"``: the expected fraction of anomalies in the training
  data, as in PyOD: the ``100 * (1 - contamination)``-th percentile (default
  0.1, PyOD's default).

``predict`` flags a sample when its score is strictly above ``threshold_``,
as PyOD does. ``threshold_`` may be set by hand after ``fit``.

Export: ``keras_ae.export_saved_model(detector, path)`` writes the
autoencoder's endpoints plus ``score`` (x → per-sample score, float32) and
``is_anomaly`` (x → 1/0, int32, with ``threshold_`` baked in as a constant).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_ae import checks, export, losses
from keras_ae.builders import build_dense_autoencoder
from keras_ae.models import VariationalAutoencoder

#: Default training settings of :meth:`AnomalyDetector.fit`.
DEFAULT_EPOCHS = 100
DEFAULT_BATCH_SIZE = 64

#: Tabular defaults (``normalize=True``), chosen on ``benchmarks/tabular_anomaly.py``:
#: at most this many epochs, stopped early on the held-out normal rows.
TABULAR_EPOCHS = 300
TABULAR_BATCH_SIZE = 32
#: Fraction of the normal rows held out for early stopping.
TABULAR_VALIDATION_SPLIT = 0.2
#: Epochs without a better held-out loss before training stops (best weights kept).
TABULAR_PATIENCE = 30
#: Weight decay of the tabular model's AdamW optimizer (decoupled: each step
#: shrinks every weight by learning rate x decay = 3%). Strong on purpose: it
#: keeps reconstructions near the normal rows' centre, so the score grows with
#: a row's distance along the directions the code keeps, not only across them
#: (breast cancer, 2 seeds, AUROC: 0.930 with decay 0.01 and patience 20;
#: 0.944 with 10 and 0.963 with 30, patience 10).
TABULAR_WEIGHT_DECAY = 30.0


class NotFittedError(ValueError, AttributeError):
    """The detector is used before :meth:`AnomalyDetector.fit`."""


# ---------------------------------------------------------------- scores


def _reconstruction(model: keras.Model, x: Any) -> Any:
    """The deterministic reconstruction of a batch of tensors: the model's own
    ``reconstruction`` (keras_ae's models; a VAE's goes through its posterior
    mean), else ``model(x)`` for any other autoencoder."""
    if hasattr(model, "reconstruction"):
        return model.reconstruction(x)
    return model(x, training=False)


def _standardize(model: keras.Model, x: Any) -> Any:
    """``x`` in the units a normalizing model compares in (itself otherwise)."""
    return model.standardize(x) if hasattr(model, "standardize") else x


def _mse(model: keras.Model, x: Any) -> Any:
    x_hat = _reconstruction(model, x)
    return losses.mse_per_sample(_standardize(model, x), _standardize(model, x_hat))


def _bce(model: keras.Model, x: Any) -> Any:
    return losses.bernoulli_nll(x, _reconstruction(model, x))


def _negative_elbo(model: keras.Model, x: Any) -> Any:
    z_mean, z_log_var = model.encoder(x, training=False)
    x_hat = model.decoder(z_mean, training=False)
    nll = losses.LIKELIHOOD_NLL[model.likelihood](x, x_hat)
    return nll + losses.gaussian_kl(z_mean, z_log_var)


#: Score name -> function ``(model, x) -> per-sample score`` (a tensor, keras.ops).
SCORES: dict[str, Callable[[keras.Model, Any], Any]] = {
    "mse": _mse,
    "bce": _bce,
    "elbo": _negative_elbo,
}


# ---------------------------------------------------------------- thresholds


def _percentile(name: str, value: Any) -> float:
    q = checks.non_negative_float(name, value)
    if q > 100:
        raise ValueError(f"`{name}` must be a percentile in [0, 100]. Received: {name}={value!r}")
    return q


#: Rule name -> (its parameter, validation of the parameter, threshold from (scores, parameter)).
THRESHOLD_RULES: dict[str, tuple[str | None, Callable[..., Any], Callable[..., float]]] = {
    "max": (None, lambda name, v: v, lambda s, _: np.max(s)),
    "mean_std": ("k", checks.non_negative_float, lambda s, k: np.mean(s) + k * np.std(s)),
    "percentile": ("q", _percentile, lambda s, q: np.percentile(s, q)),
    "contamination": (
        "contamination",
        checks.open_unit_interval,
        lambda s, c: np.percentile(s, 100.0 * (1.0 - c)),
    ),
}


def compute_threshold(
    scores: Any,
    rule: str = "percentile",
    *,
    q: float = 99.0,
    k: float = 3.0,
    contamination: float = 0.1,
) -> float:
    """The threshold that ``rule`` gives for the (training) ``scores``.

    Args:
        scores: 1-D array of anomaly scores of normal data.
        rule: ``"max"``, ``"mean_std"`` (mean + ``k``·σ), ``"percentile"``
            (``q``-th percentile) or ``"contamination"`` (the
            ``100 * (1 - contamination)``-th percentile). See the module
            docstring for which tool uses which.
        q: percentile in [0, 100] for ``"percentile"``.
        k: number of standard deviations (>= 0) for ``"mean_std"``.
        contamination: fraction in (0, 1) for ``"contamination"``.

    Returns:
        The threshold, rounded to float32 (the precision of the scores, and
        of the constant in an exported ``is_anomaly``).
    """
    checks.choice("rule", rule, THRESHOLD_RULES)
    scores = _scores_array(scores)
    param, validate, rule_fn = THRESHOLD_RULES[rule]
    value = validate(param, {"q": q, "k": k, "contamination": contamination}.get(param))
    return float(np.float32(rule_fn(scores, value)))


def _scores_array(scores: Any) -> np.ndarray:
    """``scores`` as a 1-D float64 array of finite numbers (no rescaling, unlike images)."""
    values = np.asarray(scores)
    if values.dtype == bool or not np.issubdtype(values.dtype, np.number):
        raise TypeError(f"`scores` must be a numeric array. Received dtype={values.dtype}.")
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"`scores` must be a non-empty 1-D array. Received shape {values.shape}.")
    if not np.isfinite(values).all():
        raise ValueError("`scores` holds NaN or Inf values.")
    return values.astype("float64")


# ---------------------------------------------------------------- AUROC


def roc_auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve, by the Mann-Whitney U statistic with average ranks.

    AUROC is the probability that a random anomaly (label 1) scores higher
    than a random normal sample (label 0), ties counting one half: 1.0 for a
    perfect ranking, 0.5 for chance (or all scores equal), 0.0 for an
    inverted ranking. Numpy only.

    Args:
        scores: 1-D array, higher = more anomalous.
        labels: 1-D array of 0 (normal) and 1 (anomaly) (or booleans), same
            length, holding both classes.
    """
    values = _scores_array(scores)
    y = np.asarray(labels)
    if y.shape != values.shape:
        raise ValueError(
            f"`labels` must have the shape of `scores`, {values.shape}. Received shape {y.shape}."
        )
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"`labels` must hold only 0 and 1. Received values {np.unique(y)[:10]}.")
    y = y.astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            f"`labels` must hold both classes. Received {n_pos} anomalies and {n_neg} normals."
        )
    ranks = _average_ranks(values)
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]  # exclusive
    group_rank = (starts + 1 + ends) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


# ---------------------------------------------------------------- the detector


def default_model(input_shape: Sequence[int], latent_dim: int = 32) -> keras.Model:
    """The autoencoder :class:`AnomalyDetector` trains when given no model.

    :func:`~keras_ae.build_dense_autoencoder` with ``hidden_units=(256, 128)``,
    ``latent_dim`` (default 32), ReLU, a linear output and the squared error as loss
    (the builder's default for ``output_activation=None``): the loss is the
    ``"mse"`` score it is judged by, and any real-valued data fits, not only
    data in [0, 1]. It works for any ``input_shape``.

    On one-class MNIST (``benchmarks/one_class_mnist.py``: about 800 normal
    digits, :data:`DEFAULT_EPOCHS` epochs of batch :data:`DEFAULT_BATCH_SIZE`)
    it beats PCA with 32 components, the classical reconstruction baseline,
    where a sigmoid output trained with cross-entropy does not, and the
    convolutional trunk does worse still: it reconstructs the other digits
    too well.
    """
    return build_dense_autoencoder(
        input_shape, hidden_units=(256, 128), latent_dim=latent_dim, output_activation=None
    )


def tabular_units(n_features: int) -> tuple[tuple[int, ...], int]:
    """Hidden sizes and code size of :func:`tabular_model` for ``n_features`` columns."""
    return (max(16, 2 * n_features),), max(2, n_features // 4)


def tabular_model(n_features: int, latent_dim: int | None = None) -> keras.Model:
    """The autoencoder ``AnomalyDetector(normalize=True)`` trains when given no model.

    :func:`~keras_ae.build_dense_autoencoder` with ``normalize=True`` (raw
    feature values in and out, standardised inside), one hidden layer of
    :func:`tabular_units` and AdamW with weight decay
    :data:`TABULAR_WEIGHT_DECAY`. Small tables overfit easily: these sizes,
    the decay and early stopping (:data:`TABULAR_VALIDATION_SPLIT`,
    :data:`TABULAR_PATIENCE`) are the settings that scored best on
    ``benchmarks/tabular_anomaly.py`` (breast cancer, wine, digits; see
    docs/benchmarks.md).
    """
    n = checks.positive_int("n_features", n_features)
    hidden, latent = tabular_units(n)
    if latent_dim is not None:
        latent = checks.positive_int("latent_dim", latent_dim)
    model = build_dense_autoencoder((n,), hidden_units=hidden, latent_dim=latent, normalize=True)
    optimizer = keras.optimizers.AdamW(
        model.default_learning_rate, weight_decay=TABULAR_WEIGHT_DECAY
    )
    model.compile(optimizer=optimizer)
    return model


class AnomalyDetector:
    """Reconstruction-error anomaly detection with a scikit-learn-like API.

    Args:
        model: an autoencoder (any ``keras.Model`` whose output has its
            input's shape; a :class:`~keras_ae.models.VariationalAutoencoder`
            for ``score="elbo"``), trained or not. None: :func:`default_model`
            for the shape of the data given to :meth:`fit`
            (:func:`tabular_model` with ``normalize=True``).
        score: ``"mse"``, ``"bce"`` or ``"elbo"`` (see :data:`SCORES`).
        threshold: threshold rule, one of :data:`THRESHOLD_RULES`:
            ``"max"``, ``"mean_std"``, ``"percentile"`` or ``"contamination"``.
        q: percentile in [0, 100] for ``"percentile"`` (default 99).
        k: standard deviations for ``"mean_std"`` (default 3).
        contamination: fraction in (0, 1) for ``"contamination"`` (default 0.1).
        batch_size: batch size for scoring.
        normalize: for tables (raw feature values in any unit): the model
            standardises its inputs with a ``keras.layers.Normalization``
            adapted on the normal rows in :meth:`fit`
            (``build_dense_autoencoder(..., normalize=True)``; given a
            ``model``, it must be built so), the score compares standardised
            values, and :meth:`fit` stops early on held-out normal rows.

    Attributes (after :meth:`fit`):
        threshold_: scores strictly above it are anomalies.
        train_scores_: the scores of the training data.
        model: the (trained) autoencoder.

    ``score_samples`` follows PyOD's ``decision_function`` convention (higher
    is more anomalous), the opposite of scikit-learn's ``score_samples``.
    """

    def __init__(
        self,
        model: keras.Model | None = None,
        score: str = "mse",
        threshold: str = "percentile",
        *,
        q: float = 99.0,
        k: float = 3.0,
        contamination: float = 0.1,
        batch_size: int = 256,
        normalize: bool = False,
    ) -> None:
        if model is not None and not isinstance(model, keras.Model):
            raise TypeError(f"`model` must be a keras.Model or None. Received: model={model!r}")
        normalize = checks.boolean("normalize", normalize)
        if normalize and model is not None and not getattr(model, "spec", {}).get("normalize"):
            raise ValueError(
                "normalize=True needs a model built with normalize=True "
                "(keras_ae.build_dense_autoencoder(..., normalize=True)), or model=None. "
                f"Received: model={model.name!r}"
            )
        checks.choice("score", score, SCORES)
        checks.choice("threshold", threshold, THRESHOLD_RULES)
        if score == "elbo" and model is not None and not isinstance(model, VariationalAutoencoder):
            raise ValueError(
                "score='elbo' needs a VariationalAutoencoder (keras_ae.build_vae). "
                f"Received: model={model.name!r} of type {type(model).__name__}"
            )
        if score == "elbo" and model is None:
            raise ValueError("score='elbo' needs a VAE: pass `model=keras_ae.build_vae(...)`.")
        self.model = model
        self.score = score
        self.threshold = threshold
        self.q = _percentile("q", q)
        self.k = checks.non_negative_float("k", k)
        self.contamination = checks.open_unit_interval("contamination", contamination)
        self.batch_size = checks.positive_int("batch_size", batch_size)
        # a model built with normalize=True is adapted in fit even if not asked
        self.normalize = normalize or bool(getattr(model, "spec", {}).get("normalize"))

    # -- data

    def _check_x(self, name: str, x: Any) -> np.ndarray:
        shape = None if self.model is None else self.model.input_shape[1:]
        spec = getattr(self.model, "spec", {})
        # a sigmoid output (or a Bernoulli VAE) only fits data in [0, 1]
        unit = self.score == "bce" or spec.get("output_activation") == "sigmoid"
        if self.normalize and np.issubdtype(np.asarray(x).dtype, np.integer):
            x = np.asarray(x, "float32")  # feature values, not 8-bit pixels to rescale
        return checks.array(name, x, shape=shape, unit_range=unit)

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(
                "This AnomalyDetector is not fitted yet: call fit(x_normal) first "
                "(fit(x_normal, train=False) for a model trained already)."
            )

    # -- API

    def fit(
        self,
        x_normal: Any,
        epochs: int | None = None,
        batch_size: int | None = None,
        train: bool = True,
        verbose: int = 0,
        validation_split: float | None = None,
        seed: int = 0,
    ) -> AnomalyDetector:
        """Train the autoencoder on normal data, then set ``threshold_`` from its scores.

        Args:
            x_normal: normal samples, ``(N, *input_shape)``.
            epochs: training epochs (``train=True``); None: :data:`DEFAULT_EPOCHS`,
                or at most :data:`TABULAR_EPOCHS` with ``normalize=True``.
            batch_size: training batch size; None: :data:`DEFAULT_BATCH_SIZE`
                (:data:`TABULAR_BATCH_SIZE` with ``normalize=True``).
            train: False to keep the model as it is (trained already) and
                only calibrate the threshold.
            verbose: passed to ``model.fit``.
            validation_split: fraction in [0, 1) of ``x_normal`` (a random
                part, drawn with ``seed``) held out to stop training when its
                loss has not improved for :data:`TABULAR_PATIENCE` epochs,
                keeping the best weights; 0: train every epoch. None:
                :data:`TABULAR_VALIDATION_SPLIT` with ``normalize=True``, else 0.
            seed: seed of the held-out draw.

        The threshold is set from the scores of every row of ``x_normal``.

        Returns:
            ``self``.
        """
        checks.boolean("train", train)
        seed = checks.seed("seed", seed, allow_none=False)
        x = self._check_x("x_normal", x_normal)
        if self.model is None:
            if not train:
                raise ValueError(
                    "train=False needs a trained `model`; this detector has model=None."
                )
            if self.normalize and x.ndim != 2:
                raise ValueError(
                    "normalize=True is for tables: `x_normal` must have shape (rows, features). "
                    f"Received shape {x.shape}."
                )
            self.model = tabular_model(x.shape[1]) if self.normalize else default_model(x.shape[1:])
        if train:
            self._train(x, epochs, batch_size, verbose, validation_split, seed)
        self.train_scores_ = self.score_samples(x)
        self.threshold_ = compute_threshold(
            self.train_scores_, self.threshold, q=self.q, k=self.k, contamination=self.contamination
        )
        return self

    def _train(
        self,
        x: np.ndarray,
        epochs: int | None,
        batch_size: int | None,
        verbose: int,
        validation_split: float | None,
        seed: int,
    ) -> None:
        tabular = self.normalize
        epochs = checks.positive_int(
            "epochs", (TABULAR_EPOCHS if tabular else DEFAULT_EPOCHS) if epochs is None else epochs
        )
        batch_size = checks.positive_int(
            "batch_size",
            (TABULAR_BATCH_SIZE if tabular else DEFAULT_BATCH_SIZE)
            if batch_size is None
            else batch_size,
        )
        if validation_split is None:
            validation_split = TABULAR_VALIDATION_SPLIT if tabular else 0.0
        split = checks.open_unit_interval("validation_split", validation_split, closed_low=True)
        held = int(round(split * len(x)))
        if split and not 1 <= held < len(x):
            raise ValueError(
                f"`validation_split` holds out {held} of {len(x)} rows; it must leave at least "
                f"one row on each side. Received: validation_split={validation_split!r}"
            )
        order = np.random.default_rng(seed).permutation(len(x))
        x_fit, x_val = x[order[held:]], x[order[:held]]
        if self.normalize:
            self.model.adapt(x_fit)
        fit_kwargs: dict[str, Any] = {}
        if held:
            fit_kwargs["validation_data"] = (x_val, x_val)
            fit_kwargs["callbacks"] = [
                keras.callbacks.EarlyStopping(
                    patience=TABULAR_PATIENCE, restore_best_weights=True, verbose=verbose
                )
            ]
        self.model.fit(
            x_fit, x_fit, epochs=epochs, batch_size=batch_size, verbose=verbose, **fit_kwargs
        )

    def score_samples(self, x: Any) -> np.ndarray:
        """Per-sample anomaly score (float32, shape (N,)); higher = more anomalous."""
        if self.model is None:
            raise NotFittedError("This AnomalyDetector has no model yet: call fit(x_normal).")
        x = self._check_x("x", x)
        score_fn = SCORES[self.score]
        parts = [
            ops.convert_to_numpy(
                score_fn(self.model, ops.convert_to_tensor(x[i : i + self.batch_size]))
            )
            for i in range(0, len(x), self.batch_size)
        ]
        return np.concatenate(parts).astype("float32")

    def predict(self, x: Any) -> np.ndarray:
        """1 (int32) where the score is above ``threshold_``, else 0."""
        self._check_fitted()
        return (self.score_samples(x) > np.float32(self.threshold_)).astype("int32")

    def export_endpoints(self) -> dict[str, export.Endpoint]:
        """The autoencoder's endpoints plus ``score`` and ``is_anomaly`` (1/0, int32,
        ``threshold_`` baked in as a constant).

        Raises:
            NotFittedError: before :meth:`fit`.
        """
        self._check_fitted()
        model, score_fn = self.model, SCORES[self.score]
        threshold = np.float32(self.threshold_)
        endpoints = dict(export.endpoints_for(model))
        x_spec = [export.x_spec(model)]
        endpoints["score"] = (lambda t: score_fn(model, t), x_spec)
        endpoints["is_anomaly"] = (
            lambda t: ops.cast(ops.greater(score_fn(model, t), threshold), "int32"),
            x_spec,
        )
        return endpoints

    # -- saving

    def get_config(self) -> dict:
        """The detector's settings and ``threshold_`` (plain JSON data, no model)."""
        config = {
            "score": self.score,
            "threshold": self.threshold,
            "q": self.q,
            "k": self.k,
            "contamination": self.contamination,
            "batch_size": self.batch_size,
            "normalize": self.normalize,
        }
        if hasattr(self, "threshold_"):
            config["threshold_"] = float(self.threshold_)
        return config

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Save the fitted detector to one ``.keras`` file: its model (with the
        normalization statistics inside it), its settings and ``threshold_``.

        The file is written atomically (:func:`keras_ae.save_keras`). It holds
        a :class:`DetectorModel`: ``keras.saving.load_model(path)`` gives a
        Keras model whose output is the per-sample score, and
        :meth:`AnomalyDetector.load` gives the detector back.

        Raises:
            NotFittedError: before :meth:`fit`.
            PathExistsError: ``path`` exists and ``overwrite`` is False.
        """
        self._check_fitted()
        return export.save_keras(DetectorModel(self.model, self.get_config()), path, overwrite)

    @classmethod
    def load(cls, path: str | os.PathLike) -> AnomalyDetector:
        """The detector :meth:`save` wrote, loaded in Keras's safe mode; ready to
        ``score_samples``, ``predict`` and export (``train_scores_`` is not kept)."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"`path` must be a str or os.PathLike. Received: path={path!r}")
        if Path(path).suffix != ".keras" or not Path(path).is_file():
            raise FileNotFoundError(f"no .keras file at {str(path)!r}")
        saved = keras.saving.load_model(path, safe_mode=True)
        if not isinstance(saved, DetectorModel):
            raise ValueError(
                f"{str(path)!r} holds a {type(saved).__name__}, not a detector saved with "
                "AnomalyDetector.save. Load a bare model with keras.saving.load_model and pass "
                "it to AnomalyDetector(model).fit(x_normal, train=False)."
            )
        return saved.detector()


@keras.saving.register_keras_serializable(package="keras_ae")
class DetectorModel(keras.Model):
    """A fitted :class:`AnomalyDetector` as one Keras model, for ``.keras`` files.

    It tracks the detector's autoencoder (``self.autoencoder``, saved with
    its weights and normalization statistics) and keeps the detector's
    settings and threshold in its config. Called on raw inputs it returns
    the per-sample anomaly score. :meth:`detector` rebuilds the detector.
    """

    def __init__(self, autoencoder: keras.Model, detector_config: dict, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.autoencoder = autoencoder
        self.detector_config = dict(detector_config)
        checks.choice("score", self.detector_config.get("score"), SCORES)
        self.built = autoencoder.built

    def call(self, x: Any) -> Any:
        return SCORES[self.detector_config["score"]](self.autoencoder, x)

    def detector(self) -> AnomalyDetector:
        """The :class:`AnomalyDetector` this model holds, fitted if it was saved fitted."""
        config = dict(self.detector_config)
        threshold = config.pop("threshold_", None)
        detector = AnomalyDetector(self.autoencoder, **config)
        if threshold is not None:
            detector.threshold_ = float(threshold)
        return detector

    def export_endpoints(self) -> dict[str, export.Endpoint]:
        """The endpoints of the detector it holds (:meth:`AnomalyDetector.export_endpoints`)."""
        return self.detector().export_endpoints()

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "autoencoder": keras.saving.serialize_keras_object(self.autoencoder),
            "detector_config": self.detector_config,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> DetectorModel:
        config = dict(config)
        config["autoencoder"] = keras.saving.deserialize_keras_object(
            config["autoencoder"], custom_objects=custom_objects
        )
        return cls(**config)
