# %% [markdown]
# # Tied weights: half the kernels, and no worse reconstructions
#
# A dense autoencoder whose decoder reuses the encoder's kernels, transposed.
#
# Runtime: about 1 minute on 2 CPU cores with the defaults.

# %% [markdown]
# ## Introduction
#
# In a dense autoencoder the decoder mirrors the encoder: where the encoder
# maps 784 → 256 with a 784×256 kernel W, the decoder maps 256 → 784 with a
# 256×784 kernel of its own. Tying the weights sets the decoder's kernel to Wᵀ
# (each decoder layer keeps its own bias). The model then has half the kernel
# parameters, a built-in symmetry that acts as a regulariser, and the
# classical link to PCA (whose decoder is the encoder's transpose).
#
# keras_ae builds the tie with a `DenseTranspose` layer that holds a reference
# to the encoder's Dense layer. The model rebuilds the tie when it is loaded, so
# a `.keras` file and a SavedModel both keep it.
#
# The tied decoder layer is `DenseTranspose` in `keras_ae/layers.py`; the
# dense trunk that uses it is `dense_decode` in `keras_ae/trunks.py`.
#
# Run it with `python tutorials/05_tied_weights.py --out outputs/05`, or open
# `tutorials/notebooks/05_tied_weights.ipynb`; `--short` is a smoke run (1
# epoch on 2,000 digits).

# %% [markdown]
# ## Setup

# %%
import argparse
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_ae

STEM = "05_tied_weights"
parser = argparse.ArgumentParser(
    description="Tied weights: half the kernels, and no worse reconstructions."
)
parser.add_argument("--epochs", type=int, default=30, help="training epochs (default 30)")
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
# The same 784 → 256 → 128 → 32 hourglass twice; only `tied_weights` differs.

# %%
keras.utils.set_random_seed(42)
untied = keras_ae.build_dense_autoencoder(tied_weights=False)
keras.utils.set_random_seed(42)
tied = keras_ae.build_dense_autoencoder(tied_weights=True)
tied.summary(expand_nested=True)


def kernel_count(model):
    """Kernel parameters, each shared kernel counted once."""
    kernels = {id(w): w for w in model.weights if w.name == "kernel"}
    return sum(int(np.prod(w.shape)) for w in kernels.values())


print("parameters:      untied     tied")
print(f"  kernels     {kernel_count(untied):10,d} {kernel_count(tied):8,d}")
print(f"  total       {untied.count_params():10,d} {tied.count_params():8,d}")
decoder_layer = tied.decoder.get_layer("decoder_dense_3")
print(
    f"decoder_dense_3 uses {decoder_layer.source.name}'s kernel: "
    f"{decoder_layer.source.kernel is tied.encoder.get_layer('encoder_dense_1').kernel}"
)

# %% [markdown]
# ## Train

# %%
for model in (untied, tied):
    print(f"\n{model.name}")
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

# %%
reconstructions = {m.name: m.predict(x_test, verbose=0) for m in (untied, tied)}
untied_mse = keras_ae.metrics.mse(x_test, reconstructions[untied.name])
tied_mse = keras_ae.metrics.mse(x_test, reconstructions[tied.name])
print("\ntest MSE:")
print(f"  untied  {untied_mse:.5f}")
print(f"  tied    {tied_mse:.5f}  ({tied_mse / untied_mse:.3f}x untied)")

# %% [markdown]
# ## Round trips
#
# A `.keras` file reloads (in safe mode) into the same class with the ties
# rebuilt; a SavedModel serves the same outputs from plain TensorFlow. Keras
# writes SavedModels under the TensorFlow and JAX backends only, so under
# PyTorch we stop at the `.keras` file (tutorial 01 says how to export it).

# %%
keras_path = keras_ae.save_keras(tied, out / "tied.keras", overwrite=True)
reloaded = keras.saving.load_model(keras_path, safe_mode=True)
layer = reloaded.decoder.get_layer("decoder_dense_3")
tie_kept = layer.source.kernel is reloaded.encoder.get_layer("encoder_dense_1").kernel
keras_gap = np.abs(reloaded.predict(x_test, verbose=0) - reconstructions[tied.name]).max()
print(f"\n.keras: {keras_path}, tie kept: {tie_kept}, max |difference| {keras_gap:.2e}")

if keras_ae.export.saved_model_supported():
    import tensorflow as tf

    saved_path = keras_ae.export_saved_model(tied, out / "saved_model", overwrite=True)
    served = tf.saved_model.load(str(saved_path))
    sm_gap = np.abs(served.serve(x_test).numpy() - reconstructions[tied.name]).max()
    codes = served.encode(x_test[:5]).numpy()
    print(f"SavedModel: {saved_path}, serve max |difference| {sm_gap:.2e}, encode {codes.shape}")

# %% [markdown]
# ## Visualise
#
# Top: test digits; then the untied and tied reconstructions. Bottom: the
# first 16 rows of Wᵀ of the first layer, the filters that the tied decoder
# also uses to paint its output.

# %%
fig, axes = plt.subplots(4, 16, figsize=(12, 3.4))
rows = {
    "original": x_test[:16],
    "untied": reconstructions[untied.name][:16],
    "tied": reconstructions[tied.name][:16],
}
kernel = keras.ops.convert_to_numpy(tied.encoder.get_layer("encoder_dense_1").kernel)
for r, (title, images) in enumerate(rows.items()):
    for i in range(16):
        axes[r, i].imshow(images[i].squeeze(), cmap="gray", vmin=0, vmax=1)
    axes[r, 0].set_title(title, loc="left", fontsize=9)
for i in range(16):
    w = kernel[:, i].reshape(28, 28)
    axes[3, i].imshow(w, cmap="RdBu_r", vmin=-np.abs(w).max(), vmax=np.abs(w).max())
axes[3, 0].set_title("shared filters (first layer)", loc="left", fontsize=9)
for ax in axes.flat:
    ax.axis("off")
fig.tight_layout()
fig.savefig(out / "tied_weights.png", dpi=100)
print(f"wrote {out / 'tied_weights.png'}")
plt.show()

# %% [markdown]
# ## Export
#
# Done above: `tied.keras` and, under TensorFlow or JAX, the SavedModel
# `saved_model/` (endpoints serve, reconstruct, encode, decode).

# %% [markdown]
# ## Record the figures
#
# With `--figures FILE` the run writes its headline figures into FILE, with
# the command that reproduces them; the documentation quotes them from
# `docs/figures.json`.

# %%
if args.figures:
    command = f"python tutorials/{STEM}.py --epochs {args.epochs}"
    command += " --short" * args.short + f" --figures {args.figures}"
    values = {
        "untied_mse": untied_mse,
        "tied_mse": tied_mse,
        "tied_over_untied": tied_mse / untied_mse,
    }
    values |= {"untied_kernels": kernel_count(untied), "tied_kernels": kernel_count(tied)}
    values |= {"untied_params": untied.count_params(), "tied_params": tied.count_params()}
    keras_ae.report.record_figures(args.figures, STEM, values, command=command)
    print(f"recorded {sorted(values)} in {args.figures}")

# %% [markdown]
# ## Conclusion
#
# Tying the weights halves the kernel parameters, from
# 475,136<!--fig:05_tied_weights.untied_kernels--> to
# 237,568<!--fig:05_tied_weights.tied_kernels-->, and here it costs no test
# error: in the full-length run (the defaults: 30 epochs on 8,000 digits) the
# tied model's test MSE is 0.00928<!--fig:05_tied_weights.tied_mse-->
# against 0.01040<!--fig:05_tied_weights.untied_mse--> untied, that is
# 0.892×<!--fig:05_tied_weights.tied_over_untied--> the untied error: on
# 8,000 training digits the untied model's extra kernels do not buy a lower
# test error, and the tie's constraint does not hold the model back. The tie
# is part of the model's structure, not a copy of
# values: the reloaded model and the SavedModel still share one kernel
# between encoder and decoder. Tutorial 06 stacks autoencoders to pretrain a
# classifier.

# %% [markdown]
# ## Exercises
#
# 1. Train both for 5 epochs only (`--epochs 5`). Predict which of the two
#    has the lower test error early in training, then run it.
# 2. Give both a code of 128 numbers (`latent_dim=128` in both builders).
#    Predict whether the tied model's error moves closer to the untied one's
#    or further from it.
# 3. Drop the non-linearity (`activation=None` in both builders): a tied
#    linear autoencoder is PCA's model. Predict the tied model's error
#    relative to `keras_ae.metrics.pca_mse(x_train, x_test, 32)`.
#
# Expected outcomes: docs/exercises.md.
