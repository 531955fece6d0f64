"""Training callbacks: KL annealing for variational autoencoders, TensorBoard logs.

A VAE's KL weight β is a variable (``model.beta``, the
:class:`~keras_ae.layers.KLDivergence` layer's ``beta``), so a callback can
change it between training steps without recompiling.

:func:`tensorboard` gives Keras's ``keras.callbacks.TensorBoard`` (the losses)
plus :class:`ReconstructionImages` (a few inputs beside their reconstructions,
as images, every epoch); both need the ``tensorboard`` package
(``pip install keras_ae[tensorboard]``) and run under every Keras backend.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import keras
import numpy as np

from keras_ae import checks

SCHEDULES = ("linear", "cyclical")
UNITS = ("epoch", "step")


class KLAnnealing(keras.callbacks.Callback):
    """Anneal a VAE's KL weight β during ``fit``, to avoid posterior collapse.

    With ``t`` the 0-based epoch (``unit="epoch"``) or training step
    (``unit="step"``, counted across epochs) and ``T = duration``:

    - ``"linear"`` warm-up: ``β(t) = start + (stop - start) * min(1, t / T)``;
      β rises over the first ``T`` epochs or steps, then stays at ``stop``.
    - ``"cyclical"`` (Fu et al. 2019, "Cyclical Annealing Schedule"): the
      ``T`` epochs or steps split into ``cycles`` cycles of length
      ``P = T / cycles``; within a cycle, at position ``tau = (t mod P) / P``,
      ``β(t) = start + (stop - start) * min(1, tau / ratio)``: β rises for the
      first ``ratio`` of each cycle and stays at ``stop`` for the rest. From
      ``t = T`` on, β stays at ``stop``.

    β is set at the start of each epoch (``unit="epoch"``) or of each training
    step (``unit="step"``; with ``steps_per_execution=s`` the model runs ``s``
    steps per call, so β changes every ``s`` steps, at the value of the
    first). At the end of each epoch ``logs["beta"]`` holds the current β, so
    ``History.history["beta"]`` records it beside the losses. After ``fit``,
    β keeps its last value.

    Args:
        schedule: ``"linear"`` or ``"cyclical"``.
        start: β at the start of the warm-up or of each cycle (>= 0).
        stop: β at the end of the warm-up or of each cycle's rise (>= 0).
        duration: ``T``, in ``unit``s. None: the whole of ``fit`` (its
            ``epochs``, or ``epochs`` times the steps per epoch).
        unit: ``"epoch"`` or ``"step"``.
        cycles: number of cycles (``"cyclical"``).
        ratio: fraction of each cycle spent increasing, in (0, 1)
            (``"cyclical"``).

    Example:

    ```python
    vae = keras_ae.build_vae(latent_dim=2)
    annealing = keras_ae.callbacks.KLAnnealing("linear", duration=10)
    history = vae.fit(x, x, epochs=30, callbacks=[annealing])
    history.history["beta"]  # [0.0, 0.1, ..., 0.9, 1.0, 1.0, ...]
    ```
    """

    def __init__(
        self,
        schedule: str = "linear",
        *,
        start: float = 0.0,
        stop: float = 1.0,
        duration: int | None = None,
        unit: str = "epoch",
        cycles: int = 4,
        ratio: float = 0.5,
    ) -> None:
        super().__init__()
        self.schedule = checks.choice("schedule", schedule, SCHEDULES)
        self.start = checks.non_negative_float("start", start)
        self.stop = checks.non_negative_float("stop", stop)
        self.duration = None if duration is None else checks.positive_int("duration", duration)
        self.unit = checks.choice("unit", unit, UNITS)
        self.cycles = checks.positive_int("cycles", cycles)
        self.ratio = checks.open_unit_interval("ratio", ratio)
        self._total: int | None = self.duration
        self._steps_per_epoch: int | None = None
        self._epoch = self._offset = self._epoch_steps = 0

    def value(self, t: int, duration: int) -> float:
        """β at epoch or step ``t`` (0-based) of a schedule of length ``duration``."""
        if t >= duration:
            fraction = 1.0
        elif self.schedule == "linear":
            fraction = t / duration
        else:
            tau = (t * self.cycles % duration) / duration  # (t mod P) / P, with P = T / cycles
            fraction = min(1.0, tau / self.ratio)
        return self.start + (self.stop - self.start) * fraction

    def _beta(self) -> keras.Variable:
        beta = getattr(self.model, "beta", None)
        if not isinstance(beta, keras.Variable):
            raise ValueError(
                "KLAnnealing needs a model with a `beta` variable, such as the models of "
                f"keras_ae.build_vae. Received: model={self.model.name!r}"
            )
        return beta

    def _set(self, t: int) -> None:
        self._variable.assign(self.value(t, self._total))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._variable = self._beta()
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        self._steps_per_epoch = steps
        self._offset = self._epoch_steps = 0
        if self.duration is not None:
            self._total = self.duration
        elif self.unit == "epoch":
            self._total = epochs
        elif steps:
            self._total = epochs * steps
        else:
            raise ValueError(
                "KLAnnealing(unit='step') needs `duration` when the number of steps per "
                "epoch is unknown (e.g. a dataset of unknown length). Received: duration=None"
            )

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch
        if self.unit == "epoch":
            self._set(epoch)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self.unit == "step":
            if self._steps_per_epoch:
                self._set(self._epoch * self._steps_per_epoch + batch)
            else:  # unknown epoch length: count the steps of this fit
                self._set(self._offset + batch)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._epoch_steps = batch + 1

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._offset += self._epoch_steps
        if logs is not None:
            logs["beta"] = float(keras.ops.convert_to_numpy(self._variable))


def _require_tensorboard() -> None:
    if importlib.util.find_spec("tensorboard") is None:
        raise ImportError(
            "TensorBoard logs need the tensorboard package: pip install keras_ae[tensorboard]"
        )


def _line_plots(x: np.ndarray, recon: np.ndarray, size: tuple[int, int] = (320, 160)) -> Any:
    """One RGB picture per sample: each channel of ``x`` (black) and of ``recon``
    (blue) drawn as a line over the sample's positions. float32 ``(n, H, W, 3)``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    pictures = []
    for original, rebuilt in zip(x, recon, strict=True):
        fig = Figure(figsize=(size[0] / 80, size[1] / 80), dpi=80)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0.12, 0.1, 0.86, 0.85))
        ax.plot(original, color="black", lw=1)
        ax.plot(rebuilt, color="tab:blue", lw=1)
        canvas.draw()
        pictures.append(np.asarray(canvas.buffer_rgba())[..., :3])
    return np.stack(pictures).astype("float32") / 255.0


def reconstruction_pictures(x: Any, recon: Any) -> np.ndarray:
    """Pictures of inputs beside their reconstructions, float32 ``(n, H, W, C)`` in [0, 1].

    Images ``(n, H, W, 1 or 3)`` give each input and its reconstruction side
    by side (``(n, H, 2W, C)``, clipped to [0, 1]); anything else (series
    windows ``(n, T, C)``, rows of a table ``(n, F)``) gives a line plot per
    sample, the input in black and the reconstruction in blue.
    """
    x, recon = np.asarray(x, "float32"), np.asarray(recon, "float32")
    if x.shape != recon.shape:
        raise ValueError(
            f"`recon` must have the inputs' shape {x.shape}. Received shape {recon.shape}."
        )
    if x.ndim == 4 and x.shape[-1] in (1, 3):
        return np.clip(np.concatenate([x, recon], axis=2), 0.0, 1.0)
    flat = (len(x), x.shape[1] if x.ndim > 1 else 1, -1)
    return _line_plots(x.reshape(flat), recon.reshape(flat))


class ReconstructionImages(keras.callbacks.Callback):
    """Write a few inputs beside their reconstructions to TensorBoard, every epoch.

    At the end of each epoch the model reconstructs ``x`` (the deterministic
    path: a VAE decodes its posterior mean) and the pictures of
    :func:`reconstruction_pictures` go to ``tf.summary.image`` under the tag
    ``name``, at step ``epoch``, in the run ``log_dir/reconstructions``.
    TensorFlow's summary writer works under every Keras backend; it needs the
    ``tensorboard`` package (``pip install keras_ae[tensorboard]``).

    Args:
        log_dir: the TensorBoard log folder (the one given to
            ``keras.callbacks.TensorBoard``).
        x: the samples to reconstruct (a few: every one becomes a picture).
        name: the image summary's tag.
    """

    def __init__(self, log_dir: str | os.PathLike, x: Any, name: str = "reconstructions") -> None:
        super().__init__()
        _require_tensorboard()
        if not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"`log_dir` must be a path. Received: log_dir={log_dir!r}")
        self.log_dir = os.fspath(log_dir)
        self.x = checks.array("x", x)
        self.name = name
        self._writer: Any = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        import tensorflow as tf

        self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "reconstructions"))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        import tensorflow as tf

        from keras_ae.kinds import reconstruct

        pictures = reconstruction_pictures(self.x, reconstruct(self.model, self.x))
        with self._writer.as_default():
            tf.summary.image(self.name, pictures, step=epoch, max_outputs=len(pictures))
        self._writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def tensorboard(log_dir: str | os.PathLike, x: Any) -> list[keras.callbacks.Callback]:
    """TensorBoard logs of a ``fit``: the losses, and reconstructions as images.

    Returns ``[keras.callbacks.TensorBoard(log_dir), ReconstructionImages(log_dir, x)]``:
    ``epoch_loss`` (and every other metric, with ``val_`` runs) per epoch in
    ``log_dir/train`` and ``log_dir/validation``, and the pictures of ``x`` and
    its reconstructions per epoch in ``log_dir/reconstructions``. Watch them
    with ``tensorboard --logdir log_dir``.

    Args:
        log_dir: the log folder.
        x: a few samples to draw with their reconstructions.

    Raises:
        ImportError: the ``tensorboard`` package is not installed.
    """
    _require_tensorboard()
    return [
        keras.callbacks.TensorBoard(os.fspath(log_dir), write_graph=False),
        ReconstructionImages(log_dir, x),
    ]
