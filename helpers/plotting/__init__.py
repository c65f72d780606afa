"""Every figure type the book shows, in one style.

Functions take plain tensors or arrays, draw on a given ``ax`` (or a new figure) and return the figure, so
notebooks stay short and every chapter looks the same. Call ``plotting.set_style()`` once for the book's look.

Where a figure's code lives, by what it draws:

- ``geometry``: ``WᵀW`` heat maps, feature norms, the "basic results" layout, feature directions in 2-D and 3-D
- ``weights``: the neuron view of a privileged basis, weight matrices as heat maps, histograms of weight entries
- ``sweeps``: curves over a sweep of densities (``D*``, ``D_i``), repeated runs, losses of candidate geometries
- ``phase_diagrams``: theoretical and trained phase diagrams
- ``training``: loss curves and the learning-dynamics figure
- ``modular``: chapter 08's Fourier-frequency bars and training curves
- ``dictionaries``: chapter 09's SAE dictionaries against the true features, and recovery over a sweep
- ``style``: ``set_style``, the colours and colour maps, and the building blocks the modules above share

Every public name is available here, ``plotting.plot_x(...)``, wherever it lives."""

from .dictionaries import plot_dictionaries_2d, plot_recovery_sweep
from .geometry import (
    display_order,
    plot_basic_results,
    plot_feature_norms,
    plot_features_2d,
    plot_features_3d,
    plot_interference,
    plot_interference_grid,
    plot_interference_table,
)
from .modular import plot_frequency_norms, plot_modular_training
from .phase_diagrams import phase_colours, plot_phase_empirical, plot_phase_theory
from .style import (
    ACTIVATION_COLOURS,
    INTERFERENCE_CMAP,
    OTHER_PHASE_COLOUR,
    PHASE_COLOURS,
    SUPERPOSITION_CMAP,
    WEIGHT_COLOURS,
    set_style,
)
from .sweeps import (
    GEOMETRY_LINES,
    plot_dimensions_per_feature,
    plot_dimensions_per_feature_by_activation,
    plot_feature_dimensionality,
    plot_geometry_losses,
    plot_mean_and_range,
)
from .training import plot_dimensionality_history, plot_loss_history
from .weights import neuron_order, plot_neuron_table, plot_neurons, plot_weight_histogram, plot_weight_matrix

__all__ = [
    "ACTIVATION_COLOURS",
    "GEOMETRY_LINES",
    "INTERFERENCE_CMAP",
    "OTHER_PHASE_COLOUR",
    "PHASE_COLOURS",
    "SUPERPOSITION_CMAP",
    "WEIGHT_COLOURS",
    "display_order",
    "neuron_order",
    "phase_colours",
    "plot_basic_results",
    "plot_dictionaries_2d",
    "plot_dimensionality_history",
    "plot_dimensions_per_feature",
    "plot_dimensions_per_feature_by_activation",
    "plot_feature_dimensionality",
    "plot_feature_norms",
    "plot_features_2d",
    "plot_features_3d",
    "plot_frequency_norms",
    "plot_geometry_losses",
    "plot_interference",
    "plot_interference_grid",
    "plot_interference_table",
    "plot_loss_history",
    "plot_mean_and_range",
    "plot_modular_training",
    "plot_neuron_table",
    "plot_neurons",
    "plot_phase_empirical",
    "plot_phase_theory",
    "plot_recovery_sweep",
    "plot_weight_histogram",
    "plot_weight_matrix",
    "set_style",
]
