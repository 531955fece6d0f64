"""Public builders: validate the arguments, assemble the model, compile it.

Every builder follows the same order: validate every argument (ValueError or
TypeError ending in "Received: arg=value", before any layer is built), make
the ``spec`` dict, construct the model class from :mod:`keras_ae.models`,
compile it with the documented defaults, return it.

Compile defaults (``model.compile(...)`` afterwards overrides all of them):

- optimizer ``keras.optimizers.Adam(1e-3)``; ``Adam(3e-3)`` for sparse
  models, whose sigmoid code units learn slowly at 1e-3 (40 epochs on the
  embedded MNIST: test MSE 1.38x the dense AE's at 3e-3, 1.51x at 1e-3);
- loss: binary cross-entropy for a sigmoid output (data in [0, 1]), mean
  squared error for a linear output (``output_activation=None``); VAEs use
  the per-image negative log-likelihood of their ``likelihood``;
- speed: per backend and trunk, :func:`keras_ae.backend.compile_speed`.
  Under TensorFlow dense trunks compile with XLA (``jit_compile=True``) and
  ``steps_per_execution=32``, and ``fit`` runs each block of 32 steps as
  one XLA computation (:func:`keras_ae.tensorflow_backend.fused_train_function`):
  about twice as fast as plain Keras on a CPU. Conv trunks on series
  ``(T, C)`` (Conv1D) compile the same way, without the fused blocks (2.6x
  plain Keras); conv trunks on images use Keras's defaults, because XLA
  slows their convolutions down on a CPU (``benchmarks/conv_speed.py``). LSTM
  trunks use the defaults too: XLA runs their steps faster, but compiling
  the recurrent loop costs more than it saves in runs of tens of epochs
  (``benchmarks/sequence_compile.py``). Under JAX dense trunks run 32 steps
  per execution; under PyTorch every trunk keeps Keras's defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from keras_ae import backend, checks
from keras_ae.models import Autoencoder, VariationalAutoencoder
from keras_ae.trunks import ARCHITECTURES

DEFAULT_TRUNK = {
    "dense": {"hidden_units": (256, 128)},
    "conv": {"filters": (32, 64)},
    "lstm": {"units": (64,)},
}


def trunk_spec(
    architecture: str = "dense",
    input_shape: Sequence[int] = (28, 28, 1),
    hidden_units: Sequence[int] | None = None,
    filters: Sequence[int] | None = None,
    latent_dim: int = 32,
    activation: str | None = "relu",
    output_activation: str | None = "sigmoid",
    code_activation: str | None = None,
    kernel_size: int = 3,
    units: Sequence[int] | None = None,
) -> dict:
    """Validate the trunk arguments shared by every builder and return them as a dict.

    Each architecture takes its own size argument (``hidden_units``,
    ``filters`` or ``units``); passing another one raises ValueError.

    Args:
        architecture: ``"dense"``, ``"conv"`` or ``"lstm"``.
        input_shape: one sample's shape, without the batch axis. Dense trunks
            take any shape; conv trunks take ``(H, W, C)`` (Conv2D) or
            ``(T, C)`` (Conv1D). Sizes that ``2 ** len(filters)`` does not
            divide are zero-padded in the encoder and cropped back in the
            decoder. LSTM trunks take series ``(T, C)``.
        hidden_units: Dense layer sizes from the input towards the code
            (dense trunk; default ``(256, 128)``).
        filters: Conv layer widths, each with stride 2 (conv trunk; default
            ``(32, 64)``).
        latent_dim: size of the code.
        activation: activation of the hidden layers (None for linear).
        output_activation: ``"sigmoid"`` for data in [0, 1], None for real values.
        code_activation: activation of the code layer (None: linear).
        kernel_size: convolution kernel size (conv trunk).
        units: LSTM widths from the input towards the code (lstm trunk;
            default ``(64,)``).
    """
    checks.choice("architecture", architecture, ARCHITECTURES)
    shape = checks.input_shape(input_shape, ARCHITECTURES[architecture].input_ranks)
    spec: dict[str, Any] = {
        "architecture": architecture,
        "input_shape": list(shape),
        "latent_dim": checks.positive_int("latent_dim", latent_dim),
        "activation": checks.activation("activation", activation),
        "output_activation": checks.activation("output_activation", output_activation),
        "code_activation": checks.activation("code_activation", code_activation),
    }
    sizes = {"hidden_units": hidden_units, "filters": filters, "units": units}
    (own,) = DEFAULT_TRUNK[architecture]
    for key, value in sizes.items():
        if key != own and value is not None:
            raise ValueError(
                f"`{key}` does not apply to architecture={architecture!r}, whose trunk takes "
                f"`{own}`. Received: {key}={value!r}"
            )
    size = DEFAULT_TRUNK[architecture][own] if sizes[own] is None else sizes[own]
    spec[own] = list(checks.int_tuple(own, size, allow_empty=architecture == "dense"))
    if architecture == "conv":
        spec["kernel_size"] = checks.positive_int("kernel_size", kernel_size)
    return spec


def _reconstruction_loss(output_activation: str | None) -> str:
    return "binary_crossentropy" if output_activation == "sigmoid" else "mean_squared_error"


def compile_defaults(
    model: keras.Model,
    loss: Any,
    metrics: list | None = None,
    learning_rate: float = 1e-3,
    speed: bool = True,
    weight_decay: float = 0.0,
) -> keras.Model:
    """Compile ``model`` with Adam(``learning_rate``) (AdamW with a positive
    ``weight_decay``), ``loss`` and (``speed``) the speed settings of its trunk
    on this backend (:func:`keras_ae.backend.compile_speed`).

    Inside a distribution the speed settings are left out: XLA and
    ``steps_per_execution`` fail inside ``tf.distribute`` with TensorFlow 2.21.
    """
    spec = model.spec
    settings = backend.compile_speed(spec["architecture"], spec["input_shape"]) if speed else {}
    if weight_decay:
        optimizer = keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay)
    else:
        optimizer = keras.optimizers.Adam(learning_rate)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, **settings)
    return model


def _autoencoder(
    kind: str, spec: dict, name: str | None, learning_rate: float = 1e-3, speed: bool = True
) -> Autoencoder:
    spec = {"kind": kind, **spec}
    model = Autoencoder(spec, name=name or f"{kind}_autoencoder")
    loss = _reconstruction_loss(spec["output_activation"])
    return compile_defaults(model, loss, learning_rate=learning_rate, speed=speed)


def _normalizing(spec: dict, normalize: Any) -> dict:
    """``spec`` with ``normalize`` (a Normalization layer first, its inverse last;
    see :func:`build_dense_autoencoder`), which needs a linear output."""
    if not isinstance(normalize, bool):
        raise TypeError(f"`normalize` must be True or False. Received: normalize={normalize!r}")
    if normalize and spec["output_activation"] is not None:
        raise ValueError(
            "normalize=True gives a linear output in the data's own units: pass "
            f"output_activation=None. Received: output_activation={spec['output_activation']!r}"
        )
    if normalize:
        spec["normalize"] = True
    return spec


def build_dense_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    hidden_units: Sequence[int] = (256, 128),
    latent_dim: int = 32,
    activation: str | None = "relu",
    output_activation: str | None = "auto",
    name: str | None = None,
    *,
    code_activation: str | None = None,
    tied_weights: bool = False,
    normalize: bool = False,
) -> Autoencoder:
    """A dense (fully connected) autoencoder, compiled and ready for ``fit(x, x)``.

    The encoder is Flatten → Dense(``hidden_units``) → Dense(``latent_dim``,
    name "code"); the decoder mirrors it back to ``input_shape``.
    ``activation=None`` and ``output_activation=None`` give the linear
    autoencoder that learns PCA's subspace.

    ``normalize=True`` is for real-valued features in any unit (tables): the
    encoder starts with a ``keras.layers.Normalization`` (layer
    "encoder_normalize", one mean and variance per input value) and the
    decoder ends with its inverse ("decoder_denormalize"), so the model, its
    ``.keras`` file and every exported endpoint take and return raw values.
    The output is linear and the loss is the mean squared error of the
    standardised values (:meth:`~keras_ae.models.Autoencoder.standardize`).
    Adapt it on the training data before ``fit``::

        model = build_dense_autoencoder((30,), hidden_units=(64,), latent_dim=8,
                                        normalize=True)
        model.adapt(x_train)  # the statistics are saved with the model
        model.fit(x_train, x_train, epochs=50)

    Args:
        input_shape: one sample's shape, without the batch axis.
        hidden_units: hidden layer sizes from the input towards the code.
        latent_dim: size of the code.
        activation: hidden-layer activation, or None for linear.
        output_activation: "sigmoid" (loss: binary cross-entropy) or None
            (loss: mean squared error); "auto" (default): "sigmoid", or None
            with ``normalize=True``.
        name: model name; default "dense_autoencoder" ("tied_autoencoder"
            with ``tied_weights``).
        code_activation: activation of the code layer (default linear).
        tied_weights: the decoder reuses each encoder kernel, transposed, with
            biases of its own (:class:`keras_ae.layers.DenseTranspose`); this
            halves the kernel parameters.
        normalize: standardise the inputs inside the model (see above).

    Returns:
        A compiled :class:`keras_ae.models.Autoencoder`.
    """
    if not isinstance(tied_weights, bool):
        raise TypeError(
            f"`tied_weights` must be True or False. Received: tied_weights={tied_weights!r}"
        )
    if output_activation == "auto":
        output_activation = None if normalize is True else "sigmoid"
    spec = trunk_spec(
        "dense",
        input_shape,
        hidden_units=hidden_units,
        latent_dim=latent_dim,
        activation=activation,
        output_activation=output_activation,
        code_activation=code_activation,
    )
    spec["tied_weights"] = tied_weights
    spec = _normalizing(spec, normalize)
    return _autoencoder("tied" if tied_weights else "dense", spec, name)


def build_conv_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    filters: Sequence[int] = (32, 64),
    latent_dim: int = 32,
    kernel_size: int = 3,
    activation: str | None = "relu",
    output_activation: str | None = "sigmoid",
    name: str | None = None,
    *,
    code_activation: str | None = None,
    normalize: bool = False,
) -> Autoencoder:
    """A convolutional autoencoder for images ``(H, W, C)`` or series ``(T, C)``.

    The encoder has one stride-2 convolution per entry of ``filters``, then
    Flatten and Dense(``latent_dim``, name "code"); the decoder is Dense,
    Reshape, stride-2 transposed convolutions and a last convolution to ``C``
    channels. Any size works: sizes that ``2 ** len(filters)`` does not
    divide (e.g. 28 with three layers) are zero-padded at the encoder's input
    and cropped back at the decoder's output.

    Args:
        input_shape: ``(H, W, C)`` for Conv2D, ``(T, C)`` for Conv1D.
        filters: widths of the stride-2 convolutions, input to code.
        latent_dim: size of the code.
        kernel_size: convolution kernel size.
        activation: hidden-layer activation.
        output_activation: "sigmoid" (BCE loss) or None (MSE loss).
        name: model name; default "conv_autoencoder".
        code_activation: activation of the code layer (default linear).
        normalize: standardise the inputs inside the model, for real-valued
            data such as a series in its own units (with
            ``output_activation=None``; adapt it with ``model.adapt(x_train)``,
            see :func:`build_dense_autoencoder`).

    Returns:
        A compiled :class:`keras_ae.models.Autoencoder`.
    """
    spec = trunk_spec(
        "conv",
        input_shape,
        filters=filters,
        latent_dim=latent_dim,
        activation=activation,
        output_activation=output_activation,
        code_activation=code_activation,
        kernel_size=kernel_size,
    )
    return _autoencoder("conv", _normalizing(spec, normalize), name)


def build_denoising_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    noise: str = "gaussian",
    noise_level: float = 0.4,
    architecture: str = "conv",
    seed: int | None = None,
    name: str | None = None,
    **trunk_args: Any,
) -> Autoencoder:
    """A denoising autoencoder (Vincent et al. 2008): corrupt, then reconstruct the clean input.

    A corruption layer sits before the encoder and acts only in training, so
    ``fit(x, x)`` learns to denoise, while ``predict``, ``encode`` and the
    exported endpoints run the clean path: a noisy input goes in, a clean
    output comes out.

    Args:
        input_shape: one sample's shape, without the batch axis.
        noise: ``"gaussian"`` (add N(0, noise_level²), then clip to [0, 1]),
            ``"masking"`` (set a fraction ``noise_level`` of inputs to 0) or
            ``"salt_and_pepper"`` (set a fraction ``noise_level`` to 0 or 1).
        noise_level: the noise's standard deviation or fraction (>= 0; < 1
            for the fractions).
        architecture: ``"conv"`` or ``"dense"``.
        seed: seed of the corruption layer's own ``SeedGenerator``.
        name: model name; default "denoising_autoencoder".
        **trunk_args: the trunk arguments of :func:`trunk_spec`
            (``filters`` or ``hidden_units``, ``latent_dim``, ...).

    The conv default has the conv trunk's filters (32, 64) and a code of
    ``latent_dim=128`` numbers, and trains with Adam(3e-3): trained 20
    epochs at batch 128 on the embedded MNIST digits, it denoises the test
    digits (Gaussian noise 0.4) to about 20.8 dB PSNR, against 19.7 dB with
    the conv autoencoder's code of 32 and Adam(1e-3)
    (``benchmarks/denoising.py``). The dense trunk keeps a code of 32 and
    Adam(1e-3).
    """
    from keras_ae.layers import CORRUPTIONS

    checks.choice("noise", noise, CORRUPTIONS)
    level = checks.non_negative_float("noise_level", noise_level)
    if noise != "gaussian":
        checks.open_unit_interval("noise_level", level, closed_low=True)
    conv = architecture == "conv"
    if conv:
        trunk_args.setdefault("latent_dim", 128)
    spec = trunk_spec(architecture, input_shape, **trunk_args)
    spec.update(noise=noise, noise_level=level, seed=_seed(seed))
    return _autoencoder("denoising", spec, name, learning_rate=3e-3 if conv else 1e-3)


def _seed(seed: Any) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"`seed` must be an int or None. Received: seed={seed!r}")
    return seed


def build_sparse_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    sparsity: str = "kl",
    target: float = 0.05,
    weight: float = 3e-3,
    l1: float = 1e-4,
    architecture: str = "dense",
    latent_dim: int = 256,
    name: str | None = None,
    **trunk_args: Any,
) -> Autoencoder:
    """A sparse autoencoder: few code units active for any one input.

    The code may be wider than the input (overcomplete); by default it has
    256 units after the default trunk's 128-unit layer.

    Args:
        input_shape: one sample's shape, without the batch axis.
        sparsity: ``"kl"``: sigmoid code units and the penalty
            ``weight * sum_j KL(target || rho_hat_j)``, ``rho_hat_j`` being
            unit j's mean activation over the batch (UFLDL). ``"l1"``: an L1
            activity penalty ``l1 * sum_j |h_j|`` (mean over the batch) on a
            ReLU code.
        target: the target mean activation ρ, in (0, 1) (``"kl"``).
        weight: β, the weight of the KL penalty (``"kl"``). The default,
            3e-3, is scaled to the binary cross-entropy averaged over pixels:
            on MNIST it holds the test mean activation near ``target``, and
            the penalty costs little reconstruction beyond what sigmoid code
            units cost by themselves.
        l1: the L1 coefficient (``"l1"``).
        architecture: ``"dense"`` or ``"conv"``.
        latent_dim: code size (default 256).
        name: model name; default "sparse_autoencoder".
        **trunk_args: the other arguments of :func:`trunk_spec`.

    ``fit`` reports ``mean_activation`` (mean code activation over the batch)
    and ``sparsity_loss`` beside the loss. The model is compiled with
    Adam(3e-3), not the other builders' 1e-3: sigmoid code units learn slowly,
    and at 1e-3 the test MSE after 40 epochs is 1.51x the dense AE's (1.38x
    at 3e-3, mean activation 0.051 for ``target=0.05``).
    """
    checks.choice("sparsity", sparsity, ("kl", "l1"))
    code_activation = trunk_args.pop("code_activation", "sigmoid" if sparsity == "kl" else "relu")
    if sparsity == "kl" and code_activation != "sigmoid":
        raise ValueError(
            "`code_activation` must be 'sigmoid' for sparsity='kl' (mean activations in "
            f"(0, 1)). Received: code_activation={code_activation!r}"
        )
    spec = trunk_spec(
        architecture,
        input_shape,
        latent_dim=latent_dim,
        code_activation=code_activation,
        **trunk_args,
    )
    spec.update(
        sparsity=sparsity,
        target=checks.open_unit_interval("target", target),
        weight=checks.non_negative_float("weight", weight),
        l1=checks.non_negative_float("l1", l1),
    )
    return _autoencoder("sparse", spec, name, learning_rate=3e-3)


#: ``penalty`` values of :func:`build_contractive_autoencoder`.
CONTRACTIVE_PENALTIES = ("exact", "hutchinson")


def build_contractive_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    contractive_weight: float = 1e-4,
    architecture: str = "dense",
    penalty: str = "hutchinson",
    projections: int = 1,
    seed: int | None = None,
    name: str | None = None,
    **trunk_args: Any,
) -> Autoencoder:
    """A contractive autoencoder (Rifai et al. 2011): reconstruction + λ‖J_encoder(x)‖²_F.

    By default (``penalty="hutchinson"``) each step penalises an unbiased
    estimate of ‖J‖²_F: ‖J v‖² for ``projections`` directions v ~ N(0, I) in
    input space (E_v ‖J v‖² = ‖J‖²_F), drawn afresh each step from the
    model's own ``SeedGenerator``. Each J v is exact, by forward tangents
    through the encoder's Dense and Conv layers
    (:func:`keras_ae.losses.jacobian_norm_estimate`, ``keras.ops``): one
    extra encoder pass per direction. With ``penalty="exact"`` the penalty is
    ‖J‖²_F itself: in closed form for dense trunks whose layers are linear,
    ReLU, sigmoid or tanh (:func:`keras_ae.losses.dense_jacobian_norm`; for a
    one-layer sigmoid encoder ``sum_j (h_j (1 - h_j))² sum_i W_ij²``),
    otherwise (conv trunks) by the backend's automatic differentiation
    (:func:`keras_ae.backend.jacobian_norm`, about ``latent_dim`` extra
    backward passes of the encoder per step).

    On the embedded MNIST with the default trunk (``benchmarks/contractive.py``,
    docs/benchmarks.md), an epoch with the estimate takes 1.6x the dense
    AE's and the exact penalty 6.3x; trained 15 epochs, both divide the test
    digits' exact ‖J‖²_F by 23 against the plain model's, for 13-15% more
    test MSE. The penalty belongs to training only: export and ``.keras``
    reload see a plain autoencoder. ``fit`` reports ``contractive_loss``, the
    batch's mean ‖J‖²_F (its estimate with ``"hutchinson"``); measure a
    trained model with :meth:`~keras_ae.models.Autoencoder.jacobian_norm`.

    Args:
        input_shape: one sample's shape, without the batch axis.
        contractive_weight: λ (>= 0). The default, 1e-4, is scaled to the
            binary cross-entropy averaged over pixels and to the large
            Jacobians of the default trunk's linear code (‖J‖²_F of several
            hundred for a plain autoencoder on MNIST): it divides ‖J‖²_F by
            about 20 for 10-15% more reconstruction error. A one-layer
            sigmoid encoder has a far smaller ‖J‖²_F and needs a larger λ.
        architecture: ``"dense"`` or ``"conv"``.
        penalty: ``"hutchinson"`` (the estimate) or ``"exact"``.
        projections: the directions per sample and step (``"hutchinson"``);
            the estimate's relative error per sample is about sqrt(2 /
            projections) at most, and much less for a batch's mean.
        seed: seed of the model's own ``SeedGenerator`` for the directions.
        name: model name; default "contractive_autoencoder".
        **trunk_args: the other arguments of :func:`trunk_spec`.
    """
    checks.choice("penalty", penalty, CONTRACTIVE_PENALTIES)
    projections = checks.positive_int("projections", projections)
    spec = trunk_spec(architecture, input_shape, **trunk_args)
    spec["contractive_weight"] = checks.non_negative_float("contractive_weight", contractive_weight)
    spec.update(penalty=penalty, projections=projections, seed=_seed(seed))
    # the estimate trains fastest with the dense trunk's speed settings (1.64x the
    # dense AE's epoch, 2.55x without, benchmarks/contractive.py); the exact penalty
    # keeps Keras's own: XLA gained it nothing on a quiet machine, lost 3.4x under load
    return _autoencoder("contractive", spec, name, speed=penalty == "hutchinson")


LIKELIHOODS = {"bernoulli": "sigmoid", "gaussian": None}


def build_vae(
    input_shape: Sequence[int] = (28, 28, 1),
    architecture: str = "dense",
    latent_dim: int = 2,
    *,
    hidden_units: Sequence[int] | None = None,
    filters: Sequence[int] | None = None,
    beta: float = 1.0,
    likelihood: str = "bernoulli",
    seed: int | None = None,
    name: str | None = None,
    **trunk_args: Any,
) -> VariationalAutoencoder:
    """A variational autoencoder (Kingma & Welling 2013) that trains with plain ``fit``.

    The encoder (the shared dense or conv trunk) has two heads, ``z_mean``
    and ``z_log_var``; a :class:`~keras_ae.layers.KLDivergence` layer adds
    ``beta * KL(q(z|x) || N(0, I))`` and a :class:`~keras_ae.layers.Sampling`
    layer draws ``z`` with its own seed. The loss is −ELBO in nats per image:
    the reconstruction term summed over pixels plus the KL term.

    Args:
        input_shape: one sample's shape, without the batch axis.
        architecture: ``"dense"`` (default hidden units (512, 256)) or
            ``"conv"`` (default filters (32, 64)).
        latent_dim: size of z.
        hidden_units: dense trunk sizes.
        filters: conv trunk widths.
        beta: initial KL weight (a variable; see
            :class:`keras_ae.callbacks.KLAnnealing`).
        likelihood: ``"bernoulli"`` (sigmoid output, binary cross-entropy
            summed over pixels; data in [0, 1]) or ``"gaussian"`` (linear
            output, ``0.5 * squared error + 0.5 * log(2π)`` per value: a
            Gaussian with fixed unit variance, not learned).
        seed: seed of the Sampling layer's ``SeedGenerator``.
        name: model name; default "vae".
        **trunk_args: the other arguments of :func:`trunk_spec`.
    """
    from keras_ae import losses

    checks.choice("likelihood", likelihood, LIKELIHOODS)
    if architecture == "dense" and hidden_units is None:
        hidden_units = (512, 256)
    spec = trunk_spec(
        architecture,
        input_shape,
        hidden_units=hidden_units,
        filters=filters,
        latent_dim=latent_dim,
        output_activation=LIKELIHOODS[likelihood],
        **trunk_args,
    )
    spec.update(
        kind="vae",
        likelihood=likelihood,
        beta=checks.non_negative_float("beta", beta),
        seed=_seed(seed),
    )
    if architecture == "conv":
        spec["transposed_output"] = True  # about 7% faster training on a CPU, same capacity
    model = VariationalAutoencoder(spec, name=name or "vae")
    nll = losses.LIKELIHOOD_NLL[likelihood]
    return compile_defaults(
        model, nll, metrics=[keras.metrics.MeanMetricWrapper(nll, name="reconstruction_loss")]
    )


def build_lstm_autoencoder(
    input_shape: Sequence[int],
    units: Sequence[int] = (64,),
    latent_dim: int = 16,
    activation: str | None = "tanh",
    output_activation: str | None = None,
    name: str | None = None,
    *,
    code_activation: str | None = None,
    normalize: bool = False,
) -> Autoencoder:
    """A recurrent (LSTM) autoencoder for series ``(T, C)``, compiled for ``fit(x, x)``.

    The encoder is one LSTM per entry of ``units`` (all but the last return
    sequences; the last returns its final output), then Dense(``latent_dim``,
    name "code"). The decoder repeats the code ``T`` times (RepeatVector),
    runs LSTMs of the reversed widths with ``return_sequences=True`` and
    maps every time step to ``C`` channels with a TimeDistributed Dense.

    Args:
        input_shape: ``(T, C)``: time steps and channels per window.
        units: LSTM widths from the input towards the code.
        latent_dim: size of the code.
        activation: the LSTMs' activation (``"tanh"``, the Keras default).
        output_activation: None (linear output, mean squared error: for
            real-valued, e.g. standardised, series) or ``"sigmoid"`` (binary
            cross-entropy: values in [0, 1]).
        name: model name; default "lstm_autoencoder".
        code_activation: activation of the code layer (default linear).
        normalize: standardise the inputs inside the model (a series in its
            own units; adapt it with ``model.adapt(x_train)``, see
            :func:`build_dense_autoencoder`).

    Returns:
        A compiled :class:`keras_ae.models.Autoencoder`.
    """
    spec = trunk_spec(
        "lstm",
        input_shape,
        units=units,
        latent_dim=latent_dim,
        activation=activation,
        output_activation=output_activation,
        code_activation=code_activation,
    )
    return _autoencoder("lstm", _normalizing(spec, normalize), name)
