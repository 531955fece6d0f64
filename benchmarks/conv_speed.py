"""Training speed of the convolutional and sequence kinds under each speed lever.

For the conv, denoising and conv VAE kinds (images), and the Conv1D and LSTM
kinds (windows of a series, as in tutorial 12), each at its kind's batch
size: the architecture compiled plainly (``model.compile("adam", loss)``,
Keras's own ``fit``) and keras_ae's model under each lever, trained one epoch
each in turn for ``--rounds`` rounds, so that a shared machine's load hits
them alike. A lever's ratio is the median of the rounds' ratios to the plain
model's epoch of the same round. The first epoch (tracing and XLA
compilation) is timed apart: ``first_epoch_s``.

Levers (``--levers``): ``keras_ae`` (the compile defaults as they stand),
``xla`` (``jit_compile=True``), ``steps32`` (``steps_per_execution=32``),
``xla+steps32`` (both),
``bf16`` and ``bf16+steps32`` (built under ``mixed_bfloat16``). oneDNN
(``TF_ENABLE_ONEDNN_OPTS``) and thread counts are fixed when TensorFlow
starts: run the script once per setting in alternation and compare the
plain rates (``--tag`` labels the runs).

    python benchmarks/conv_speed.py --out outputs/conv_speed.json
    python benchmarks/conv_speed.py --smoke --out /tmp/conv_speed.json   # seconds
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import _median_ratio, machine, plain_compiled  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae.kinds import ALL_KINDS  # noqa: E402

LEVERS: dict[str, dict[str, Any]] = {
    "keras_ae": {},
    "xla": {"settings": {"jit_compile": True}},
    "steps32": {"settings": {"steps_per_execution": 32}},
    "xla+steps32": {"settings": {"jit_compile": True, "steps_per_execution": 32}},
    "bf16": {"precision": "mixed_bfloat16"},
    "bf16+steps32": {"precision": "mixed_bfloat16", "settings": {"steps_per_execution": 32}},
}
IMAGE_KINDS = ("conv", "denoising", "vae")
SERIES_KINDS = ("conv1d", "lstm")
WINDOW = 48


class _EpochClocks(keras.callbacks.Callback):
    """Wall-clock and process CPU seconds (every thread's) of every epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = (time.perf_counter(), time.process_time())

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start[0])
        self.cpu_seconds.append(time.process_time() - self._start[1])


def series_windows() -> np.ndarray:
    """Tutorial 12's training windows: 5,000 standardised hours cut into
    windows of 48 points (4,953 windows of shape (48, 1))."""
    data = keras_ae.datasets.synthetic_series(9000, seed=0, clean_prefix=5000)
    train, _, _ = keras_ae.datasets.standardize(data.values[:5000], data.values[5000:])
    return keras_ae.datasets.make_windows(train, WINDOW).astype("float32")


def build(kind: str, shape: tuple[int, ...], lever: str, x: np.ndarray) -> keras.Model:
    """keras_ae's model of ``kind``, built as if ``lever`` were its compile default."""
    spec = LEVERS[lever]
    architecture = "lstm" if kind == "lstm" else "conv"
    table = keras_ae.backend.COMPILE_SPEED[keras_ae.backend.name()]
    saved = table.get(architecture)
    policy = keras.config.dtype_policy()
    try:
        if "settings" in spec:
            table[architecture] = spec["settings"]
        if "precision" in spec:
            keras.config.set_dtype_policy(spec["precision"])
        model = ALL_KINDS[kind].make(shape)
    finally:
        table[architecture] = saved
        keras.config.set_dtype_policy(policy)
    if kind in SERIES_KINDS:
        model.adapt(x)
    return model


def plain(kind: str, shape: tuple[int, ...], x: np.ndarray) -> keras.Model:
    model = plain_compiled(ALL_KINDS[kind].make(shape))
    if kind in SERIES_KINDS:
        model.adapt(x)
    return model


def convolutions_alone(model: keras.Model, batch: int, data_shape: tuple[int, ...]) -> Any:
    """A function that runs, once each, the forward and backward passes of
    copies of ``model``'s convolution layers alone, at the shapes they see in
    a training step of ``batch`` samples (the first layer's backward pass
    without its input's gradient, which training does not need), and returns
    its seconds."""
    import tensorflow as tf

    parts = []
    for layer in model._flatten_layers(include_self=False):
        if not type(layer).__name__.startswith("Conv"):
            continue
        shape = (batch, *layer.input.shape[1:])
        copy = type(layer).from_config(layer.get_config())
        copy.build(shape)
        parts.append((copy, tf.random.uniform(shape), tuple(shape[1:]) == tuple(data_shape)))

    @tf.function
    def passes() -> Any:
        grads = []
        for copy, inputs, first in parts:
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                out = tf.reduce_sum(copy(inputs))
            sources = copy.trainable_variables + ([] if first else [inputs])
            grads += tape.gradient(out, sources)
        return tf.add_n([tf.reduce_sum(g) for g in grads])

    def seconds() -> float:
        start = time.perf_counter()
        passes().numpy()
        return time.perf_counter() - start

    seconds()  # traces
    return seconds


def bench_kind(kind: str, x: np.ndarray, levers: list[str], rounds: int) -> list[dict]:
    """One row per lever: its median samples/s and ratio to plain Keras, and
    the first epoch's seconds, from ``rounds`` alternating rounds; the plain
    model's row also holds ``conv_share``: the median over the rounds of the
    time its convolutions alone take (:func:`convolutions_alone`, 10 steps
    timed each round) as a share of its training step."""
    batch = ALL_KINDS[kind].batch_size
    shape = x.shape[1:]
    keras.utils.set_random_seed(0)
    names = ["plain", *levers]
    models = [plain(kind, shape, x)] + [build(kind, shape, lever, x) for lever in levers]
    first = []
    for model in models:
        start = time.perf_counter()
        model.fit(x, x, epochs=1, batch_size=batch, verbose=0)
        first.append(time.perf_counter() - start)
    timers = [_EpochClocks() for _ in models]
    convs = None if kind == "lstm" else convolutions_alone(models[0], batch, shape)
    conv_steps = []
    for _ in range(rounds):
        for model, timer in zip(models, timers, strict=True):
            model.fit(x, x, epochs=1, batch_size=batch, verbose=0, callbacks=[timer])
        if convs is not None:
            conv_steps.append(statistics.median(convs() for _ in range(10)))
    rates = [[len(x) / s for s in timer.seconds] for timer in timers]
    cpu_rates = [[len(x) / s for s in timer.cpu_seconds] for timer in timers]
    rows = []
    for name, model, lever_rates, cpu, first_s in zip(
        names, models, rates, cpu_rates, first, strict=True
    ):
        row = {
            "kind": kind,
            "lever": name,
            "batch_size": batch,
            "samples": len(x),
            "compile": {k: getattr(model, k) for k in ("jit_compile", "steps_per_execution")},
            "dtype_policy": model.dtype_policy.name,
            "samples_per_s": round(statistics.median(lever_rates)),
            "ratio_to_plain": round(_median_ratio(lever_rates, rates[0]), 2),
            "round_ratios": [round(a / b, 2) for a, b in zip(lever_rates, rates[0], strict=True)],
            "first_epoch_s": round(first_s, 2),
            "cpu_samples_per_s": round(statistics.median(cpu)),
            "cpu_ratio_to_plain": round(_median_ratio(cpu, cpu_rates[0]), 2),
        }
        if name == "plain" and conv_steps:
            shares = [c * r / batch for c, r in zip(conv_steps, lever_rates, strict=True)]
            row["conv_share"] = round(statistics.median(shares), 3)
        print(json.dumps(row), flush=True)
        rows.append(row)
    keras.backend.clear_session()
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| kind | lever | batch | samples/s | plain Keras samples/s | ratio | first epoch s |",
        "|---|---|---|---|---|---|---|",
    ]
    plain_rates = {r["kind"]: r["samples_per_s"] for r in rows if r["lever"] == "plain"}
    for r in rows:
        if r["lever"] == "plain":
            continue
        lines.append(
            f"| {r['kind']} | {r['lever']} | {r['batch_size']} | {r['samples_per_s']:,} | "
            f"{plain_rates[r['kind']]:,} | {r['ratio_to_plain']:.2f}× | {r['first_epoch_s']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    kinds = [*IMAGE_KINDS, *SERIES_KINDS]
    parser.add_argument("--kinds", nargs="+", default=None, choices=kinds)
    parser.add_argument("--levers", nargs="+", default=None, choices=list(LEVERS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=4096, help="training rows per epoch")
    parser.add_argument("--smoke", action="store_true", help="seconds; checks the script only")
    parser.add_argument("--tag", default="", help="a label for this run (e.g. its oneDNN setting)")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument("--markdown", default=None, help="write the table here")
    args = parser.parse_args()
    if args.smoke:  # one lever of one kind, one round on 256 windows
        args.rows, args.rounds = 256, 1
        args.kinds, args.levers = args.kinds or ["conv1d"], args.levers or ["keras_ae"]
    args.kinds, args.levers = args.kinds or kinds, args.levers or list(LEVERS)
    (images, _), _ = keras_ae.datasets.load_mnist(source="embedded")
    windows = series_windows()
    rows = []
    for kind in args.kinds:
        x = (images if kind in IMAGE_KINDS else windows)[: args.rows]
        rows += bench_kind(kind, x, args.levers, args.rounds)
    table = markdown(rows)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table)
    if args.out:
        import tensorflow as tf

        report = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": machine(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
            "tag": args.tag,
            "args": vars(args),
            "rows": rows,
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
