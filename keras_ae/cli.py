"""The ``keras-ae`` command line: train, evaluate, export, demo, pretrained and
export-pretrained.

User mistakes (an unknown kind, a missing file, data of the wrong shape or
dtype, a non-positive count) print one line, ``keras-ae: error: ...``, and
exit with code 2.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from keras_ae import checks

PROG = "keras-ae"

#: --data suffixes read as tables (keras_ae.datasets.from_table).
TABLE_SUFFIXES = (".csv", ".parquet")


class UsageError(Exception):
    """A mistake in the command line or its files: one line, exit code 2."""


#: What the command is doing now, for the one-line report of a failure.
_stage = {"now": "starting"}


def _doing(what: str) -> None:
    _stage["now"] = what


def _raised_by_keras_ae(err: BaseException) -> bool:
    """True if the innermost frame of ``err``'s traceback is keras_ae's own code
    (its argument and data checks), not a library's."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and Path(tb.tb_frame.f_code.co_filename).parent == Path(__file__).parent


def _report_failure(err: BaseException, args: argparse.Namespace | None) -> None:
    """A failure inside keras_ae or its libraries: one line on stderr; the
    traceback to ``--out``/keras-ae-error.log (stderr with ``--debug``)."""
    import tempfile
    import traceback

    text = "".join(traceback.format_exception(err))
    if args is not None and getattr(args, "debug", False):
        sys.stderr.write(text)
        where = "above"
    else:
        folder = Path(getattr(args, "out", None) or tempfile.mkdtemp(prefix="keras-ae-"))
        if getattr(args, "func", None) is cmd_export:  # --out is the export itself: keep it clean
            folder = Path(tempfile.mkdtemp(prefix="keras-ae-"))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            log = folder / "keras-ae-error.log"
            log.write_text(text)
        except OSError:
            log = Path(tempfile.mkstemp(prefix="keras-ae-error-", suffix=".log")[1])
            log.write_text(text)
        where = f"in {log}"
    first = (str(err).strip().splitlines() or [""])[0][:200]
    print(
        f"{PROG}: failed while {_stage['now']}: {type(err).__name__}: {first} "
        f"(a failure inside keras_ae or its libraries, not in your command; the traceback "
        f"is {where}; rerun with --debug to print it)",
        file=sys.stderr,
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not the whole usage block
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _checked(
    convert: Callable[[str], Any], check: Callable[[str, Any], Any], expected: str
) -> Callable[[str], Any]:
    """An argparse ``type``: ``text`` converted, then checked by a keras_ae.checks rule."""

    def parse(text: str) -> Any:
        try:
            return check("value", convert(text))
        except (ValueError, TypeError):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None

    return parse


_positive_int = _checked(int, checks.positive_int, "a positive integer")
_non_negative_float = _checked(float, checks.non_negative_float, "a number >= 0")
_fraction = _checked(float, checks.open_unit_interval, "a number in (0, 1)")


# ---------------------------------------------------------------------------------------------
# Data


def load_data(source: str) -> Any:
    """``embedded``, ``keras`` or a ``.npz`` file with ``x_train`` (and optional ``x_test``,
    ``y_train``, ``y_test``): any image shape, min-max scaled to [0, 1] with a note."""
    from keras_ae import checks, mnist
    from keras_ae.kinds import Data

    if source in ("embedded", "keras"):
        (x_train, y_train), (x_test, y_test) = mnist.load_mnist(source=source)
        return Data(x_train, y_train, x_test, y_test)
    path = Path(source)
    if path.suffix != ".npz":
        raise UsageError(f"--data must be 'embedded', 'keras' or a .npz file; got {source!r}")
    if not path.is_file():
        raise UsageError(f"--data file not found: {source}")
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the user's input
        raise UsageError(f"--data {source} is not a readable .npz file ({err})") from None
    with archive:
        if "x_train" not in archive.files:
            raise UsageError(
                f"--data {source} must hold an array 'x_train'; it holds {archive.files}"
            )
        try:
            keys = ("x_train", "y_train", "x_test", "y_test")
            arrays = {k: archive[k] for k in keys if k in archive}
        except Exception as err:  # noqa: BLE001 - a damaged member is the user's file
            raise UsageError(f"--data {source} has a damaged array ({err})") from None
    x_train = arrays["x_train"]
    if not np.issubdtype(x_train.dtype, np.number) or x_train.dtype == bool:
        raise UsageError(f"--data {source}: x_train must be numeric; got dtype {x_train.dtype}")
    if x_train.ndim not in (2, 3, 4):
        raise UsageError(
            f"--data {source}: x_train must have shape (N, D), (N, H, W) or (N, H, W, C); "
            f"got {x_train.shape}"
        )
    try:
        x_train = checks.array("x_train", x_train)
        x_test = (
            checks.array("x_test", arrays["x_test"], shape=arrays["x_train"].shape[1:])
            if ("x_test" in arrays)
            else None
        )
    except (ValueError, TypeError) as err:
        raise UsageError(f"--data {source}: {err}") from None
    y_train, y_test = arrays.get("y_train"), arrays.get("y_test")
    if x_test is None:  # hold out the last 10% as a test split
        cut = max(1, len(x_train) // 10)
        x_train, x_test = x_train[:-cut], x_train[-cut:]
        if y_train is not None:
            y_train, y_test = y_train[:-cut], y_train[-cut:]
    lo, hi = float(min(x_train.min(), x_test.min())), float(max(x_train.max(), x_test.max()))
    if lo < 0 or hi > 1:
        print(f"note: scaling --data from [{lo:.4g}, {hi:.4g}] to [0, 1] (min-max)")
        span = hi - lo if hi > lo else 1.0
        x_train, x_test = (x_train - lo) / span, (x_test - lo) / span
    if x_train.ndim == 3:  # (N, H, W) grey images get a channel axis
        x_train, x_test = x_train[..., None], x_test[..., None]
    return Data(x_train.astype("float32"), y_train, x_test.astype("float32"), y_test)


def load_folder(
    source: str,
    image_size: Sequence[int] | None,
    color_mode: str | None,
    validation_split: float | None,
    batch_size: int,
) -> Any:
    """A folder of images (``--data DIR --image-size H W``), streamed by
    :func:`keras_ae.datasets.from_directory`: training batches, and a validation
    split (default 10%, seed 0) for the test figures."""
    from keras_ae import images
    from keras_ae.kinds import StreamedData

    if image_size is None:
        raise UsageError(
            f"--data {source} is a folder of images: give --image-size H W, the size every "
            "image is resized to"
        )
    try:
        folder = images.from_directory(
            source,
            image_size=tuple(image_size),
            color_mode=color_mode or "rgb",
            validation_split=validation_split or 0.1,
            seed=0,
            batch_size=batch_size,
        )
    except (ValueError, TypeError) as err:
        raise UsageError(f"--data {source}: {err}") from None
    return StreamedData(folder.train, folder.validation)


def load_table(source: str, label_column: str | None, kind: str) -> Any:
    """A table (``--data FILE.csv|FILE.parquet [--label-column C]``) for the
    anomaly detector: raw feature values (the detector standardises inside its
    model). Rows whose label is 0 are normal, any other label marks an
    anomaly; without labels every row is normal. A seeded 20% of the normal
    rows, plus every anomaly, make the test split."""
    from keras_ae import tables
    from keras_ae.kinds import NORMAL_DIGIT, Data

    if kind != "anomaly":
        raise UsageError(f"a table trains KIND anomaly, not {kind}; got --data {source}")
    try:
        table = tables.from_table(source, label_column=label_column)
    except (ValueError, TypeError, FileNotFoundError, ImportError) as err:
        raise UsageError(f"--data {source}: {str(err).splitlines()[0]}") from None
    x, y = table.x, table.y
    if y is not None and not np.issubdtype(y.dtype, np.number):
        raise UsageError(
            f"--data {source}: --label-column {label_column} must be numeric, {NORMAL_DIGIT} "
            f"for normal rows; it holds {y[0]!r}"
        )
    normal = np.ones(len(x), bool) if y is None else y == NORMAL_DIGIT
    rows = np.random.default_rng(0).permutation(np.flatnonzero(normal))
    held = len(rows) // 5
    if len(rows) - held < 2:
        raise UsageError(f"--data {source}: {len(rows)} normal row(s); at least 3 are needed")
    test = np.concatenate([rows[:held], np.flatnonzero(~normal)])
    y_test = None if y is None else (~normal[test]).astype("int64")
    if table.dropped:
        print(f"note: dropped {table.dropped} row(s) of --data {source} with missing values")
    return Data(x[rows[held:]], None, x[test], y_test, columns=tuple(table.columns))


def load_series(
    source: str, window: int | None, columns: Sequence[str] | None, kind: str
) -> tuple[Any, tuple[str, ...]]:
    """A series in a CSV file (``--data series.csv --window W [--columns ...]``) as
    training windows and held-out windows (the last 10% of the points); and the
    columns read. The values stay raw: the sequence kinds standardise inside."""
    from keras_ae import series
    from keras_ae.kinds import SERIES_KINDS, Data

    if kind not in SERIES_KINDS:
        raise UsageError(
            f"--window and --columns apply to the sequence kinds ({', '.join(SERIES_KINDS)}), "
            f"not to {kind}"
        )
    if window is None or Path(source).suffix.lower() != ".csv":
        raise UsageError(
            f"KIND {kind} trains on windows of a series: give --data FILE.csv --window W "
            f"(got --data {source}" + ("" if window is None else f" --window {window}") + ")"
        )
    try:
        read = series.read_csv(source, columns)
        split = series.split_windows(read.values, window, source=source)
    except (ValueError, TypeError) as err:
        raise UsageError(str(err).splitlines()[0]) from None
    return Data(split.x_train, None, split.x_test, None), read.columns


# ---------------------------------------------------------------------------------------------
# Commands


def _train_one(
    kind: Any,
    data: Any,
    out: Path,
    epochs: int,
    batch_size: int,
    overrides: dict,
    resume: bool,
    verbose: Any,
    strategy: Any = None,
    callbacks: Sequence[Any] = (),
) -> tuple[dict[str, Any], Any] | tuple[None, None]:
    """Build, train, export and measure one kind; return its metrics record and model
    (None and None on a process other than 0 of several, which writes nothing)."""
    import keras

    from keras_ae import backend, export_saved_model, plotting, save_keras
    from keras_ae.distribution import gather_model
    from keras_ae.export import publish, staging_path, tracked_model
    from keras_ae.kinds import iter_test_inputs, reconstruct

    backup = None
    if backend.process_count() == 1:  # across processes only process 0 writes, at the end
        backup = out / ".backup"
    # refuse what the kind cannot honour (--strategy, --resume, ...) before writing anything
    kind.check(data, overrides, strategy=strategy, resume_dir=backup if resume else None)
    if "resume_dir" not in kind.honours:  # trained in stages: no backup to resume from
        backup = None
    if backup is not None:
        out.mkdir(parents=True, exist_ok=True)
        if not resume and backup.exists():
            shutil.rmtree(backup)
    start = time.perf_counter()
    _doing(f"training {kind.name}")
    model = kind.train(
        data,
        epochs,
        batch_size,
        overrides,
        strategy,
        resume_dir=backup,
        callbacks=callbacks,
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    history = getattr(tracked_model(model), "history", None)
    model = gather_model(model)
    if model is None:  # a process other than 0
        return None, None
    out.mkdir(parents=True, exist_ok=True)
    _doing(f"evaluating {kind.name}")
    figures = kind.evaluate(model, data)
    _doing(f"saving {kind.name} to {out}")
    save_keras(tracked_model(model), out / "model.keras", overwrite=True)
    if not isinstance(model, keras.Model) and hasattr(model, "save"):  # a detector: + threshold
        model.save(out / "detector.keras", overwrite=True)
    exported = backend.name() != "torch"  # Keras cannot trace PyTorch into a SavedModel
    if exported:
        export_saved_model(model, out / "saved_model", overwrite=True)
    record = {
        "kind": kind.name,
        "backend": backend.name(),
        "saved_model": exported,
        "epochs": epochs,
        "batch_size": batch_size,
        "train_seconds": round(seconds, 2),
        "processes": backend.process_count(),
        "final_loss": (getattr(history, "history", None) or {}).get("loss", [None])[-1],
        "final_val_loss": (getattr(history, "history", None) or {}).get("val_loss", [None])[-1],
        "dtype_policy": keras.config.dtype_policy().name,
        "test": figures,
    }
    staged = staging_path(out / "metrics.json")
    staged.write_text(json.dumps(record, indent=2))
    publish(staged, out / "metrics.json")  # whole, like the model files
    x = next(iter_test_inputs(data))[:10]
    recon = reconstruct(model, x)
    if plotting.is_image_batch(x) and recon.shape == x.shape:
        plotting.image_grid(
            [x, recon], row_labels=["original", "reconstruction"], path=out / "reconstructions.png"
        )
        if hasattr(model, "sample"):
            samples = model.sample(10, seed=0)
            plotting.image_grid([samples], row_labels=["samples"], path=out / "samples.png")
    return record, model


def cmd_train(args: argparse.Namespace) -> int:
    """Train one model kind, then export it.

    Train one model kind (KIND) and write model.keras, saved_model/, metrics.json and PNGs
    of reconstructions (and samples for VAEs) to --out.
    """
    from keras_ae.distribution import check_processes, make_strategy
    from keras_ae.kinds import ALL_KINDS, KINDS, SERIES_KINDS
    from keras_ae.training import set_deterministic

    kind = ALL_KINDS[args.kind]
    _doing("reading the environment")
    processes = check_processes(args.strategy)
    for flag, value in (("--resume", args.resume), ("--tensorboard", args.tensorboard)):
        if processes is not None and value:
            raise UsageError(f"{flag} works in one process, not across processes")
    _doing(f"loading --data {args.data}")
    columns = None
    if kind.name in SERIES_KINDS or args.window is not None or args.columns is not None:
        data, columns = load_series(args.data, args.window, args.columns, kind.name)
    elif args.image_size is not None or (
        args.data not in ("embedded", "keras") and Path(args.data).is_dir()
    ):
        if not kind.takes_streams:
            streams = ", ".join(k for k, v in KINDS.items() if v.takes_streams)
            raise UsageError(
                f"KIND {kind.name} trains on arrays, not on a folder of images: give --data "
                f"embedded, keras or a .npz file (kinds that train on a folder: {streams})"
            )
        data = load_folder(
            args.data,
            args.image_size,
            args.color_mode,
            args.validation_split,
            args.batch_size or kind.batch_size,
        )
    elif args.color_mode is not None or args.validation_split is not None:
        raise UsageError("--color-mode and --validation-split apply only to a folder --data DIR")
    elif args.label_column is not None or Path(args.data).suffix.lower() in TABLE_SUFFIXES:
        data = load_table(args.data, args.label_column, kind.name)
    else:
        data = load_data(args.data)
    if args.precision != "float32":
        import keras

        keras.config.set_dtype_policy(args.precision)
    if args.seed is not None:
        set_deterministic(args.seed)
    strategy = None
    if args.strategy != "default":
        _doing(f"joining {processes['count']} processes" if processes else "starting")
        strategy = make_strategy(args.strategy, cpu_replicas=args.cpu_replicas)
    overrides = {
        k: v
        for k, v in {"latent_dim": args.latent_dim, "noise_level": args.noise_level}.items()
        if v is not None
    }
    callbacks = tensorboard_callbacks(args.tensorboard, kind, data)
    record, _ = _train_one(
        kind,
        data,
        Path(args.out),
        args.epochs or kind.epochs,
        args.batch_size or kind.batch_size,
        overrides,
        args.resume,
        verbose=1 if sys.stdout.isatty() else 2,  # Keras's bar; one line per epoch in a log
        strategy=strategy,
        callbacks=callbacks,
    )
    if record is None:
        print(f"process {processes['index']} of {processes['count']} done: process 0 writes --out")
        return 0
    print(json.dumps(record, indent=2))
    if record["saved_model"]:
        print(f"wrote {args.out}/model.keras, saved_model/, metrics.json")
    else:
        print(
            f"wrote {args.out}/model.keras and metrics.json (no SavedModel under "
            f"KERAS_BACKEND={record['backend']}: run `keras-ae export {args.out}/model.keras "
            f"--out {args.out}/saved_model` under tensorflow or jax)"
        )
    if columns is not None:
        info = {"data": args.data, "window": args.window, "columns": list(columns)}
        (Path(args.out) / "series.json").write_text(json.dumps(info, indent=2))
        print(f"wrote {args.out}/series.json (the window and columns, for keras-ae score)")
    print(
        f"trained {kind.name}: {record['epochs']} epochs in {record['train_seconds']:.1f} s, "
        f"loss {_figure(record['final_loss'])}, val_loss {_figure(record['final_val_loss'])} "
        f"-> {args.out}"
    )
    return 0


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def tensorboard_callbacks(log_dir: str | None, kind: Any, data: Any) -> list:
    """``--tensorboard DIR``: Keras's TensorBoard callback (the losses) and
    :class:`keras_ae.callbacks.ReconstructionImages` (4 test inputs and their
    reconstructions, each epoch). Kinds trained in stages are refused."""
    from keras_ae import callbacks
    from keras_ae.kinds import iter_test_inputs

    if log_dir is None:
        return []
    if "callbacks" not in kind.honours:
        raise UsageError(
            f"--tensorboard logs kinds trained by one fit; {kind.name} trains in stages"
        )
    try:
        return callbacks.tensorboard(log_dir, next(iter_test_inputs(data))[:4])
    except ImportError as err:
        raise UsageError(str(err)) from None


def _load_keras(path: Path) -> Any:
    """A .keras file loaded in safe mode; a damaged or foreign file is the user's mistake."""
    import keras

    # keras_ae's classes register themselves for loading when their modules
    # are imported: the models with keras_ae, the detector's with anomaly
    from keras_ae import anomaly, stacked  # noqa: F401

    _doing(f"loading {path}")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as err:  # noqa: BLE001 - say which file, in one line
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        if len(first) > 300:
            first = first[:300] + " ..."
        raise UsageError(f"cannot load {path}: {first}") from None


#: Rows of ``--calibration-data`` that calibrate ``--quantize int8``.
CALIBRATION_ROWS = 512


def _calibration_rows(source: str, label_column: str | None) -> np.ndarray:
    """The first :data:`CALIBRATION_ROWS` training rows of ``--calibration-data``:
    data as ``train --data`` reads it (a table: its normal rows, label 0)."""
    try:
        if Path(source).suffix.lower() in TABLE_SUFFIXES:
            data = load_table(source, label_column, "anomaly")
        elif label_column is not None:
            raise UsageError(f"--label-column applies to a table (.csv, .parquet); got {source}")
        else:
            data = load_data(source)
    except UsageError as err:
        raise UsageError(str(err).replace("--data", "--calibration-data", 1)) from None
    return data.x_train[:CALIBRATION_ROWS]


def cmd_export(args: argparse.Namespace) -> int:
    """Export a .keras model to a SavedModel, ONNX or LiteRT.

    Load a keras_ae .keras file (safe mode) and write it with its named endpoints: a
    TensorFlow SavedModel (KERAS_BACKEND=tensorflow or jax), or a folder of ONNX or LiteRT
    files, one per endpoint, with endpoints.json (KERAS_BACKEND=tensorflow).
    """
    import keras_ae
    from keras_ae.export import PathExistsError

    path = Path(args.model)
    if path.suffix != ".keras" or not path.is_file():
        raise UsageError(f"MODEL must be an existing .keras file; got {args.model}")
    if (args.quantize == "int8") != (args.calibration_data is not None):
        raise UsageError("--quantize int8 and --calibration-data DATA go together")
    if args.label_column is not None and args.calibration_data is None:
        raise UsageError("--label-column picks the normal rows of --calibration-data; give both")
    calibration = None
    if args.calibration_data is not None:
        calibration = _calibration_rows(args.calibration_data, args.label_column)
    model = _load_keras(path)
    _doing(f"exporting {path} to {args.format}")
    try:
        target = keras_ae.export_model(
            model,
            args.out,
            format=args.format,
            overwrite=args.overwrite,
            quantize=args.quantize,
            calibration_data=calibration,
        )
    except PathExistsError as err:
        raise UsageError(str(err)) from None
    except (RuntimeError, ImportError) as err:  # a backend or a missing extra
        raise UsageError(str(err)) from None
    quantized = f", {args.quantize}" if args.quantize else ""
    print(f"wrote {target} ({args.format}{quantized})")
    return 0


def _evaluate_saved_model(path: Path, data: Any) -> dict[str, float]:
    import tensorflow as tf

    from keras_ae import metrics

    loaded = tf.saved_model.load(str(path))
    fn = getattr(loaded, "reconstruct", None) or loaded.serve
    x = data.x_test
    out = np.concatenate(
        [np.asarray(fn(tf.constant(x[i : i + 256]))) for i in range(0, len(x), 256)]
    )
    if out.shape == x.shape:
        return {"mse": metrics.mse(x, out), "psnr": metrics.psnr(x, out)}
    if out.ndim == 2 and data.y_test is not None:
        return {"accuracy": float(np.mean(out.argmax(-1) == data.y_test))}
    raise UsageError(f"cannot evaluate {path}: output shape {out.shape} for input {x.shape}")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print test metrics of a saved model.

    Print the test metrics of a SavedModel folder or a .keras file on --data's test split.
    """

    import keras_ae  # noqa: F401 - registers keras_ae's classes for loading
    from keras_ae.kinds import Data, autoencoder_metrics, vae_metrics
    from keras_ae.models import VariationalAutoencoder

    path = Path(args.path)
    if not path.exists():
        raise UsageError(f"PATH not found: {args.path}")
    data: Data = load_data(args.data)
    if path.is_dir():
        if not (path / "saved_model.pb").is_file():
            raise UsageError(f"{args.path} is a folder without saved_model.pb")
        figures = _evaluate_saved_model(path, data)
    elif path.suffix == ".keras":
        model = _load_keras(path)
        if model.input_shape[1:] != data.x_test.shape[1:]:
            raise UsageError(
                f"the model takes {model.input_shape[1:]}, --data gives {data.x_test.shape[1:]}"
            )
        evaluate = vae_metrics if isinstance(model, VariationalAutoencoder) else autoencoder_metrics
        figures = evaluate(model, data)
    else:
        raise UsageError(f"PATH must be a SavedModel folder or a .keras file; got {args.path}")
    for name, value in figures.items():
        print(f"{name:>12}  {value:.5g}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """Write per-point anomaly scores of a series.

    Score every point of the series in a CSV file with a conv1d or lstm model (a .keras
    file from `keras-ae train conv1d|lstm`): the mean reconstruction error of the windows
    holding the point, written to --out as a CSV `point,score`.
    """
    from keras_ae import series

    path = Path(args.model)
    if path.suffix != ".keras" or not path.is_file():
        raise UsageError(f"MODEL must be an existing .keras file; got {args.model}")
    model = _load_keras(path)
    shape = tuple(model.input_shape[1:])
    if len(shape) != 2:
        raise UsageError(
            f"{args.model} takes samples of shape {shape}, not windows (points, columns) of "
            "a series: score a conv1d or lstm model"
        )
    window, channels = shape
    if args.window is not None and args.window != window:
        raise UsageError(
            f"--window {args.window} does not match {args.model}, which takes windows of "
            f"{window} points"
        )
    columns = args.columns
    info = path.parent / "series.json"
    if columns is None and info.is_file():
        columns = json.loads(info.read_text()).get("columns")
    _doing(f"scoring --data {args.data}")
    try:
        read = series.read_csv(args.data, columns)
        if read.values.shape[1] != channels:
            raise UsageError(
                f"--data {args.data} gives {read.values.shape[1]} column(s) "
                f"({', '.join(read.columns)}); {args.model} takes {channels}"
            )
        scores = series.point_scores(model, read.values, window, source=args.data)
    except (ValueError, TypeError) as err:
        raise UsageError(str(err).splitlines()[0]) from None
    _doing(f"writing {args.out}")
    series.write_scores(args.out, scores)
    top = int(np.nanargmax(scores))
    print(
        f"wrote {args.out}: {len(scores)} point scores (columns {', '.join(read.columns)}, "
        f"window {window}); the highest is point {top}, {scores[top]:.4g}"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Train every kind briefly and draw an overview.

    Train every model kind briefly on the embedded MNIST, export each, write overview.png
    with a row per kind and print a results table.
    """
    from keras_ae import plotting
    from keras_ae.kinds import KINDS, reconstruct

    out = Path(args.out)
    data = load_data("embedded")
    x = data.x_test[:10]
    rows, labels, table = [x], ["original"], []
    start = time.perf_counter()
    for kind in KINDS.values():
        print(f"--- {kind.name}: {kind.description}, {kind.demo_epochs} epoch(s)", flush=True)
        record, model = _train_one(
            kind, data, out / kind.name, kind.demo_epochs, kind.batch_size, {}, False, verbose=0
        )
        recon = reconstruct(model, x)
        if recon.shape == x.shape:  # the classifier has no reconstruction to show
            rows.append(recon)
            labels.append(kind.name)
        table.append(record)
    plotting.image_grid(rows, row_labels=labels, path=out / "overview.png")
    print(f"\n{'kind':<12} {'epochs':>6} {'train s':>8}  test figures")
    for r in table:
        figs = "  ".join(f"{k}={v:.4g}" for k, v in r["test"].items())
        print(f"{r['kind']:<12} {r['epochs']:>6} {r['train_seconds']:>8.1f}  {figs}")
    print(
        f"\nwrote {out}/overview.png and one folder per kind "
        f"({time.perf_counter() - start:.0f} s in all)"
    )
    return 0


def cmd_pretrained(args: argparse.Namespace) -> int:
    """List the pretrained models.

    List the pretrained models the package carries: each one's kind, size, test metrics and
    endpoints.
    """
    from keras_ae import pretrained

    listed = pretrained.list(args.directory)
    if args.json:
        print(json.dumps(listed, indent=2))
        return 0
    print(f"{'name':<12} {'kind':<12} {'size':>8}  {'test metrics':<34} endpoints")
    for name, entry in listed.items():
        figures = ", ".join(f"{k} {v:.4g}" for k, v in entry["metrics"].items())
        size = f"{entry['size_bytes'] / 2**20:.1f} MB"
        endpoints = ", ".join(entry["endpoints"])
        print(f"{name:<12} {entry['kind']:<12} {size:>8}  {figures:<34} {endpoints}")
    print(f"load one with keras_ae.pretrained.load(name), from {pretrained.default_directory()}")
    return 0


def cmd_export_pretrained(args: argparse.Namespace) -> int:
    """Regenerate the pretrained SavedModels.

    Train every kind with its tutorial settings and a fixed seed, export the SavedModels
    and write manifest.json.
    """
    from keras_ae.pretrained import export_pretrained

    export_pretrained(Path(args.directory), seed=args.seed, only=args.only)
    return 0


# ---------------------------------------------------------------------------------------------
# Parser


def build_parser() -> argparse.ArgumentParser:
    """The ``keras-ae`` argument parser (also used to render ``--help``)."""
    from keras_ae.kinds import ALL_KINDS, KINDS

    kinds = ", ".join(ALL_KINDS)
    parser = _Parser(prog=PROG, description="Train, evaluate and export keras_ae autoencoders.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        help="on a failure inside keras_ae or its libraries, print the traceback to stderr",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, func: Any) -> argparse.ArgumentParser:
        """A subcommand with the common options that runs ``func(args)``; its help
        is the first line of ``func``'s docstring, its description the rest."""
        summary, _, description = inspect.cleandoc(func.__doc__).partition("\n\n")
        parser = sub.add_parser(
            name,
            parents=[common],
            help=summary[0].lower() + summary[1:].rstrip("."),
            description=" ".join(description.split()),
        )
        parser.set_defaults(func=func)
        return parser

    train = command("train", cmd_train)
    train.add_argument("kind", choices=list(ALL_KINDS), metavar="KIND", help=f"one of: {kinds}")
    train.add_argument("--out", required=True, help="output folder")
    train.add_argument("--epochs", type=_positive_int, help="epochs (default: the tutorial's)")
    train.add_argument("--batch-size", type=_positive_int, help="batch size (default 128)")
    train.add_argument("--latent-dim", type=_positive_int, help="code size")
    train.add_argument(
        "--noise-level", type=_non_negative_float, help="corruption level (denoising only)"
    )
    train.add_argument(
        "--data",
        default="embedded",
        help="'embedded' (default), 'keras' (full MNIST, needs network or cache), "
        "a .npz file with x_train [x_test, y_train, y_test], a folder of PNG/JPEG "
        "images (class subfolders too; streamed, needs --image-size), or a table "
        "(.csv, .parquet) for KIND anomaly",
    )
    train.add_argument(
        "--image-size",
        nargs=2,
        type=_positive_int,
        metavar=("H", "W"),
        help="with a folder --data: the size every image is resized to",
    )
    train.add_argument(
        "--color-mode",
        choices=["grayscale", "rgb"],
        help="with a folder --data: 1 or 3 channels (default rgb)",
    )
    train.add_argument(
        "--validation-split",
        type=_fraction,
        help="with a folder --data: the fraction of images held out for the test "
        "figures (default 0.1)",
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run in --out from its last completed epoch",
    )
    train.add_argument(
        "--strategy",
        default="default",
        choices=["default", "mirrored", "data-parallel", "multiworker"],
        help="'mirrored' (TensorFlow: all local GPUs, or --cpu-replicas logical "
        "CPUs) or 'data-parallel' (JAX: keras.distribution.DataParallel over "
        "every device, of every process when KERAS_DISTRIBUTION_JOB_ADDRESSES, "
        "_NUM_PROCESSES and _PROCESS_ID are set); 'multiworker' is refused "
        "(broken with Keras 3: use data-parallel under KERAS_BACKEND=jax)",
    )
    train.add_argument(
        "--seed",
        type=int,
        help="seed for the weights, the shuffling and the noise (default: random)",
    )
    train.add_argument(
        "--cpu-replicas",
        type=_positive_int,
        help="with --strategy mirrored and no GPU: logical CPU devices",
    )
    train.add_argument(
        "--precision",
        default="float32",
        choices=["float32", "mixed_bfloat16", "mixed_float16"],
        help="dtype policy: mixed precision computes in 16 bits and keeps float32 "
        "weights, codes and outputs; it helps on GPUs and CPUs with fast 16-bit "
        "math (see docs/benchmarks.md for its effect here). Default float32",
    )
    train.add_argument(
        "--window",
        type=_positive_int,
        help="conv1d and lstm: --data is a CSV series (a header row optional), cut into "
        "windows of this many points",
    )
    train.add_argument(
        "--columns",
        nargs="+",
        metavar="COLUMN",
        help="with --window: the CSV columns to read, by header name or 0-based index "
        "(default: all)",
    )
    train.add_argument(
        "--label-column",
        metavar="COLUMN",
        help="anomaly on a table (--data FILE.csv or .parquet, numeric columns): this "
        "column is the label, 0 for normal rows, anything else an anomaly; the detector "
        "trains on normal rows and reports the AUROC on held-out normal rows plus every "
        "anomaly (default: no label, every row normal)",
    )
    train.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="write TensorBoard logs to DIR: the losses, and reconstructions as images "
        "each epoch (needs keras_ae[tensorboard])",
    )

    score = command("score", cmd_score)
    score.add_argument("model", metavar="MODEL", help="a .keras file of a sequence kind")
    score.add_argument("--data", required=True, help="a CSV file of the series")
    score.add_argument("--out", required=True, help="the CSV file of scores to write")
    score.add_argument(
        "--window",
        type=_positive_int,
        help="points per window (default: the model's; another value is refused)",
    )
    score.add_argument(
        "--columns",
        nargs="+",
        metavar="COLUMN",
        help="the CSV columns to read (default: those the model was trained on, from "
        "series.json beside MODEL, else all)",
    )

    evaluate = command("evaluate", cmd_evaluate)
    evaluate.add_argument("path", metavar="PATH", help="SavedModel folder or .keras file")
    evaluate.add_argument(
        "--data", default="embedded", help="'embedded' (default), 'keras' or a .npz file"
    )

    demo = command("demo", cmd_demo)
    demo.add_argument("--out", default="outputs/demo", help="output folder (default outputs/demo)")

    export = command("export", cmd_export)
    export.add_argument("model", metavar="MODEL", help="a .keras file")
    export.add_argument("--out", required=True, help="folder to write")
    export.add_argument(
        "--format",
        default="saved_model",
        choices=["saved_model", "onnx", "litert"],
        help="saved_model (default), onnx or litert",
    )
    export.add_argument(
        "--quantize",
        choices=["int8", "dynamic"],
        help="litert only: int8 (weights and activations, calibrated on --calibration-data) "
        "or dynamic (int8 weights only; for raw tables)",
    )
    export.add_argument(
        "--calibration-data",
        metavar="DATA",
        help=f"data as for train --data; its first {CALIBRATION_ROWS} training rows "
        "calibrate --quantize (use normal rows for a detector; a table: its rows "
        "labelled 0 with --label-column)",
    )
    export.add_argument(
        "--label-column",
        metavar="C",
        help="with a table as --calibration-data: the label column (0: normal rows)",
    )
    export.add_argument("--overwrite", action="store_true", help="replace an existing --out")

    listing = command("pretrained", cmd_pretrained)
    listing.add_argument("--directory", help="another saved_models folder")
    listing.add_argument("--json", action="store_true", help="print the listing as JSON")

    pre = command("export-pretrained", cmd_export_pretrained)
    pre.add_argument("directory", metavar="DIR", help="target folder, e.g. saved_models/")
    pre.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    pre.add_argument(
        "--only", nargs="+", choices=list(KINDS), metavar="KIND", help="regenerate only these kinds"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``keras-ae`` console script."""
    from keras_ae.training import NonFiniteLossError

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = None
    _doing("reading the command line")
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except UsageError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except NonFiniteLossError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, FileNotFoundError, FileExistsError) as err:
        if not _raised_by_keras_ae(err):  # a library's error, not a checked mistake
            _report_failure(err, args)
            return 1
        print(f"{PROG}: error: {str(err).splitlines()[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted while {_stage['now']}", file=sys.stderr)
        return 130
    except Exception as err:
        _report_failure(err, args)
        return 1


if __name__ == "__main__":
    sys.exit(main())
