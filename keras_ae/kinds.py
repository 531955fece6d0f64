"""The table of model kinds behind the command line, the demo and the pretrained models.

Each :class:`Kind` says how to build a model (a keras_ae builder and its
tutorial settings), how many epochs the tutorial trains it, how it trains
(its one hook, :meth:`Kind.recipe`: one ``fit(x, x)``, or the stages of
:class:`StackedKind` and :class:`DetectorKind`) and how to measure it on a
test set. ``keras-ae train KIND``, ``keras-ae demo`` and ``keras-ae
export-pretrained`` all read this one table; a new model kind adds one row.

Each kind declares the options of :meth:`Kind.train` it honours
(:data:`TRAIN_OPTIONS`: a distribution strategy, a folder to resume from,
callbacks, data streamed from a folder) and the builder arguments it lets
``overrides`` set. Any other is refused with a one-line ValueError naming the
option and its value, never dropped. :meth:`Kind.provenance` records what
really built a trained model, for the pretrained models' manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from keras_ae import anomaly, builders, metrics, stacked


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
    """The deterministic reconstruction: the model's own ``reconstruct`` (every
    keras_ae autoencoder; a VAE's goes through its mean), a detector's
    autoencoder's; ``predict`` for a model without one (the classifier's
    probabilities)."""
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


#: The options of :meth:`Kind.train` a kind may honour (see ``Kind.honours``), with
#: the command-line flag that sets each; ``"streamed"`` is data read from a folder.
TRAIN_OPTIONS: dict[str, str] = {
    "strategy": "--strategy",
    "resume_dir": "--resume",
    "callbacks": "--tensorboard",
    "streamed": "--data DIR",
}


def _qualified_name(fn: Callable[..., Any]) -> str:
    """``keras_ae.<name>`` for a public builder, else ``<module>.<name>``."""
    import keras_ae

    name = fn.__qualname__
    return f"keras_ae.{name}" if getattr(keras_ae, name, None) is fn else f"{fn.__module__}.{name}"


def _json(value: Any) -> Any:
    """Builder arguments as plain JSON data (tuples as lists)."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return [_json(v) for v in value] if isinstance(value, (tuple, list)) else value


@dataclass(frozen=True)
class Kind:
    """One model kind: its builder, tutorial settings, training and figures.

    Its one training hook is :meth:`recipe`: here one ``fit(x, x)`` of the
    builder's model; the subclasses train in several stages or adapt a
    normalization first. ``honours`` declares which options of :meth:`train`
    (:data:`TRAIN_OPTIONS`) the recipe uses and ``overridable`` which builder
    arguments ``overrides`` may set; :meth:`check` refuses any other.
    """

    name: str
    description: str
    build: Callable[..., keras.Model]
    options: dict = field(default_factory=dict)
    epochs: int = 10
    demo_epochs: int = 2
    batch_size: int = 128
    evaluate: Callable[[Any, Data], dict[str, float]] = autoencoder_metrics
    tutorial: str = ""
    #: the options of :meth:`train` this kind honours (keys of :data:`TRAIN_OPTIONS`)
    honours: frozenset[str] = frozenset(TRAIN_OPTIONS)
    #: the builder arguments ``overrides`` may set
    overridable: tuple[str, ...] = ("latent_dim",)
    #: why the options outside ``honours`` cannot be honoured (for the error)
    because: str = ""

    @property
    def takes_streams(self) -> bool:
        """True if this kind trains on :class:`StreamedData` (plain ``fit(x, x)``)."""
        return "streamed" in self.honours

    def builder_args(self, input_shape: tuple[int, ...], overrides: dict | None = None) -> dict:
        """The arguments :meth:`make` passes to the builder."""
        return {"input_shape": tuple(input_shape), **self.options, **(overrides or {})}

    def make(self, input_shape: tuple[int, ...], **overrides: Any) -> keras.Model:
        """Build the model for ``input_shape`` with the tutorial settings and ``overrides``."""
        return self.build(**self.builder_args(input_shape, overrides))

    def check(self, data: Any = None, overrides: dict | None = None, **options: Any) -> None:
        """Refuse what this kind cannot honour, before anything is built or written.

        Raises:
            ValueError: an option of :data:`TRAIN_OPTIONS` outside ``honours``
                set (not None or empty), streamed ``data`` for a kind that
                trains on arrays, or an override outside ``overridable``; the
                one-line message names the option and the value.
        """
        unknown = sorted(set(options) - set(TRAIN_OPTIONS))
        if unknown:
            raise TypeError(
                f"Unknown training options {unknown}; known: {', '.join(TRAIN_OPTIONS)}"
            )
        if isinstance(data, StreamedData):
            options = {**options, "streamed": data}
        for option, value in options.items():
            if option not in self.honours and value not in (None, (), []):
                shown = "<batches streamed from a folder>" if option == "streamed" else repr(value)
                raise ValueError(
                    f"Kind {self.name!r} cannot honour {option}={shown} "
                    f"({TRAIN_OPTIONS[option]}): {self.because}."
                )
        for key, value in (overrides or {}).items():
            if key not in self.overridable:
                takes = ", ".join(self.overridable) or "none"
                raise ValueError(
                    f"Kind {self.name!r} cannot honour the override {key}={value!r}: "
                    f"the builder arguments it takes are: {takes}."
                )

    def train(
        self,
        data: Data | StreamedData,
        epochs: int,
        batch_size: int,
        overrides: dict | None = None,
        strategy: Any = None,
        *,
        resume_dir: Any = None,
        callbacks: Any = (),
        verbose: Any = 0,
    ) -> Any:
        """Build and train this kind on ``data``; return the trained model (or detector).

        Args:
            data: the arrays (:class:`Data`), or batches read from a folder
                (:class:`StreamedData`) for the kinds that stream.
            epochs: the run length (the staged kinds derive their stages' from it).
            batch_size: the batch size of every ``fit``.
            overrides: builder arguments over the tutorial settings (``overridable``).
            strategy: a ``tf.distribute`` strategy to build and train in.
            resume_dir: a folder to back up to each epoch and resume from.
            callbacks: more Keras callbacks.
            verbose: ``fit``'s verbosity.

        Raises:
            ValueError: an option this kind cannot honour (:meth:`check`).
        """
        callbacks = list(callbacks)
        self.check(data, overrides, strategy=strategy, resume_dir=resume_dir, callbacks=callbacks)
        options = {"strategy": strategy, "resume_dir": resume_dir, "callbacks": callbacks}
        return self.recipe(
            data, epochs, batch_size, dict(overrides or {}), verbose=verbose, **options
        )

    def recipe(
        self, data: Any, epochs: int, batch_size: int, overrides: dict, **options: Any
    ) -> Any:
        """The training hook: build and train, return the trained model. Here: the
        builder's model in the strategy's scope, then one :func:`fit_autoencoder`."""
        return self._build_and_fit(data, epochs, batch_size, overrides, **options)

    def _build_and_fit(
        self,
        data: Any,
        epochs: int,
        batch_size: int,
        overrides: dict,
        strategy: Any = None,
        prepare: Callable[[keras.Model], Any] | None = None,
        **fit_options: Any,
    ) -> keras.Model:
        from keras_ae.distribution import strategy_scope

        with strategy_scope(strategy):
            model = self.make(data.input_shape, **overrides)
            if prepare is not None:
                prepare(model)
            fit_autoencoder(model, data, epochs=epochs, batch_size=batch_size, **fit_options)
        return model

    def provenance(
        self, model: Any, data: Any, epochs: int, batch_size: int, overrides: dict | None = None
    ) -> dict[str, Any]:
        """What built ``model`` (trained by :meth:`train` with these arguments):
        ``{"builder": qualified name, "builder_args": its keyword arguments}``
        as JSON data; an argument that is itself a built model holds its own
        ``builder`` and ``builder_args``."""
        return {
            "builder": _qualified_name(self.build),
            "builder_args": _json(self.builder_args(data.input_shape, overrides)),
        }


@dataclass(frozen=True)
class SeriesKind(Kind):
    """A sequence kind: adapt the model's Normalization layer on the training
    windows, then one ``fit(x, x)``; windows are arrays, never streamed."""

    honours: frozenset[str] = frozenset({"strategy", "resume_dir", "callbacks"})
    because: str = "it adapts its normalization on the training windows, held as arrays"

    def recipe(
        self, data: Any, epochs: int, batch_size: int, overrides: dict, **options: Any
    ) -> keras.Model:
        """Adapt on ``data.x_train``, then :func:`fit_autoencoder`."""
        adapt = lambda model: model.adapt(data.x_train)  # noqa: E731
        return self._build_and_fit(data, epochs, batch_size, overrides, prepare=adapt, **options)


@dataclass(frozen=True)
class StackedKind(Kind):
    """The stacked classifier: greedy pretraining (``2 * epochs`` per layer, as in
    tutorial 06: each layer is cheap), the softmax alone, then fine-tuning
    (``epochs`` each). ``options`` are the arguments of
    :func:`keras_ae.stacked.pretrain_stacked_autoencoder`."""

    honours: frozenset[str] = frozenset()
    overridable: tuple[str, ...] = ()
    because: str = (
        "it trains in three stages (greedy pretraining, the softmax, fine-tuning) on arrays "
        "with labels"
    )

    def _pretrain_args(self, epochs: int, batch_size: int) -> dict[str, Any]:
        return {**self.options, "epochs": 2 * epochs, "batch_size": batch_size}

    @staticmethod
    def _num_classes(data: Data) -> int:
        return int(max(data.y_train.max(), 1)) + 1

    def make(self, input_shape: tuple[int, ...], **overrides: Any) -> keras.Model:
        """Not available: the classifier is built on a stack trained first (:meth:`train`)."""
        raise ValueError(
            f"Kind {self.name!r} builds its classifier on a pretrained stack: use train()."
        )

    def recipe(
        self, data: Any, epochs: int, batch_size: int, overrides: dict, **options: Any
    ) -> keras.Model:
        """Pretrain the stack, train the softmax on the frozen stack, then fine-tune."""
        if data.y_train is None:
            raise ValueError("The stacked classifier needs labels: --data must hold y_train.")
        verbose = options.get("verbose", 0)
        encoder = stacked.pretrain_stacked_autoencoder(
            data.x_train, **self._pretrain_args(epochs, batch_size)
        )
        model = self.build(encoder, self._num_classes(data), freeze_encoder=True)
        model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=batch_size, verbose=verbose)
        model.set_encoder_trainable(True)
        model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=batch_size, verbose=verbose)
        return model

    def provenance(
        self, model: Any, data: Any, epochs: int, batch_size: int, overrides: dict | None = None
    ) -> dict[str, Any]:
        encoder = {
            "builder": _qualified_name(stacked.pretrain_stacked_autoencoder),
            "builder_args": _json(self._pretrain_args(epochs, batch_size)),
        }
        args = {"encoder": encoder, "num_classes": self._num_classes(data), "freeze_encoder": True}
        return {"builder": _qualified_name(self.build), "builder_args": args}


@dataclass(frozen=True)
class DetectorKind(Kind):
    """One-class training: the training samples of class ``NORMAL_DIGIT`` are
    normal (all of them when there are no labels), in an
    :class:`~keras_ae.anomaly.AnomalyDetector` that trains its autoencoder and
    calibrates its threshold. A table (``data.columns``) gets
    :func:`~keras_ae.anomaly.tabular_model`, which standardises the raw values
    inside, and stops early on held-out rows."""

    honours: frozenset[str] = frozenset()
    because: str = (
        "the detector trains its autoencoder and calibrates its threshold in one call "
        "on arrays of normal samples"
    )

    def _model_args(self, data: Data, overrides: dict | None) -> tuple[Callable, dict]:
        x = self._normal(data)
        if data.columns is not None:
            return anomaly.tabular_model, {"n_features": x.shape[1], **(overrides or {})}
        return self.build, self.builder_args(x.shape[1:], overrides)

    @staticmethod
    def _normal(data: Data) -> np.ndarray:
        return data.x_train if data.y_train is None else data.x_train[data.y_train == NORMAL_DIGIT]

    def recipe(
        self, data: Any, epochs: int, batch_size: int, overrides: dict, **options: Any
    ) -> Any:
        """Build the autoencoder, then ``AnomalyDetector(model).fit(normal samples)``."""
        build, args = self._model_args(data, overrides)
        detector = anomaly.AnomalyDetector(build(**args))
        return detector.fit(
            self._normal(data),
            epochs=epochs,
            batch_size=batch_size,
            verbose=options.get("verbose", 0),
        )

    def provenance(
        self, model: Any, data: Any, epochs: int, batch_size: int, overrides: dict | None = None
    ) -> dict[str, Any]:
        build, args = self._model_args(data, overrides)
        settings = {k: v for k, v in model.get_config().items() if k != "threshold_"}
        inner = {"builder": _qualified_name(build), "builder_args": _json(args)}
        return {
            "builder": f"{type(model).__module__}.{type(model).__qualname__}",
            "builder_args": {"model": inner, **settings},
        }


def classifier_metrics(model: keras.Model, data: Data) -> dict[str, float]:
    """Test accuracy."""
    probs = model.predict(data.x_test, batch_size=256, verbose=0)
    return {"accuracy": float(np.mean(probs.argmax(-1) == data.y_test))}


#: The class whose training samples the anomaly kind takes as normal.
NORMAL_DIGIT = 0


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


def _by_name(kinds: list[Kind]) -> dict[str, Kind]:
    """The table of ``kinds``, keyed by name."""
    return {kind.name: kind for kind in kinds}


def _vae_kind(name: str, architecture: str, latent_dim: int, demo_epochs: int) -> Kind:
    """A VAE row: tutorial 07's model and 30 epochs, measured by its −ELBO."""
    return Kind(
        name,
        f"{architecture} VAE, latent {latent_dim}",
        builders.build_vae,
        options={"architecture": architecture, "latent_dim": latent_dim, "seed": 0},
        epochs=30,
        demo_epochs=demo_epochs,
        evaluate=vae_metrics,
        tutorial="07_variational_autoencoder.py",
    )


KINDS: dict[str, Kind] = _by_name(
    [
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
            overridable=("latent_dim", "noise_level"),
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
        _vae_kind("vae", "conv", latent_dim=2, demo_epochs=8),
        _vae_kind("vae16", "dense", latent_dim=16, demo_epochs=5),
        StackedKind(
            "stacked",
            "stacked sparse autoencoders 784-200-200 + softmax",
            stacked.build_stacked_classifier,
            options={"hidden_units": (200, 200), "kind": "sparse", "seed": 0},
            epochs=20,
            demo_epochs=2,
            evaluate=classifier_metrics,
            tutorial="06_stacked_classifier.py",
        ),
        DetectorKind(
            "anomaly",
            f"anomaly detector (dense AE, code 32, MSE score) trained on digit {NORMAL_DIGIT}",
            anomaly.default_model,
            epochs=100,
            demo_epochs=10,
            batch_size=64,
            evaluate=detector_metrics,
            tutorial="09_anomaly_detection.py",
        ),
    ]
)


def series_metrics(model: keras.Model, data: Data) -> dict[str, float]:
    """Held-out MSE of the standardised windows (the units of the training loss)."""
    from keras_ae.series import window_scores

    return {"mse": float(np.mean(window_scores(model, data.x_test)))}


#: Sequence kinds: they train on windows of a series read from a CSV file
#: (``keras-ae train conv1d|lstm --data series.csv --window W``), with the
#: models of tutorial 12. They standardise inside the model (``normalize=True``),
#: so the model and its exports take the series' raw values. The demo and the
#: pretrained models, which train on images, leave them out.
SERIES_KINDS: dict[str, Kind] = _by_name(
    [
        SeriesKind(
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
            evaluate=series_metrics,
            tutorial="12_time_series_anomalies.py",
        ),
        SeriesKind(
            "lstm",
            "LSTM autoencoder for series, 32 units, code 8",
            builders.build_lstm_autoencoder,
            options={"units": (32,), "latent_dim": 8, "normalize": True},
            epochs=20,
            batch_size=64,
            evaluate=series_metrics,
            tutorial="12_time_series_anomalies.py",
        ),
    ]
)

#: Every kind ``keras-ae train`` takes.
ALL_KINDS: dict[str, Kind] = {**KINDS, **SERIES_KINDS}
