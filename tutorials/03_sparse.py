# %% [markdown]
# # Sparse autoencoders: few active code units per digit
#
# KL-divergence sparsity (rho = 0.05) and the L1 variant, against a dense autoencoder.
#
# Runtime: about 3 minutes on 2 CPU cores with the defaults.

# %% [markdown]
# ## Introduction
#
# A sparse autoencoder limits how many code units are active for any one
# input instead of (or on top of) limiting how many there are, so its code may
# even be wider than the layer before it (overcomplete).
#
# - KL sparsity (the UFLDL formulation): sigmoid code units; with ρ̂_j unit j's
#   mean activation over a batch and ρ a small target, the loss gets
#   β · Σ_j KL(ρ ‖ ρ̂_j). The penalty is 0 when every unit is active a fraction
#   ρ of the time on average, and grows fast as ρ̂_j moves away.
# - L1 sparsity: ReLU code units and λ · Σ_j |h_j|, which drives many
#   activations to exactly zero.
#
# We train the KL model with ρ = 0.05, the same network without the penalty,
# a dense autoencoder with a linear code of the same size, and the L1 variant,
# and compare activations, reconstruction error and first-layer filters.
#
# The penalty is the `SparsityRegularizer` layer in `keras_ae/layers.py`
# (its formulas in `keras_ae/losses.py`), placed after the encoder of the
# dense trunk in `keras_ae/trunks.py` by `keras_ae/models.py`.
#
# Run it with `python tutorials/03_sparse.py --out outputs/03`, or open
# `tutorials/notebooks/03_sparse.ipynb`; `--short` is a smoke run (1 epoch
# on 2,000 digits).

# %% [markdown]
# ## Setup

# %%
import argparse
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_ae

STEM = "03_sparse"
parser = argparse.ArgumentParser(
    description="Sparse autoencoders: few active code units per digit."
)
parser.add_argument("--epochs", type=int, default=40, help="training epochs (default 40)")
parser.add_argument("--target", type=float, default=0.05, help="KL target rho (default 0.05)")
parser.add_argument("--out", default=f"outputs/{STEM}", help="output folder")
parser.add_argument("--short", action="store_true", help="smoke run: 1 epoch, 2,000 digits")
parser.add_argument("--figures", metavar="FILE", help="record the run's figures in FILE")
args, _ = parser.parse_known_args()  # in a notebook, the kernel's own arguments are ignored
if args.short:
    args.epochs = 1
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Prepare the data

# %%
(x_train, _), (x_test, _) = keras_ae.datasets.load_mnist(source="embedded")
if args.short:
    x_train, x_test = x_train[:2000], x_test[:500]

# %% [markdown]
# ## Build the models
#
# All four share the builder's default trunk (Dense 256 and 128, ReLU) and
# code size, and start from the same initial weights where the layers match.

# %%
models = {}
keras.utils.set_random_seed(42)
models["KL sparse"] = keras_ae.build_sparse_autoencoder(sparsity="kl", target=args.target)
latent_dim = models["KL sparse"].trunk.latent_dim
weight = models["KL sparse"].get_config()["weight"]
keras.utils.set_random_seed(42)
models["no penalty"] = keras_ae.build_sparse_autoencoder(
    sparsity="kl", target=args.target, weight=0.0, name="sigmoid_code_autoencoder"
)
keras.utils.set_random_seed(42)
models["dense"] = keras_ae.build_dense_autoencoder(latent_dim=latent_dim)
keras.utils.set_random_seed(42)
models["L1 sparse"] = keras_ae.build_sparse_autoencoder(sparsity="l1", name="l1_sparse_autoencoder")
print(f"code size {latent_dim}, KL target {args.target}, KL weight {weight:g}")
models["KL sparse"].summary(expand_nested=True)

# %% [markdown]
# The deep trunk's first layer is not the sparse one, so for a picture of
# sparse features we also train the classic UFLDL model: one sigmoid layer of
# 196 sparse units between input and output, whose input weights are the
# features. Its code sees the pixels directly, and it needs a larger β (0.03)
# than the default to bring the mean activation down to ρ.

# %%
keras.utils.set_random_seed(42)
one_layer = keras_ae.build_sparse_autoencoder(
    hidden_units=(),
    latent_dim=196,
    target=args.target,
    weight=0.03,
    name="one_layer_sparse_autoencoder",
)
one_layer.summary(expand_nested=True)

# %% [markdown]
# ## Train
#
# The sparse models report `mean_activation` and `sparsity_loss` beside the loss.

# %%
for name, model in [*models.items(), ("one layer KL sparse", one_layer)]:
    print(f"\n{name}")
    model.fit(
        x_train,
        x_train,
        epochs=args.epochs,
        batch_size=128,
        validation_data=(x_test, x_test),
        verbose=2,
    )

# %% [markdown]
# ## Evaluate
#
# For each model: mean code activation on the test set, the fraction of
# activations above 0.1 (sigmoid codes) or above 0 (ReLU codes), and test MSE.

# %%
codes = {name: m.encoder.predict(x_test, verbose=0) for name, m in models.items()}
mse = {name: keras_ae.metrics.reconstruction_mse(m, x_test) for name, m in models.items()}
print("\ntest set:              mean act   active    MSE   MSE / dense")
for name in models:
    c = codes[name]
    active = (c > 0).mean() if name == "L1 sparse" else (c > 0.1).mean()
    mean = f"{c.mean():8.4f}" if name != "dense" else "  linear"
    print(f"  {name:14s}  {mean}  {active:7.3f}  {mse[name]:.5f}  {mse[name] / mse['dense']:6.2f}")
print(
    f"\nKL sparse: mean code activation {codes['KL sparse'].mean():.4f} (target {args.target}),"
    f" test MSE {mse['KL sparse'] / mse['dense']:.2f}x the dense autoencoder's"
)
per_digit = (codes["L1 sparse"] > 0).sum(axis=1)
print(f"L1 sparse: {per_digit.mean():.1f} of {latent_dim} code units non-zero per digit")

# %% [markdown]
# ## Visualise
#
# Histograms of the code activations with and without the KL penalty: the
# penalty moves the mass towards 0 so that the average is ρ. Then the
# filters of the one-layer KL model: each code unit's 784 input weights drawn
# as a 28×28 image (the 64 units with the largest weights).

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
for ax, name in zip(axes, ("no penalty", "KL sparse"), strict=True):
    ax.hist(codes[name].ravel(), bins=50, range=(0, 1), color="#48c")
    ax.set_yscale("log")
    ax.set_title(f"{name}: mean activation {codes[name].mean():.3f}")
    ax.set_xlabel("code activation (test set)")
axes[0].set_ylabel("count")
fig.tight_layout()
fig.savefig(out / "activations.png", dpi=100)
print(f"wrote {out / 'activations.png'}")
plt.show()

one_layer_codes = one_layer.encoder.predict(x_test, verbose=0)
one_layer_mse = keras_ae.metrics.reconstruction_mse(one_layer, x_test)
print(
    f"one-layer KL sparse: mean activation {one_layer_codes.mean():.4f}, "
    f"test MSE {one_layer_mse:.5f}"
)
kernel = keras.ops.convert_to_numpy(one_layer.encoder.get_layer("code").kernel)
strongest = np.argsort(-np.linalg.norm(kernel, axis=0))[:64]
fig, axes = plt.subplots(8, 8, figsize=(6, 6.3))
for unit, ax in zip(strongest, axes.flat, strict=True):
    w = kernel[:, unit].reshape(28, 28)
    ax.imshow(w, cmap="gray", vmin=-np.abs(w).max(), vmax=np.abs(w).max())
    ax.axis("off")
fig.suptitle("one-layer KL sparse autoencoder: filters")
fig.tight_layout()
fig.savefig(out / "filters.png", dpi=100)
print(f"wrote {out / 'filters.png'}")
plt.show()

# %% [markdown]
# ## Export
#
# (Under PyTorch, which Keras cannot export, we save a `.keras` file; see tutorial 01.)

# %%
if keras_ae.export.saved_model_supported():
    path = keras_ae.export_saved_model(models["KL sparse"], out / "saved_model", overwrite=True)
    print(f"wrote {path} (endpoints: serve, reconstruct, encode, decode)")
else:
    path = keras_ae.save_keras(models["KL sparse"], out / "kl_sparse.keras", overwrite=True)
    print(f"wrote {path}")

# %% [markdown]
# ## Record the figures
#
# With `--figures FILE` the run writes its headline figures into FILE, with
# the command that reproduces them; the documentation quotes them from
# `docs/figures.json`.

# %%
if args.figures:
    command = f"python tutorials/{STEM}.py --epochs {args.epochs} --target {args.target}"
    command += " --short" * args.short + f" --figures {args.figures}"
    keys = {"KL sparse": "kl", "no penalty": "no_penalty", "dense": "dense", "L1 sparse": "l1"}
    values = {f"{key}_mse": mse[name] for name, key in keys.items()}
    values |= {f"{key}_over_dense": mse[name] / mse["dense"] for name, key in keys.items()}
    values |= {"kl_mean_activation": codes["KL sparse"].mean(), "l1_active_units": per_digit.mean()}
    values |= {"one_layer_mean_activation": one_layer_codes.mean(), "one_layer_mse": one_layer_mse}
    keras_ae.report.record_figures(args.figures, STEM, values, command=command)
    print(f"recorded {sorted(values)} in {args.figures}")

# %% [markdown]
# ## Conclusion
#
# The KL penalty holds the mean activation near ρ: in the full-length run
# (the defaults: 40 epochs, ρ = 0.05) the KL model's mean code activation on
# the test digits is 0.0497<!--fig:03_sparse.kl_mean_activation-->. Most
# code values sit near 0 and a few units respond strongly to each digit.
# Sigmoid code units cost reconstruction accuracy by themselves: without the
# penalty the test MSE is 1.62×<!--fig:03_sparse.no_penalty_over_dense-->
# the dense autoencoder's, and the penalty does not add to that cost here
# (1.45×<!--fig:03_sparse.kl_over_dense-->). The L1 variant keeps ReLU codes
# and sets most of them to exactly zero: 50.9<!--fig:03_sparse.l1_active_units-->
# of its 256 code units are non-zero per digit on average, for a test MSE of
# 1.47×<!--fig:03_sparse.l1_over_dense--> the dense one's. Tutorial 04
# penalises the encoder's Jacobian instead of its activations.

# %% [markdown]
# ## Exercises
#
# 1. Ask for a sparser code: `--target 0.01`. Predict the KL model's mean
#    activation and whether its test MSE rises, then run it.
# 2. Make the penalty ten times stronger (`weight=0.03` for the "KL sparse"
#    model). Predict what happens to the mean activation and to the MSE.
# 3. Give the one-layer model the default β (drop `weight=0.03`). Predict
#    its mean activation against the target ρ, and how its filters look.
#
# Expected outcomes: docs/exercises.md.
