"""Benchmark keras_ae's conv VAE against the keras-io VAE pattern.

The reference is the model of keras-io's ``examples/generative/vae.py``
(convolutional VAE on MNIST), rewritten for Keras 3: a subclassed model with
a custom ``train_step``; encoder Conv2D(32, s2) -> Conv2D(64, s2) -> Flatten
-> Dense(16, relu) -> z_mean, z_log_var (latent 2); decoder Dense(7*7*64)
-> Conv2DTranspose(64, s2) -> Conv2DTranspose(32, s2) ->
Conv2DTranspose(1, sigmoid); loss = binary cross-entropy summed over pixels
+ KL, Adam(1e-3). keras_ae's side is ``keras_ae.build_vae(architecture="conv",
latent_dim=2)`` with its compile defaults.

Both train on the embedded training set with the same epochs and batch size
(128), one epoch of each in turn so that both see the same machine load.
Both are scored by the same functions on the embedded test set:
``keras_ae.metrics.negative_elbo`` (analytic KL) and
``keras_ae.metrics.importance_sampled_nll``. Training speed is samples per
second over the epochs after the first (which traces the graph).

    python benchmarks/vae_reference.py --epochs 30 --out outputs/vae_reference.json
    python benchmarks/vae_reference.py --smoke   # a few seconds, for CI
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import keras
import tensorflow as tf
from keras import layers, ops

import keras_ae
from keras_ae import metrics

BATCH_SIZE = 128


class ReferenceSampling(layers.Layer):
    """The reparameterisation layer of the keras-io example."""

    def __init__(self, seed: int = 1337, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps


def reference_encoder(latent_dim: int = 2) -> keras.Model:
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = ReferenceSampling()([z_mean, z_log_var])
    return keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")


def reference_decoder(latent_dim: int = 2) -> keras.Model:
    inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, outputs, name="decoder")


class ReferenceVAE(keras.Model):
    """The keras-io pattern: encoder and decoder models, a custom train_step."""

    def __init__(self, encoder: keras.Model, decoder: keras.Model, **kwargs) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, x):
        return self.decoder(self.encoder(x)[2])

    def train_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(x)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(keras.losses.binary_crossentropy(x, reconstruction), axis=(1, 2))
            )
            kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights, strict=True))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def build_reference() -> ReferenceVAE:
    model = ReferenceVAE(reference_encoder(), reference_decoder(), name="keras_io_vae")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of each training epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._t0)


def run(epochs: int, n_train: int | None, n_test: int | None, nll_k: int, seed: int) -> dict:
    (x_train, _), (x_test, _) = keras_ae.datasets.load_mnist(source="embedded")
    x_train, x_test = x_train[:n_train], x_test[:n_test]
    keras.utils.set_random_seed(seed)
    models = {
        "keras-io pattern": build_reference(),
        "keras_ae.build_vae": keras_ae.build_vae(architecture="conv", latent_dim=2, seed=seed),
    }
    timers = {name: EpochTimer() for name in models}
    losses = {name: [] for name in models}
    for epoch in range(epochs):  # one epoch of each in turn: same machine load for both
        for name, model in models.items():
            history = model.fit(
                x_train,
                x_train,
                batch_size=BATCH_SIZE,
                initial_epoch=epoch,
                epochs=epoch + 1,
                callbacks=[timers[name]],
                verbose=0,
            )
            loss = history.history.get("loss", history.history.get("total_loss"))
            losses[name].append(float(loss[-1]))
        print(
            f"epoch {epoch + 1}/{epochs}  "
            + "  ".join(f"{name}: loss {losses[name][-1]:.2f}" for name in models),
            flush=True,
        )
    results = {}
    for name, model in models.items():
        seconds = timers[name].seconds[1:] or timers[name].seconds
        result = {
            "parameters": model.encoder.count_params() + model.decoder.count_params(),
            "final_train_loss": losses[name][-1],
            "test_neg_elbo": metrics.negative_elbo(model, x_test, num_samples=10, seed=seed),
            "train_samples_per_s": len(x_train) / statistics.median(seconds),
        }
        if nll_k:
            result[f"test_nll_k{nll_k}"] = metrics.importance_sampled_nll(
                model, x_test, num_samples=nll_k, seed=seed
            )
        results[name] = result
    # Same-epoch pairs cancel most of the drift of a shared machine's load.
    reference, ours = (timers[name].seconds[1:] for name in models)
    ratios = [r / o for r, o in zip(reference, ours, strict=True)]
    return {
        "epochs": epochs,
        "batch_size": BATCH_SIZE,
        "train_images": len(x_train),
        "test_images": len(x_test),
        "seed": seed,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_1_5_15_min": [round(v, 2) for v in os.getloadavg()],
        "models": results,
        "speed_ratio_keras_ae_over_keras_io": statistics.median(ratios) if ratios else None,
    }


def table(report: dict) -> str:
    keys = [k for k in next(iter(report["models"].values())) if k != "final_train_loss"]
    rows = [["model", *keys]]
    for name, result in report["models"].items():
        rows.append(
            [
                name,
                *(
                    f"{result[k]:.2f}" if isinstance(result[k], float) else str(result[k])
                    for k in keys
                ),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="keras_ae conv VAE vs the keras-io VAE pattern")
    parser.add_argument("--epochs", type=int, default=30, help="training epochs (default 30)")
    parser.add_argument("--nll-k", type=int, default=100, help="IWAE samples, 0 to skip (100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a tiny run, for CI")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    if args.smoke:
        report = run(epochs=2, n_train=512, n_test=128, nll_k=5, seed=args.seed)
    else:
        report = run(
            epochs=args.epochs, n_train=None, n_test=None, nll_k=args.nll_k, seed=args.seed
        )
    print(
        f"\n{report['epochs']} epochs, batch {report['batch_size']}, "
        f"{report['train_images']} training / {report['test_images']} test images "
        "(nats per image; samples/s after the first epoch)"
    )
    print(table(report))
    ratio = report["speed_ratio_keras_ae_over_keras_io"]
    if ratio:
        print(f"keras_ae trains {ratio:.2f}x as fast (median of same-epoch ratios)")
    print(f"load average (1, 5, 15 min): {report['load_average_1_5_15_min']}")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
