"""Peak memory of training on a streamed folder of images, against the folder's size.

    python benchmarks/streaming_memory.py --sizes 1000 10000 100000
    python benchmarks/streaming_memory.py --sizes 200 --repeats 1 --json results.json

For each N, N small grayscale PNGs (28x28 MNIST digits from the embedded
subset, each of the 10,000 digits shifted by a different number of pixels
for every pass, in ten class subfolders) are written to a temporary folder.
A new Python process then reads the folder with
:func:`keras_ae.datasets.from_directory` (10% held out for validation) and
trains the ``dense`` kind for one epoch on it, as ``keras-ae train dense
--data DIR --image-size 28 28 --color-mode grayscale --epochs 1`` does, and
reports its peak resident memory (``resource.getrusage(...).ru_maxrss``).
Each run is a process of its own, so one run's memory cannot hide in
another's; each N is trained ``--repeats`` times (default 3), the row is the
run with the median peak, and ``peak_rss_runs_mb`` lists every run's.
``in_memory_mb`` is what the same images take as one float32 array, the
footprint a loader that reads the whole folder would add.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
EMBEDDED = HERE.parent / "keras_ae" / "data" / "mnist10k.npz"
SIDE = 28


def write_pngs(folder: Path, n: int) -> None:
    """``n`` 28x28 grayscale PNGs in ten class subfolders: the embedded digits,
    shifted right by one more pixel each time the 10,000 are used up."""
    from PIL import Image

    with np.load(EMBEDDED) as data:
        digits = np.concatenate([data["x_train"], data["x_test"]])
        labels = np.concatenate([data["y_train"], data["y_test"]])
    for label in range(10):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        j, shift = i % len(digits), i // len(digits)
        image = np.roll(digits[j], shift % SIDE, axis=1)
        Image.fromarray(image).save(folder / str(labels[j]) / f"{i:07d}.png")


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux reports ru_maxrss in KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_once(folder: Path, batch_size: int) -> dict:
    """In this process: stream ``folder``, train the dense kind one epoch, measure."""
    import keras

    import keras_ae
    from keras_ae.images import count_images
    from keras_ae.kinds import KINDS, StreamedData

    keras.utils.set_random_seed(0)
    images = count_images(folder)
    stream = keras_ae.datasets.from_directory(
        folder,
        image_size=(SIDE, SIDE),
        color_mode="grayscale",
        validation_split=0.1,
        seed=0,
        batch_size=batch_size,
    )
    before = peak_rss_mb()
    start = time.perf_counter()
    model = KINDS["dense"].train(StreamedData(*stream), 1, batch_size, verbose=0)
    seconds = time.perf_counter() - start
    return {
        "images": images,
        "backend": keras.backend.backend(),
        "batch_size": batch_size,
        "peak_rss_before_training_mb": round(before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "in_memory_mb": round(images * SIDE * SIDE * 4 / 2**20, 1),
        "train_seconds": round(seconds, 1),
        "images_per_s": round(images * 0.9 / seconds),
        "final_loss": round(float(model.evaluate(stream.validation, verbose=0)), 4),
    }


def measure(n: int, batch_size: int, repeats: int, workdir: Path) -> dict:
    """Write ``n`` PNGs, then train on them ``repeats`` times, each in a new
    process; return the figures of the run with the median peak RSS, and every
    run's peak RSS."""
    folder = workdir / f"pngs_{n}"
    start = time.perf_counter()
    write_pngs(folder, n)
    written = time.perf_counter() - start
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, __file__, "--child", str(folder), "--batch-size", str(batch_size)]
    runs = []
    for _ in range(repeats):
        proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"training on {n} images failed:\n{proc.stderr[-3000:]}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    runs.sort(key=lambda r: r["peak_rss_mb"])
    row = runs[(len(runs) - 1) // 2]
    row["peak_rss_runs_mb"] = [r["peak_rss_mb"] for r in runs]
    row["write_seconds"] = round(written, 1)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="training runs per size")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(train_once(Path(args.child), args.batch_size)), flush=True)
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="keras-ae-streaming-") as tmp:
        for n in args.sizes:
            rows.append(measure(n, args.batch_size, args.repeats, Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
    print(f"\n{'images':>8} {'peak RSS MB (each run)':>28} {'as an array MB':>15} {'train s':>8}")
    for r in rows:
        runs = ", ".join(str(v) for v in r["peak_rss_runs_mb"])
        print(f"{r['images']:>8} {runs:>28} {r['in_memory_mb']:>15} {r['train_seconds']:>8}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
