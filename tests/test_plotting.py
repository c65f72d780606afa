"""The figure functions draw without error, check their inputs, and encode values as documented."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from helpers import metrics, plotting, theory


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_set_style_applies_the_books_style():
    # import helpers leaves the style alone: tests/test_runtime.py checks that in a fresh interpreter
    with matplotlib.rc_context():  # restored afterwards, so the other tests draw with the defaults
        plotting.set_style()
        assert matplotlib.rcParams["axes.titleweight"] == "bold"
        assert matplotlib.rcParams["legend.frameon"] is False


def test_phase_colours_follow_the_paper_code():
    colours = plotting.phase_colours(np.array([0.0, 1.0, 1.0, 2.0]), np.array([0.0, 0.0, 1.0, 5.0]))
    assert np.allclose(colours[0], 1.0)  # norm 0: white whatever the superposition
    assert np.allclose(colours[1], matplotlib.colors.to_rgb(plotting.PHASE_COLOURS["dedicated"]))
    assert np.allclose(colours[2], matplotlib.colors.to_rgb(plotting.PHASE_COLOURS["superposition"]))
    assert np.allclose(colours[3], colours[2])  # both clipped to 1


def test_log_edges_are_geometric_midpoints():
    edges = plotting.phase_diagrams._log_edges(np.array([1.0, 10.0, 100.0]))
    assert np.allclose(edges, [10**-0.5, 10**0.5, 10**1.5, 10**2.5])


def test_phase_diagrams_draw():
    r, p = np.logspace(-1, 1, 6), np.logspace(-2, 0, 5)
    codes = theory.phase_grid(theory.phase_n2m1, r, p)
    fig = plotting.plot_phase_theory(codes, r, p, boundaries=[(r, 0.5 * np.ones_like(r))])
    assert fig.axes[0].get_xscale() == "log"
    norm, overlap = np.ones((5, 6)), np.zeros((5, 6))
    fig = plotting.plot_phase_empirical(norm, overlap, r, p, mismatch=np.eye(5, 6, dtype=bool))
    assert len(fig.axes[0].collections) == 2  # the cells and the mismatch dots
    assert len(plotting.plot_phase_theory(codes, r, p).axes[0].get_legend().get_texts()) == 3
    boundary = (np.array([1.0, 1.0]), np.array([1e-4, 1e4]))  # r = 1, running past the diagram: clipped to it
    ax = plotting.plot_phase_empirical(norm, overlap, r, p, boundaries=[boundary]).axes[0]
    assert len(ax.get_lines()) == 1
    assert np.allclose(ax.get_ylim(), plotting.phase_diagrams._log_edges(p)[[0, -1]])
    trained = codes.copy()
    trained[0, 0] = metrics.OTHER_PHASE  # a shared, non-antipodal cell gets its own colour and label
    labels = [t.get_text() for t in plotting.plot_phase_theory(trained, r, p).axes[0].get_legend().get_texts()]
    assert labels[-1] == "shared, not antipodal"


def test_features_2d_and_alignment():
    W = torch.tensor([[[0.0, 1.0, -1.0], [1.0, 0.0, 0.0]]]).repeat(2, 1, 1)  # feature 0 points up already
    fig = plotting.plot_features_2d(W, ["a", "b"], hidden=torch.rand(2, 10, 2), align=1)
    assert len([ax for ax in fig.axes if ax.get_title()]) == 2
    rotation = plotting.geometry._rotation_to_vertical(W[0], 1)  # feature 1 points along +x: turn it up
    assert torch.allclose(rotation @ W[0][:, 1], torch.tensor([0.0, 1.0]), atol=1e-6)
    small = torch.tensor([[0.01, 0.0], [0.0, 2.0]])  # feature 0 (almost) absent: align on the longest
    assert torch.allclose(plotting.geometry._rotation_to_vertical(small, 0), torch.eye(2), atol=1e-6)


def test_basic_results_and_geometry_losses_draw():
    fig = plotting.plot_basic_results(torch.randn(3, 2, 6), torch.randn(3, 6), ["a", "b", "c"])
    assert len(fig.axes) == 3 * 3 + 2  # three axes per panel and two colour bars
    x = np.array([0.1, 1.0, 10.0])
    plotting.plot_geometry_losses(
        x, {"square": x, "pentagon": x[::-1]}, kept={"square": [1, 1, 0], "pentagon": [1, 1, 1]}
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: plotting.plot_features_2d(torch.zeros(2, 3, 5), ["a", "b"]), "n_panels, 2, n_features"),
        (lambda: plotting.plot_features_2d(torch.zeros(2, 2, 5), ["a"]), "one label per panel"),
        (
            lambda: plotting.plot_basic_results(torch.zeros(2, 2, 5), torch.zeros(2, 4), ["a", "b"]),
            "b \\[n_panels, n\\]",
        ),
        (lambda: plotting.plot_interference_grid(torch.zeros(2, 2, 5), ["a"]), "one label per panel"),
        (lambda: plotting.plot_interference(torch.zeros(2, 2, 5)), "one instance"),
    ],
)
def test_bad_shapes_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_learning_dynamics_figures_draw():
    from helpers.dynamics import Plateau

    steps = torch.tensor([0, 9, 99, 999])
    plateaus = [Plateau(0, 9, 1.0, 0.5)]
    fig = plotting.plot_dimensionality_history(
        steps, torch.rand(4, 6) / 2, torch.tensor([1.0, 1.0, 0.5, 0.4]), plateaus=plateaus
    )
    assert fig.axes[1].get_yscale() == "log" and fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="n_samples = 4"):
        plotting.plot_dimensionality_history(steps, torch.rand(3, 6), torch.ones(4))
    fig = plotting.plot_loss_history(steps, torch.rand(4, 3) + 0.1, references={"zero": 0.5}, labels=["a", "b", "c"])
    assert len(fig.axes[0].get_lines()) == 3 + 1


def test_features_3d_draws_in_the_principal_basis():
    W = torch.zeros(2, 3, 6)
    W[0, 2, :] = 1.0  # every feature along the third axis
    W[1, :, :3], W[1, :, 3:] = torch.eye(3), -torch.eye(3)  # octahedron
    fig = plotting.plot_features_3d(W, ["line", "octahedron"], groups=[0, 0, 0, 1, 1, 1], group_names=["A", "B"])
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="one entry per panel"):
        plotting.plot_features_3d(W, ["only one"])
    with pytest.raises(ValueError, match=r"\[n_panels, 3, n_features\]"):
        plotting.plot_features_3d(torch.zeros(2, 2, 6), ["a", "b"])


def test_neuron_plot_and_order():
    W = torch.tensor([[0.0, 0.7, 0.7], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # neurons × features
    assert plotting.neuron_order(W).tolist() == [2, 1, 0]  # monosemantic by feature, then the rest
    fig = plotting.plot_neurons(torch.stack([W, W.flip(0)]), ["a", "b"], suptitle="neurons")
    assert len(fig.axes) == 2 * 2 + 2  # bars and weights per panel, two colour bars
    with pytest.raises(ValueError, match="one entry per panel"):
        plotting.plot_neurons(W.unsqueeze(0), ["a", "b"])
    with pytest.raises(ValueError, match=r"\[n_panels, n_neurons, n_features\]"):
        plotting.plot_neurons(W, ["a"])


def test_interference_table_normalises_each_panel():
    W = torch.zeros(2, 3, 2, 4)
    W[..., 0, 0], W[..., 1, 1] = 1.0, 0.5
    W[1] *= 3.0  # an activation that inflates the weights: same picture, other scale
    fig = plotting.plot_interference_table(W, ["relu", "sigmoid"], ["1", "0.1", "0.01"], suptitle="WᵀW")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 6
    np.testing.assert_allclose(panels[0].images[0].get_array(), panels[3].images[0].get_array())
    assert panels[0].images[0].get_array()[0, 0] == 1.0
    assert panels[3].get_xlabel() == "scale ×9"
    with pytest.raises(ValueError, match="one label per row"):
        plotting.plot_interference_table(W, ["relu"], ["1", "0.1", "0.01"])
    with pytest.raises(ValueError, match=r"\[n_rows, n_columns, n_hidden, n_features\]"):
        plotting.plot_interference_table(W[0], ["a"], ["b"])


def test_neuron_table_bars_are_shares():
    W = torch.tensor([[3.0, 0.0, 0.0], [1.0, 1.0, 0.0]]).expand(1, 2, 2, 3)  # [rows, columns, neurons, features]
    fig = plotting.plot_neuron_table(W, ["gelu"], ["dense", "sparse"])
    panel = fig.axes[0]
    heights = sorted(round(patch.get_height(), 6) for patch in panel.patches if patch.get_height() > 0)
    assert heights == [0.5, 0.5, 1.0]  # one unit reads feature 0 alone, the other splits evenly


def test_dimensions_per_feature_by_activation_draws_differences():
    x = torch.tensor([1.0, 2.0, 4.0])
    measured = {"relu": torch.tensor([1.0, 0.5, 0.3]), "tanh": torch.tensor([0.8, 0.9, 1.0])}
    published = {"relu": [1.0, 0.5, 0.2], "tanh": [0.8, 0.9, 1.0]}
    fig = plotting.plot_dimensions_per_feature_by_activation(x, measured, published)
    difference = fig.axes[1].lines[1].get_ydata()  # after the zero line: relu
    np.testing.assert_allclose(difference, [0.0, 0.0, 0.1], atol=1e-6)
    assert fig.axes[0].lines[2].get_color() == plotting.ACTIVATION_COLOURS["relu"]
    assert len(plotting.plot_dimensions_per_feature_by_activation(x, measured).axes) == 1


def test_mean_and_range_draws_the_mean_and_a_band_per_series():
    x = torch.tensor([1.0, 0.1, 0.01])
    runs = torch.tensor([[5.0, 5.0], [6.0, 8.0], [10.0, 12.0]])
    fig = plotting.plot_mean_and_range(x, {"dense": runs}, colours=plotting.WEIGHT_COLOURS, guides=[5.0])
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), [5.0, 7.0, 11.0])
    assert ax.lines[-1].get_color() == plotting.WEIGHT_COLOURS["dense"]
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == 5.0 and band.max() == 12.0
    with pytest.raises(ValueError, match="series 'dense'"):
        plotting.plot_mean_and_range(x, {"dense": runs[:2]})


def test_feature_dimensionality_draws_the_papers_lines_and_none_at_one():
    fig = plotting.plot_feature_dimensionality(torch.tensor([1.0, 2.0]), torch.rand(2, 10))
    levels = sorted(round(line.get_ydata()[0], 4) for line in fig.axes[0].lines)
    assert levels == [0.0, 0.375, 0.4, 0.5, 0.6667, 0.75]
    plt.close(fig)


def test_weight_matrix_ticks_whole_indices_and_takes_an_aspect():
    W = torch.tensor([[0.5, -2.0, 0.0, 0.1, 0.0, 0.3], [0.0, 1.0, 0.0, 0.0, -0.4, 0.0], [0.2, 0.0, 0.0, 0.0, 0.0, 1.5]])
    fig, ax = plt.subplots()
    plotting.plot_weight_matrix(W, ax=ax, xlabel="neuron", ylabel="feature", aspect="equal")
    fig.canvas.draw()
    assert [t for t in ax.get_yticks() if -0.5 <= t <= 2.5] == [0, 1, 2]  # rows are indices: no 0.5 ticks
    assert ax.get_aspect() == 1.0
    assert ax.images[0].get_clim() == (-2.0, 2.0)  # centred on zero, to the largest |weight|


def test_dictionaries_2d_draws_one_panel_per_dictionary_with_a_line_per_latent():
    angles = torch.arange(5) * (2 * np.pi / 5)
    W = torch.stack([angles.cos(), angles.sin()])
    fig = plotting.plot_dictionaries_2d(W, [W[:, :3], 2 * W], ["three", "five"], suptitle="pentagon")
    first, second = fig.axes[:2]
    assert first.get_title() == "three" and second.get_title() == "five"
    assert len(first.lines) == 1 + 2 * 3  # the unit circle, then a line and a dot per latent
    x, y = second.lines[1].get_data()
    assert np.hypot(x[-1], y[-1]) == pytest.approx(1.0)  # drawn as unit directions


def test_recovery_sweep_draws_a_heat_map_per_measure_and_marks_small_dictionaries():
    values = {"MMCS": torch.rand(3, 4), "L0": 20 * torch.rand(3, 4)}
    fig = plotting.plot_recovery_sweep([10, 40, 80], [0.01, 0.1, 1, 10], values, n_features=50)
    assert len(fig.axes) == 2
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["10 (< features)", "40 (< features)", "80"]
    assert len(fig.axes[0].texts) == 12
