"""Stacked autoencoders: greedy layer-wise pretraining, then a softmax on top.

The classic recipe (Hinton & Salakhutdinov 2006; Bengio et al. 2007; UFLDL):

1. :func:`pretrain_stacked_autoencoder` trains one-hidden-layer dense
   autoencoders one after the other, each on the codes of the one below (the
   first on the data), with the existing builders
   (:func:`~keras_ae.build_sparse_autoencoder` or
   :func:`~keras_ae.build_denoising_autoencoder`), and chains their trained
   encoders into one ``keras.Model`` named ``"stacked_encoder"``.
2. :func:`build_stacked_classifier` puts a softmax layer on the deepest code;
   with ``freeze_encoder=True`` only the softmax trains (features from
   unsupervised pretraining alone), then
   :meth:`StackedClassifier.set_encoder_trainable` unfreezes the stack for
   fine-tuning with the labels.

The stacked encoder is a plain functional model (export gives ``serve``, the
deepest code). A :class:`StackedClassifier` exports ``serve``/``classify``
(class probabilities) and ``encode`` (the deepest code).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_ae import backend, checks, export
from keras_ae.builders import build_denoising_autoencoder, build_sparse_autoencoder
from keras_ae.models import KerasAEModel

#: ``kind`` -> the builder of one layer of the stack.
LAYER_BUILDERS = {"sparse": build_sparse_autoencoder, "denoising": build_denoising_autoencoder}

#: ``kind`` -> the layer builder's arguments that :func:`pretrain_stacked_autoencoder` passes on.
LAYER_ARGUMENTS = {
    "sparse": ("sparsity", "target", "weight", "l1", "code_activation"),
    "denoising": ("noise", "noise_level", "code_activation"),
}


def _in_unit_range(x: np.ndarray) -> bool:
    return bool(x.min() >= 0.0 and x.max() <= 1.0)


def pretrain_stacked_autoencoder(
    x: Any,
    hidden_units: Sequence[int] = (200, 200),
    kind: str = "sparse",
    *,
    epochs: int = 20,
    batch_size: int = 128,
    seed: int | None = None,
    verbose: int | str = 0,
    sparsity: str | None = None,
    target: float | None = None,
    weight: float | None = None,
    l1: float | None = None,
    noise: str | None = None,
    noise_level: float | None = None,
    code_activation: str | None = None,
) -> keras.Model:
    """Greedy layer-wise pretraining of a stack of dense autoencoders.

    Layer ``i`` is a one-hidden-layer dense autoencoder, input →
    ``hidden_units[i]`` code units → input, built with
    ``build_sparse_autoencoder`` or ``build_denoising_autoencoder``
    (``architecture="dense", hidden_units=(), latent_dim=hidden_units[i]``)
    and trained with ``fit`` on the codes of layer ``i - 1`` (layer 0 on
    ``x``). Its output activation follows the range of its input: a sigmoid
    and binary cross-entropy when the input lies in [0, 1] (pixels, and the
    sigmoid codes of the defaults), else a linear output and mean squared
    error (e.g. the ReLU codes of ``sparsity="l1"``).

    Code units are sigmoid by default for both kinds (``"sparse"`` with the
    KL penalty needs them; ``"denoising"`` gets ``code_activation="sigmoid"``
    unless given), so every layer above the first sees data in [0, 1], which
    the Gaussian corruption's clipping to [0, 1] also assumes.

    Args:
        x: training data, e.g. images ``(N, 28, 28, 1)`` in [0, 1].
        hidden_units: code size of each layer, bottom to top (at least one).
        kind: ``"sparse"`` or ``"denoising"``.
        epochs: training epochs per layer.
        batch_size: batch size of every ``fit``.
        seed: if given, ``keras.utils.set_random_seed(seed)`` runs first (it
            seeds Python, NumPy and the backend globally, for reproducible
            weights and shuffling) and denoising layer ``i`` gets the
            corruption seed ``seed + i``.
        verbose: ``fit``'s verbosity for every layer.
        sparsity: ``build_sparse_autoencoder``'s, for every layer (None: its default).
        target: ``build_sparse_autoencoder``'s (None: its default).
        weight: ``build_sparse_autoencoder``'s (None: its default).
        l1: ``build_sparse_autoencoder``'s (None: its default).
        noise: ``build_denoising_autoencoder``'s (None: its default).
        noise_level: ``build_denoising_autoencoder``'s (None: its default).
        code_activation: the code units' activation (None: sigmoid for
            ``"denoising"``, the sparse builder's default for ``"sparse"``).

    The arguments of the other kind's builder are refused. The stack sets
    each layer's ``input_shape``, ``architecture``, ``hidden_units``,
    ``latent_dim``, ``output_activation`` and ``name`` itself.

    Returns:
        The uncompiled functional model ``"stacked_encoder"``: input →
        ``encoder_1`` → ... → ``encoder_k``, the trained encoders (their own
        layers, not copies) as nested models; its output is the deepest code.
    """
    x = checks.array("x", x)
    units = checks.int_tuple("hidden_units", hidden_units, allow_empty=False)
    build_layer = LAYER_BUILDERS[checks.choice("kind", kind, LAYER_BUILDERS)]
    epochs = checks.positive_int("epochs", epochs)
    batch_size = checks.positive_int("batch_size", batch_size)
    seed = checks.seed("seed", seed)
    given = {
        "sparsity": sparsity,
        "target": target,
        "weight": weight,
        "l1": l1,
        "noise": noise,
        "noise_level": noise_level,
        "code_activation": code_activation,
    }
    layer_kwargs = {k: v for k, v in given.items() if v is not None}
    for key, value in layer_kwargs.items():
        if key not in LAYER_ARGUMENTS[kind]:
            raise ValueError(
                f"`{key}` is an argument of the other layer kind, not of kind={kind!r} "
                f"({', '.join(LAYER_ARGUMENTS[kind])}). Received: {key}={value!r}"
            )
    if kind == "denoising":
        layer_kwargs.setdefault("code_activation", "sigmoid")
    if seed is not None:
        keras.utils.set_random_seed(seed)

    encoders, h = [], x
    for i, size in enumerate(units):
        extra = {"seed": seed + i} if kind == "denoising" and seed is not None else {}
        autoencoder = build_layer(
            h.shape[1:],
            architecture="dense",
            hidden_units=(),
            latent_dim=size,
            output_activation="sigmoid" if _in_unit_range(h) else None,
            name=f"stacked_layer_{i + 1}",
            **extra,
            **layer_kwargs,
        )
        autoencoder.fit(h, h, epochs=epochs, batch_size=batch_size, verbose=verbose)
        encoder = autoencoder.encoder
        encoders.append(keras.Model(encoder.input, encoder.output, name=f"encoder_{i + 1}"))
        h = encoder.predict(h, batch_size=max(batch_size, 256), verbose=0)

    inputs = keras.Input(shape=x.shape[1:], name="input")
    code = inputs
    for encoder in encoders:
        code = encoder(code)
    return keras.Model(inputs, code, name="stacked_encoder")


register = keras.saving.register_keras_serializable(package="keras_ae")


@register
class StackedClassifier(KerasAEModel):
    """``softmax(W · encoder(x) + b)``: a classifier on a (pretrained) encoder.

    ``model.encoder`` is the encoder passed in (shared, not copied);
    ``model.get_layer("softmax")`` the output layer. Build it with
    :func:`build_stacked_classifier`. ``get_config`` holds the serialised
    encoder, so a ``.keras`` file reloads into this class in safe mode.

    ``compile()`` defaults (``"auto"``): Adam(1e-3), sparse categorical
    cross-entropy, the ``accuracy`` metric, and the dense trunks' speed
    settings outside a distribution.
    """

    def __init__(
        self,
        encoder: keras.Model | dict,
        num_classes: int = 10,
        freeze_encoder: bool = False,
        **kwargs: Any,
    ) -> None:
        if isinstance(encoder, dict):  # from_config
            encoder = keras.saving.deserialize_keras_object(encoder)
        encoder.trainable = not freeze_encoder
        inputs = keras.Input(shape=encoder.input_shape[1:], name="input")
        code = encoder(inputs)
        outputs = keras.layers.Dense(num_classes, activation="softmax", name="softmax")(code)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.encoder = encoder
        self.num_classes = num_classes
        self.freeze_encoder = freeze_encoder

    def set_encoder_trainable(self, trainable: bool = True) -> StackedClassifier:
        """Freeze (False) or unfreeze (True, for fine-tuning) the encoder and
        compile again with the defaults (a fresh Adam). The softmax layer keeps
        its weights. Returns ``self``."""
        checks.boolean("trainable", trainable)
        self.encoder.trainable = trainable
        self.freeze_encoder = not trainable
        self.compile()
        return self

    def default_loss(self) -> str:
        """Sparse categorical cross-entropy: integer labels, softmax outputs."""
        return "sparse_categorical_crossentropy"

    def default_metrics(self) -> list:
        """``accuracy``."""
        return ["accuracy"]

    def default_speed(self) -> dict[str, Any]:
        """The dense trunks' settings on this backend (:func:`keras_ae.backend.compile_speed`)."""
        return backend.compile_speed("dense")

    def export_endpoints(self) -> dict[str, export.Endpoint]:
        """``serve``/``classify`` (class probabilities) and ``encode`` (deepest code)."""
        endpoints = export.model_endpoints(self)
        endpoints["classify"] = endpoints["serve"]
        endpoints["encode"] = (lambda t: self.encoder(t, training=False), [export.x_spec(self)])
        return endpoints

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "num_classes": self.num_classes,
            "freeze_encoder": self.freeze_encoder,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> StackedClassifier:
        return cls(**config)


def build_stacked_classifier(
    encoder: keras.Model,
    num_classes: int = 10,
    *,
    freeze_encoder: bool = False,
    name: str | None = None,
) -> StackedClassifier:
    """A softmax classifier on top of ``encoder``, compiled for ``fit(x, labels)``.

    Typical use: the encoder from :func:`pretrain_stacked_autoencoder`, first
    with ``freeze_encoder=True`` (only the softmax learns), then
    ``model.set_encoder_trainable(True)`` and ``fit`` again to fine-tune the
    whole network. For the same network from random initial weights, pass
    ``keras.models.clone_model(encoder)``.

    Args:
        encoder: a ``keras.Model`` with one input and one output of shape
            ``(batch, units)``. It is shared, not copied: freezing the
            classifier's encoder freezes this model.
        num_classes: number of classes (>= 2); labels are integers in
            ``[0, num_classes)``.
        freeze_encoder: train the softmax layer only.
        name: model name; default "stacked_classifier".

    Returns:
        A :class:`StackedClassifier` compiled with Adam(1e-3), sparse
        categorical cross-entropy and the ``accuracy`` metric.
    """
    if not isinstance(encoder, keras.Model):
        raise TypeError(f"`encoder` must be a keras.Model. Received: encoder={encoder!r}")
    if len(encoder.inputs) != 1 or len(encoder.outputs) != 1 or len(encoder.output_shape) != 2:
        raise ValueError(
            "`encoder` must have one input and one output of shape (batch, units). "
            f"Received: encoder={encoder.name!r} with output shape {encoder.output_shape}"
        )
    num_classes = checks.positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be at least 2. Received: num_classes={num_classes!r}")
    checks.boolean("freeze_encoder", freeze_encoder)
    model = StackedClassifier(
        encoder, num_classes, freeze_encoder, name=name or "stacked_classifier"
    )
    model.compile()
    return model
