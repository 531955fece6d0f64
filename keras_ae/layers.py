"""Registered layers used by the keras_ae models.

Every layer is registered under the ``keras_ae`` package, has a complete
``get_config``, and, if it draws random numbers, owns its
``keras.random.SeedGenerator``. Layers whose only job is a loss term return
their input unchanged and call ``self.add_loss``, so plain ``fit``,
``evaluate`` and export keep working on functional models.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_ae import backend, checks, losses

register = keras.saving.register_keras_serializable(package="keras_ae")


def random_draws(
    distribution: str, shape: Any, seed_generator: keras.random.SeedGenerator, dtype: Any
) -> Any:
    """Standard normal (``"normal"``) or uniform on [0, 1) (``"uniform"``)
    numbers from ``seed_generator``: the numbers ``keras.random.normal`` or
    ``keras.random.uniform`` draws with it, on every backend.

    Under TensorFlow the same numbers come from
    ``philox_draws`` in the ``tensorflow_backend`` module, which XLA compiles to a
    cheaper program.
    """
    checks.choice("distribution", distribution, ("normal", "uniform"))
    tf_only = backend.tensorflow_only()
    if tf_only is not None:
        return tf_only.philox_draws(distribution, shape, seed_generator, dtype)
    draw = keras.random.normal if distribution == "normal" else keras.random.uniform
    return draw(shape, dtype=dtype, seed=seed_generator)


class _Corruption(keras.layers.Layer):
    """Base of the corruption layers: active only when ``training=True``.

    Subclasses define ``corrupt(inputs)``; ``level`` is the noise level, a
    fraction in [0, 1) for the corruptions that set ``fraction``."""

    #: True if ``level`` is a fraction of the inputs (so < 1).
    fraction = False

    def __init__(self, level: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.level = checks.non_negative_float("noise_level", level)
        if self.fraction:
            checks.open_unit_interval("noise_level", self.level, closed_low=True)
        self.seed = checks.seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any, training: bool = False) -> Any:
        if training and self.level > 0:
            return self.corrupt(inputs)
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "level": self.level, "seed": self.seed}


@register
class GaussianCorruption(_Corruption):
    """Adds N(0, level²) noise, then clips to [0, 1] (the data range)."""

    def corrupt(self, inputs: Any) -> Any:
        noise = random_draws("normal", ops.shape(inputs), self.seed_generator, inputs.dtype)
        return ops.clip(inputs + self.level * noise, 0.0, 1.0)


@register
class MaskingCorruption(_Corruption):
    """Sets a random fraction ``level`` of the inputs to 0."""

    fraction = True

    def corrupt(self, inputs: Any) -> Any:
        u = random_draws("uniform", ops.shape(inputs), self.seed_generator, "float32")
        keep = u >= self.level
        return ops.where(keep, inputs, ops.zeros_like(inputs))


@register
class SaltPepperCorruption(_Corruption):
    """Sets a random fraction ``level`` of the inputs to 0 or 1, half each."""

    fraction = True

    def corrupt(self, inputs: Any) -> Any:
        u = random_draws("uniform", ops.shape(inputs), self.seed_generator, "float32")
        x = ops.where(u < self.level / 2, ops.zeros_like(inputs), inputs)
        return ops.where((u >= self.level / 2) & (u < self.level), ops.ones_like(inputs), x)


CORRUPTIONS = {
    "gaussian": GaussianCorruption,
    "masking": MaskingCorruption,
    "salt_and_pepper": SaltPepperCorruption,
}


@register
class DenseTranspose(keras.layers.Layer):
    """A Dense layer whose kernel is another Dense layer's kernel, transposed.

    It owns only its bias. The tie is a constructor argument (the source
    layer), so models that use it rebuild the tie when they are loaded; see
    :class:`keras_ae.models.Autoencoder`.
    """

    def __init__(self, source: keras.layers.Dense, activation: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(source, keras.layers.Dense):
            raise TypeError(
                f"`source` must be a keras.layers.Dense layer. Received: source={source!r}"
            )
        # Keras tracks the source, so a decoder model alone lists the tied kernel
        # among its weights (it needs it); the whole autoencoder holds that
        # variable once, so its parameter count is half the untied model's.
        self._source = [source]
        self.activation = keras.activations.get(activation)

    @property
    def source(self) -> keras.layers.Dense:
        return self._source[0]

    def build(self, input_shape: Any) -> None:
        self.bias = self.add_weight(
            shape=(self.source.kernel.shape[0],), initializer="zeros", name="bias"
        )

    def call(self, inputs: Any) -> Any:
        return self.activation(ops.matmul(inputs, ops.transpose(self.source.kernel)) + self.bias)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape[:-1], self.source.kernel.shape[0])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "source": self.source.name,
            "activation": keras.activations.serialize(self.activation),
        }

    @classmethod
    def from_config(cls, config: dict) -> DenseTranspose:
        raise TypeError(
            "DenseTranspose is rebuilt by the model that owns it (it ties to the layer "
            f"{config.get('source')!r}); load the whole keras_ae model instead."
        )


class ReportsMetrics:
    """Mixin for a layer whose ``call`` computes figures to report as metrics.

    ``call`` hands them to :meth:`report`; the model reports them from its
    ``compute_loss`` (:meth:`update_metrics`), where every backend can
    update a metric: under JAX a layer's call runs statelessly, without the
    metrics' variables."""

    def report(self, **values: tuple[Any, Any]) -> None:
        """Keep ``name=(value, sample_weight)`` for the metric attribute ``name``."""
        self.__dict__["_pending_metrics"] = values  # outside Keras's tracking

    def update_metrics(self) -> None:
        """Update each metric with the values kept by the last call, then forget them."""
        pending = self.__dict__.pop("_pending_metrics", None) or {}
        for name, (value, sample_weight) in pending.items():
            getattr(self, name).update_state(value, sample_weight=sample_weight)


@register
class SparsityRegularizer(ReportsMetrics, keras.layers.Layer):
    """Sparsity penalty on the code; returns its input unchanged.

    - ``sparsity="kl"`` (UFLDL): ``weight * sum_j KL(target || rho_hat_j)``,
      with ``rho_hat_j`` unit j's mean activation over the batch, clipped to
      ``[eps, 1 - eps]``. Meant for sigmoid code units.
    - ``sparsity="l1"``: ``l1 * mean over the batch of sum_j |h_j|`` (an L1
      activity regulariser).

    It reports ``mean_activation`` (the batch mean of all code units) and
    ``sparsity_loss`` as metrics during ``fit`` and ``evaluate``.
    """

    def __init__(
        self,
        sparsity: str = "kl",
        target: float = 0.05,
        weight: float = 1.0,
        l1: float = 1e-4,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sparsity = checks.choice("sparsity", sparsity, ("kl", "l1"))
        self.target = checks.open_unit_interval("target", target)
        self.weight = checks.non_negative_float("weight", weight)
        self.l1 = checks.non_negative_float("l1", l1)
        self.mean_activation = keras.metrics.Mean(name="mean_activation")
        self.sparsity_loss = keras.metrics.Mean(name="sparsity_loss")
        self.built = True

    def call(self, inputs: Any) -> Any:
        rho_hat = ops.mean(inputs, axis=0)
        if self.sparsity == "kl":
            penalty = self.weight * losses.kl_sparsity(self.target, rho_hat)
        else:
            penalty = self.l1 * ops.mean(ops.sum(ops.abs(inputs), axis=-1))
        self.add_loss(penalty)
        self.report(mean_activation=(ops.mean(rho_hat), None), sparsity_loss=(penalty, None))
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "sparsity": self.sparsity,
            "target": self.target,
            "weight": self.weight,
            "l1": self.l1,
        }


@register
class Sampling(keras.layers.Layer):
    """Reparameterisation trick: ``z = mean + exp(log_var / 2) * eps``, eps ~ N(0, I).

    Owns its ``SeedGenerator``: a fixed ``seed`` gives the same draws in a new
    layer; successive calls give new draws. Call it on ``[z_mean, z_log_var]``.
    """

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs: Any) -> Any:
        z_mean, z_log_var = inputs
        eps = random_draws("normal", ops.shape(z_mean), self.seed_generator, z_mean.dtype)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


@register
class KLDivergence(ReportsMetrics, keras.layers.Layer):
    """Adds ``beta * KL(N(mean, exp(log_var)) || N(0, I))`` per image, in nats.

    ``beta`` is a non-trainable variable, so callbacks such as
    :class:`keras_ae.callbacks.KLAnnealing` can change it during ``fit``.
    Returns ``[z_mean, z_log_var]`` unchanged and reports the unweighted KL
    as the metric ``kl_loss``.
    """

    def __init__(self, beta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.initial_beta = checks.non_negative_float("beta", beta)
        self.beta = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.initial_beta),
            trainable=False,
            name="beta",
        )
        self.kl_loss = keras.metrics.Mean(name="kl_loss")
        self.built = True

    def call(self, inputs: Any) -> Any:
        z_mean, z_log_var = inputs
        kl = ops.mean(losses.gaussian_kl(z_mean, z_log_var))
        self.add_loss(ops.cast(self.beta, kl.dtype) * kl)
        self.report(kl_loss=(kl, ops.shape(z_mean)[0]))  # weighted by batch size, like `loss`
        return [z_mean, z_log_var]

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "beta": self.initial_beta}
