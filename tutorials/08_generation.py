# %% [markdown]
# # Generating digits: VAE samples beside a denoising autoencoder's Markov chain
#
# Sample a VAE from its prior and run a denoising autoencoder's generative chain.
#
# Runtime: about 2 minutes on 2 CPU cores with the defaults.
#
# ## Introduction
#
# Two autoencoders that can generate new digits, in two different ways:
#
# - a **variational autoencoder** decodes draws of its prior, z ~ N(0, I):
#   one decoder pass per sample, independent samples;
# - a **denoising autoencoder** (Vincent et al. 2008) learns to undo a
#   corruption C(x̃|x). Bengio et al. (2013) show that alternating
#   "corrupt, then reconstruct" is a Markov chain whose stationary
#   distribution estimates the data distribution: started anywhere, even from
#   noise, it wanders among digit-like images. Its samples are consecutive
#   and correlated.
#
# Both models train on the embedded MNIST subset; `keras_ae.sampling.denoising_chain`
# runs the chain with the model's own corruption layer. As in Bengio et al.,
# the DAE's corruption is salt-and-pepper noise and each step draws binary
# pixels from the reconstruction (`sample_pixels=True`): the extra randomness
# lets the chains move from one digit to another.
#
# Run it with `python tutorials/08_generation.py --out outputs/08`.

# %% [markdown]
# ## Setup
#
# `--short` is the smoke run the notebook test uses: one epoch, 2,000 training digits
# and 20 chain steps.
# `--figures FILE` records the run's figures in FILE (docs/figures.json for
# the docs).

# %%
import argparse
import shlex
import sys
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_ae
from keras_ae import plotting, sampling

STEM = "08_generation"
parser = argparse.ArgumentParser(
    description="Sample a VAE from its prior and run a denoising autoencoder's generative chain."
)
parser.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
parser.add_argument("--steps", type=int, default=200, help="Markov chain steps (default 200)")
parser.add_argument("--out", default=f"outputs/{STEM}", help="output folder")
parser.add_argument(
    "--short", action="store_true", help="smoke run: 1 epoch, 2,000 digits, 20 steps"
)
parser.add_argument("--figures", help="record this run's figures in this JSON file")
args, _ = parser.parse_known_args()
if args.short:
    args.epochs, args.steps = 1, 20
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
keras.utils.set_random_seed(42)
started = time.time()

# %% [markdown]
# ## Prepare the data

# %%
(x_train, _), (x_test, _) = keras_ae.datasets.load_mnist(source="embedded")
if args.short:
    x_train = x_train[:2000]
print(f"train {x_train.shape}, test {x_test.shape}")

# %% [markdown]
# ## Build and train the two models
#
# A dense VAE with 16 latent dimensions, with a short KL warm-up; and a
# dense denoising autoencoder that learns to undo salt-and-pepper noise
# (40% of the pixels set to 0 or 1).

# %%
vae = keras_ae.build_vae(latent_dim=16, seed=42)
vae_history = vae.fit(
    x_train,
    x_train,
    epochs=args.epochs,
    batch_size=128,
    validation_data=(x_test, x_test),
    callbacks=[keras_ae.callbacks.KLAnnealing("linear", duration=max(1, args.epochs // 4))],
    verbose=2,
)
vae.summary()

# %% [markdown]
# The DAE's corruption is a layer of the model (`SaltPepperCorruption`,
# active only in training).

# %%
dae = keras_ae.build_denoising_autoencoder(
    architecture="dense",
    hidden_units=(512, 256),
    latent_dim=64,
    noise="salt_and_pepper",
    noise_level=0.4,
    seed=42,
)
dae_history = dae.fit(
    x_train,
    x_train,
    epochs=args.epochs,
    batch_size=128,
    validation_data=(x_test, x_test),
    verbose=2,
)
dae.summary()

# %% [markdown]
# The training curves: the VAE's −ELBO and the DAE's cross-entropy on
# corrupted inputs (training) and on clean test digits (validation).

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, (name, history) in zip(axes, (("VAE", vae_history), ("DAE", dae_history)), strict=True):
    ax.plot(history.history["loss"], label="training")
    ax.plot(history.history["val_loss"], label="validation")
    ax.set(title=name, xlabel="epoch", ylabel="loss")
    ax.legend()
fig.tight_layout()
fig.savefig(out / "training.png", dpi=100)

# %% [markdown]
# Their test figures: the VAE's −ELBO (nats per image) and the DAE's mean
# squared error on clean test digits.

# %%
figures = {
    "vae_neg_elbo": round(keras_ae.metrics.negative_elbo(vae, x_test, seed=0), 1),
    "dae_mse": round(keras_ae.metrics.reconstruction_mse(dae, x_test), 5),
}
print(figures)

# %% [markdown]
# ## Generate
#
# VAE: 40 decoded prior draws. DAE: 40 chains started from uniform noise;
# each step corrupts the current state with the model's own noise layer,
# reconstructs it, and draws binary pixels from the reconstruction. The
# chain returns the reconstructions; we keep the last one of every chain.

# %%
vae_samples = vae.sample(40, seed=0)
noise = np.random.default_rng(0).random((40, 28, 28, 1)).astype("float32")
chains = sampling.denoising_chain(dae, noise, steps=args.steps, seed=0, sample_pixels=True)
print(f"chains: {chains.shape} (steps + 1, chains, 28, 28, 1)")

# %% [markdown]
# ## Visualise
#
# Samples side by side: the VAE's are independent and often blurred (the
# decoder outputs pixel means); the chain's states are sharper strokes, but
# the chains favour a few shapes (round zeros, straight ones) and leave them
# rarely.

# %%
plotting.image_grid(vae_samples, ncols=10, title="VAE: decoded prior draws", path=out / "vae.png")

# %%
plotting.image_grid(
    chains[-1], ncols=10, title=f"DAE chain after {args.steps} steps", path=out / "dae.png"
)

# %%
plotting.image_grid(
    [vae_samples[:10], chains[-1][:10]],
    row_labels=["VAE", "DAE chain"],
    title="samples",
    path=out / "samples.png",
)

# %% [markdown]
# How the chains move: from noise, a few steps give digit-like strokes;
# later steps wander from one digit to another.

# %%
shown = sorted(t for t in {0, 1, 2, 5, 10, 20, 50, args.steps // 2, args.steps} if t <= args.steps)
plotting.image_grid(
    [chains[t, :10] for t in shown],
    row_labels=[f"step {t}" for t in shown],
    title="DAE chains from noise",
    path=out / "chain.png",
)

# %% [markdown]
# A chain started from test digits: it keeps the digit for a while, then
# drifts.

# %%
walk = sampling.denoising_chain(dae, x_test[:10], steps=args.steps, seed=1, sample_pixels=True)
plotting.image_grid(
    [walk[t] for t in shown],
    row_labels=[f"step {t}" for t in shown],
    title="DAE chains from test digits",
    path=out / "chain_from_digits.png",
)

# %% [markdown]
# ## Export
#
# The VAE's SavedModel has `sample(n, seed)`; the DAE's has
# `serve`/`reconstruct`, `encode` and `decode` (the clean path: the
# corruption is active only in training, so a chain outside Python adds its
# own noise between calls to `reconstruct`). Under PyTorch, which Keras cannot
# export, we save `.keras` files instead (see tutorial 01).

# %%
for name, model in (("vae", vae), ("dae", dae)):
    if keras_ae.export.saved_model_supported():
        path = keras_ae.export_saved_model(model, out / f"saved_model_{name}", overwrite=True)
    else:
        path = keras_ae.save_keras(model, out / f"{name}.keras", overwrite=True)
    print(f"wrote {path}")
figures["runtime_s"] = round(time.time() - started)
print(f"\ndone in {figures['runtime_s']} s")
if args.figures:
    command = shlex.join(["python", f"tutorials/{STEM}.py", *sys.argv[1:]])
    keras_ae.report.record_figures(args.figures, STEM, figures, command=command)
    print(f"recorded {sorted(figures)} in {args.figures}")

# %% [markdown]
# ## Conclusion
#
# Both autoencoders generate digits without any adversarial training. The
# VAE gives independent samples in one decoder pass and a likelihood bound to
# score them (tutorial 07; in the full-length run, the defaults, its test
# −ELBO is 114.6 nats<!--fig:08_generation.vae_neg_elbo-->). The DAE gives no
# likelihood, and its samples come from a chain that needs many steps to
# move between digits, but its training is a plain reconstruction loss. How
# well a chain mixes depends on the corruption and on the pixel draws (the
# second exercise tries another pair).
#
# The builders are in `keras_ae/builders.py`, the trunks in
# `keras_ae/trunks.py`, the corruption and sampling layers in
# `keras_ae/layers.py` and the chain in `keras_ae/sampling.py`.

# %% [markdown]
# ## Exercises
#
# 1. **A longer chain.** Run with `--steps 1000`. Predict: do the last
#    states look more varied or less than after 200 steps?
# 2. **Gaussian noise, mean pixels.** Build the DAE with
#    `noise="gaussian", noise_level=0.5` and run the chains with
#    `sample_pixels=False`. Predict how the chains move between digits.
# 3. **A bigger VAE code.** Build the VAE with `latent_dim=32`. Predict the
#    effect on the test −ELBO and on how blurred the samples look.
#
# Expected outcomes: docs/exercises.md.
