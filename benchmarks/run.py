"""Benchmark suite: keras_ae's defaults against plain Keras and against the hardware.

For every model kind at its default configuration, on the embedded MNIST:

- training samples/s with keras_ae's compile defaults, and with the same
  architecture compiled plainly (``model.compile("adam", loss)``), measured
  in the same run: warm-up excluded, median of several repeats;
- achieved GFLOP/s (``keras_ae.profiling.training_flops``) as a fraction of
  the float32 matmul ceiling, measured in the same run as chains of
  ``tf.matmul`` on 1024-4096 square matrices (the best of the run's readings);
- inference samples/s of the exported SavedModel's ``serve`` against
  ``model.predict``;
- peak resident memory of the process so far.

Then the deep dense autoencoder (784-512-256-64) against the ceiling and
against the same network hand-written in TensorFlow; the default dense AE
and vae16 against their trunks hand-written in TensorFlow (how far a ratio
to plain Keras can go on this CPU); float32 against ``mixed_bfloat16``; the
import time; and scaling: seconds per epoch and peak memory for a dense
autoencoder on 10k, 100k and 1M synthetic MNIST-sized samples, streamed
from a ``.npy`` memmap with ``keras_ae.datasets.from_array_file``.

    python benchmarks/run.py [--quick] [--smoke] [--out results.json] [--markdown table.md]

``--quick`` takes under 3 minutes on a 2-core CPU: 2 repeats, each kind's
epochs one block of ``steps_per_execution`` steps (at least 1,024 digits),
one mixed-precision case, no hand-written kinds and no scaling;
``--smoke`` checks the script end to end in seconds (CI).

    python benchmarks/run.py --ablation [--rounds 4] [--kinds dense ...] [--figures FILE]

``--ablation`` measures only the speed flags against plain Keras for each
dense kind, at the kind's own run length and in the steady state
(:func:`bench_ablation`; ``--epochs`` and ``--rows`` shorten it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae.kinds import KINDS  # noqa: E402
from keras_ae.profiling import training_flops  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def anon_rss_mb() -> float | None:
    """Anonymous resident memory now (Linux), in MB: the process's own memory,
    without the file pages of a memory map, which the kernel can drop."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def matmul_ceiling(sizes: tuple[int, ...], repeats: int) -> float:
    """Best GFLOP/s of chains of float32 ``tf.matmul`` on square matrices, each
    chain run both as a TensorFlow graph (TensorFlow's own kernels) and
    compiled with XLA (XLA's), so that neither path, which a model may take,
    runs faster than the ceiling it is measured against."""
    import tensorflow as tf

    best = 0.0
    for n in sizes:
        a = tf.random.normal((n, n))
        b = tf.random.normal((n, n)) / np.sqrt(n)
        for jit in (False, True):

            @tf.function(jit_compile=jit)
            def chain(x, b=b):
                for _ in range(8):
                    x = tf.matmul(x, b)
                return x

            chain(a).numpy()  # warm-up
            for _ in range(repeats):
                seconds = _seconds(lambda f=chain, a=a: f(a).numpy())
                best = max(best, 8 * 2 * n**3 / seconds / 1e9)
    return best


def machine() -> str:
    """The machine: architecture, CPU model and its widest vector and matrix
    units (what decides the ceiling and whether bfloat16 helps), cores, OS."""
    model, units = platform.processor() or platform.machine(), []
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        info = ""
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            model = value.strip()
        elif key.strip() == "flags":
            flags = set(value.split())
            units = [u for u in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if u in flags]
            break
    described = f"{platform.machine()} ({model}" + (f"; {', '.join(units)}" if units else "")
    return f"{described}), {os.cpu_count()} CPU cores, {platform.system()}"


class _EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every epoch of one ``fit``."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def warm_up(model: keras.Model, x: Any, y: Any = None, **fit_kwargs: Any) -> None:
    """Train ``model`` for one epoch, so that tracing and compilation are behind
    it and timed epochs see its steady speed."""
    model.fit(x, y, epochs=1, verbose=0, **fit_kwargs)


def alternating_rounds(
    models: tuple[keras.Model, ...],
    x: Any,
    batch_size: int,
    repeats: int,
    y: Any = None,
    reference: Any = None,
) -> list[list[float]]:
    """Training samples/s of each model in each of ``repeats`` rounds.

    Each model is warmed up first (:func:`warm_up`); then every round trains
    each model for one epoch in turn, so a shared machine's changing load hits
    them alike. The targets are ``y``, or ``x`` itself (an autoencoder's).
    ``reference``, a function that runs once and returns its own samples/s,
    runs at the end of every round; its rates come after the models'.
    """
    y = x if y is None else y
    for model in models:
        warm_up(model, x, y, batch_size=batch_size)
    timers = [_EpochTimer() for _ in models]
    reference_rates = []
    for _ in range(repeats):
        for model, timer in zip(models, timers, strict=True):
            model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0, callbacks=[timer])
        if reference is not None:
            reference_rates.append(reference())
    rates = [[len(x) / seconds for seconds in timer.seconds] for timer in timers]
    return rates + ([reference_rates] if reference is not None else [])


def paired_rates(
    models: tuple[keras.Model, keras.Model],
    x: Any,
    batch_size: int,
    repeats: int,
    y: Any = None,
) -> tuple[float, float, float]:
    """Training samples/s of two models in alternating rounds
    (:func:`alternating_rounds`), and the ratio of the first to the second:
    the rates are the medians of each model's epochs, the ratio the median of
    the rounds' ratios."""
    first, second = alternating_rounds(models, x, batch_size, repeats, y)
    return statistics.median(first), statistics.median(second), _median_ratio(first, second)


def inference_rates(model: keras.Model, x: np.ndarray, repeats: int) -> tuple[float, float]:
    """(SavedModel ``serve`` samples/s, ``model.predict`` samples/s), batches of 256."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as tmp:
        loaded = tf.saved_model.load(str(keras_ae.export_saved_model(model, Path(tmp) / "sm")))
        batches = [tf.constant(x[i : i + 256]) for i in range(0, len(x), 256)]

        def serve() -> None:
            for batch in batches:
                loaded.serve(batch)

        def predict() -> None:
            model.predict(x, batch_size=256, verbose=0)

        rates = []
        for fn in (serve, predict):
            fn()
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
            rates.append(len(x) / statistics.median(times))
    return rates[0], rates[1]


#: ``keras.Model.compile``'s own ``jit_compile`` and ``steps_per_execution``.
KERAS_COMPILE_DEFAULTS = {"jit_compile": "auto", "steps_per_execution": 1}


def plain_compiled(model: keras.Model) -> keras.Model:
    """``model`` (a fresh copy of the architecture) compiled the way a user would
    by hand, with Keras's own defaults (keras_ae's ``compile`` would otherwise
    add its speed settings)."""
    model.compile("adam", loss=model.loss, metrics=None, **KERAS_COMPILE_DEFAULTS)
    return model


def kind_models(name: str, x: np.ndarray) -> tuple[keras.Model, keras.Model]:
    """The model a kind trains with ``fit``, twice: built and compiled with
    keras_ae's defaults, and the same architecture compiled plainly
    (:func:`plain_compiled`). For the stacked kind that is the classifier on a
    784-200-200 encoder of one epoch of greedy pretraining (pretrained once; the
    plain model starts from a copy of its weights); for the anomaly kind the
    detector's default autoencoder; for every other kind its builder with its
    tutorial settings."""
    if name == "stacked":
        from keras_ae import stacked

        encoder = stacked.pretrain_stacked_autoencoder(x, (200, 200), epochs=1, batch_size=256)
        copy = keras.models.clone_model(encoder)
        copy.set_weights(encoder.get_weights())
        return (
            stacked.build_stacked_classifier(encoder, num_classes=10),
            plain_compiled(stacked.build_stacked_classifier(copy, num_classes=10)),
        )
    if name == "anomaly":
        from keras_ae import anomaly

        make = anomaly.default_model
    else:
        make = KINDS[name].make
    return make(x.shape[1:]), plain_compiled(make(x.shape[1:]))


def bench_kinds(
    data: tuple[np.ndarray, np.ndarray], names: list[str], repeats: int, min_rows: int | None = None
) -> list[dict]:
    """One row per kind: training samples/s against plain Keras, GFLOP/s, serve
    and predict samples/s, peak memory. With ``min_rows``, each kind trains on
    its first ``max(min_rows, steps_per_execution * batch_size)`` rows (at most
    all of them): an epoch of at least one whole block of ``steps_per_execution``
    steps, without long epochs for the slow kinds (``--quick``).
    ``fraction_of_matmul_peak`` is filled in by :func:`apply_ceiling`."""
    x_all, labels_all = data
    rows = []
    for name in names:
        started = time.perf_counter()
        kind = KINDS[name]
        keras.utils.set_random_seed(0)
        fast, plain = kind_models(name, x_all)
        batch = kind.batch_size
        n = epoch_rows(len(x_all), min_rows, int(fast.steps_per_execution or 1) * batch)
        x, labels = x_all[:n], labels_all[:n]
        y = labels if name == "stacked" else None
        fast_rate, plain_rate, speedup = paired_rates((fast, plain), x, batch, repeats, y)
        flops = training_flops(fast)
        serve_rate, predict_rate = inference_rates(fast, x, repeats)
        row = {
            "kind": name,
            "batch_size": batch,
            "samples": n,
            "compile": {k: getattr(fast, k) for k in ("jit_compile", "steps_per_execution")},
            "train_samples_per_s": round(fast_rate),
            "plain_keras_samples_per_s": round(plain_rate),
            "speedup_vs_plain": round(speedup, 2),
            "train_gflops": round(flops * fast_rate / 1e9, 2),
            "serve_samples_per_s": round(serve_rate),
            "predict_samples_per_s": round(predict_rate),
            "peak_rss_mb": round(peak_rss_mb()),
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
        keras.backend.clear_session()
    return rows


def epoch_rows(available: int, min_rows: int | None, block_rows: int) -> int:
    """Rows to train on: all ``available`` without ``min_rows``; else at least
    ``min_rows`` and one block of steps (``block_rows``), at most ``available``."""
    return available if min_rows is None else min(available, max(min_rows, block_rows))


def apply_ceiling(results: dict) -> float:
    """Set the run's matmul ceiling to the best of all its ceiling measurements
    (the first one, at the start of the run, can read low while the CPU is
    still cold) and each kind's ``fraction_of_matmul_peak`` against it."""
    readings = [results["matmul_gflops"]]
    deep = results.get("deep_dense")
    if deep:
        readings += [deep["matmul_gflops"]] + [r["best_matmul_gflops"] for r in deep["batches"]]
    ceiling = max(readings)
    results["matmul_gflops"] = round(ceiling, 1)
    for row in results["kinds"]:
        row["fraction_of_matmul_peak"] = round(row["train_gflops"] / ceiling, 3)
    return ceiling


def shape_matmul_rate(widths: list[int], batch: int, repeats: int) -> float:
    """GFLOP/s of float32 ``tf.matmul`` at the shapes of one training step of a dense
    network with layer ``widths`` (forward, input gradients, weight gradients),
    each shape timed as 8 distinct products in one graph: the matmul rate this
    CPU reaches on the model's own products, time-weighted."""
    import tensorflow as tf

    shapes = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        shapes += [(batch, a, b), (a, batch, b)] + ([(batch, b, a)] if i else [])
    flops = seconds = 0.0
    for m, k, n in shapes:
        lhs = tf.random.normal((8, m, k))
        rhs = tf.random.normal((k, n)) / np.sqrt(k)

        @tf.function
        def products(lhs, rhs=rhs):
            return tf.add_n([tf.reduce_sum(tf.matmul(lhs[i], rhs)) for i in range(8)])

        products(lhs).numpy()
        best = min(_seconds(lambda lhs=lhs, f=products: f(lhs).numpy()) for _ in range(repeats))
        flops += 8 * 2 * m * k * n
        seconds += best
    return flops / seconds / 1e9


def _seconds(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def hand_written_loop(widths: list[int], batch: int, x: np.ndarray) -> Any:
    """The same dense autoencoder trained directly in TensorFlow: ReLU layers,
    sigmoid cross-entropy on logits, Adam (without bias correction), 16 steps
    per call in one XLA-compiled ``while`` loop, on batches already in memory.
    No Keras and no input pipeline: what the runtime itself reaches on this
    model and this CPU. (The loop trains as fast as 16 unrolled steps, 1.03×
    at batch 256 and 1.01× at 1024 in paired calls, and compiles in 2 s where
    the unrolled steps took 12-15 s.)

    Returns a function that runs one call (16 steps, compiled beforehand) and
    returns its training samples/s.
    """
    import tensorflow as tf

    dims = widths + widths[-2::-1]
    weights = []
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        weights += [tf.Variable(tf.random.normal((a, b)) / np.sqrt(a)), tf.Variable(tf.zeros(b))]
    moments = [(tf.Variable(tf.zeros_like(w)), tf.Variable(tf.zeros_like(w))) for w in weights]
    code_layer = len(widths) - 2

    def step(xb: Any) -> Any:
        with tf.GradientTape() as tape:
            h = xb
            for i in range(len(weights) // 2):
                h = h @ weights[2 * i] + weights[2 * i + 1]
                if i not in (code_layer, len(weights) // 2 - 1):
                    h = tf.nn.relu(h)
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=xb, logits=h))
        for w, g, (m, v) in zip(weights, tape.gradient(loss, weights), moments, strict=True):
            m.assign(0.9 * m + 0.1 * g)
            v.assign(0.999 * v + 0.001 * g * g)
            w.assign_sub(1e-3 * m / (tf.sqrt(v) + 1e-7))
        return loss

    @tf.function(jit_compile=True)
    def sixteen_steps(batches: Any) -> Any:
        def body(i: Any, total: Any) -> tuple[Any, Any]:
            return i + 1, total + step(batches[i])

        return tf.while_loop(lambda i, _: i < 16, body, (tf.constant(0), tf.constant(0.0)))[1]

    flat = np.resize(x.reshape(len(x), -1), (16 * batch, dims[0]))
    batches = tf.constant(flat.reshape(16, batch, -1))
    sixteen_steps(batches).numpy()
    return lambda: 16 * batch / _seconds(lambda: sixteen_steps(batches).numpy())


DEEP_WIDTHS = [784, 512, 256, 64]
DEEP_BATCHES = (256, 1024)
#: The largest matrices of each round's ceiling in :func:`bench_deep_dense`:
#: 4096 adds nothing that 2048 does not reach and takes seconds per chain on
#: an AVX2 CPU.
ROUND_CEILING_MAX_SIZE = 2048


def bench_deep_dense(x: np.ndarray, repeats: int, sizes: tuple[int, ...]) -> dict:
    """The 784-512-256-64 dense autoencoder against the matmul ceiling, at each of
    :data:`DEEP_BATCHES`.

    Each round times one matmul-ceiling measurement (:func:`matmul_ceiling`
    at ``sizes`` up to :data:`ROUND_CEILING_MAX_SIZE`), one training epoch
    and one call of the same model hand-written in TensorFlow
    (:func:`hand_written_loop`, same batch size), back to back, so a shared
    machine's drifting speed hits all three alike; each fraction of the peak
    is the median of the rounds' fractions. ``sizes`` are those of the run's
    own ceiling, returned as ``matmul_gflops``. A further reference says what
    this CPU does on the model's products alone: the matmul rate at the
    model's own shapes, at batch 256.
    """
    flops = None
    rows = []
    for batch in DEEP_BATCHES:
        model = deep_dense_autoencoder()
        flops = training_flops(model)
        timer = _EpochTimer()
        warm_up(model, x, batch_size=batch)
        hand = hand_written_loop(DEEP_WIDTHS, batch, x)
        ceilings, fractions, hand_rates, hand_fractions = [], [], [], []
        round_sizes = tuple(n for n in sizes if n <= ROUND_CEILING_MAX_SIZE) or sizes[:1]
        for _ in range(repeats):
            ceilings.append(matmul_ceiling(round_sizes, 2))
            model.fit(x, epochs=1, batch_size=batch, verbose=0, callbacks=[timer])
            hand_rates.append(hand())
            fractions.append(flops * len(x) / timer.seconds[-1] / 1e9 / ceilings[-1])
            hand_fractions.append(flops * hand_rates[-1] / 1e9 / ceilings[-1])
        rate = len(x) / statistics.median(timer.seconds)
        ratios = [a / b for a, b in zip(fractions, hand_fractions, strict=True)]
        rows.append({
            "batch_size": batch,
            "train_samples_per_s": round(rate),
            "train_gflops": round(flops * rate / 1e9, 1),
            "matmul_gflops": round(statistics.median(ceilings), 1),
            "best_matmul_gflops": round(max(ceilings), 1),
            "fraction_of_matmul_peak": round(statistics.median(fractions), 3),
            "hand_written_tf_samples_per_s": round(statistics.median(hand_rates)),
            "hand_written_tf_fraction_of_peak": round(statistics.median(hand_fractions), 3),
            "ratio_to_hand_written": round(statistics.median(ratios), 3),
        })  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
        keras.backend.clear_session()
    ceiling = matmul_ceiling(sizes, repeats)
    shapes = shape_matmul_rate(DEEP_WIDTHS, 256, repeats)
    return {
        "model": "dense " + "-".join(map(str, DEEP_WIDTHS)),
        "batches": rows,
        "matmul_gflops": round(ceiling, 1),
        "shape_matmul_gflops": round(shapes, 1),
    }


#: Dense kinds timed against their trunk hand-written in TensorFlow
#: (:func:`bench_hand_written_kinds`): kind -> the trunk's widths, input to code.
#: vae16's two heads of 16 count as one code layer of 32.
HAND_WRITTEN_TRUNKS = {"dense": [784, 256, 128, 32], "vae16": [784, 512, 256, 32]}


def bench_hand_written_kinds(x: np.ndarray, names: list[str], repeats: int) -> list[dict]:
    """keras_ae's model, the same architecture compiled plainly and its trunk
    hand-written in TensorFlow (:func:`hand_written_loop`, at the kind's batch
    size), for each kind of :data:`HAND_WRITTEN_TRUNKS`, in alternating rounds.

    The hand-written loop's speed over plain Keras is about the most any
    implementation of the model reaches on this CPU: how far a kind's ratio
    to plain Keras can go. (vae16's loop has no sampling and no KL term.)
    Each ratio is the median of the rounds'."""
    rows = []
    for name in names:
        batch = KINDS[name].batch_size
        keras.utils.set_random_seed(0)
        hand = hand_written_loop(HAND_WRITTEN_TRUNKS[name], batch, x)
        fast, plain, hand_rates = alternating_rounds(
            kind_models(name, x), x, batch, repeats, reference=hand
        )
        rows.append({
            "kind": name,
            "batch_size": batch,
            "trunk": "-".join(map(str, HAND_WRITTEN_TRUNKS[name])),
            "train_samples_per_s": round(statistics.median(fast)),
            "plain_keras_samples_per_s": round(statistics.median(plain)),
            "hand_written_tf_samples_per_s": round(statistics.median(hand_rates)),
            "speedup_vs_plain": round(_median_ratio(fast, plain), 2),
            "hand_written_vs_plain": round(_median_ratio(hand_rates, plain), 2),
            "ratio_to_hand_written": round(_median_ratio(fast, hand_rates), 3),
        })  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
        keras.backend.clear_session()
    return rows


def _median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """The median of the rounds' ratios."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


#: Dense configurations beyond the kinds' defaults, each against the same model
#: compiled plainly: (builder, batch size, target ratio). The shallow model is
#: where Keras's per-step overhead weighs most, and is held to the small dense
#: kinds' 2x. The dense denoising models draw a random number for every pixel
#: of every step inside keras_ae's XLA blocks, work that plain Keras does in the
#: same amount with TensorFlow's own kernels; they are held to the 1x every
#: model is held to.
DENSE_CONFIGURATIONS = {
    "dense 784-32-784, batch 256": (
        lambda: keras_ae.build_dense_autoencoder(hidden_units=(), latent_dim=32),
        256,
        1.0,  # 2.0 while dense trunks compiled with XLA (docs/benchmarks.md, "Ablation")
    ),
    "dense denoising, Gaussian noise 0.4, batch 128": (
        lambda: keras_ae.build_denoising_autoencoder(architecture="dense", seed=0),
        128,
        1.0,
    ),
    "dense denoising, masking 0.3, batch 128": (
        lambda: keras_ae.build_denoising_autoencoder(
            architecture="dense", noise="masking", noise_level=0.3, seed=0
        ),
        128,
        1.0,
    ),
}


def bench_dense_configurations(
    x: np.ndarray, names: list[str], repeats: int, min_rows: int | None
) -> list[dict]:
    """Each named one of :data:`DENSE_CONFIGURATIONS`, keras_ae's defaults against
    plain Keras (with ``min_rows``, on at least one block of steps, as in
    :func:`bench_kinds`)."""
    rows = []
    for name in names:
        make, batch, target = DENSE_CONFIGURATIONS[name]
        keras.utils.set_random_seed(0)
        fast, plain = make(), plain_compiled(make())
        n = epoch_rows(len(x), min_rows, int(fast.steps_per_execution or 1) * batch)
        fast_rate, plain_rate, ratio = paired_rates((fast, plain), x[:n], batch, repeats)
        row = {
            "model": name,
            "samples": n,
            "train_samples_per_s": round(fast_rate),
            "plain_keras_samples_per_s": round(plain_rate),
            "speedup_vs_plain": round(ratio, 2),
            "target": target,
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
        keras.backend.clear_session()
    return rows


def bench_scaling(sizes: list[int], repeats: int) -> list[dict]:
    """Seconds per epoch and peak memory of a dense AE on synthetic MNIST-sized data."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"x{n}.npy"
            data = np.lib.format.open_memmap(path, mode="w+", dtype="uint8", shape=(n, 28, 28, 1))
            rng = np.random.default_rng(0)
            for start in range(0, n, 100_000):
                stop = min(n, start + 100_000)
                data[start:stop] = rng.integers(0, 256, (stop - start, 28, 28, 1), dtype="uint8")
            data.flush()
            del data
            model = keras_ae.build_dense_autoencoder()
            source = stream_source(path, 256)
            warm_up(model, source)  # whole epochs: the last batch's shape compiles too
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                model.fit(source, epochs=1, verbose=0)
                times.append(time.perf_counter() - start)
            seconds = statistics.median(times)
            rows.append({
                "samples": n,
                "seconds_per_epoch": round(seconds, 2),
                "microseconds_per_sample": round(seconds / n * 1e6, 2),
                "peak_rss_mb": round(peak_rss_mb()),
                "anon_rss_mb": round(anon_rss_mb() or 0),
                "streamed_from": "npy memmap",
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
            keras.backend.clear_session()
    return rows


def deep_dense_autoencoder() -> keras.Model:
    """The :data:`DEEP_WIDTHS` dense autoencoder with keras_ae's defaults."""
    return keras_ae.build_dense_autoencoder(
        hidden_units=tuple(DEEP_WIDTHS[1:-1]), latent_dim=DEEP_WIDTHS[-1]
    )


#: Mixed-precision cases: (label, builder, batch size, compile arguments for the
#: ``mixed_bfloat16`` model, or None for keras_ae's defaults). On a CPU with
#: bfloat16 matrix units the deep model at a large batch trains faster in
#: bfloat16 without XLA (TensorFlow's own kernels use those units; XLA's CPU
#: code does not), so that case recompiles it without XLA.
MIXED_CASES = {
    "dense": ("dense", KINDS["dense"].make, KINDS["dense"].batch_size, None),
    "conv": ("conv", KINDS["conv"].make, KINDS["conv"].batch_size, None),
    "deep": (
        "dense " + "-".join(map(str, DEEP_WIDTHS)) + ", no XLA in bfloat16",
        lambda shape: deep_dense_autoencoder(),
        1024,
        {"jit_compile": False, "steps_per_execution": 32},
    ),
}


def bench_mixed_precision(
    data: tuple[np.ndarray, np.ndarray], names: list[str], epochs: int, repeats: int
) -> list[dict]:
    """float32 against ``mixed_bfloat16`` per case of :data:`MIXED_CASES`:
    training samples/s (alternating epochs, :func:`paired_rates`), and test
    reconstruction MSE after the same number of epochs from the same seed (at
    least ``epochs``, counting the warm-up's; ``"epochs"`` records how many ran)."""
    x, x_test = data
    rows = []
    for name in names:
        label, make, batch_size, mixed_compile = MIXED_CASES[name]
        models = {}
        for policy in ("mixed_bfloat16", "float32"):
            keras.config.set_dtype_policy(policy)
            try:
                keras.utils.set_random_seed(0)
                models[policy] = make(x.shape[1:])
            finally:
                keras.config.set_dtype_policy("float32")
        if mixed_compile:
            model = models["mixed_bfloat16"]
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=model.loss, **mixed_compile)
        mixed_rate, float_rate, ratio = paired_rates(
            (models["mixed_bfloat16"], models["float32"]), x, batch_size, repeats
        )
        per_epoch = -(-len(x) // batch_size)
        done = {p: int(m.optimizer.iterations.numpy()) // per_epoch for p, m in models.items()}
        total = max(epochs, *done.values())
        result = {"kind": label, "batch_size": batch_size, "epochs": total}
        result["speed_ratio"] = round(ratio, 2)
        for policy, rate in (("float32", float_rate), ("mixed_bfloat16", mixed_rate)):
            model = models[policy]
            model.fit(x, x, epochs=total - done[policy], batch_size=batch_size, verbose=0)
            mse = keras_ae.metrics.reconstruction_mse(model, x_test)
            result[policy] = {"train_samples_per_s": round(rate), "test_mse": round(mse, 5)}
        result["mse_ratio"] = round(
            result["mixed_bfloat16"]["test_mse"] / result["float32"]["test_mse"], 3
        )
        print(json.dumps(result), flush=True)
        rows.append(result)
        keras.backend.clear_session()
    return rows


_IMPORT_SCRIPT = (
    "import sys, time; t0 = time.perf_counter(); import keras; t1 = time.perf_counter(); "
    "import keras_ae; t2 = time.perf_counter(); "
    "print(t1 - t0, t2 - t1, 'keras_ae.plotting' in sys.modules)"
)


def import_overhead(repeats: int) -> dict:
    """Seconds ``import keras_ae`` adds after ``import keras``, each in a fresh process."""
    import subprocess
    import sys

    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT_SCRIPT], capture_output=True, text=True, check=True
        ).stdout.split()
        runs.append((float(out[0]), float(out[1]), out[2] == "True"))
    return {
        "import_keras_s": round(statistics.median(r[0] for r in runs), 3),
        "import_keras_ae_extra_s": round(statistics.median(r[1] for r in runs), 3),
        "imports_plotting": any(r[2] for r in runs),
    }


def stream_source(path: Path, batch_size: int):  # noqa: ANN201 - a Keras data source
    """``keras_ae.datasets.from_array_file`` over a uint8 ``.npy`` file."""
    return keras_ae.datasets.from_array_file(path, batch_size=batch_size)


SMALL_DENSE = ("dense", "sparse", "tied", "vae16", "stacked", "anomaly")


def targets(results: dict) -> list[str]:
    """The performance targets, each with its measured ratio and met / missed."""

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    rows = results["kinds"]
    tuned = [r for r in rows if r["compile"] != {"jit_compile": False, "steps_per_execution": 1}]
    same = [r for r in rows if r not in tuned]
    worst = min(tuned or rows, key=lambda r: r["speedup_vs_plain"])
    out = [
        f"every kind >= 1.0x plain Keras: lowest {worst['speedup_vs_plain']:.2f}x "
        f"({worst['kind']}) among kinds with speed settings - "
        f"{verdict(worst['speedup_vs_plain'] >= 1.0)}"
    ]
    if same:
        spread = ", ".join(f"{r['kind']} {r['speedup_vs_plain']:.2f}x" for r in same)
        out.append(
            f"kinds compiled exactly as plain Keras (ratios = the machine's noise): {spread}"
        )
    small = [r for r in tuned if r["kind"] in SMALL_DENSE]  # the 2x needs speed settings
    if small:
        low = min(small, key=lambda r: r["speedup_vs_plain"])
        line = (
            f"small dense kinds >= 2x: lowest {low['speedup_vs_plain']:.2f}x ({low['kind']}) - "
            f"{verdict(low['speedup_vs_plain'] >= 2.0)}"
        )
        bound = {r["kind"]: r for r in results.get("hand_written_kinds") or []}.get(low["kind"])
        if bound:
            line += (
                f" (its trunk hand-written in TensorFlow: {bound['hand_written_vs_plain']:.2f}x "
                f"plain Keras; keras_ae {bound['speedup_vs_plain']:.2f}x in the same rounds, "
                f"{bound['ratio_to_hand_written']:.2f} of the hand-written speed)"
            )
        out.append(line)
    for row in results.get("dense_configurations") or []:
        target = row["target"]
        out.append(
            f"{row['model']} >= {target:.0f}x: {row['speedup_vs_plain']:.2f}x - "
            f"{verdict(row['speedup_vs_plain'] >= target)}"
        )
    deep = results.get("deep_dense")
    if deep:
        for row in deep["batches"]:
            share = row["fraction_of_matmul_peak"]
            out.append(
                f"deep dense AE ({deep['model']}, batch {row['batch_size']}) >= 70% of the "
                f"matmul peak: {100 * share:.0f}% - {verdict(share >= 0.7)} (the hand-written "
                f"TensorFlow loop: {100 * row['hand_written_tf_fraction_of_peak']:.0f}%; "
                f"keras_ae reaches {row['ratio_to_hand_written']:.2f}x its fraction)"
            )
        out.append(
            f"(at batch 256, `tf.matmul` alone at the model's own shapes reaches "
            f"{100 * deep['shape_matmul_gflops'] / deep['matmul_gflops']:.0f}% of the peak)"
        )
    return out


def markdown(results: dict) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {results['date']} on {results['machine']}, TensorFlow {results['tensorflow']},"
        f" Keras {results['keras']}; `python benchmarks/run.py{results['flags']}`. "
        "All ratios come from one run; the machine is shared, so absolute figures vary.",
        "",
        "float32 matmul ceiling (chains of `tf.matmul`): "
        f"**{results['matmul_gflops']:.0f} GFLOP/s**.",
        "",
        "| kind | batch | keras_ae samples/s | plain Keras samples/s | ratio | GFLOP/s | "
        "% of peak | serve samples/s | predict samples/s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["kinds"]:
        lines.append(
            f"| {r['kind']} | {r['batch_size']} | {r['train_samples_per_s']:,} | "
            f"{r['plain_keras_samples_per_s']:,} | {r['speedup_vs_plain']:.2f}× | "
            f"{r['train_gflops']} | {100 * r['fraction_of_matmul_peak']:.1f}% | "
            f"{r['serve_samples_per_s']:,} | {r['predict_samples_per_s']:,} | {r['peak_rss_mb']} |"
        )
    counts = sorted({r.get("samples") for r in results["kinds"]} - {None})
    if len(counts) > 1:
        lines += [
            "",
            "Training rows per kind: "
            + ", ".join(f"{r['kind']} {r['samples']:,}" for r in results["kinds"])
            + " (at least one block of `steps_per_execution` steps an epoch).",
        ]
    lines += ["", "## Targets", ""] + [f"- {t}" for t in targets(results)]
    bounds = results.get("hand_written_kinds")
    if bounds:
        lines += [
            "",
            "## Dense kinds against their trunk hand-written in TensorFlow",
            "",
            "keras_ae's model, the same architecture compiled plainly, and its trunk written "
            "directly in TensorFlow (as in the deep dense AE's rounds below, at the kind's "
            "batch), in alternating rounds; ratios are medians of the rounds'. The "
            "hand-written loop's ratio to plain Keras is about as far as any implementation "
            "of the model goes on this CPU.",
            "",
            "| kind | trunk | batch | keras_ae samples/s | plain Keras samples/s | "
            "hand-written TF samples/s | keras_ae / plain | hand-written / plain | "
            "keras_ae / hand-written |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in bounds:
            lines.append(
                f"| {r['kind']} | {r['trunk']} | {r['batch_size']} | "
                f"{r['train_samples_per_s']:,} | {r['plain_keras_samples_per_s']:,} | "
                f"{r['hand_written_tf_samples_per_s']:,} | {r['speedup_vs_plain']:.2f}× | "
                f"{r['hand_written_vs_plain']:.2f}× | {r['ratio_to_hand_written']:.2f} |"
            )
    mixed = results.get("mixed_precision")
    if mixed:
        lines += [
            "",
            '## Mixed precision (`keras.config.set_dtype_policy("mixed_bfloat16")`)',
            "",
            "| model | batch | float32 samples/s | mixed_bfloat16 samples/s | speed ratio | "
            "epochs | test MSE float32 | test MSE bfloat16 | MSE ratio |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in mixed:
            f32, b16 = r["float32"], r["mixed_bfloat16"]
            lines.append(
                f"| {r['kind']} | {r['batch_size']} | {f32['train_samples_per_s']:,} | "
                f"{b16['train_samples_per_s']:,} | {r['speed_ratio']:.2f}× | {r['epochs']} | "
                f"{f32['test_mse']} | {b16['test_mse']} | {r['mse_ratio']:.3f} |"
            )
    imports = results.get("imports")
    if imports:
        lines += [
            "",
            f"`import keras` takes {imports['import_keras_s']} s; `import keras_ae` adds "
            f"{imports['import_keras_ae_extra_s']} s (median of fresh processes; its plotting "
            f"module {'is' if imports['imports_plotting'] else 'is not'} loaded until used).",
        ]
    configurations = results.get("dense_configurations")
    if configurations:
        lines += [
            "",
            "## Other dense configurations",
            "",
            "| model | keras_ae samples/s | plain Keras samples/s | ratio |",
            "|---|---|---|---|",
        ] + [
            f"| {r['model']} | {r['train_samples_per_s']:,} | "
            f"{r['plain_keras_samples_per_s']:,} | {r['speedup_vs_plain']:.2f}× |"
            for r in configurations
        ]
    deep = results.get("deep_dense")
    if deep:
        lines += [
            "",
            f"## Deep dense AE ({deep['model']}) against the matmul ceiling",
            "",
            "Each round times a matmul-ceiling measurement, a training epoch and a call of the "
            "same model written directly in TensorFlow (XLA, Adam, 16 steps per call in a "
            "`while` loop on batches already in memory, no Keras, no input pipeline), back "
            "to back; each fraction is the median of the rounds'.",
            "",
            "| batch | samples/s | GFLOP/s | ceiling GFLOP/s | % of peak "
            "| hand-written TF samples/s | hand-written % of peak | keras_ae / hand-written |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in deep["batches"]:
            lines.append(
                f"| {r['batch_size']} | {r['train_samples_per_s']:,} | {r['train_gflops']} | "
                f"{r['matmul_gflops']:.0f} | {100 * r['fraction_of_matmul_peak']:.0f}% | "
                f"{r['hand_written_tf_samples_per_s']:,} | "
                f"{100 * r['hand_written_tf_fraction_of_peak']:.0f}% | "
                f"{r['ratio_to_hand_written']:.2f} |"
            )
        lines += [
            "",
            f"Reference at batch 256 (ceiling {deep['matmul_gflops']:.0f} GFLOP/s): "
            f"`tf.matmul` at the model's own shapes (256 by 784 by 512 and smaller) runs at "
            f"{deep['shape_matmul_gflops']} GFLOP/s = "
            f"{100 * deep['shape_matmul_gflops'] / deep['matmul_gflops']:.0f}% of the ceiling.",
        ]
    if results.get("scaling"):
        lines += [
            "",
            "## Scaling (dense AE, streamed from a .npy memmap)",
            "",
            "Peak RSS counts the memory map's file pages, which the kernel can drop; "
            "anonymous RSS (the process's own memory, after the epoch) does not.",
            "",
            "| samples | s/epoch | µs/sample | peak RSS MB | anonymous RSS MB |",
            "|---|---|---|---|---|",
        ]
        for r in results["scaling"]:
            lines.append(
                f"| {r['samples']:,} | {r['seconds_per_epoch']} | "
                f"{r['microseconds_per_sample']} | {r['peak_rss_mb']} | "
                f"{r.get('anon_rss_mb', '')} |"
            )
    seconds = results.get("seconds")
    if seconds:
        parts = ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items() if k != "total")
        lines += ["", f"The run took {seconds['total']:.0f} s ({parts})."]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ ablation

#: The kinds ``--ablation`` measures: those the command line trains on a dense trunk.
ABLATION_KINDS = ("dense", "tied", "sparse", "contractive", "vae16")
#: The ablation's variants: Keras's compile defaults, and the speed flags
#: ``jit_compile=True, steps_per_execution=32``. Two more mechanisms, batches
#: read by row inside the train step and blocks of 32 steps run as one XLA
#: computation, were measured here and removed, and the flags left the dense
#: trunks' defaults, for gaining less than 1.15x at the kinds' real run
#: lengths (docs/benchmarks.md, "Ablation").
ABLATION_VARIANTS = ("plain", "flags")
#: the section of the figures file (``--figures``) the ablation records
ABLATION_SECTION = "benchmarks_ablation"


def ablation_model(name: str, variant: str, shape: tuple[int, ...]) -> keras.Model:
    """Kind ``name``'s model, recompiled with its own optimizer settings and loss
    (no metrics): with Keras's compile defaults (``"plain"``) or with the dense
    trunk's speed flags (the others)."""
    keras.utils.set_random_seed(0)
    model = KINDS[name].make(shape)
    optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
    flags = {"jit_compile": True, "steps_per_execution": 32}
    flags = KERAS_COMPILE_DEFAULTS if variant == "plain" else flags
    model.compile(optimizer=optimizer, loss=model.loss, metrics=None, **flags)
    return model


def timed_fit(model: keras.Model, x: np.ndarray, epochs: int, batch_size: int) -> tuple:
    """(wall seconds, CPU seconds of the process) of ``model.fit(x, x)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(x, x, epochs=epochs, batch_size=batch_size, verbose=0)
    return time.perf_counter() - wall, time.process_time() - cpu


def fresh_process_fit(name: str, variant: str, epochs: int, rows: int) -> tuple[float, float]:
    """:func:`timed_fit` of a fresh ``variant`` model of kind ``name`` for
    ``epochs`` on the first ``rows`` embedded digits, in a Python process of its
    own (as ``keras-ae train`` runs one model per process, so each run pays its
    process's first XLA compilation): (wall seconds, CPU seconds)."""
    command = [sys.executable, __file__, "--ablation-fit", name, variant]
    command += ["--epochs", str(epochs), "--rows", str(rows)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stderr[-3000:]}")
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    if run["samples"] != rows:
        raise RuntimeError(f"{' '.join(command)} trained on {run['samples']} rows, not {rows}")
    return run["wall"], run["cpu"]


def ablation_stats(times: dict[str, list[tuple[float, float]]]) -> dict[str, dict]:
    """Per variant: median wall and CPU seconds, and the medians of the rounds'
    ratios of the plain variant's time to its own (wall and CPU)."""
    plain = times["plain"]
    out = {}
    for variant, own in times.items():
        wall = [p[0] / t[0] for p, t in zip(plain, own, strict=True)]
        cpu = [p[1] / t[1] for p, t in zip(plain, own, strict=True)]
        out[variant] = {
            "seconds": round(statistics.median(t[0] for t in own), 3),
            "cpu_seconds": round(statistics.median(t[1] for t in own), 3),
            "ratio": round(statistics.median(wall), 2),
            "cpu_ratio": round(statistics.median(cpu), 2),
        }
    return out


def bench_ablation(
    x: np.ndarray, names: list[str], rounds: int, epochs: int | None = None
) -> list[dict]:
    """The speed flags against plain Keras (:data:`ABLATION_VARIANTS`), per kind.

    Real length: each round trains a fresh model of each variant for the kind's
    own epochs (or ``epochs``) on ``x`` (the first ``len(x)`` embedded digits) at
    its batch size, each in a process of its own (:func:`fresh_process_fit`), the variants
    in a rotated order, and times the whole ``fit`` (tracing and compilation
    included). Steady state: one model per variant, warmed up (2 epochs), then
    one epoch each per round, in a rotated order. Ratios are the medians of the
    rounds' plain time over the variant's, in wall-clock and in CPU time."""
    results = []
    for name in names:
        kind = KINDS[name]
        n_epochs, batch = epochs or kind.epochs, kind.batch_size
        real: dict[str, list] = {v: [] for v in ABLATION_VARIANTS}
        steady: dict[str, list] = {v: [] for v in ABLATION_VARIANTS}
        for r in range(rounds):
            for variant in _rotated(ABLATION_VARIANTS, r):
                real[variant].append(fresh_process_fit(name, variant, n_epochs, len(x)))
        models = {}
        for variant in ABLATION_VARIANTS:
            models[variant] = ablation_model(name, variant, x.shape[1:])
            timed_fit(models[variant], x, 2, batch)
        for r in range(rounds):
            for variant in _rotated(ABLATION_VARIANTS, r):
                steady[variant].append(timed_fit(models[variant], x, 1, batch))
        row = {
            "kind": name,
            "batch_size": batch,
            "epochs": n_epochs,
            "steps": n_epochs * -(-len(x) // batch),
            "samples": len(x),
            "real": ablation_stats(real),
            "steady": ablation_stats(steady),
        }
        print(json.dumps(row), flush=True)
        results.append(row)
        del models
        keras.backend.clear_session()
    return results


def _rotated(items: tuple, r: int) -> tuple:
    """``items`` starting at its ``r``-th (cyclically): round ``r``'s order."""
    r %= len(items)
    return items[r:] + items[:r]


def ablation_figures(rows: list[dict]) -> dict[str, float]:
    """``{kind}_{variant}_{real|steady}[_cpu]``: each variant's ratio to plain;
    ``{variant}_{real|steady}[_cpu]_{min|max}``: their range over the kinds."""
    values = {}
    for row in rows:
        for variant in list(row["real"])[1:]:
            for length in ("real", "steady"):
                stats = row[length][variant]
                values[f"{row['kind']}_{variant}_{length}"] = stats["ratio"]
                values[f"{row['kind']}_{variant}_{length}_cpu"] = stats["cpu_ratio"]
    for name in list(values):
        base = name.split("_", 1)[1]
        ratios = [v for k, v in values.items() if k.split("_", 1)[1] == base]
        values[f"{base}_min"], values[f"{base}_max"] = min(ratios), max(ratios)
    return values


def ablation_markdown(rows: list[dict], command: str) -> str:
    """The ablation table; each ratio carries its figures-file marker."""

    def quote(row: dict, variant: str, length: str, cpu: bool) -> str:
        stats = row[length][variant]
        key = f"{ABLATION_SECTION}.{row['kind']}_{variant}_{length}" + "_cpu" * cpu
        return f"{stats['cpu_ratio' if cpu else 'ratio']:.2f}×<!--fig:{key}-->"

    lines = [
        f"`{command}`: time of plain Keras over the variant's (medians of the rounds' ratios; "
        "wall-clock, then CPU time). Real length: the kind's own epochs from a fresh model "
        "in a process of its own, compilation included. Steady state: one epoch after a "
        "warm-up.",
        "",
        "| kind | real length | variant | real length, wall | real length, CPU | "
        "steady, wall | steady, CPU | real s | steady s/epoch |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        run_length = f"{row['epochs']} epochs, {row['steps']:,} steps"
        for variant in row["real"]:  # the variants measured, plain first
            real, steady = row["real"][variant], row["steady"][variant]
            if variant == "plain":
                cells = ["1.00×"] * 4
            else:
                cells = [
                    quote(row, variant, length, cpu)
                    for length in ("real", "steady")
                    for cpu in (False, True)
                ]
            lines.append(
                f"| {row['kind']} | {run_length} | {variant} | "
                + " | ".join(cells)
                + f" | {real['seconds']} | {steady['seconds']} |"
            )
    return "\n".join(lines) + "\n"


def run_ablation(args: argparse.Namespace) -> None:
    """``--ablation``: :func:`bench_ablation`, its JSON, table and figures."""
    for name in args.kinds or ():
        if name not in ABLATION_KINDS:
            raise SystemExit(f"run.py: error: --ablation measures {ABLATION_KINDS}; got {name!r}")
    (x, _), _ = keras_ae.datasets.load_mnist(source="embedded")
    x = x[: args.rows] if args.rows else x
    kinds = list(args.kinds or ABLATION_KINDS)
    started = time.perf_counter()
    rows = bench_ablation(x, kinds, args.rounds, args.epochs)
    command = "python benchmarks/run.py --ablation" + f" --rounds {args.rounds}"
    command += "".join(
        f" --{key} {value}"
        for key, value in (("epochs", args.epochs), ("rows", args.rows))
        if value
    )
    command += f" --kinds {' '.join(args.kinds)}" if args.kinds else ""
    import tensorflow as tf

    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "command": command,
        "ablation": rows,
        "seconds": round(time.perf_counter() - started, 1),
    }
    Path(args.out).write_text(json.dumps(results, indent=2))
    table = ablation_markdown(rows, command)
    if args.markdown:
        Path(args.markdown).write_text(table)
    print(table)
    if args.figures:
        path = keras_ae.report.record_figures(
            args.figures, ABLATION_SECTION, ablation_figures(rows), command=command
        )
        print(f"recorded section {ABLATION_SECTION!r} of {path}")


class _Sections:
    """Wall-clock seconds of each section of the run, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def run(self, name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 1)
            print(f"[{name}: {self.seconds[name]} s]", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="keras_ae benchmark suite")
    parser.add_argument("--quick", action="store_true", help="under 3 minutes")
    parser.add_argument("--smoke", action="store_true", help="seconds; checks the script only")
    parser.add_argument("--out", default="benchmark_results.json", help="JSON output")
    parser.add_argument("--markdown", help="also write the Markdown table here")
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), help="only these kinds")
    parser.add_argument(
        "--ablation",
        action="store_true",
        help="only the speed flags against plain Keras, per dense kind (ABLATION_VARIANTS)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="--ablation: alternating rounds")
    parser.add_argument(
        "--epochs", type=int, help="--ablation: epochs of a real-length run (default: the kind's)"
    )
    parser.add_argument(
        "--rows", type=int, help="--ablation: train on the first ROWS digits (default: all)"
    )
    parser.add_argument("--figures", metavar="FILE", help="--ablation: record its figures here")
    parser.add_argument(  # one real-length run of --ablation, in a process of its own
        "--ablation-fit", nargs=2, metavar=("KIND", "VARIANT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.ablation_fit:
        name, variant = args.ablation_fit
        (x, _), _ = keras_ae.datasets.load_mnist(source="embedded")
        x = x[: args.rows] if args.rows else x
        model = ablation_model(name, variant, x.shape[1:])
        wall, cpu = timed_fit(model, x, args.epochs or KINDS[name].epochs, KINDS[name].batch_size)
        print(json.dumps({"wall": wall, "cpu": cpu, "samples": len(x)}))
        return
    if args.ablation:
        run_ablation(args)
        return

    started = time.perf_counter()
    sections = _Sections()
    (x_train, y_train), (x_test, _) = keras_ae.datasets.load_mnist(source="embedded")
    short = args.smoke or args.quick  # fewer cases, shorter epochs
    min_rows = None  # every kind trains on all of x
    if args.smoke:
        x, repeats, sizes, kinds = x_train[:512], 1, [2048], ["dense", "stacked"]
        ceiling_sizes, ceiling_repeats = (256,), 1
    elif args.quick:
        x, repeats, sizes, kinds = x_train, 2, [], list(KINDS)  # scaling: the full run
        ceiling_sizes, ceiling_repeats, min_rows = (1024,), 2, 1024
    else:
        x, repeats, sizes, kinds = x_train, 5, [10_000, 100_000, 1_000_000], list(KINDS)
        ceiling_sizes, ceiling_repeats = (1024, 2048, 4096), 3
    ceiling = sections.run("ceiling", matmul_ceiling, ceiling_sizes, ceiling_repeats)
    kinds = args.kinds or kinds
    print(f"matmul ceiling: {ceiling:.1f} GFLOP/s", flush=True)
    import tensorflow as tf

    flags = "".join(f" --{f}" for f in ("quick", "smoke") if getattr(args, f))
    results = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "flags": flags,
        "matmul_gflops": round(ceiling, 1),
        "kinds": sections.run(
            "kinds", bench_kinds, (x, y_train[: len(x)]), kinds, repeats, min_rows
        ),
        "deep_dense": None
        if args.smoke
        else sections.run("deep_dense", bench_deep_dense, x, repeats, sizes=ceiling_sizes),
        "dense_configurations": None
        if args.smoke
        else sections.run(
            "dense_configurations",
            bench_dense_configurations,
            x,
            # --quick: the shallow model only, to stay under 3 minutes
            list(DENSE_CONFIGURATIONS)[: 1 if args.quick else None],
            repeats,
            min_rows,
        ),
        "hand_written_kinds": None
        if args.quick
        else sections.run(
            "hand_written_kinds",
            bench_hand_written_kinds,
            x,
            ["dense"] if args.smoke else list(HAND_WRITTEN_TRUNKS),
            repeats,
        ),
        "mixed_precision": sections.run(
            "mixed_precision",
            bench_mixed_precision,
            (
                x[: epoch_rows(len(x), min_rows, 32 * KINDS["dense"].batch_size)],
                x_test[:512] if args.smoke else x_test,
            ),
            ["dense"] if short else list(MIXED_CASES),
            epochs=2 if short else 10,
            repeats=repeats,
        ),
        "imports": sections.run("imports", import_overhead, 1 if short else 5),
        "scaling": sections.run("scaling", bench_scaling, sizes, 3) if sizes else None,
    }
    apply_ceiling(results)
    results["seconds"] = {**sections.seconds, "total": round(time.perf_counter() - started, 1)}
    Path(args.out).write_text(json.dumps(results, indent=2))
    table = markdown(results)
    if args.markdown:
        Path(args.markdown).write_text(table)
    print(table)


if __name__ == "__main__":
    main()
