"""Deployment table: each kind in each export format, run in its own runtime.

    python benchmarks/deployment.py --markdown docs/deployment_table.md
    python benchmarks/deployment.py --kinds dense anomaly --calls 100

Every CLI kind is trained briefly (weights do not change the speed) and
exported as a SavedModel, ONNX files, LiteRT files and int8 LiteRT files
(calibrated on training rows). For the kind's main endpoint (``reconstruct``;
``classify`` for the stacked classifier; ``score`` for the detector) the
table gives:

- the file's size (the SavedModel: its whole folder, every endpoint);
- single-sample latency: the median of ``--calls`` calls on one row;
- throughput at batch ``--batch``: rows/s over ``--batch-calls`` calls;

beside Keras: ``model.predict`` and a direct call of the same endpoint
function (``model(x)``, eager). Runtimes are timed in alternating order,
call by call, so a shared machine's load hits each alike; the ratio column
is against the direct Keras call measured in the same rounds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ENDPOINT = {"stacked": "classify", "anomaly": "score"}


def _size(path: Path) -> int:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else (path.stat().st_size)
    )


def runners(model: Any, endpoint: str, folder: Path, calibration: np.ndarray) -> dict:
    """name -> (size in bytes or None, call(x) -> outputs)."""
    import keras
    import onnxruntime
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    import keras_ae
    from keras_ae import export

    fn, _ = export.portable_endpoints(model)[endpoint]
    predict = model.score_samples if endpoint == "score" else model.predict
    out: dict[str, tuple[int | None, Callable[[np.ndarray], Any]]] = {
        "Keras predict": (
            None,
            lambda x: predict(x, verbose=0) if endpoint != "score" else predict(x),
        ),
        "Keras direct call": (None, lambda x: keras.ops.convert_to_numpy(fn(x))),
    }
    sm = keras_ae.export_model(model, folder / "saved_model")
    loaded = tf.saved_model.load(str(sm))
    signature = loaded.signatures[endpoint]
    out["SavedModel (TensorFlow)"] = (_size(sm), lambda x: signature(x=tf.constant(x)))
    onnx = keras_ae.export_model(model, folder / "onnx", format="onnx")
    session = onnxruntime.InferenceSession(
        str(onnx / f"{endpoint}.onnx"), providers=["CPUExecutionProvider"]
    )
    out["ONNX (ONNX Runtime)"] = (
        _size(onnx / f"{endpoint}.onnx"),
        lambda x: session.run(None, {"x": x}),
    )
    for label, quantize in [("LiteRT", None), ("LiteRT int8", "int8")]:
        path = keras_ae.export_model(
            model,
            folder / f"litert_{quantize}",
            format="litert",
            quantize=quantize,
            calibration_data=calibration if quantize else None,
        )
        runner = Interpreter(model_path=str(path / f"{endpoint}.tflite")).get_signature_runner(
            endpoint
        )
        out[label] = (_size(path / f"{endpoint}.tflite"), lambda x, r=runner: r(x=x))
    return out


def measure(kinds: list[str], calls: int, batch: int, batch_calls: int) -> list[dict]:
    """One row per kind and runtime."""
    import keras

    import keras_ae
    from keras_ae.kinds import KINDS, Data

    (x_train, y_train), (x_test, y_test) = keras_ae.datasets.load_mnist(source="embedded")
    data = Data(x_train[:1024], y_train[:1024], x_test[:256], y_test[:256])
    one, many = x_test[:1], np.resize(x_test, (batch, *x_test.shape[1:]))
    rows = []
    for kind in kinds:
        keras.utils.set_random_seed(0)
        model = KINDS[kind].train(data, epochs=1, batch_size=128)
        endpoint = ENDPOINT.get(kind, "reconstruct")
        with tempfile.TemporaryDirectory() as tmp:
            table = runners(model, endpoint, Path(tmp), x_train[:256])
            for _, call in table.values():  # warm up: tracing, allocation
                call(one), call(many)
            latency: dict[str, list[float]] = {name: [] for name in table}
            for _ in range(calls):
                for name, (_, call) in table.items():
                    start = time.perf_counter()
                    call(one)
                    latency[name].append(time.perf_counter() - start)
            spent = dict.fromkeys(table, 0.0)
            for _ in range(batch_calls):
                for name, (_, call) in table.items():
                    start = time.perf_counter()
                    call(many)
                    spent[name] += time.perf_counter() - start
        reference = statistics.median(latency["Keras direct call"])
        for name, (size, _) in table.items():
            median = statistics.median(latency[name])
            row = {
                "kind": kind,
                "endpoint": endpoint,
                "runtime": name,
                "bytes": size,
                "latency_ms": round(1000 * median, 3),
                "latency_vs_keras_call": round(reference / median, 2),
                "rows_per_s": round(batch * batch_calls / spent[name]),
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def markdown(rows: list[dict], calls: int, batch: int) -> str:
    lines = [
        f"| kind | endpoint | runtime | file size | latency, 1 row (median of {calls}) "
        f"| faster than Keras's direct call | rows/s at batch {batch} |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        size = "" if r["bytes"] is None else f"{r['bytes'] / 1e6:.2f} MB"
        lines.append(
            f"| {r['kind']} | {r['endpoint']} | {r['runtime']} | {size} | {r['latency_ms']:.2f} ms "
            f"| {r['latency_vs_keras_call']:.2f}× | {r['rows_per_s']:,} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from keras_ae.kinds import KINDS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--calls", type=int, default=1000, help="single-row calls (default 1000)")
    parser.add_argument("--batch", type=int, default=256, help="batch for throughput (256)")
    parser.add_argument("--batch-calls", type=int, default=20, help="calls at --batch (20)")
    parser.add_argument("--out", help="write the rows as JSON")
    parser.add_argument("--markdown", help="write the table as Markdown")
    args = parser.parse_args(argv)
    rows = measure(args.kinds, args.calls, args.batch, args.batch_calls)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(markdown(rows, args.calls, args.batch))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
