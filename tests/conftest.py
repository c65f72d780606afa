import pytest
import torch


@pytest.fixture(autouse=True)
def _quiet_and_deterministic(monkeypatch):
    """No progress bars, no inherited seed, profile, control or claim mode from the caller's environment."""
    monkeypatch.setenv("SUPERPOSITION_PROGRESS", "0")
    monkeypatch.delenv("SUPERPOSITION_SEED", raising=False)
    monkeypatch.delenv("SUPERPOSITION_PROFILE", raising=False)
    monkeypatch.delenv("SUPERPOSITION_CONTROL", raising=False)
    monkeypatch.delenv("SUPERPOSITION_CLAIMS", raising=False)
    torch.manual_seed(1234)
