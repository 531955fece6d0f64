"""Real training on the embedded data."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.metrics import pca_mse, reconstruction_mse


def test_default_dense_autoencoder_learns_in_three_epochs(mnist):
    (x_train, _), (x_test, _) = mnist
    keras.utils.set_random_seed(1)
    model = keras_ae.build_dense_autoencoder()
    untrained = reconstruction_mse(model, x_test)
    model.fit(x_train, x_train, epochs=3, batch_size=128, verbose=0)
    trained = reconstruction_mse(model, x_test)
    print(f"test MSE untrained {untrained:.4f}, after 3 epochs {trained:.4f}")
    assert trained < 0.05
    assert trained < 0.5 * untrained
    # PCA with 32 components is the linear reference; a short run gets near it
    assert trained < 2.0 * pca_mse(x_train, x_test, 32)


def _trained_pair(x, **fit_kwargs):
    """Two identical dense AEs: one trained through keras_ae's ``fit``, one through
    Keras's own ``fit``, on the same data, without shuffling."""
    models = []
    for fit in (keras_ae.models.Autoencoder.fit, keras.Model.fit):
        keras.utils.set_random_seed(3)
        model = keras_ae.build_dense_autoencoder(hidden_units=(64,), latent_dim=8)
        fit(model, x, x, batch_size=64, epochs=2, shuffle=False, verbose=0, **fit_kwargs)
        models.append(model)
    return models


def test_one_pass_fit_matches_keras_fit_batch_for_batch(mnist):
    """fit(x, x) reads each batch by row, once; with shuffle=False it sees the batches Keras's
    own fit sees, so the weights agree to float32 round-off."""
    x = mnist[0][0][:1000]  # 1000 = 15 full batches of 64 and a partial one
    ours, stock = _trained_pair(x)
    for a, b in zip(ours.get_weights(), stock.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # and training happened: the weights moved from the seed's initial values
    keras.utils.set_random_seed(3)
    fresh = keras_ae.build_dense_autoencoder(hidden_units=(64,), latent_dim=8)
    pairs = zip(ours.get_weights(), fresh.get_weights(), strict=True)
    moved = max(np.abs(a - b).max() for a, b in pairs)
    assert moved > 1e-3


def test_fit_holds_the_rows_while_it_runs_and_never_saves_them(mnist, tmp_path):
    """fit(x) reads its batches by row from one held copy of x: the copy is no weight of
    the model (not in .keras files or SavedModels), is dropped when fit returns, and a
    later fit on another number of rows reuses the traced train function."""
    x = mnist[0][0][:1000]
    keras.utils.set_random_seed(6)
    model = keras_ae.build_dense_autoencoder(hidden_units=(), latent_dim=8)
    weights = len(model.weights)
    history = model.fit(x, epochs=2, batch_size=100, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    rows = model._rows()
    assert not rows.holding and rows._variable.numpy().shape == (0, 28, 28, 1)
    function = model.train_function
    model.fit(x[:600], epochs=1, batch_size=100, verbose=0)
    assert model.train_function is function
    assert int(model.optimizer.iterations.numpy()) == 2 * 10 + 6
    assert len(model.weights) == weights
    # 12,560 parameters: 50 KB of weights; the 1,000 held images would add 3.1 MB
    model.save(tmp_path / "model.keras")
    assert (tmp_path / "model.keras").stat().st_size < 500_000
    exported = keras_ae.export_saved_model(model, tmp_path / "saved")
    assert sum(f.stat().st_size for f in exported.rglob("*") if f.is_file()) < 1_000_000
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(reloaded.predict(x[:8], verbose=0), model.predict(x[:8], verbose=0))


def test_fit_without_targets_and_validation_split_follow_keras(mnist):
    """fit(x) trains on x as its own target; validation_split holds out the last samples,
    exactly as Keras does, so the final val_loss is the loss on those samples."""
    x = mnist[0][0][:1200]
    keras.utils.set_random_seed(4)
    model = keras_ae.build_dense_autoencoder()
    history = model.fit(x, epochs=2, batch_size=128, validation_split=0.25, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    held_out = x[900:]  # floor(1200 * 0.75) = 900, Keras's split point
    val_loss = history.history["val_loss"][-1]
    assert abs(val_loss - model.evaluate(held_out, held_out, verbose=0)) < 1e-5
    assert abs(model.evaluate(held_out, verbose=0) - val_loss) < 1e-5  # evaluate(x) too


def test_fit_with_other_targets_learns_those_targets(mnist):
    """Targets that are not the inputs go through Keras's path and are learned."""
    x = mnist[0][0][:1024]
    flipped = 1.0 - x
    keras.utils.set_random_seed(5)
    model = keras_ae.build_dense_autoencoder()
    model.fit(x, flipped, epochs=3, batch_size=64, verbose=0)
    to_flipped = model.evaluate(x, flipped, verbose=0)
    to_inputs = model.evaluate(x, x, verbose=0)
    print(f"BCE to the flipped targets {to_flipped:.3f}, to the inputs {to_inputs:.3f}")
    assert to_flipped < 0.5 * to_inputs


@pytest.mark.parametrize(
    ("split", "error"), [(1.0, ValueError), (-0.1, ValueError), ("0.2", TypeError)]
)
def test_bad_validation_split_names_the_argument(mnist, split, error):
    model = keras_ae.build_dense_autoencoder(hidden_units=(), latent_dim=4)
    with pytest.raises(error, match=r"validation_split.*Received: validation_split="):
        model.fit(mnist[1][0][:100], epochs=1, validation_split=split, verbose=0)


def _keras_steps(model):
    """``model`` trained by Keras's own train function (one XLA call per step)."""
    model.make_train_function = lambda force=False: keras.Model.make_train_function(model, force)
    return model


@pytest.mark.parametrize(
    "build",
    [
        lambda: keras_ae.build_dense_autoencoder(hidden_units=(64,), latent_dim=8),
        lambda: keras_ae.build_sparse_autoencoder(hidden_units=(), latent_dim=32),
        lambda: keras_ae.build_vae(hidden_units=(64,), latent_dim=4, seed=2),
    ],
    ids=["dense", "sparse", "vae"],
)
def test_fused_blocks_train_step_for_step_as_keras(mnist, build, monkeypatch):
    """Whole blocks of steps_per_execution steps run as one XLA loop; the weights,
    losses and sampled noise come out as Keras's step-by-step training gives them,
    including across the switch from Keras's loop to the fused blocks."""
    monkeypatch.setattr(keras_ae.tensorflow_backend, "FUSE_AFTER_STEPS", 32)  # one block by Keras
    x = mnist[0][0][:2500]  # 39 full batches of 64 and one of 4: a whole block, then a part
    runs = []
    for fused in (True, False):
        keras.utils.set_random_seed(7)
        model = build() if fused else _keras_steps(build())
        history = model.fit(x, epochs=2, batch_size=64, shuffle=False, verbose=0)
        runs.append((model, history.history))
    (ours, ours_logs), (stock, stock_logs) = runs
    assert ours.steps_per_execution == 32 and ours.jit_compile is True
    # the first block through Keras, then every full batch fused: 7 + (32 + 7)
    assert ours.train_function.fused_steps == 46
    assert not hasattr(stock.train_function, "fused_steps")
    assert int(ours.optimizer.iterations.numpy()) == int(stock.optimizer.iterations.numpy()) == 80
    for key, values in stock_logs.items():
        np.testing.assert_allclose(ours_logs[key], values, rtol=1e-5)
    assert ours_logs["loss"][1] < ours_logs["loss"][0]
    for a, b in zip(ours.get_weights(), stock.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_fused_blocks_take_datasets_of_unknown_length_and_yield_to_a_users_compile(
    mnist, monkeypatch
):
    """A tf.data dataset of unknown length trains as in Keras (the epoch ends when it
    runs out); a model compiled by the user without XLA trains with Keras's own loop."""
    import tensorflow as tf

    monkeypatch.setattr(keras_ae.tensorflow_backend, "FUSE_AFTER_STEPS", 0)
    x = mnist[0][0][:3000]
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(50).filter(lambda _: True)
    keras.utils.set_random_seed(8)
    model = keras_ae.build_dense_autoencoder(hidden_units=(32,), latent_dim=8)
    history = model.fit(dataset.map(lambda t: (t, t)), epochs=2, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 120  # 60 batches an epoch
    assert model.train_function.fused_steps == 120 - 32  # Keras's loop runs the first block
    assert history.history["loss"][1] < history.history["loss"][0]
    model.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=False)
    model.fit(x, epochs=1, batch_size=100, verbose=0)
    assert not hasattr(model.train_function, "fused_steps")
    assert int(model.optimizer.iterations.numpy()) == 30


def test_short_runs_keep_keras_loop_until_the_fused_blocks_pay_off(mnist, monkeypatch):
    """Below FUSE_AFTER_STEPS steps, counted as the optimizer counts them (an
    epoch of 10 steps counts 10, not a block of 32), a model trains through
    Keras's own loop; the fused blocks take over once a run has passed it."""
    monkeypatch.setattr(keras_ae.tensorflow_backend, "FUSE_AFTER_STEPS", 50)
    x = mnist[0][0][:1280]  # 10 steps an epoch at batch 128
    keras.utils.set_random_seed(9)
    model = keras_ae.build_dense_autoencoder(hidden_units=(32,), latent_dim=8)
    model.fit(x, epochs=4, batch_size=128, verbose=0)
    assert (model.train_function.keras_steps, model.train_function.fused_steps) == (40, 0)
    model.fit(x, epochs=3, batch_size=128, verbose=0)  # the 50th step, then fused epochs
    assert (model.train_function.keras_steps, model.train_function.fused_steps) == (50, 20)
    assert int(model.optimizer.iterations.numpy()) == 70


def test_conv1d_trunks_compile_with_xla_and_keras_loop(monkeypatch):
    """A conv trunk on series compiles with XLA and 32 steps per execution but
    trains through Keras's own loop (no fused blocks); one on images keeps
    Keras's compile defaults."""
    monkeypatch.setattr(keras_ae.tensorflow_backend, "FUSE_AFTER_STEPS", 0)
    series = keras_ae.build_conv_autoencoder(
        (16, 1), filters=(4,), latent_dim=2, output_activation=None
    )
    images = keras_ae.build_conv_autoencoder((8, 8, 1), filters=(4,), latent_dim=2)
    assert (series.jit_compile, series.steps_per_execution) == (True, 32)
    assert (images.jit_compile, images.steps_per_execution) == (False, 1)
    x = np.sin(np.linspace(0, 40, 512 * 16)).reshape(512, 16, 1).astype("float32")
    history = series.fit(x, epochs=2, batch_size=8, verbose=0)
    assert not hasattr(series.train_function, "fused_steps")
    assert int(series.optimizer.iterations.numpy()) == 128
    assert history.history["loss"][1] < history.history["loss"][0]
