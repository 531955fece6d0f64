"""The table of model kinds behind the command line, the demo and the pretrained models.

Each :class:`Kind` says how to build a model (a keras_ae builder and its
tutorial settings), how many epochs the tutorial trains it, and how to
measure it on a test set. ``keras-ae train KIND``, ``keras-ae demo`` and
``keras-ae export-pretrained`` all read this one table; a new model kind adds
one row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from keras_ae import builders, metrics


@dataclass(frozen=True)
class Data:
    """A train/test split; labels may be None."""

    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    #: the feature names of a table (raw values, standardised inside the model); None otherwise
    columns: tuple[str, ...] | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample's shape."""
        return tuple(self.x_train.shape[1:])


@dataclass(frozen=True)
class StreamedData:
    """A train/test split read batch by batch from disk: ``tf.data`` datasets of
    ``(x, x)`` batches (:func:`keras_ae.datasets.from_directory`), no labels."""

    train: Any
    test: Any
    y_train = None
    y_test = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample's shape."""
        return tuple(int(d) for d in self.train.element_spec[0].shape[1:])


def iter_test_inputs(data: Data | StreamedData, batch_size: int = 256) -> Iterator[np.ndarray]:
    """The test inputs, batch by batch (a stream's own batches)."""
    if isinstance(data, StreamedData):
        for x, _ in data.test.as_numpy_iterator():
            yield x
    else:
        for start in range(0, len(data.x_test), batch_size):
            yield data.x_test[start : start + batch_size]


def autoencoder_metrics(model: keras.Model, data: Data | StreamedData) -> dict[str, float]:
    """Test MSE and PSNR of the clean (deterministic) reconstruction, accumulated
    batch by batch so that a streamed test set is never held whole."""
    squares, count = 0.0, 0
    for x in iter_test_inputs(data):
        error = np.asarray(x, "float64") - np.asarray(reconstruct(model, x), "float64")
        squares, count = squares + float(np.sum(np.square(error))), count + error.size
    mse = squares / count
    return {"mse": mse, "psnr": metrics.psnr_from_mse(mse)}


def vae_metrics(model: keras.Model, data: Data | StreamedData) -> dict[str, float]:
    """Test −ELBO (nats per image, β = 1) plus the autoencoder figures."""
    beta = float(model.beta.numpy())
    model.beta.assign(1.0)
    try:
        test = (data.test,) if isinstance(data, StreamedData) else (data.x_test, data.x_test)
        neg_elbo = model.evaluate(*test, verbose=0, return_dict=True)["loss"]
    finally:
        model.beta.assign(beta)
    return {"neg_elbo": float(neg_elbo), **autoencoder_metrics(model, data)}


def reconstruct(model: Any, x: np.ndarray) -> np.ndarray:
    """The deterministic reconstruction: ``model.reconstruct`` where the model samples;
    a detector's autoencoder; a classifier's probabilities."""
    if not isinstance(model, keras.Model):
        model = model.model
    if hasattr(model, "reconstruct"):
        return model.reconstruct(x)
    return model.predict(x, batch_size=256, verbose=0)


def fit_autoencoder(
    model: keras.Model, data: Data | StreamedData, epochs: int, batch_size: int, **kwargs: Any
) -> keras.callbacks.History:
    """``fit(x, x)`` with validation on the test split, through :func:`keras_ae.training.train`
    (a stream comes in its own batches)."""
    from keras_ae.training import train

    streamed = isinstance(data, StreamedData)
    return train(
        model,
        data.train if streamed else data.x_train,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=data.test if streamed else (data.x_test,),
        **kwargs,
    )


@dataclass(frozen=True)
class Kind:
    """One model kind: its builder, tutorial settings, training and figures."""

    name: str
    description: str
    build: Callable[..., keras.Model]
    options: dict = field(default_factory=dict)
    epochs: int = 10
    demo_epochs: int = 2
    batch_size: int = 128
    fit: Callable[..., Any] = fit_autoencoder
    evaluate: Callable[[Any, Data], dict[str, float]] = autoencoder_metrics
    tutorial: str = ""
    trainer: Callable[..., Any] | None = None

    @property
    def takes_streams(self) -> bool:
        """True if this kind trains on :class:`StreamedData` (plain ``fit(x, x)``);
        kinds with their own ``trainer`` need arrays."""
        return self.trainer is None

    def make(self, input_shape: tuple[int, ...], **overrides: Any) -> keras.Model:
        """Build the model for ``input_shape`` with the tutorial settings and ``overrides``."""
        return self.build(input_shape=input_shape, **{**self.options, **overrides})

    def train(
        self,
        data: Data,
        epochs: int,
        batch_size: int,
        overrides: dict | None = None,
        strategy: Any = None,
        **fit_kwargs: Any,
    ) -> Any:
        """Build and train this kind on ``data``; return the trained model (or detector).

        Kinds whose training is more than ``fit(x, x)`` (greedy stacking, a
        detector's calibration) provide their own ``trainer``.
        """
        from keras_ae.distribution import strategy_scope

        if self.trainer is not None:
            if strategy is not None:
                raise ValueError(
                    f"Kind {self.name!r} trains in several stages and takes no `strategy`; "
                    "use the default. Received: strategy={strategy!r}"
                )
            if isinstance(data, StreamedData):
                raise ValueError(
                    f"Kind {self.name!r} trains on arrays, not on streamed data; kinds that "
                    f"stream: {', '.join(k for k, v in KINDS.items() if v.takes_streams)}."
                )
            return self.trainer(self, data, epochs, batch_size, overrides or {}, **fit_kwargs)
        with strategy_scope(strategy):
            model = self.make(data.input_shape, **(overrides or {}))
            self.fit(model, data, epochs=epochs, batch_size=batch_size, **fit_kwargs)
        return model


def train_stacked(
    kind: Kind, data: Data, epochs: int, batch_size: int, overrides: dict, **fit_kwargs: Any
) -> keras.Model:
    """Greedy pretraining (``2 * epochs`` per layer, as in tutorial 06: each
    layer is cheap), the softmax alone, then fine-tuning (``epochs`` each)."""
    from keras_ae import stacked

    if data.y_train is None:
        raise ValueError("The stacked classifier needs labels: --data must hold y_train.")
    if overrides:
        raise ValueError(f"The stacked classifier takes no options. Received: {overrides}")
    fit_kwargs.pop("resume_dir", None)
    verbose = fit_kwargs.pop("verbose", 0)
    encoder = stacked.pretrain_stacked_autoencoder(
        data.x_train, hidden_units=(200, 200), epochs=2 * epochs, batch_size=batch_size, seed=0
    )
    num_classes = int(max(data.y_train.max(), 1)) + 1
    model = stacked.build_stacked_classifier(encoder, num_classes, freeze_encoder=True)
    model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=batch_size, verbose=verbose)
    model.set_encoder_trainable(True)
    model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=batch_size, verbose=verbose)
    return model


def classifier_metrics(model: keras.Model, data: Data) -> dict[str, float]:
    """Test accuracy."""
    probs = model.predict(data.x_test, batch_size=256, verbose=0)
    return {"accuracy": float(np.mean(probs.argmax(-1) == data.y_test))}


NORMAL_DIGIT = 0


def train_detector(
    kind: Kind, data: Data, epochs: int, batch_size: int, overrides: dict, **fit_kwargs: Any
) -> Any:
    """One-class training: the training samples of class ``NORMAL_DIGIT`` are normal
    (all of them when there are no labels). A table (``data.columns``) gets the
    tabular model, which standardises the raw values inside
    (:func:`keras_ae.anomaly.tabular_model`), and stops early on held-out rows."""
    from keras_ae.anomaly import AnomalyDetector, default_model, tabular_model

    x = data.x_train if data.y_train is None else data.x_train[data.y_train == NORMAL_DIGIT]
    if data.columns is not None:
        detector = AnomalyDetector(tabular_model(x.shape[1], **overrides))
    else:
        detector = AnomalyDetector(default_model(x.shape[1:], **overrides))
    return detector.fit(
        x, epochs=epochs, batch_size=batch_size, verbose=fit_kwargs.get("verbose", 0)
    )


def detector_metrics(detector: Any, data: Data) -> dict[str, float]:
    """AUROC of "not the normal class" on the test set, and the anomaly rate."""
    from keras_ae.anomaly import roc_auc

    if data.columns is None:
        figures = autoencoder_metrics(detector.model, data)
    else:  # a table: the mean score (MSE of standardised values), not image figures
        figures = {"mean_score": float(np.mean(detector.score_samples(data.x_test)))}
    if data.y_test is not None:
        labels = (data.y_test != NORMAL_DIGIT).astype(int)
        figures["auroc"] = roc_auc(detector.score_samples(data.x_test), labels)
    figures["flagged"] = float(np.mean(detector.predict(data.x_test)))
    return figures


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in [
        Kind(
            "dense",
            "dense autoencoder 784-256-128-32",
            builders.build_dense_autoencoder,
            epochs=15,
            demo_epochs=5,
            tutorial="01_dense_autoencoder.py",
        ),
        Kind(
            "conv",
            "convolutional autoencoder, filters 32-64, code 32",
            builders.build_conv_autoencoder,
            epochs=10,
            demo_epochs=2,
            batch_size=32,
            tutorial="02_convolutional_and_denoising.py",
        ),
        Kind(
            "denoising",
            "denoising conv autoencoder, Gaussian noise 0.4",
            builders.build_denoising_autoencoder,
            options={"seed": 0},
            epochs=20,
            demo_epochs=2,
            tutorial="02_convolutional_and_denoising.py",
        ),
        Kind(
            "sparse",
            "sparse autoencoder, KL penalty, rho = 0.05",
            builders.build_sparse_autoencoder,
            epochs=15,
            demo_epochs=5,
            tutorial="03_sparse.py",
        ),
        Kind(
            "contractive",
            "contractive autoencoder",
            builders.build_contractive_autoencoder,
            epochs=15,
            tutorial="04_contractive.py",
        ),
        Kind(
            "tied",
            "dense autoencoder with tied weights",
            builders.build_dense_autoencoder,
            options={"tied_weights": True},
            epochs=15,
            demo_epochs=5,
            tutorial="05_tied_weights.py",
        ),
        Kind(
            "vae",
            "conv VAE, latent 2",
            builders.build_vae,
            options={"architecture": "conv", "latent_dim": 2, "seed": 0},
            epochs=30,
            demo_epochs=8,
            evaluate=vae_metrics,
            tutorial="07_variational_autoencoder.py",
        ),
        Kind(
            "vae16",
            "dense VAE, latent 16",
            builders.build_vae,
            options={"architecture": "dense", "latent_dim": 16, "seed": 0},
            epochs=30,
            demo_epochs=5,
            evaluate=vae_metrics,
            tutorial="07_variational_autoencoder.py",
        ),
        Kind(
            "stacked",
            "stacked sparse autoencoders 784-200-200 + softmax",
            builders.build_dense_autoencoder,
            epochs=20,
            demo_epochs=2,
            trainer=train_stacked,
            evaluate=classifier_metrics,
            tutorial="06_stacked_classifier.py",
        ),
        Kind(
            "anomaly",
            f"anomaly detector (dense AE, code 32, MSE score) trained on digit {NORMAL_DIGIT}",
            builders.build_dense_autoencoder,
            epochs=100,
            demo_epochs=10,
            batch_size=64,
            trainer=train_detector,
            evaluate=detector_metrics,
            tutorial="09_anomaly_detection.py",
        ),
    ]
}


def fit_series(
    model: keras.Model, data: Data, epochs: int, batch_size: int, **kwargs: Any
) -> keras.callbacks.History:
    """Adapt the model's Normalization layer on the training windows, then
    :func:`fit_autoencoder`."""
    model.adapt(data.x_train)
    return fit_autoencoder(model, data, epochs, batch_size, **kwargs)


def series_metrics(model: keras.Model, data: Data) -> dict[str, float]:
    """Held-out MSE of the standardised windows (the units of the training loss)."""
    from keras_ae.series import window_scores

    return {"mse": float(np.mean(window_scores(model, data.x_test)))}


#: Sequence kinds: they train on windows of a series read from a CSV file
#: (``keras-ae train conv1d|lstm --data series.csv --window W``), with the
#: models of tutorial 12. They standardise inside the model (``normalize=True``),
#: so the model and its exports take the series' raw values. The demo and the
#: pretrained models, which train on images, leave them out.
SERIES_KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in [
        Kind(
            "conv1d",
            "Conv1D autoencoder for series, filters 16-32, kernel 5, code 8",
            builders.build_conv_autoencoder,
            options={
                "filters": (16, 32),
                "latent_dim": 8,
                "kernel_size": 5,
                "output_activation": None,
                "normalize": True,
            },
            epochs=20,
            batch_size=64,
            fit=fit_series,
            evaluate=series_metrics,
            tutorial="12_time_series_anomalies.py",
        ),
        Kind(
            "lstm",
            "LSTM autoencoder for series, 32 units, code 8",
            builders.build_lstm_autoencoder,
            options={"units": (32,), "latent_dim": 8, "normalize": True},
            epochs=20,
            batch_size=64,
            fit=fit_series,
            evaluate=series_metrics,
            tutorial="12_time_series_anomalies.py",
        ),
    ]
}

#: Every kind ``keras-ae train`` takes.
ALL_KINDS: dict[str, Kind] = {**KINDS, **SERIES_KINDS}
