"""Public builders: one keyword call gives a compiled model of each kind.

Every builder has the same shape: ``input_shape`` first, then keyword-only
arguments that ``help()`` lists: the kind's own and ``name``, then the
trunk's (``architecture``, ``latent_dim``, ``hidden_units`` / ``filters`` /
``units``, ``kernel_size``, ``activation``, ``output_activation``,
``code_activation``, ``normalize``; a kind's most telling ones first). A
builder makes a :class:`~keras_ae.trunks.Trunk` (which validates the trunk's
arguments), constructs the model class of its kind from
:mod:`keras_ae.models` (which validates the kind's) and calls
``model.compile()``, whose ``"auto"`` defaults the class holds
(:class:`~keras_ae.models.KerasAEModel`): ``model.compile(...)`` afterwards
overrides any of them, and a reloaded model recompiles with them.

The defaults are the same across kinds (a dense trunk of (256, 128) units,
a code of 32, ReLU, a sigmoid output for data in [0, 1], Adam(1e-3)) except
where a kind needs another, each said in its builder: the denoising
autoencoder is convolutional with a code of 128 and Adam(3e-3) (the
denoising benchmark's figures), the sparse one has an overcomplete code of
256 and Adam(3e-3), the VAE a 2-number code and (512, 256) units, the LSTM
autoencoder a code of 16, tanh and a linear output for real-valued series.

The speed settings of each trunk and backend are in
:func:`keras_ae.backend.compile_speed`.

Positional arguments after ``input_shape`` (the order of keras_ae 0.1.0)
still work, with a ``DeprecationWarning``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from keras_ae import checks
from keras_ae.models import (
    CONTRACTIVE_PENALTIES,  # noqa: F401 - public here since 0.1.0
    LIKELIHOODS,
    Autoencoder,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    KerasAEModel,
    SparseAutoencoder,
    TiedAutoencoder,
    VariationalAutoencoder,
)
from keras_ae.trunks import Trunk

Builder = TypeVar("Builder", bound=Callable[..., Any])

_TRUNK_FIELDS = tuple(Trunk.__dataclass_fields__)


def _positional(*names: str) -> Callable[[Builder], Builder]:
    """Accept keras_ae 0.1.0's positional arguments ``names`` after
    ``input_shape``, as keywords, with a DeprecationWarning."""

    def decorate(builder: Builder) -> Builder:
        @functools.wraps(builder)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if len(args) > 1:
                extra = args[1:]
                if len(extra) > len(names):
                    raise TypeError(
                        f"{builder.__name__}() takes `input_shape` and keyword arguments. "
                        f"Received {len(args)} positional arguments."
                    )
                moved = dict(zip(names, extra, strict=False))
                warnings.warn(
                    f"{builder.__name__}(): pass {', '.join(moved)} by keyword "
                    f"({', '.join(f'{k}=...' for k in moved)}); positional arguments after "
                    "`input_shape` are deprecated.",
                    DeprecationWarning,
                    stacklevel=2,
                )
                for key in moved:
                    if key in kwargs:
                        raise TypeError(
                            f"{builder.__name__}() got `{key}` both by position and by keyword."
                        )
                args, kwargs = args[:1], {**kwargs, **moved}
            return builder(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _trunk(arguments: dict[str, Any]) -> Trunk:
    """The Trunk of a builder's arguments (its ``locals()``)."""
    return Trunk(**{k: arguments[k] for k in _TRUNK_FIELDS if k in arguments})


def _compiled(model: KerasAEModel) -> Any:
    model.compile()
    return model


def _output(output_activation: str | None, normalize: bool) -> str | None:
    """``output_activation="auto"``: sigmoid (data in [0, 1]), None with ``normalize``."""
    if isinstance(output_activation, str) and output_activation == "auto":
        return None if normalize is True else "sigmoid"
    return output_activation


@_positional("hidden_units", "latent_dim", "activation", "output_activation", "name")
def build_dense_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    hidden_units: Sequence[int] = (256, 128),
    latent_dim: int = 32,
    activation: str | None = "relu",
    output_activation: str | None = "auto",
    code_activation: str | None = None,
    tied_weights: bool = False,
    normalize: bool = False,
    name: str | None = None,
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
        code_activation: activation of the code layer (default linear).
        tied_weights: the decoder reuses each encoder kernel, transposed, with
            biases of its own (:class:`~keras_ae.models.TiedAutoencoder`);
            this halves the kernel parameters.
        normalize: standardise the inputs inside the model (see above).
        name: model name; default "dense_autoencoder" ("tied_autoencoder"
            with ``tied_weights``).

    Returns:
        A compiled :class:`~keras_ae.models.Autoencoder`
        (:class:`~keras_ae.models.TiedAutoencoder` with ``tied_weights``).
    """
    output_activation = _output(output_activation, normalize)
    cls = TiedAutoencoder if checks.boolean("tied_weights", tied_weights) else Autoencoder
    return _compiled(cls(_trunk(locals()), name=name))


@_positional("filters", "latent_dim", "kernel_size", "activation", "output_activation", "name")
def build_conv_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    filters: Sequence[int] = (32, 64),
    latent_dim: int = 32,
    kernel_size: int = 3,
    activation: str | None = "relu",
    output_activation: str | None = "auto",
    code_activation: str | None = None,
    normalize: bool = False,
    name: str | None = None,
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
        output_activation: "sigmoid" (BCE loss) or None (MSE loss); "auto"
            (default): "sigmoid", or None with ``normalize=True``.
        code_activation: activation of the code layer (default linear).
        normalize: standardise the inputs inside the model, for real-valued
            data such as a series in its own units (adapt it with
            ``model.adapt(x_train)``, see :func:`build_dense_autoencoder`).
        name: model name; default "conv_autoencoder".

    Returns:
        A compiled :class:`~keras_ae.models.Autoencoder`.
    """
    output_activation = _output(output_activation, normalize)
    return _compiled(Autoencoder(_trunk(locals() | {"architecture": "conv"}), name=name))


def build_denoising_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    noise: str = "gaussian",
    noise_level: float = 0.4,
    seed: int | None = None,
    name: str | None = None,
    architecture: str = "conv",
    latent_dim: int | None = None,
    code_activation: str | None = None,
    filters: Sequence[int] | None = None,
    kernel_size: int = 3,
    hidden_units: Sequence[int] | None = None,
    activation: str | None = "relu",
    output_activation: str | None = "sigmoid",
) -> DenoisingAutoencoder:
    """A denoising autoencoder (Vincent et al. 2008): corrupt, then reconstruct the clean input.

    A corruption layer sits before the encoder and acts only in training, so
    ``fit(x, x)`` learns to denoise, while ``predict``, ``encode`` and the
    exported endpoints run the clean path: a noisy input goes in, a clean
    output comes out.

    Why its defaults differ: denoising is for images, so the trunk is
    convolutional (filters (32, 64)) with a code of ``latent_dim=128``
    numbers, trained with Adam(3e-3). Trained 20 epochs at batch 128 on the
    embedded MNIST digits, it denoises the test digits (Gaussian noise 0.4)
    to about 20.8 dB PSNR, against 19.7 dB with the conv autoencoder's code
    of 32 and Adam(1e-3) (``benchmarks/denoising.py``). The dense trunk
    keeps a code of 32 and Adam(1e-3).

    Args:
        input_shape: one sample's shape, without the batch axis.
        noise: ``"gaussian"`` (add N(0, noise_level²), then clip to [0, 1]),
            ``"masking"`` (set a fraction ``noise_level`` of inputs to 0) or
            ``"salt_and_pepper"`` (set a fraction ``noise_level`` to 0 or 1).
        noise_level: the noise's standard deviation or fraction (>= 0; < 1
            for the fractions).
        seed: seed of the corruption layer's own ``SeedGenerator``.
        name: model name; default "denoising_autoencoder".
        architecture: ``"conv"`` or ``"dense"``.
        latent_dim: size of the code (default 128 for conv, 32 for dense).
        code_activation: activation of the code layer (default linear).
        filters: conv trunk widths (default (32, 64)).
        kernel_size: convolution kernel size (conv).
        hidden_units: dense trunk sizes (default (256, 128)).
        activation: hidden-layer activation.
        output_activation: "sigmoid" (BCE loss) or None (MSE loss).

    Returns:
        A compiled :class:`~keras_ae.models.DenoisingAutoencoder`.
    """
    if latent_dim is None:
        latent_dim = 128 if architecture == "conv" else 32
    model = DenoisingAutoencoder(
        _trunk(locals()), noise=noise, noise_level=noise_level, seed=seed, name=name
    )
    return _compiled(model)


def build_sparse_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    sparsity: str = "kl",
    target: float = 0.05,
    weight: float = 3e-3,
    l1: float = 1e-4,
    name: str | None = None,
    latent_dim: int = 256,
    code_activation: str | None = "auto",
    architecture: str = "dense",
    hidden_units: Sequence[int] | None = None,
    filters: Sequence[int] | None = None,
    kernel_size: int = 3,
    activation: str | None = "relu",
    output_activation: str | None = "sigmoid",
) -> SparseAutoencoder:
    """A sparse autoencoder: few code units active for any one input.

    Why its defaults differ: the code may be wider than the input
    (overcomplete); by default it has 256 units after the default trunk's
    128-unit layer. The model trains with Adam(3e-3), not 1e-3: sigmoid code
    units learn slowly, and at 1e-3 the test MSE after 40 epochs is 1.51x
    the dense AE's (1.38x at 3e-3, mean activation 0.051 for
    ``target=0.05``).

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
        name: model name; default "sparse_autoencoder".
        latent_dim: code size (default 256).
        code_activation: "auto" (default): sigmoid for ``"kl"``, ReLU for ``"l1"``.
        architecture: ``"dense"`` or ``"conv"``.
        hidden_units: dense trunk sizes (default (256, 128)).
        filters: conv trunk widths (default (32, 64)).
        kernel_size: convolution kernel size (conv).
        activation: hidden-layer activation.
        output_activation: "sigmoid" (BCE loss) or None (MSE loss).

    ``fit`` reports ``mean_activation`` (mean code activation over the batch)
    and ``sparsity_loss`` beside the loss.

    Returns:
        A compiled :class:`~keras_ae.models.SparseAutoencoder`.
    """
    if isinstance(code_activation, str) and code_activation == "auto":
        code_activation = "sigmoid" if sparsity == "kl" else "relu"
    model = SparseAutoencoder(
        _trunk(locals()), sparsity=sparsity, target=target, weight=weight, l1=l1, name=name
    )
    return _compiled(model)


def build_contractive_autoencoder(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    contractive_weight: float = 1e-4,
    penalty: str = "hutchinson",
    projections: int = 1,
    seed: int | None = None,
    name: str | None = None,
    architecture: str = "dense",
    hidden_units: Sequence[int] | None = None,
    filters: Sequence[int] | None = None,
    latent_dim: int = 32,
    kernel_size: int = 3,
    activation: str | None = "relu",
    output_activation: str | None = "sigmoid",
    code_activation: str | None = None,
) -> ContractiveAutoencoder:
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
    reload see the same encoder and decoder. ``fit`` reports
    ``contractive_loss``, the batch's mean ‖J‖²_F (its estimate with
    ``"hutchinson"``); measure a trained model with
    :meth:`~keras_ae.models.Autoencoder.jacobian_norm`.

    Args:
        input_shape: one sample's shape, without the batch axis.
        contractive_weight: λ (>= 0). The default, 1e-4, is scaled to the
            binary cross-entropy averaged over pixels and to the large
            Jacobians of the default trunk's linear code (‖J‖²_F of several
            hundred for a plain autoencoder on MNIST): it divides ‖J‖²_F by
            about 20 for 10-15% more reconstruction error. A one-layer
            sigmoid encoder has a far smaller ‖J‖²_F and needs a larger λ.
        penalty: ``"hutchinson"`` (the estimate) or ``"exact"``.
        projections: the directions per sample and step (``"hutchinson"``);
            the estimate's relative error per sample is about sqrt(2 /
            projections) at most, and much less for a batch's mean.
        seed: seed of the model's own ``SeedGenerator`` for the directions.
        name: model name; default "contractive_autoencoder".
        architecture: ``"dense"`` or ``"conv"``.
        hidden_units: dense trunk sizes (default (256, 128)).
        filters: conv trunk widths (default (32, 64)).
        latent_dim: size of the code.
        kernel_size: convolution kernel size (conv).
        activation: hidden-layer activation.
        output_activation: "sigmoid" (BCE loss) or None (MSE loss).
        code_activation: activation of the code layer (default linear).

    Returns:
        A compiled :class:`~keras_ae.models.ContractiveAutoencoder`.
    """
    model = ContractiveAutoencoder(
        _trunk(locals()),
        contractive_weight=contractive_weight,
        penalty=penalty,
        projections=projections,
        seed=seed,
        name=name,
    )
    return _compiled(model)


@_positional("architecture", "latent_dim")
def build_vae(
    input_shape: Sequence[int] = (28, 28, 1),
    *,
    beta: float = 1.0,
    likelihood: str = "bernoulli",
    seed: int | None = None,
    name: str | None = None,
    architecture: str = "dense",
    latent_dim: int = 2,
    hidden_units: Sequence[int] | None = None,
    filters: Sequence[int] | None = None,
    kernel_size: int = 3,
    activation: str | None = "relu",
) -> VariationalAutoencoder:
    """A variational autoencoder (Kingma & Welling 2013) that trains with plain ``fit``.

    The encoder (the shared dense or conv trunk) has two heads, ``z_mean``
    and ``z_log_var``; a :class:`~keras_ae.layers.KLDivergence` layer adds
    ``beta * KL(q(z|x) || N(0, I))`` and a :class:`~keras_ae.layers.Sampling`
    layer draws ``z`` with its own seed. The loss is −ELBO in nats per image:
    the reconstruction term summed over pixels plus the KL term.

    Why its defaults differ: a 2-number code is the one a learner can draw
    (the latent-space plots of tutorial 07), and the dense trunk is wider,
    (512, 256), as in Kingma & Welling's MNIST model. The output activation
    follows ``likelihood``.

    Args:
        input_shape: one sample's shape, without the batch axis.
        beta: initial KL weight (a variable; see
            :class:`keras_ae.callbacks.KLAnnealing`).
        likelihood: ``"bernoulli"`` (sigmoid output, binary cross-entropy
            summed over pixels; data in [0, 1]) or ``"gaussian"`` (linear
            output, ``0.5 * squared error + 0.5 * log(2π)`` per value: a
            Gaussian with fixed unit variance, not learned).
        seed: seed of the Sampling layer's ``SeedGenerator``.
        name: model name; default "vae".
        architecture: ``"dense"`` (default hidden units (512, 256)) or
            ``"conv"`` (default filters (32, 64)).
        latent_dim: size of z.
        hidden_units: dense trunk sizes.
        filters: conv trunk widths.
        kernel_size: convolution kernel size (conv).
        activation: hidden-layer activation.

    Returns:
        A compiled :class:`~keras_ae.models.VariationalAutoencoder`.
    """
    if architecture == "dense" and hidden_units is None:
        hidden_units = (512, 256)
    trunk = _trunk(
        locals()
        | {
            "output_activation": LIKELIHOODS.get(likelihood),
            # a conv decoder's last layer transposed: about 7% faster training on a CPU
            "transposed_output": architecture == "conv",
        }
    )
    model = VariationalAutoencoder(trunk, beta=beta, likelihood=likelihood, seed=seed, name=name)
    return _compiled(model)


@_positional("units", "latent_dim", "activation", "output_activation", "name")
def build_lstm_autoencoder(
    input_shape: Sequence[int],
    *,
    units: Sequence[int] = (64,),
    latent_dim: int = 16,
    activation: str | None = "tanh",
    output_activation: str | None = None,
    code_activation: str | None = None,
    normalize: bool = False,
    name: str | None = None,
) -> Autoencoder:
    """A recurrent (LSTM) autoencoder for series ``(T, C)``, compiled for ``fit(x, x)``.

    The encoder is one LSTM per entry of ``units`` (all but the last return
    sequences; the last returns its final output), then Dense(``latent_dim``,
    name "code"). The decoder repeats the code ``T`` times (RepeatVector),
    runs LSTMs of the reversed widths with ``return_sequences=True`` and
    maps every time step to ``C`` channels with a TimeDistributed Dense.

    Why its defaults differ: series are real-valued, so the output is linear
    (mean squared error); tanh is the LSTM's own activation; a window of a
    few channels needs a smaller code than an image (16).

    Args:
        input_shape: ``(T, C)``: time steps and channels per window.
        units: LSTM widths from the input towards the code.
        latent_dim: size of the code.
        activation: the LSTMs' activation (``"tanh"``, the Keras default).
        output_activation: None (linear output, mean squared error: for
            real-valued, e.g. standardised, series) or ``"sigmoid"`` (binary
            cross-entropy: values in [0, 1]).
        code_activation: activation of the code layer (default linear).
        normalize: standardise the inputs inside the model (a series in its
            own units; adapt it with ``model.adapt(x_train)``, see
            :func:`build_dense_autoencoder`).
        name: model name; default "lstm_autoencoder".

    Returns:
        A compiled :class:`~keras_ae.models.Autoencoder`.
    """
    return _compiled(Autoencoder(_trunk(locals() | {"architecture": "lstm"}), name=name))
