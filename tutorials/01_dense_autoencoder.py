# %% [markdown]
# # A dense autoencoder on MNIST, measured against PCA
#
# Build, train, evaluate and export the simplest autoencoder, first by hand
# with plain Keras layers, then with keras_ae's builder.
#
# Runtime: about 1 minute on 2 CPU cores with the defaults.

# %% [markdown]
# ## Introduction
#
# An autoencoder learns to copy its input through a narrow code: an encoder maps
# a 784-pixel digit to a 32-number code, and a decoder maps the code back to
# 784 pixels. Nothing but the reconstruction error drives training, so no
# labels are needed. PCA with the same number of components is the linear
# baseline every autoencoder should beat.
#
# Run it with `python tutorials/01_dense_autoencoder.py --out outputs/01`, or
# open `tutorials/notebooks/01_dense_autoencoder.ipynb`. `--short` is a smoke
# run (1 epoch on 2,000 digits); `--epochs 30` trains longer for full quality.

# %% [markdown]
# ## Setup

# %%
import argparse
from pathlib import Path

import keras
import matplotlib.pyplot as plt

import keras_ae

STEM = "01_dense_autoencoder"
parser = argparse.ArgumentParser(description="A dense autoencoder on MNIST, against PCA.")
parser.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
parser.add_argument("--latent-dim", type=int, default=32, help="code size (default 32)")
parser.add_argument("--out", default=f"outputs/{STEM}", help="output folder")
parser.add_argument("--short", action="store_true", help="smoke run: 1 epoch, 2,000 digits")
parser.add_argument("--figures", metavar="FILE", help="record the run's figures in FILE")
args, _ = parser.parse_known_args()  # in a notebook, the kernel's own arguments are ignored
if args.short:
    args.epochs = 1
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
keras.utils.set_random_seed(42)

# %% [markdown]
# ## Prepare the data
#
# The embedded subset: 8,000 training and 2,000 test digits, float32 in [0, 1],
# shape (28, 28, 1).

# %%
(x_train, _), (x_test, _) = keras_ae.datasets.load_mnist(source="embedded")
if args.short:
    x_train, x_test = x_train[:2000], x_test[:500]
print(f"train {x_train.shape}, test {x_test.shape}")

# %% [markdown]
# ## Build it by hand
#
# The whole model is a stack of Dense layers, 784 → 256 → 128 → 32 → 128 →
# 256 → 784, written here with plain `keras.layers` and the functional API.
# ReLU inside, a linear code, and a sigmoid output because pixels lie in
# [0, 1]; for the same reason the loss is binary cross-entropy.

# %%
inputs = keras.Input(shape=(28, 28, 1))
h = keras.layers.Flatten()(inputs)
h = keras.layers.Dense(256, activation="relu")(h)
h = keras.layers.Dense(128, activation="relu")(h)
code = keras.layers.Dense(args.latent_dim)(h)  # the code: linear, latent_dim numbers
h = keras.layers.Dense(128, activation="relu")(code)
h = keras.layers.Dense(256, activation="relu")(h)
h = keras.layers.Dense(28 * 28, activation="sigmoid")(h)
outputs = keras.layers.Reshape((28, 28, 1))(h)
by_hand = keras.Model(inputs, outputs, name="dense_autoencoder_by_hand")
by_hand.compile(optimizer="adam", loss="binary_crossentropy")
by_hand.summary()

# %% [markdown]
# `by_hand.fit(x_train, x_train)` would train it: input and target are the
# same images. keras_ae's builder makes the same network, split into a nested
# `encoder` and `decoder` you can call alone, and compiles it the same way
# (Adam at 1e-3, binary cross-entropy). The dense trunk is written in
# `keras_ae/trunks.py` (`dense_features`, `dense_decode`), the model class in
# `keras_ae/models.py`, the builder in `keras_ae/builders.py`. We check that
# the two have the same layers (their output shapes, in order) and the same
# number of parameters, then go on with the builder's model.

# %%
model = keras_ae.build_dense_autoencoder(latent_dim=args.latent_dim)
model.summary(expand_nested=True)


def layer_shapes(m):
    """Output shape of every layer, nested models opened, input layers left out."""
    shapes = []
    for layer in m.layers:
        if isinstance(layer, keras.Model):
            shapes += layer_shapes(layer)
        elif not isinstance(layer, keras.layers.InputLayer):
            shapes.append(tuple(layer.output.shape))
    return shapes


assert layer_shapes(by_hand) == layer_shapes(model), (layer_shapes(by_hand), layer_shapes(model))
assert by_hand.count_params() == model.count_params()
print(f"same layer shapes and {model.count_params():,} parameters")

# %% [markdown]
# ## Train
#
# Input and target are the same images: `fit(x, x)`.

# %%
untrained_mse = keras_ae.metrics.reconstruction_mse(model, x_test)
model.fit(
    x_train,
    x_train,
    epochs=args.epochs,
    batch_size=128,
    validation_data=(x_test, x_test),
    verbose=2,
)

# %% [markdown]
# ## Evaluate against PCA
#
# PCA keeps the `latent_dim` directions of largest variance of the training set;
# its reconstruction is the projection onto them.

# %%
ae_mse = keras_ae.metrics.reconstruction_mse(model, x_test)
pca_mse = keras_ae.metrics.pca_mse(x_train, x_test, args.latent_dim)
test_psnr = keras_ae.metrics.psnr(x_test, model.predict(x_test, verbose=0))
print(f"test MSE, code size {args.latent_dim}:")
print(f"  untrained autoencoder  {untrained_mse:.5f}")
print(f"  PCA                    {pca_mse:.5f}")
print(f"  dense autoencoder      {ae_mse:.5f}  ({ae_mse / pca_mse:.2f}x PCA)")
print(f"  PSNR                   {test_psnr:.2f} dB")

# %% [markdown]
# ## Visualise
#
# Originals in the top row, reconstructions below.

# %%
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
plt.show()

# %% [markdown]
# ## Export
#
# A SavedModel with the endpoints serve/reconstruct, encode and decode, usable
# from plain TensorFlow: `tf.saved_model.load(path).encode(x)`. Keras writes
# SavedModels under the TensorFlow and JAX backends; under PyTorch we save the
# `.keras` file, which any backend loads and `keras-ae export` turns into a
# SavedModel under TensorFlow or JAX.

# %%
if keras_ae.export.saved_model_supported():
    path = keras_ae.export_saved_model(model, out / "saved_model", overwrite=True)
    print(f"wrote {path} (endpoints: serve, reconstruct, encode, decode)")
else:
    path = keras_ae.save_keras(model, out / "dense.keras", overwrite=True)
    print(f"wrote {path} (export it with `keras-ae export {path} --out DIR`)")

# %% [markdown]
# ## Record the figures
#
# With `--figures FILE` the run writes its headline figures into FILE, with
# the command that reproduces them; the documentation quotes them from
# `docs/figures.json`.

# %%
if args.figures:
    command = f"python tutorials/{STEM}.py --epochs {args.epochs} --latent-dim {args.latent_dim}"
    command += " --short" * args.short + f" --figures {args.figures}"
    values = {"untrained_mse": untrained_mse, "pca_mse": pca_mse, "ae_mse": ae_mse}
    values |= {"ae_over_pca": ae_mse / pca_mse, "psnr": test_psnr}
    keras_ae.report.record_figures(args.figures, STEM, values, command=command)
    print(f"recorded {sorted(values)} in {args.figures}")

# %% [markdown]
# ## Conclusion
#
# A model of seven Dense layers, trained with nothing but `fit(x, x)`, beats
# PCA with the same code size: its non-linear decoder uses the 32 numbers
# better than a linear projection can. In the full-length run (the defaults:
# 15 epochs, 8,000 training digits) the test MSE falls from
# 0.2321<!--fig:01_dense_autoencoder.untrained_mse--> untrained to
# 0.0132<!--fig:01_dense_autoencoder.ae_mse-->, against
# 0.0171<!--fig:01_dense_autoencoder.pca_mse--> for PCA, that is
# 0.77×<!--fig:01_dense_autoencoder.ae_over_pca--> PCA's error, a PSNR of
# 18.79 dB<!--fig:01_dense_autoencoder.psnr-->. The
# `--short` run (one epoch on 2,000 digits) is still far above PCA's error:
# the autoencoder needs the epochs. Tutorial 02 moves to convolutions and
# denoising.

# %% [markdown]
# ## Exercises
#
# 1. Halve the code: `--latent-dim 16`. Predict whether the autoencoder's
#    lead over PCA grows or shrinks, then run it.
# 2. Remove the non-linearity: build the model with `activation=None` (and
#    the same for the hand-built Dense layers). Predict where its test MSE
#    lands relative to PCA's.
# 3. Train longer: `--epochs 45`. Predict how much of the remaining error
#    goes away, and whether the validation loss starts to rise.
#
# Expected outcomes: docs/exercises.md.
