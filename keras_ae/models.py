"""The model classes: functional graphs rebuilt from their builder arguments.

Each class is a functional ``keras.Model`` subclass in the keras-hub style:
its constructor takes ``spec`` (the validated builder arguments, plain JSON
data), builds the graph from the shared trunks, and calls
``super().__init__(inputs=..., outputs=...)``. ``get_config`` returns ``spec``,
so a ``.keras`` file reloads into the same class with the same ties
(tied weights) and the same loss layers, in safe mode.

- :class:`Autoencoder`: every deterministic kind (dense, conv, denoising,
  sparse, contractive, tied). Optional parts are keys of ``spec``:
  ``noise`` (a corruption layer before the encoder, active only in
  training), ``sparsity`` (a :class:`~keras_ae.layers.SparsityRegularizer`
  on the code), ``tied_weights`` (a decoder of
  :class:`~keras_ae.layers.DenseTranspose` layers) and ``contractive_weight``
  (a Jacobian penalty added in :meth:`Autoencoder.compute_loss`: exact, or
  its Hutchinson estimate with ``penalty="hutchinson"``; a spec without
  ``penalty`` is exact).
- :class:`VariationalAutoencoder`: two encoder heads (``z_mean``,
  ``z_log_var``), a :class:`~keras_ae.layers.KLDivergence` layer and a
  :class:`~keras_ae.layers.Sampling` layer before the decoder.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_ae import backend, losses, trunks
from keras_ae import layers as ae_layers

register = keras.saving.register_keras_serializable(package="keras_ae")

#: A value whose variance over the data given to :meth:`Autoencoder.adapt` is
#: at most this is taken as constant: it is centred but not scaled.
CONSTANT_VARIANCE = 1e-12


@register
class Autoencoder(backend.ModelHooks, keras.Model):
    """A deterministic autoencoder: ``decoder(encoder(x))``.

    ``model.encoder`` and ``model.decoder`` (also ``model.get_layer("encoder")``
    and ``model.get_layer("decoder")``) are nested functional models usable
    alone. Build it with a ``keras_ae.build_*`` function rather than directly.
    """

    def __init__(self, spec: dict, **kwargs: Any) -> None:
        spec = dict(spec)
        inputs, outputs, encoder, decoder = self._graph(spec)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.spec = spec
        self.encoder = encoder
        self.decoder = decoder
        self.contractive_weight = float(spec.get("contractive_weight") or 0.0)
        self.penalty = spec.get("penalty", "exact")
        self.projections = int(spec.get("projections", 1))
        if self.contractive_weight:
            self.contractive_loss = keras.metrics.Mean(name="contractive_loss")
            if self.penalty == "hutchinson":
                unsupported = losses.tangent_unsupported(self._encoder_chain())
                if unsupported:
                    raise ValueError(
                        "`penalty` 'hutchinson' propagates tangents through Dense and Conv "
                        "layers with linear, relu, sigmoid or tanh activations, which these "
                        f"encoder layers are not: {', '.join(unsupported)}; use penalty='exact'. "
                        "Received: penalty='hutchinson'"
                    )
                self._directions_seed_generator()

    @staticmethod
    def _graph(spec: dict) -> tuple[Any, Any, keras.Model, keras.Model]:
        encoder = trunks.build_encoder(
            spec, heads=[("code", spec["latent_dim"], spec.get("code_activation"))]
        )
        decoder = trunks.build_decoder(spec, tied_to=encoder if spec.get("tied_weights") else None)
        inputs = keras.Input(shape=spec["input_shape"], name="input")
        x = inputs
        if spec.get("noise"):
            corruption = ae_layers.CORRUPTIONS[spec["noise"]]
            x = corruption(spec["noise_level"], seed=spec.get("seed"), name="corruption")(x)
        code = encoder(x)
        if spec.get("sparsity"):
            code = ae_layers.SparsityRegularizer(
                sparsity=spec["sparsity"],
                target=spec["target"],
                weight=spec["weight"],
                l1=spec["l1"],
                dtype="float32",
                name="sparsity",
            )(code)
        return inputs, decoder(code), encoder, decoder

    def adapt(self, data: Any) -> Autoencoder:
        """Set the statistics of a normalizing model (``spec["normalize"]``) from
        ``data`` (the training data: an array or a batched ``tf.data.Dataset``):
        the encoder's ``keras.layers.Normalization`` adapts on it and the
        decoder's inverse layer takes the same mean and variance. Returns ``self``."""
        if not self.spec.get("normalize"):
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
        if not self.spec.get("normalize"):
            return x
        return self.encoder.get_layer("encoder_normalize")(x)

    def jacobian_norm(self, x: Any) -> Any:
        """‖∂code/∂x‖²_F per sample: in closed form for dense trunks
        (:func:`keras_ae.losses.dense_jacobian_norm`), by the backend's
        automatic differentiation otherwise (:func:`keras_ae.backend.jacobian_norm`)."""
        x = ops.convert_to_tensor(x, dtype="float32")
        if self.spec["architecture"] == "dense":
            layers = [*trunks.encoder_dense_layers(self.encoder), self.encoder.get_layer("code")]
            norm = losses.dense_jacobian_norm(x, layers)
            if norm is not None:
                return norm
        return backend.jacobian_norm(self.encoder, x)

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
        from keras_ae import checks

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

    def _directions_seed_generator(self) -> keras.random.SeedGenerator:
        """The model's own SeedGenerator for the estimate's directions, made on
        first use (at construction for ``penalty="hutchinson"``)."""
        if not hasattr(self, "penalty_seed_generator"):
            self.penalty_seed_generator = keras.random.SeedGenerator(
                self.spec.get("seed"), name="penalty_seed_generator"
            )
        return self.penalty_seed_generator

    def contractive_penalty(self, x: Any) -> Any:
        """The penalty's ‖J‖²_F per sample as the model trains on it:
        :meth:`jacobian_norm` (``penalty="exact"``) or
        :meth:`jacobian_norm_estimate` (``penalty="hutchinson"``)."""
        if self.penalty == "hutchinson":
            return self.jacobian_norm_estimate(x)
        return self.jacobian_norm(x)

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Any:
        """Compiled reconstruction loss + layer losses (+ λ·mean ‖J‖²_F if
        contractive, exact or estimated: :meth:`contractive_penalty`).

        Without targets (``fit(x)``, ``evaluate(x)``) the inputs are the targets.
        A model with ``spec["normalize"]`` compares standardised values
        (:meth:`standardize`), so each feature weighs the same whatever its unit.
        """
        y = x if y is None else y
        if self.spec.get("normalize"):
            y, y_pred = self.standardize(y), self.standardize(y_pred)
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        for layer in self.layers:
            if isinstance(layer, ae_layers.ReportsMetrics):
                layer.update_metrics()
        if self.contractive_weight:
            penalty = ops.mean(self.contractive_penalty(x))
            self.contractive_loss.update_state(penalty)
            loss = loss + self.contractive_weight * penalty
        return loss

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> dict:
        """Keras's metrics, with the inputs as targets when there are none."""
        return super().compute_metrics(x, x if y is None else y, y_pred, sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable, "spec": self.spec}

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None) -> Autoencoder:
        return cls(**config)


@register
class VariationalAutoencoder(Autoencoder):
    """A VAE: ``q(z|x) = N(z_mean, exp(z_log_var))`` and a Bernoulli or
    Gaussian decoder; the loss is −ELBO in nats per image.

    ``fit``/``evaluate`` report ``loss`` (−ELBO with the KL weighted by β),
    ``reconstruction_loss`` and ``kl_loss`` (unweighted), with ``val_`` twins.
    ``model(x)`` samples z; :meth:`reconstruct` goes through the mean.
    """

    @staticmethod
    def _graph(spec: dict) -> tuple[Any, Any, keras.Model, keras.Model]:
        latent = spec["latent_dim"]
        encoder = trunks.build_encoder(
            spec, heads=[("z_mean", latent, None), ("z_log_var", latent, None)]
        )
        decoder = trunks.build_decoder(spec)
        inputs = keras.Input(shape=spec["input_shape"], name="input")
        z_mean, z_log_var = encoder(inputs)
        z_mean, z_log_var = ae_layers.KLDivergence(
            spec["beta"], dtype="float32", name="kl_divergence"
        )([z_mean, z_log_var])
        z = ae_layers.Sampling(seed=spec.get("seed"), dtype="float32", name="sampling")(
            [z_mean, z_log_var]
        )
        return inputs, decoder(z), encoder, decoder

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

    def reconstruct(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """Deterministic reconstruction through the posterior mean."""
        return self.decode(self.encode(x, batch_size)[0], batch_size)

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """Decode ``n`` codes drawn from the prior N(0, I) with ``seed``."""
        from keras_ae import checks

        n = checks.positive_int("n", n)
        z = np.random.default_rng(seed).standard_normal((n, self.spec["latent_dim"]))
        return self.decode(z.astype("float32"))

    def interpolate(self, x_a: Any, x_b: Any, steps: int = 8) -> np.ndarray:
        """Decode ``steps`` codes on the line between the means of two inputs."""
        from keras_ae import checks

        steps = checks.positive_int("steps", steps)
        pair = np.stack([np.asarray(x_a, "float32"), np.asarray(x_b, "float32")])
        mu = self.encode(pair)[0]
        t = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
        return self.decode((1 - t) * mu[0] + t * mu[1])
