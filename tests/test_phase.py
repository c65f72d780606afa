import pytest
import torch

from helpers import theory
from helpers.phase import train_phase_diagram


def test_phase_diagram_far_from_boundaries_matches_theory():
    r = torch.tensor([0.1, 10.0])
    p = torch.tensor([0.02, 1.0])
    diagram = train_phase_diagram(
        2, 1, r, p, steps=1500, lr=1e-2, schedule="cosine", best_of=3, seed=1, evaluation="stratified"
    )
    assert diagram.norm.shape == diagram.superposition.shape == (2, 2)
    assert diagram.W.shape == (2, 2, 1, 2)
    assert diagram.response.shape == (2, 2, 2)
    expected = theory.phase_grid(theory.phase_n2m1, r.tolist(), p.tolist())
    assert (diagram.phase == expected).all()
    # each cell's loss is the trainer's (mean over the 2 features); theory's closed forms sum over them
    optimum = torch.tensor([[min(theory.n2m1_losses(float(ri), float(pi)).values()) / 2 for ri in r] for pi in p])
    assert diagram.loss.shape == (2, 2)
    torch.testing.assert_close(diagram.loss, optimum, rtol=0.15, atol=0)


def test_phase_diagram_checks_its_input():
    with pytest.raises(ValueError, match="n_features must be at least 2"):
        train_phase_diagram(1, 1, torch.ones(2), torch.ones(2), steps=1)
    with pytest.raises(ValueError, match="at least one value"):
        train_phase_diagram(2, 1, torch.ones(0), torch.ones(2), steps=1)
    with pytest.raises(ValueError, match="represented_by"):
        train_phase_diagram(2, 1, torch.ones(2), torch.ones(2), represented_by="weights", steps=1)


def test_phase_diagram_by_response_agrees_with_the_norm_rule_for_relu_far_from_boundaries():
    r = torch.tensor([0.1, 10.0])
    p = torch.tensor([0.02, 1.0])
    recipe = {"steps": 1500, "lr": 1e-2, "schedule": "cosine", "best_of": 3, "seed": 1, "evaluation": "stratified"}
    by_norm = train_phase_diagram(2, 1, r, p, **recipe)
    by_response = train_phase_diagram(2, 1, r, p, represented_by="response", **recipe)
    assert (by_response.phase == by_norm.phase).all()
