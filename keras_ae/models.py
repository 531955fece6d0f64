"""The model classes: functional Keras models with explicit constructor arguments.

Each class is a functional ``keras.Model`` subclass in the keras-hub style:
its constructor takes a :class:`~keras_ae.trunks.Trunk` (the encoder's and
decoder's arguments) and the arguments of its own kind, validates them with
:mod:`keras_ae.checks`, builds the graph from the shared trunks and calls
``keras.Model.__init__(inputs=..., outputs=...)``. ``get_config`` returns
``super().get_config()`` (name, trainable, dtype policy) plus those
arguments, so a ``.keras`` file reloads into the same class with the same
ties and loss layers, in safe mode. Files saved by keras_ae 0.1.0 (one
``spec`` dict) load too.

Each optional part is a subclass that hands one hook to the shared graph
(:meth:`Autoencoder._assemble`):

- :class:`Autoencoder`: ``decoder(encoder(x))``, any trunk;
- :class:`TiedAutoencoder`: a decoder of
  :class:`~keras_ae.layers.DenseTranspose` layers;
- :class:`DenoisingAutoencoder`: a corruption layer before the encoder,
  active only in training;
- :class:`SparseAutoencoder`: a :class:`~keras_ae.layers.SparsityRegularizer`
  on the code;
- :class:`ContractiveAutoencoder`: a Jacobian penalty added in
  ``compute_loss`` (exact, or its Hutchinson estimate);
- :class:`VariationalAutoencoder`: two encoder heads, a
  :class:`~keras_ae.layers.KLDivergence` and a
  :class:`~keras_ae.layers.Sampling` layer before the decoder.

:class:`KerasAEModel` is the base of every keras_ae model (the stacked
classifier's too) and the one place that compiles: ``compile()`` with its
``"auto"`` defaults gives each kind its optimizer, loss, metrics and speed
settings, also on a reloaded model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_ae import backend, checks, export, losses, trunks
from keras_ae import layers as ae_layers
from keras_ae.trunks import Trunk

register = keras.saving.register_keras_serializable(package="keras_ae")

#: A value whose variance over the data given to :meth:`Autoencoder.adapt` is
#: at most this is taken as constant: it is centred but not scaled.
CONSTANT_VARIANCE = 1e-12

#: ``penalty`` values of :class:`ContractiveAutoencoder`.
CONTRACTIVE_PENALTIES = ("exact", "hutchinson")

#: ``likelihood`` of :class:`VariationalAutoencoder` -> the decoder's output activation.
LIKELIHOODS = {"bernoulli": "sigmoid", "gaussian": None}


class KerasAEModel(backend.ModelHooks, keras.Model):
    """The base of keras_ae's models: ``compile`` with defaults of their own.

    ``compile(optimizer="auto", loss="auto", metrics="auto", **kwargs)``
    takes each ``"auto"`` from :meth:`default_optimizer`,
    :meth:`default_loss` and :meth:`default_metrics`, and adds the speed
    settings of :meth:`default_speed` (``jit_compile``,
    ``steps_per_execution``) unless ``kwargs`` sets them or the model lives
    in a distribution, where TensorFlow 2.21 refuses them. Anything else
    passes to ``keras.Model.compile``.
    """

    #: Adam's learning rate for ``optimizer="auto"``.
    default_learning_rate = 1e-3

    def compile(
        self,
        optimizer: Any = "auto",
        loss: Any = "auto",
        metrics: Any = "auto",
        **kwargs: Any,
    ) -> None:
        """Keras's ``compile``, with ``"auto"`` for this kind's defaults (see the class)."""
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = self.default_optimizer()
        if isinstance(loss, str) and loss == "auto":
            loss = self.default_loss()
        if isinstance(metrics, str) and metrics == "auto":
            metrics = self.default_metrics()
        if not backend.in_distribution(self):
            kwargs = {**self.default_speed(), **kwargs}
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def default_optimizer(self) -> keras.optimizers.Optimizer:
        """``Adam(default_learning_rate)``."""
        return keras.optimizers.Adam(self.default_learning_rate)

    def default_loss(self) -> Any:
        """The loss for ``loss="auto"``: a class without one refuses ``"auto"``."""
        raise ValueError(
            f"`loss` must be a loss: {type(self).__name__} has no default for it. "
            "Received: loss='auto'"
        )

    def default_metrics(self) -> list | None:
        """The metrics for ``metrics="auto"`` (none by default)."""
        return None

    def default_speed(self) -> dict[str, Any]:
        """``jit_compile`` and ``steps_per_execution`` for this model on this backend."""
        return {}


@register
class Autoencoder(KerasAEModel):
    """A deterministic autoencoder: ``decoder(encoder(x))``.

    ``model.encoder`` and ``model.decoder`` (also ``model.get_layer("encoder")``
    and ``model.get_layer("decoder")``) are nested functional models usable
    alone. The ``keras_ae.build_*`` functions make and compile one from
    keyword arguments; the class takes the :class:`~keras_ae.trunks.Trunk`
    itself::

        model = Autoencoder(Trunk(input_shape=(30,), hidden_units=(64,), latent_dim=8))
        model.compile()  # Adam(1e-3), cross-entropy for a sigmoid output

    Args:
        trunk: the encoder's and decoder's arguments (a Trunk or its
            ``get_config()`` dict; None: the default Trunk).
        **kwargs: ``keras.Model``'s own (``name``, ``trainable``, ``dtype``).
    """

    def __init__(self, trunk: Trunk | dict | None = None, **kwargs: Any) -> None:
        self._assemble(trunk, **kwargs)

    def _assemble(
        self,
        trunk: Trunk | dict | None,
        *,
        heads: Sequence[trunks.Head] | None = None,
        before_encoder: keras.layers.Layer | None = None,
        on_code: Sequence[keras.layers.Layer] = (),
        tied: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Build ``decoder(on_code(encoder(before_encoder(x))))`` and initialise
        the functional model: the one graph every kind shares, with its hooks."""
        trunk = Trunk() if trunk is None else Trunk.from_config(trunk)
        heads = heads or [("code", trunk.latent_dim, trunk.code_activation)]
        encoder = trunks.build_encoder(trunk, heads=heads)
        decoder = trunks.build_decoder(trunk, tied_to=encoder if tied else None)
        inputs = keras.Input(shape=trunk.input_shape, name="input")
        code = encoder(inputs if before_encoder is None else before_encoder(inputs))
        for layer in on_code:
            code = layer(code)
        name = name or f"{self.kind_name(trunk)}_autoencoder"
        KerasAEModel.__init__(self, inputs=inputs, outputs=decoder(code), name=name, **kwargs)
        self.trunk = trunk
        self.encoder = encoder
        self.decoder = decoder

    def kind_name(self, trunk: Trunk) -> str:
        """The kind's name (``"dense"``, ``"conv"``, ``"lstm"``, ``"sparse"``, ...)."""
        return trunk.architecture

    @property
    def kind(self) -> str:
        """The kind's name, as ``keras-ae train`` and the manifest call it."""
        return self.kind_name(self.trunk)

    def arguments(self) -> dict[str, Any]:
        """This kind's own constructor arguments (the trunk's are in ``trunk``)."""
        return {}

    @property
    def spec(self) -> dict[str, Any]:
        """Every argument in one flat dict, read-only: ``kind``, the trunk's
        arguments and the kind's own (the form keras_ae 0.1.0 stored)."""
        return {"kind": self.kind, **self.trunk.get_config(), **self.arguments()}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "trunk": self.trunk.get_config(), **self.arguments()}

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> Autoencoder:
        config = dict(config)
        if "spec" in config:
            cls, config = _from_release_0_1(cls, config)
        return cls(**config)

    # ------------------------------------------------------------ defaults

    def default_loss(self) -> str:
        """Binary cross-entropy for a sigmoid output (data in [0, 1]), mean
        squared error for a linear one."""
        if self.trunk.output_activation == "sigmoid":
            return "binary_crossentropy"
        return "mean_squared_error"

    def default_speed(self) -> dict[str, Any]:
        """The trunk's settings on this backend (:func:`keras_ae.backend.compile_speed`)."""
        return backend.compile_speed(self.trunk.architecture, self.trunk.input_shape)

    # ------------------------------------------------------------ use

    def reconstruction(self, x: Any) -> Any:
        """The deterministic reconstruction of a batch of tensors (graph code:
        the exported ``reconstruct`` endpoint and the anomaly scores use it)."""
        return self(x, training=False)

    def reconstruct(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """The deterministic reconstruction of ``x`` as a numpy array."""
        return self.predict(x, batch_size=batch_size, verbose=0)

    def export_endpoints(self) -> dict[str, Any]:
        """``serve``/``reconstruct`` (x → x̂), ``encode`` (x → code) and
        ``decode`` (code → x̂), for :mod:`keras_ae.export`."""
        x = [export.x_spec(self)]
        reconstruct = (self.reconstruction, x)
        return {
            "serve": reconstruct,
            "reconstruct": reconstruct,
            "encode": (lambda t: self.encoder(t, training=False), x),
            "decode": (
                lambda z: self.decoder(z, training=False),
                [export.code_spec(self.trunk.latent_dim)],
            ),
        }

    def adapt(self, data: Any) -> Autoencoder:
        """Set the statistics of a normalizing model (``trunk.normalize``) from
        ``data`` (the training data: an array or a batched ``tf.data.Dataset``):
        the encoder's ``keras.layers.Normalization`` adapts on it and the
        decoder's inverse layer takes the same mean and variance. Returns ``self``."""
        if not self.trunk.normalize:
            raise ValueError(
                f"Model {self.name!r} has no normalization layer to adapt: build it with "
                "normalize=True."
            )
        layer = self.encoder.get_layer("encoder_normalize")
        layer.adapt(data)
        mean = ops.convert_to_numpy(layer.adapt_mean)
        variance = ops.convert_to_numpy(layer.adapt_variance)
        # a constant value keeps its scale (variance 1), as scikit-learn's StandardScaler does
        variance = np.where(variance > CONSTANT_VARIANCE, variance, 1.0).astype(variance.dtype)
        inverse = self.decoder.get_layer("decoder_denormalize")
        for norm in (layer, inverse):  # numpy copies: JAX refuses to donate one buffer twice
            norm.adapt_mean.assign(mean)
            norm.adapt_variance.assign(variance)
            norm.finalize_state()
        return self

    def standardize(self, x: Any) -> Any:
        """``x`` through the encoder's Normalization layer (``x`` itself without one):
        the units in which a normalizing model's loss and anomaly score compare."""
        if not self.trunk.normalize:
            return x
        return self.encoder.get_layer("encoder_normalize")(x)

    def jacobian_norm(self, x: Any) -> Any:
        """‖∂code/∂x‖²_F per sample: in closed form for dense trunks
        (:func:`keras_ae.losses.dense_jacobian_norm`), by the backend's
        automatic differentiation otherwise (:func:`keras_ae.backend.jacobian_norm`)."""
        x = ops.convert_to_tensor(x, dtype="float32")
        if self.trunk.architecture == "dense":
            layers = [*trunks.encoder_dense_layers(self.encoder), self.encoder.get_layer("code")]
            norm = losses.dense_jacobian_norm(x, layers)
            if norm is not None:
                return norm
        return backend.jacobian_norm(self.encoder, x)

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Any:
        """Compiled reconstruction loss + layer losses (+ :meth:`extra_loss`).

        Without targets (``fit(x)``, ``evaluate(x)``) the inputs are the targets.
        A normalizing model compares standardised values (:meth:`standardize`),
        so each feature weighs the same whatever its unit.
        """
        y = x if y is None else y
        if self.trunk.normalize:
            y, y_pred = self.standardize(y), self.standardize(y_pred)
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        for layer in self.layers:
            if isinstance(layer, ae_layers.ReportsMetrics):
                layer.update_metrics()
        extra = self.extra_loss(x)
        return loss if extra is None else loss + extra

    def extra_loss(self, x: Any) -> Any:
        """A loss term of the kind's own on the inputs ``x`` (None: nothing)."""
        return None

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> dict:
        """Keras's metrics, with the inputs as targets when there are none."""
        return super().compute_metrics(x, x if y is None else y, y_pred, sample_weight)


@register
class TiedAutoencoder(Autoencoder):
    """A dense autoencoder whose decoder reuses each encoder kernel, transposed,
    with biases of its own (:class:`~keras_ae.layers.DenseTranspose`): half the
    kernel parameters."""

    def __init__(self, trunk: Trunk | dict | None = None, **kwargs: Any) -> None:
        trunk = Trunk() if trunk is None else Trunk.from_config(trunk)
        checks.choice("trunk.architecture", trunk.architecture, ("dense",))
        self._assemble(trunk, tied=True, **kwargs)

    def kind_name(self, trunk: Trunk) -> str:
        return "tied"


@register
class DenoisingAutoencoder(Autoencoder):
    """Corrupt, then reconstruct the clean input (Vincent et al. 2008).

    A corruption layer sits before the encoder and acts only in training, so
    ``fit(x, x)`` learns to denoise while ``predict`` and the exported
    endpoints run the clean path.

    Args:
        trunk: the encoder's and decoder's arguments.
        noise: ``"gaussian"`` (add N(0, noise_level²), clip to [0, 1]),
            ``"masking"`` (a fraction ``noise_level`` set to 0) or
            ``"salt_and_pepper"`` (a fraction set to 0 or 1).
        noise_level: the standard deviation or fraction (>= 0; < 1 for fractions).
        seed: seed of the corruption layer's ``SeedGenerator``.
    """

    def __init__(
        self,
        trunk: Trunk | dict | None = None,
        *,
        noise: str = "gaussian",
        noise_level: float = 0.4,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        corruption = ae_layers.CORRUPTIONS[checks.choice("noise", noise, ae_layers.CORRUPTIONS)]
        seed = checks.seed("seed", seed)
        layer = corruption(noise_level, seed=seed, name="corruption")
        self._assemble(trunk, before_encoder=layer, **kwargs)
        self.noise, self.noise_level, self.seed = noise, layer.level, seed

    def kind_name(self, trunk: Trunk) -> str:
        return "denoising"

    @property
    def default_learning_rate(self) -> float:
        """3e-3 for the conv trunk (``benchmarks/denoising.py``), 1e-3 otherwise."""
        return 3e-3 if self.trunk.architecture == "conv" else 1e-3

    def arguments(self) -> dict[str, Any]:
        return {"noise": self.noise, "noise_level": self.noise_level, "seed": self.seed}


#: ``sparsity`` values of :class:`SparseAutoencoder`.
SPARSITIES = ("kl", "l1")


@register
class SparseAutoencoder(Autoencoder):
    """Few code units active for any one input: a
    :class:`~keras_ae.layers.SparsityRegularizer` on the code.

    Args:
        trunk: the encoder's and decoder's arguments; ``sparsity="kl"``
            needs ``code_activation="sigmoid"`` (mean activations in (0, 1)).
        sparsity: ``"kl"`` (``weight * sum_j KL(target || rho_hat_j)``) or
            ``"l1"`` (``l1 * sum_j |h_j|``).
        target: the target mean activation ρ, in (0, 1) (``"kl"``).
        weight: the weight β of the KL penalty (``"kl"``).
        l1: the L1 coefficient (``"l1"``).

    Trains with Adam(3e-3): sigmoid code units learn slowly at 1e-3.
    """

    default_learning_rate = 3e-3

    def __init__(
        self,
        trunk: Trunk | dict | None = None,
        *,
        sparsity: str = "kl",
        target: float = 0.05,
        weight: float = 3e-3,
        l1: float = 1e-4,
        **kwargs: Any,
    ) -> None:
        trunk = Trunk(code_activation="sigmoid") if trunk is None else Trunk.from_config(trunk)
        if sparsity == "kl" and trunk.code_activation != "sigmoid":
            raise ValueError(
                "`code_activation` must be 'sigmoid' for sparsity='kl' (mean activations in "
                f"(0, 1)). Received: code_activation={trunk.code_activation!r}"
            )
        regularizer = ae_layers.SparsityRegularizer(
            sparsity=sparsity,
            target=target,
            weight=weight,
            l1=l1,
            dtype="float32",
            name="sparsity",
        )
        self._assemble(trunk, on_code=[regularizer], **kwargs)

    def kind_name(self, trunk: Trunk) -> str:
        return "sparse"

    def arguments(self) -> dict[str, Any]:
        layer = self.get_layer("sparsity")
        return {k: getattr(layer, k) for k in ("sparsity", "target", "weight", "l1")}


@register
class ContractiveAutoencoder(Autoencoder):
    """Reconstruction + λ‖J_encoder(x)‖²_F (Rifai et al. 2011), added in ``compute_loss``.

    Args:
        trunk: the encoder's and decoder's arguments.
        contractive_weight: λ (>= 0).
        penalty: ``"hutchinson"`` (an unbiased estimate: ‖J v‖² for
            ``projections`` Gaussian directions per sample and step, by
            forward tangents) or ``"exact"``.
        projections: the directions per sample and step (``"hutchinson"``).
        seed: seed of the model's ``SeedGenerator`` for the directions.

    ``fit`` reports ``contractive_loss``, the batch's mean ‖J‖²_F (its
    estimate with ``"hutchinson"``). The penalty belongs to training only.
    """

    def __init__(
        self,
        trunk: Trunk | dict | None = None,
        *,
        contractive_weight: float = 1e-4,
        penalty: str = "hutchinson",
        projections: int = 1,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        checks.choice("penalty", penalty, CONTRACTIVE_PENALTIES)
        weight = checks.non_negative_float("contractive_weight", contractive_weight)
        projections = checks.positive_int("projections", projections)
        seed = checks.seed("seed", seed)
        self._assemble(trunk, **kwargs)
        self.contractive_weight, self.penalty = weight, penalty
        self.projections, self.seed = projections, seed
        if weight:
            self.contractive_loss = keras.metrics.Mean(name="contractive_loss")
        if penalty == "hutchinson":
            unsupported = losses.tangent_unsupported(self._encoder_chain())
            if unsupported:
                raise ValueError(
                    "`penalty` 'hutchinson' propagates tangents through Dense and Conv "
                    "layers with linear, relu, sigmoid or tanh activations, which these "
                    f"encoder layers are not: {', '.join(unsupported)}; use penalty='exact'. "
                    "Received: penalty='hutchinson'"
                )
            self._directions_seed_generator()

    def kind_name(self, trunk: Trunk) -> str:
        return "contractive"

    def arguments(self) -> dict[str, Any]:
        return {
            "contractive_weight": self.contractive_weight,
            "penalty": self.penalty,
            "projections": self.projections,
            "seed": self.seed,
        }

    def _directions_seed_generator(self) -> keras.random.SeedGenerator:
        """The model's own SeedGenerator for the estimate's directions, made on
        first use (at construction for ``penalty="hutchinson"``)."""
        if not hasattr(self, "penalty_seed_generator"):
            self.penalty_seed_generator = keras.random.SeedGenerator(
                self.seed, name="penalty_seed_generator"
            )
        return self.penalty_seed_generator

    def default_speed(self) -> dict[str, Any]:
        """The trunk's speed settings for the estimate; Keras's own for the exact
        penalty (XLA gained it nothing on a quiet machine and lost 3.4x under load)."""
        return super().default_speed() if self.penalty == "hutchinson" else {}

    def _encoder_chain(self) -> list:
        """The encoder's layers from its input to the code."""
        return [layer for layer in self.encoder.layers if layer.name != "code"] + [
            self.encoder.get_layer("code")
        ]

    def jacobian_norm_estimate(self, x: Any, projections: int | None = None) -> Any:
        """An unbiased estimate of ‖∂code/∂x‖²_F per sample, the mean of ‖J v‖²
        over ``projections`` (default: the model's) Gaussian directions v drawn
        with the model's own SeedGenerator: exact Jacobian-vector products by
        forward tangents (:func:`keras_ae.losses.jacobian_norm_estimate`)."""
        k = (
            self.projections
            if projections is None
            else checks.positive_int("projections", projections)
        )
        x = ops.convert_to_tensor(x, dtype="float32")
        directions = ae_layers.random_draws(
            "normal", (k, *ops.shape(x)), self._directions_seed_generator(), x.dtype
        )
        return losses.jacobian_norm_estimate(x, self._encoder_chain(), directions)

    def contractive_penalty(self, x: Any) -> Any:
        """The penalty's ‖J‖²_F per sample as the model trains on it:
        :meth:`jacobian_norm` (``penalty="exact"``) or
        :meth:`jacobian_norm_estimate` (``penalty="hutchinson"``)."""
        if self.penalty == "hutchinson":
            return self.jacobian_norm_estimate(x)
        return self.jacobian_norm(x)

    def extra_loss(self, x: Any) -> Any:
        """λ · the batch's mean ‖J‖²_F (also reported as ``contractive_loss``)."""
        if not self.contractive_weight:
            return None
        penalty = ops.mean(self.contractive_penalty(x))
        self.contractive_loss.update_state(penalty)
        return self.contractive_weight * penalty


@register
class VariationalAutoencoder(Autoencoder):
    """A VAE: ``q(z|x) = N(z_mean, exp(z_log_var))`` and a Bernoulli or
    Gaussian decoder; the loss is −ELBO in nats per image.

    ``fit``/``evaluate`` report ``loss`` (−ELBO with the KL weighted by β),
    ``reconstruction_loss`` and ``kl_loss`` (unweighted), with ``val_`` twins.
    ``model(x)`` samples z; :meth:`reconstruct` goes through the mean.

    Args:
        trunk: the encoder's and decoder's arguments (its output activation
            must be the likelihood's: sigmoid for Bernoulli, None for Gaussian).
        beta: the initial KL weight (a variable; see
            :class:`keras_ae.callbacks.KLAnnealing`).
        likelihood: ``"bernoulli"`` or ``"gaussian"`` (fixed unit variance).
        seed: seed of the Sampling layer's ``SeedGenerator``.
    """

    def __init__(
        self,
        trunk: Trunk | dict | None = None,
        *,
        beta: float = 1.0,
        likelihood: str = "bernoulli",
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        checks.choice("likelihood", likelihood, LIKELIHOODS)
        trunk = Trunk(latent_dim=2) if trunk is None else Trunk.from_config(trunk)
        if trunk.output_activation != LIKELIHOODS[likelihood]:
            raise ValueError(
                f"likelihood={likelihood!r} needs output_activation="
                f"{LIKELIHOODS[likelihood]!r}. Received: "
                f"output_activation={trunk.output_activation!r}"
            )
        latent = trunk.latent_dim
        beta, seed = checks.non_negative_float("beta", beta), checks.seed("seed", seed)
        self._assemble(
            trunk,
            heads=[("z_mean", latent, None), ("z_log_var", latent, None)],
            on_code=[
                ae_layers.KLDivergence(beta, dtype="float32", name="kl_divergence"),
                ae_layers.Sampling(seed=seed, dtype="float32", name="sampling"),
            ],
            name=kwargs.pop("name", None) or "vae",
            **kwargs,
        )
        self.likelihood, self.seed = likelihood, seed

    def kind_name(self, trunk: Trunk) -> str:
        return "vae"

    def arguments(self) -> dict[str, Any]:
        beta = float(ops.convert_to_numpy(self.beta))
        return {"beta": beta, "likelihood": self.likelihood, "seed": self.seed}

    def default_loss(self) -> Any:
        """The per-image negative log-likelihood of ``likelihood``."""
        return losses.LIKELIHOOD_NLL[self.likelihood]

    def default_metrics(self) -> list:
        """``reconstruction_loss``: the negative log-likelihood alone."""
        return [keras.metrics.MeanMetricWrapper(self.default_loss(), name="reconstruction_loss")]

    @property
    def beta(self) -> keras.Variable:
        """The KL weight β (a variable; assign to change it)."""
        return self.get_layer("kl_divergence").beta

    def encode(self, x: Any, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Deterministic encoding: ``(z_mean, z_log_var)`` as numpy arrays."""
        z_mean, z_log_var = self.encoder.predict(x, batch_size=batch_size, verbose=0)
        return z_mean, z_log_var

    def decode(self, z: Any, batch_size: int = 256) -> np.ndarray:
        """Decoder output (Bernoulli means or Gaussian means) for codes ``z``."""
        return self.decoder.predict(np.asarray(z, "float32"), batch_size=batch_size, verbose=0)

    def reconstruction(self, x: Any) -> Any:
        """The deterministic reconstruction: the decoded posterior mean."""
        return self.decoder(self.encoder(x, training=False)[0], training=False)

    def reconstruct(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Deterministic reconstruction through the posterior mean."""
        return self.decode(self.encode(x, batch_size)[0], batch_size)

    def export_endpoints(self) -> dict[str, Any]:
        """The autoencoder's endpoints (``reconstruct`` through the mean; ``encode``
        returns ``[z_mean, z_log_var]``) plus ``sample(n, seed)``."""
        endpoints = super().export_endpoints()
        endpoints["sample"] = (export.prior_sample(self.trunk.latent_dim), "decode")
        return endpoints

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """Decode ``n`` codes drawn from the prior N(0, I) with ``seed``."""
        n = checks.positive_int("n", n)
        rng = np.random.default_rng(checks.seed("seed", seed, allow_none=False))
        return self.decode(rng.standard_normal((n, self.trunk.latent_dim)).astype("float32"))

    def interpolate(self, x_a: Any, x_b: Any, steps: int = 8) -> np.ndarray:
        """Decode ``steps`` codes on the line between the means of two inputs."""
        steps = checks.positive_int("steps", steps)
        pair = np.stack([np.asarray(x_a, "float32"), np.asarray(x_b, "float32")])
        mu = self.encode(pair)[0]
        t = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
        return self.decode((1 - t) * mu[0] + t * mu[1])


def _from_release_0_1(cls: type, config: dict) -> tuple[type, dict]:
    """The class and arguments for a config saved by keras_ae 0.1.0, whose one
    ``spec`` dict held the trunk's and the kind's arguments together."""
    spec = dict(config.pop("spec"))
    spec.pop("kind", None)
    tied = spec.pop("tied_weights", False)
    own = {k: spec.pop(k) for k in list(spec) if k not in {"input_shape"} | _TRUNK_KEYS}
    if cls is VariationalAutoencoder or "likelihood" in own:
        cls = VariationalAutoencoder
    elif "noise" in own:
        cls = DenoisingAutoencoder
    elif "sparsity" in own:
        cls = SparseAutoencoder
    elif "contractive_weight" in own:
        cls = ContractiveAutoencoder
        own.setdefault("penalty", "exact")  # 0.1.0's files without `penalty` trained exactly
    elif tied:
        cls = TiedAutoencoder
    return cls, {**config, "trunk": spec, **own}


_TRUNK_KEYS = {"architecture", "latent_dim", "kernel_size", "activation", "output_activation"} | {
    "code_activation",
    "normalize",
    "transposed_output",
    *trunks.SIZE_ARGUMENTS,
}
