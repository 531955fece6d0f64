"""
Title: A dense autoencoder on MNIST, measured against PCA
Description: Build, train, evaluate and export the simplest autoencoder with keras_ae.
Runtime: about 1 minute on 2 CPU cores with the defaults.

## Introduction

An autoencoder learns to copy its input through a narrow code: an encoder maps
a 784-pixel digit to a 32-number code, and a decoder maps the code back to
784 pixels. Nothing but the reconstruction error drives training, so no
labels are needed. PCA with the same number of components is the linear
baseline every autoencoder should beat.

Run it with `python tutorials/01_dense_autoencoder.py --out outputs/01`.
Use more epochs (e.g. `--epochs 30`) for full quality.
"""

# ## Setup

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

import keras_ae  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
parser.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
parser.add_argument("--latent-dim", type=int, default=32, help="code size (default 32)")
parser.add_argument("--out", default="outputs/01_dense_autoencoder", help="output folder")
args = parser.parse_args()
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
keras.utils.set_random_seed(42)

# ## Prepare the data
#
# The embedded subset: 8,000 training and 2,000 test digits, float32 in [0, 1].

(x_train, _), (x_test, _) = keras_ae.datasets.load_mnist(source="embedded")
print(f"train {x_train.shape}, test {x_test.shape}")

# ## Build the model
#
# 784 → 256 → 128 → 32 → 128 → 256 → 784, ReLU inside, sigmoid output.
# The builder compiles it: Adam and binary cross-entropy, since pixels lie in [0, 1].

model = keras_ae.build_dense_autoencoder(latent_dim=args.latent_dim)
model.summary()

# ## Train
#
# Input and target are the same images: `fit(x, x)`.

untrained_mse = keras_ae.metrics.reconstruction_mse(model, x_test)
model.fit(
    x_train,
    x_train,
    epochs=args.epochs,
    batch_size=128,
    validation_data=(x_test, x_test),
    verbose=2,
)

# ## Evaluate against PCA
#
# PCA keeps the `latent_dim` directions of largest variance of the training set;
# its reconstruction is the projection onto them.

ae_mse = keras_ae.metrics.reconstruction_mse(model, x_test)
pca_mse = keras_ae.metrics.pca_mse(x_train, x_test, args.latent_dim)
print(f"\ntest MSE, code size {args.latent_dim}:")
print(f"  untrained autoencoder  {untrained_mse:.5f}")
print(f"  PCA                    {pca_mse:.5f}")
print(f"  dense autoencoder      {ae_mse:.5f}  ({ae_mse / pca_mse:.2f}x PCA)")
test_psnr = keras_ae.metrics.psnr(x_test, model.predict(x_test, verbose=0))
print(f"  PSNR                   {test_psnr:.2f} dB")

# ## Visualise
#
# Originals in the top row, reconstructions below.

recon = model.predict(x_test[:10], verbose=0)
fig, axes = plt.subplots(2, 10, figsize=(10, 2.2))
for i in range(10):
    for row, images in enumerate((x_test, recon)):
        axes[row, i].imshow(images[i].squeeze(), cmap="gray", vmin=0, vmax=1)
        axes[row, i].axis("off")
axes[0, 0].set_title("original", loc="left", fontsize=9)
axes[1, 0].set_title("reconstruction", loc="left", fontsize=9)
fig.tight_layout()
fig.savefig(out / "reconstructions.png", dpi=100)
print(f"wrote {out / 'reconstructions.png'}")

# ## Export
#
# A SavedModel with the endpoints serve/reconstruct, encode and decode, usable
# from plain TensorFlow: `tf.saved_model.load(path).encode(x)`. Keras writes
# SavedModels under the TensorFlow and JAX backends; under PyTorch we save the
# `.keras` file, which any backend loads and `keras-ae export` turns into a
# SavedModel under TensorFlow or JAX.

if keras_ae.export.saved_model_supported():
    path = keras_ae.export_saved_model(model, out / "saved_model", overwrite=True)
    print(f"wrote {path} (endpoints: serve, reconstruct, encode, decode)")
else:
    path = keras_ae.save_keras(model, out / "dense.keras", overwrite=True)
    print(f"wrote {path} (export it with `keras-ae export {path} --out DIR`)")

# ## Conclusion
#
# A few epochs already bring the autoencoder below PCA's error with the same
# code size: its non-linear decoder uses the 32 numbers better than a linear
# projection can. Tutorial 02 moves to convolutions and denoising.
