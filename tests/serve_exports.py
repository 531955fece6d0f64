"""Run exported keras_ae models in their own runtime, without keras_ae.

    python serve_exports.py JOBS.json

JOBS.json lists ``{"format", "folder", "inputs", "outputs"}``: each job reads
its endpoints' inputs from the ``inputs`` .npz (keys ``endpoint/input``),
runs them with TensorFlow (``saved_model``), ONNX Runtime (``onnx``) or the
LiteRT interpreter (``litert``), and writes every output to the ``outputs``
.npz (keys ``endpoint/output_k``). The tests compare them with Keras.
"""

import json
import sys
from pathlib import Path

import numpy as np


def grouped(path: str) -> dict[str, dict[str, np.ndarray]]:
    arrays = np.load(path)
    endpoints: dict[str, dict[str, np.ndarray]] = {}
    for key in arrays.files:
        endpoint, name = key.split("/")
        endpoints.setdefault(endpoint, {})[name] = arrays[key]
    return endpoints


def run_saved_model(folder: Path, inputs: dict) -> dict[str, np.ndarray]:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(folder))
    return {
        f"{endpoint}/{key}": np.asarray(value)
        for endpoint, args in inputs.items()
        for key, value in loaded.signatures[endpoint](**args).items()
    }


def run_onnx(folder: Path, inputs: dict) -> dict[str, np.ndarray]:
    import onnxruntime

    listing = json.loads((folder / "endpoints.json").read_text())["endpoints"]
    outputs = {}
    for endpoint, args in inputs.items():
        session = onnxruntime.InferenceSession(
            str(folder / listing[endpoint]["file"]), providers=["CPUExecutionProvider"]
        )
        names = [o.name for o in session.get_outputs()]
        for name, value in zip(names, session.run(names, args), strict=True):
            outputs[f"{endpoint}/{name}"] = value
    return outputs


def run_litert(folder: Path, inputs: dict) -> dict[str, np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    listing = json.loads((folder / "endpoints.json").read_text())["endpoints"]
    outputs = {}
    for endpoint, args in inputs.items():
        interpreter = Interpreter(model_path=str(folder / listing[endpoint]["file"]))
        for name, value in interpreter.get_signature_runner(endpoint)(**args).items():
            outputs[f"{endpoint}/{name}"] = value
    return outputs


RUNTIMES = {"saved_model": run_saved_model, "onnx": run_onnx, "litert": run_litert}


def main() -> None:
    for job in json.loads(Path(sys.argv[1]).read_text()):
        outputs = RUNTIMES[job["format"]](Path(job["folder"]), grouped(job["inputs"]))
        np.savez(job["outputs"], **outputs)
    assert "keras_ae" not in sys.modules, "the runtime process imported keras_ae"


if __name__ == "__main__":
    main()
