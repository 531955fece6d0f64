# %% [markdown]
# # Convolutional and denoising autoencoders on MNIST
#
# A conv autoencoder, then the same network trained to remove Gaussian noise.
#
# Runtime: about 5 minutes on 2 CPU cores with the defaults.

# %% [markdown]
# ## Introduction
#
# Convolutions suit images: a stride-2 convolution shares its weights across
# the image and halves its size, so the encoder is 28×28 → 14×14 → 7×7 → code,
# and transposed convolutions mirror it back.
#
# A denoising autoencoder (Vincent et al. 2008) is trained on corrupted inputs
# and asked for the clean ones: `fit(x, x)` with a corruption layer before the
# encoder that acts only in training. The network can't copy its input, so it
# learns what digits look like, and at inference it maps a noisy digit to a
# clean one. We corrupt with additive Gaussian noise of standard deviation 0.4
# (clipped to [0, 1]), which leaves the noisy digits at about 11 dB PSNR.
#
# Run it with `python tutorials/02_convolutional_and_denoising.py --out outputs/02`,
# or open `tutorials/notebooks/02_convolutional_and_denoising.ipynb`; `--short`
# is a smoke run (1 epoch on 2,000 digits).

# %% [markdown]
# ## Setup

# %%
import argparse
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers

import keras_ae
from keras_ae.layers import GaussianCorruption

STEM = "02_convolutional_and_denoising"
parser = argparse.ArgumentParser(description="Convolutional and denoising autoencoders on MNIST.")
parser.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
parser.add_argument("--noise-level", type=float, default=0.4, help="noise std (default 0.4)")
parser.add_argument("--latent-dim", type=int, default=128, help="code size (default 128)")
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
# The embedded subset: 8,000 training and 2,000 test digits in [0, 1]. The
# noisy test set comes from the same corruption layer the denoising model
# trains with, called with `training=True` and its own seed.

# %%
(x_train, _), (x_test, _) = keras_ae.datasets.load_mnist(source="embedded")
if args.short:
    x_train, x_test = x_train[:2000], x_test[:500]
corrupt = GaussianCorruption(args.noise_level, seed=2024)
x_test_noisy = keras.ops.convert_to_numpy(corrupt(x_test, training=True))
print(f"train {x_train.shape}, test {x_test.shape}, noise std {args.noise_level}")

# %% [markdown]
# ## Build it by hand
#
# A denoising autoencoder is an ordinary autoencoder trained on pairs: a
# corrupted digit as the input, the clean digit as the target. Here we add
# the noise ourselves, with NumPy, outside the model. The model is a conv
# autoencoder in plain `keras.layers`: two stride-2 convolutions (28×28 →
# 14×14 → 7×7), a Dense code of `latent_dim` numbers, a Dense layer back to
# 7×7×64, two stride-2 transposed convolutions up to 28×28 and a last
# convolution to one sigmoid channel. It is compiled as the denoising builder
# compiles its conv model: binary cross-entropy (pixels lie in [0, 1]) and
# Adam with a learning rate of 3e-3.

# %%
rng = np.random.default_rng(0)
noise = args.noise_level * rng.standard_normal(x_train.shape).astype("float32")
x_train_noisy = np.clip(x_train + noise, 0.0, 1.0)

inputs = keras.Input(shape=(28, 28, 1))
h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
h = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(h)
code = layers.Dense(args.latent_dim)(layers.Flatten()(h))  # the code: linear
h = layers.Dense(7 * 7 * 64, activation="relu")(code)
h = layers.Reshape((7, 7, 64))(h)
h = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(h)
h = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(h)
outputs = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(h)
by_hand = keras.Model(inputs, outputs, name="denoising_autoencoder_by_hand")
by_hand.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
by_hand.summary()

# %% [markdown]
# Training takes (noisy, clean) pairs: `fit(x_train_noisy, x_train)`. A few
# epochs show it learning to denoise; the PSNR (defined below, in dB, higher
# is better) of its output on the noisy test digits is already well above
# the noisy digits' own.

# %%
psnr = keras_ae.metrics.psnr
by_hand.fit(
    x_train_noisy,
    x_train,
    epochs=min(args.epochs, 3),
    batch_size=32,
    validation_data=(x_test_noisy, x_test),
    verbose=2,
)
hand_psnr = psnr(x_test, by_hand.predict(x_test_noisy, verbose=0))
print(f"noisy test digits {psnr(x_test, x_test_noisy):.2f} dB, denoised by hand {hand_psnr:.2f} dB")

# %% [markdown]
# ## Build the models
#
# keras_ae's builders make the same network. The conv trunk (32 and 64
# filters, stride 2, 3×3 kernels) is `conv_features` and `conv_decode` in
# `keras_ae/trunks.py`, the model class is in `keras_ae/models.py`.
# `build_denoising_autoencoder` moves the noise inside the model: a
# `GaussianCorruption` layer (`keras_ae/layers.py`) in front of the encoder
# draws fresh noise for every batch in training, so `fit(x, x)` sees new
# (noisy, clean) pairs each epoch rather than one fixed noisy copy, and it is
# the identity at inference, in `predict`, in `model.encoder` and in the
# exported SavedModel. `build_conv_autoencoder` is the same network without
# the corruption layer, compiled with Adam at 1e-3.
#
# We check that the hand-built model has the denoising model's layers (their
# output shapes, in order, the corruption layer aside) and the same number of
# parameters, then go on with the builders' models.

# %%
keras.utils.set_random_seed(42)  # the builders' weights do not depend on the cells above
conv = keras_ae.build_conv_autoencoder(latent_dim=args.latent_dim)
denoising = keras_ae.build_denoising_autoencoder(
    noise="gaussian", noise_level=args.noise_level, latent_dim=args.latent_dim, seed=7
)
conv.summary(expand_nested=True)
denoising.summary(expand_nested=True)


def layer_shapes(m):
    """Output shape of every layer, nested models opened, input and corruption left out."""
    shapes = []
    for layer in m.layers:
        if isinstance(layer, keras.Model):
            shapes += layer_shapes(layer)
        elif not isinstance(layer, keras.layers.InputLayer | GaussianCorruption):
            shapes.append(tuple(layer.output.shape))
    return shapes


assert layer_shapes(by_hand) == layer_shapes(denoising), (
    layer_shapes(by_hand),
    layer_shapes(denoising),
)
assert by_hand.count_params() == denoising.count_params()
print(f"same layer shapes and {denoising.count_params():,} parameters")

# %% [markdown]
# ## Train
#
# Both fit `(x, x)`: the denoising model corrupts its input by itself. Small
# batches (32) give 250 updates per epoch: conv autoencoders first sit on a
# plateau where they output a blurred average digit, and more updates get
# them past it sooner.

# %%
for model in (conv, denoising):
    print(f"\n{model.name}")
    model.fit(
        x_train,
        x_train,
        epochs=args.epochs,
        batch_size=32,
        validation_data=(x_test, x_test),
        verbose=2,
    )

# %% [markdown]
# ## Evaluate
#
# PSNR = 10 log10(1 / MSE) in dB for pixels in [0, 1], over the whole test
# set, against the clean digits. Higher is better; +3 dB halves the error.

# %%
conv_clean = psnr(x_test, conv.predict(x_test, verbose=0))
conv_noisy = psnr(x_test, conv.predict(x_test_noisy, verbose=0))
denoised = denoising.predict(x_test_noisy, verbose=0)
denoised_psnr = psnr(x_test, denoised)
noisy_psnr = psnr(x_test, x_test_noisy)
denoised_clean = psnr(x_test, denoising.predict(x_test, verbose=0))
print("\ntest PSNR against the clean digits:")
print(f"  noisy input                    {noisy_psnr:6.2f} dB")
print(f"  conv AE on clean input         {conv_clean:6.2f} dB")
print(f"  conv AE on noisy input         {conv_noisy:6.2f} dB")
print(f"  denoising AE on noisy input    {denoised_psnr:6.2f} dB")
print(f"  denoising AE on clean input    {denoised_clean:6.2f} dB")

# %% [markdown]
# ## Visualise
#
# Rows: the clean digits, their noisy versions, the plain conv autoencoder's
# output for the noisy digits, and the denoising autoencoder's.

# %%
rows = {
    "original": x_test[:10],
    f"noisy (std {args.noise_level})": x_test_noisy[:10],
    "conv AE": conv.predict(x_test_noisy[:10], verbose=0),
    "denoising AE": denoised[:10],
}
fig, axes = plt.subplots(len(rows), 10, figsize=(10, 4.4))
for r, (title, images) in enumerate(rows.items()):
    for i in range(10):
        axes[r, i].imshow(images[i].squeeze(), cmap="gray", vmin=0, vmax=1)
        axes[r, i].axis("off")
    axes[r, 0].set_title(title, loc="left", fontsize=9)
fig.tight_layout()
fig.savefig(out / "denoising.png", dpi=100)
print(f"wrote {out / 'denoising.png'}")
plt.show()

# %% [markdown]
# ## Export
#
# The SavedModel runs the clean path: give it a noisy digit, get a clean one.
# (Under PyTorch, which Keras cannot export, we save a `.keras` file; see tutorial 01.)

# %%
if keras_ae.export.saved_model_supported():
    path = keras_ae.export_saved_model(denoising, out / "saved_model", overwrite=True)
    print(f"wrote {path} (endpoints: serve, reconstruct, encode, decode)")
else:
    path = keras_ae.save_keras(denoising, out / "denoising.keras", overwrite=True)
    print(f"wrote {path}")

# %% [markdown]
# ## Record the figures
#
# With `--figures FILE` the run writes its headline figures into FILE, with
# the command that reproduces them; the documentation quotes them from
# `docs/figures.json`. PSNRs are in dB.

# %%
if args.figures:
    command = (
        f"python tutorials/{STEM}.py --epochs {args.epochs} --noise-level {args.noise_level}"
        f" --latent-dim {args.latent_dim}"
    )
    command += " --short" * args.short + f" --figures {args.figures}"
    values = {
        "noisy_psnr": noisy_psnr,
        "conv_clean_psnr": conv_clean,
        "conv_noisy_psnr": conv_noisy,
    }
    values |= {"denoised_psnr": denoised_psnr, "denoising_clean_psnr": denoised_clean}
    values |= {"by_hand_denoised_psnr": hand_psnr}
    keras_ae.report.record_figures(args.figures, STEM, values, command=command)
    print(f"recorded {sorted(values)} in {args.figures}")

# %% [markdown]
# ## Conclusion
#
# The plain conv autoencoder reconstructs clean digits well but passes part
# of the noise through; the denoising one, trained on corrupted inputs,
# removes most of it. In the full-length run (the defaults: 15 epochs,
# noise std 0.4, a code of 128) the noisy test digits are at
# 10.98 dB<!--fig:02_convolutional_and_denoising.noisy_psnr-->. The conv
# autoencoder reaches 26.38 dB<!--fig:02_convolutional_and_denoising.conv_clean_psnr-->
# on clean digits but only 13.14 dB<!--fig:02_convolutional_and_denoising.conv_noisy_psnr-->
# on noisy ones; the denoising autoencoder brings the noisy digits to
# 20.73 dB<!--fig:02_convolutional_and_denoising.denoised_psnr--> (and
# reconstructs clean ones at 22.64 dB<!--fig:02_convolutional_and_denoising.denoising_clean_psnr-->:
# it learned digits, not the identity). Masking and salt-and-pepper noise
# work the same way (`noise="masking"` or `"salt_and_pepper"`, with
# `noise_level` the fraction of corrupted pixels). Tutorial 03 turns to
# sparse codes.

# %% [markdown]
# ## Exercises
#
# 1. Double the noise: `--noise-level 0.8`. Predict the noisy digits' PSNR
#    and how close the denoising autoencoder gets to its PSNR at 0.4.
# 2. Shrink the code: `--latent-dim 16`. Predict which of the two models
#    loses more PSNR on its own task (clean input for the conv AE, noisy
#    input for the denoising AE).
# 3. Corrupt by masking instead: `noise="masking", noise_level=0.5` in
#    `build_denoising_autoencoder`. Predict how it does on the Gaussian-noisy
#    test digits, which it never saw in training.
#
# Expected outcomes: docs/exercises.md.
