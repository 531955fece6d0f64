"""keras_ae.plotting: figures on their own Agg canvas, PNGs written, and drawing
nowhere else (the command line draws through these functions)."""

from __future__ import annotations

import inspect
import sys

import matplotlib
import numpy as np
import pytest

import keras_ae
from keras_ae import cli, plotting


@pytest.fixture(scope="module")
def small_vae():
    """A small latent-2 VAE (untrained: the figures' layout is under test)."""
    return keras_ae.build_vae(hidden_units=(32,), latent_dim=2, seed=1)


@pytest.fixture
def no_global_backend(monkeypatch):
    """Fail on any switch of matplotlib's global backend and on any pyplot import."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"matplotlib.use{args} called")

    monkeypatch.setattr(matplotlib, "use", refuse)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import -> ImportError


def test_plots_return_figures_and_write_pngs(small_vae, tmp_path, mnist, no_global_backend):
    from matplotlib.figure import Figure

    (_, _), (x_test, y_test) = mnist
    vae = small_vae
    figures = {
        "grid.png": plotting.image_grid(
            [x_test[:5], vae.reconstruct(x_test[:5])], row_labels=["original", "recon"]
        ),
        "latent_grid.png": plotting.latent_grid(vae, n=4, span=1.5),
        "scatter.png": plotting.latent_scatter(vae, x_test[:200], y_test[:200]),
    }
    for name, figure in figures.items():
        assert isinstance(figure, Figure)
        figure.savefig(tmp_path / name)
        assert (tmp_path / name).stat().st_size > 1000
    plotting.image_grid(x_test[:12], ncols=5, path=tmp_path / "sub" / "rows.png")
    assert (tmp_path / "sub" / "rows.png").exists()
    with pytest.raises(ValueError, match="latent_dim"):
        plotting.latent_grid(keras_ae.build_vae(hidden_units=(8,), latent_dim=3))


def test_the_command_lines_rows_of_images(tmp_path, mnist, no_global_backend):
    """What ``keras-ae train`` and ``keras-ae demo`` draw: labelled rows of images,
    a short row filled with white, written as a PNG that shows the digits."""
    from matplotlib.image import imread

    x = mnist[1][0][:10]
    path = tmp_path / "out" / "overview.png"
    figure = plotting.image_grid([x, x[:4]], row_labels=["original", "short"], path=path)
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert labels == ["original", "short"]
    pixels = imread(path)[..., :3].mean(axis=-1)
    assert pixels.shape == (round(figure.get_figheight() * 100), round(figure.get_figwidth() * 100))
    assert (pixels < 0.1).mean() > 0.2 and (pixels > 0.9).mean() > 0.1  # digits and white
    red = x[:3] * np.array([1.0, 0.0, 0.0], "float32")  # (3, 28, 28, 3): red digits
    plotting.image_grid([red], row_labels=["rgb"], path=tmp_path / "rgb.png")
    rgb = imread(tmp_path / "rgb.png")[..., :3]
    assert ((rgb[..., 0] > 0.8) & (rgb[..., 1] < 0.2)).mean() > 0.02  # drawn in colour


def test_mosaic_places_every_tile_by_hand():
    tiles = np.arange(1, 7, dtype="float32").reshape(6, 1, 1) / 10
    canvas = plotting.mosaic([tiles[:3], tiles[3:5]], pad=1)
    assert canvas.shape == (5, 7)
    np.testing.assert_allclose(canvas[1, [1, 3, 5]], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(canvas[3, [1, 3, 5]], [0.4, 0.5, 1.0])  # short row: white
    assert np.all(canvas[[0, 2, 4]] == 1.0) and np.all(canvas[:, [0, 2, 4, 6]] == 1.0)


@pytest.mark.parametrize(
    "shape, drawn",
    [((5, 28, 28, 1), True), ((5, 8, 8, 3), True), ((5, 24, 1), False), ((5, 30), False)],
)
def test_is_image_batch(shape, drawn):
    assert plotting.is_image_batch(np.zeros(shape)) is drawn


def test_the_command_line_draws_only_through_plotting():
    source = inspect.getsource(cli)
    assert "matplotlib" not in source
    assert "plotting.image_grid(" in source and "plotting.is_image_batch(" in source
