"""Training speed of every kind on each Keras backend, beside plain Keras on the same backend.

    python benchmarks/backends.py --markdown docs/backends_table.md
    python benchmarks/backends.py --backends jax --kinds dense vae16 --repeats 3

One run covers the backends given (default: tensorflow, jax and torch). Each
backend runs in a process of its own (``KERAS_BACKEND`` is read once, at
``import keras``), and there each kind is trained in alternating epochs
against the same architecture compiled plainly (``compile("adam", loss)``,
Keras's own ``fit``): keras_ae's per-backend compile settings
(:data:`keras_ae.backend.COMPILE_SPEED`) against Keras's defaults, in the
same rounds, so a shared machine's load hits both alike. The table gives
training samples/s and the ratio per kind and backend, and the fastest
backend per kind.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BACKENDS = ("tensorflow", "jax", "torch")
HERE = Path(__file__).resolve().parent


def measure(kinds: list[str], repeats: int, rows: int) -> list[dict]:
    """In this process's backend: one row per kind (samples/s and the ratio)."""
    import keras

    sys.path.insert(0, str(HERE))
    from run import kind_models, paired_rates

    import keras_ae
    from keras_ae.kinds import KINDS

    (x_all, y_all), _ = keras_ae.datasets.load_mnist(source="embedded")
    results = []
    for name in kinds:
        started = time.perf_counter()
        keras.utils.set_random_seed(0)
        fast, plain = kind_models(name, x_all[:rows])
        batch = KINDS[name].batch_size
        x, y = x_all[:rows], (y_all[:rows] if name == "stacked" else None)
        fast_rate, plain_rate, ratio = paired_rates((fast, plain), x, batch, repeats, y)
        row = {
            "backend": keras.backend.backend(),
            "kind": name,
            "samples": rows,
            "compile": {k: getattr(fast, k) for k in ("jit_compile", "steps_per_execution")},
            "train_samples_per_s": round(fast_rate),
            "plain_keras_samples_per_s": round(plain_rate),
            "speedup_vs_plain": round(ratio, 2),
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(json.dumps(row), flush=True)
        results.append(row)
        keras.backend.clear_session()
    return results


def markdown(rows: list[dict], backends: list[str]) -> str:
    """The table: samples/s (ratio to plain Keras) per kind and backend, and the fastest."""
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    head = "| kind | " + " | ".join(backends) + " | fastest |"
    lines = [head, "|---" * (len(backends) + 2) + "|"]
    for kind in kinds:
        cells, best = [], None
        for name in backends:
            row = next((r for r in rows if r["kind"] == kind and r["backend"] == name), None)
            if row is None:
                cells.append("–")
                continue
            cells.append(f"{row['train_samples_per_s']:,} ({row['speedup_vs_plain']:.2f}×)")
            if best is None or row["train_samples_per_s"] > best["train_samples_per_s"]:
                best = row
        fastest = best["backend"] if best else "–"
        lines.append(f"| {kind} | " + " | ".join(cells) + f" | {fastest} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from keras_ae.kinds import KINDS  # noqa: PLC0415 - only for the choices

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--rows", type=int, default=8000, help="training digits (default 8000)")
    parser.add_argument("--out", default="backend_results.json", help="JSON output")
    parser.add_argument("--markdown", help="also write the Markdown table here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one backend, in this process: rows as JSON lines on stdout
        measure(args.kinds, args.repeats, args.rows)
        return 0
    rows = []
    for name in args.backends:
        env = {**os.environ, "KERAS_BACKEND": name, "TF_CPP_MIN_LOG_LEVEL": "3"}
        command = [sys.executable, __file__, "--child", "--kinds", *args.kinds]
        command += ["--repeats", str(args.repeats), "--rows", str(args.rows)]
        proc = subprocess.run(command, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-3000:])
            return proc.returncode
        found = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        for row in found:
            print(json.dumps(row), flush=True)
        rows += found
    Path(args.out).write_text(json.dumps(rows, indent=2))
    table = markdown(rows, args.backends)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
