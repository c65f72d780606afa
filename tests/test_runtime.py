import json
import os
import subprocess
import sys

import pytest
import torch

import helpers


def test_base_seed_default_and_env(monkeypatch):
    assert helpers.base_seed() == 0
    monkeypatch.setenv("SUPERPOSITION_SEED", "17")
    assert helpers.base_seed() == 17


@pytest.mark.parametrize("value", ["abc", "-3", "1.5"])
def test_bad_seed(monkeypatch, value):
    monkeypatch.setenv("SUPERPOSITION_SEED", value)
    with pytest.raises(ValueError, match="SUPERPOSITION_SEED"):
        helpers.base_seed()


def test_profile(monkeypatch):
    assert helpers.profile() == "book"
    monkeypatch.setenv("SUPERPOSITION_PROFILE", "paper")
    assert helpers.profile() == "paper"
    monkeypatch.setenv("SUPERPOSITION_PROFILE", "fast")
    with pytest.raises(ValueError, match="SUPERPOSITION_PROFILE"):
        helpers.profile()


def test_device_override(monkeypatch):
    monkeypatch.setenv("SUPERPOSITION_DEVICE", "cpu")
    assert helpers.default_device().type == "cpu"


def test_device_argument_overrides_the_environment(monkeypatch):
    monkeypatch.setenv("SUPERPOSITION_DEVICE", "meta")
    assert helpers.default_device("cpu").type == "cpu"
    assert helpers.default_device().type == "meta"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_missing_cuda_is_a_clear_error(monkeypatch):
    with pytest.raises(ValueError, match="device asks for 'cuda'"):
        helpers.default_device("cuda")
    monkeypatch.setenv("SUPERPOSITION_DEVICE", "cuda")
    with pytest.raises(ValueError, match="SUPERPOSITION_DEVICE asks for 'cuda'"):
        helpers.default_device()


def test_mps_is_never_the_default_because_chapters_need_float64(monkeypatch):
    monkeypatch.delenv("SUPERPOSITION_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert helpers.default_device().type == "cpu"
    assert helpers.default_device("mps").type == "mps"  # asked for explicitly, it is used


def test_asking_for_missing_mps_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"device asks for 'mps'.*no MPS device"):
        helpers.default_device("mps")


def test_unknown_device_name_is_a_clear_error():
    with pytest.raises(ValueError, match="device must name a torch device"):
        helpers.default_device("gpu0")


def test_control_default_untrained_and_bad_value(monkeypatch):
    assert helpers.runtime.control() == "none" and helpers.runtime.lr_scale() == 1.0
    monkeypatch.setenv("SUPERPOSITION_CONTROL", "untrained")
    assert helpers.runtime.control() == "untrained"
    assert 0 < helpers.runtime.lr_scale() < 1e-6
    monkeypatch.setenv("SUPERPOSITION_CONTROL", "norm-matched")
    assert helpers.runtime.control() == "norm-matched" and helpers.runtime.lr_scale() == 1.0
    monkeypatch.setenv("SUPERPOSITION_CONTROL", "random")
    with pytest.raises(ValueError, match="SUPERPOSITION_CONTROL"):
        helpers.runtime.control()


# Run in a fresh interpreter: snapshot the global state a library could change (plot style, environment,
# torch and numpy settings, warnings, logging, and any ctypes library call such as the allocator tuning),
# import helpers (or run AFTER, to show the probe sees a change), snapshot again and list what differs.
STATE_PROBE = r"""
import json, logging, os, sys, warnings
import matplotlib, numpy, torch

calls = []
sys.addaudithook(lambda event, args: calls.append(event) if event.startswith("ctypes.") else None)


def snapshot():
    return {
        "matplotlib rcParams": {key: repr(value) for key, value in matplotlib.rcParams.items()},
        "matplotlib backend": matplotlib.get_backend(),
        "environment": dict(os.environ),
        "torch": [torch.get_num_threads(), str(torch.get_default_dtype()), torch.is_grad_enabled(),
                  torch.are_deterministic_algorithms_enabled(), torch.random.get_rng_state().tolist()],
        "numpy": [numpy.random.get_state()[1].tolist(), numpy.geterr(), numpy.get_printoptions()],
        "warnings": repr(warnings.filters),
        "logging": [repr(logging.root.handlers), logging.root.level],
    }


before = snapshot()
import helpers
AFTER
after = snapshot()
print(json.dumps({"changed": sorted(key for key in before if before[key] != after[key]), "ctypes": calls}))
"""


def _state_changes(after: str = "") -> dict:
    script = STATE_PROBE.replace("AFTER", after)
    env = {key: value for key, value in os.environ.items() if key != "SUPERPOSITION_TUNE_MALLOC"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_helpers_changes_no_global_state():
    assert _state_changes() == {"changed": [], "ctypes": []}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the allocator tuning is glibc-only")
def test_the_state_probe_sees_the_explicit_setup_calls():
    # The same probe must see what the chapters' setup cell asks for, or the test above could not fail.
    changes = _state_changes("helpers.tune_allocator()\nhelpers.plotting.set_style()")
    assert changes["changed"] == ["matplotlib rcParams"]
    assert "ctypes.dlopen" in changes["ctypes"]
