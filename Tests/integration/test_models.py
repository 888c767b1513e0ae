"""Every model besides heat through the real binary: bitwise identical on 1, 2, 3 and 4
ranks, a restart from a checkpoint mid-run that continues bit for bit, output in The Well's
layout that its loader reads, and the example configs."""

import pathlib
import shutil

import h5py
import numpy as np
import pytest

from conftest import ROOT, assert_same_as_gold, run_tessera, write_config

# (case, shape, model, its parameters, field) for each model and scheme worth covering.
CASES = [
    ("advection-upwind-2d", [30, 22], "advection", 'scheme = "upwind"\nvelocity = [1.0, -0.6]', "concentration"),
    ("advection-muscl-3d", [14, 12, 10], "advection",
     'scheme = "muscl"\nlimiter = "mc"\nintegrator = "ssprk3"\ninitial = "gaussian"\nvelocity = [0.5, 1.0, -0.7]',
     "concentration"),
    ("advection-muscl-1d", [50], "advection", "velocity = [-1.0]", "concentration"),
]
IDS = [case[0] for case in CASES]


def config_for(path, out, shape, model, parameters, steps=40, every=10, checkpoint=""):
    return write_config(path, shape, out, model=model, extra_model=parameters, steps=steps, every=every,
                        checkpoint=checkpoint)


@pytest.mark.parametrize("case,shape,model,parameters,field", CASES, ids=IDS)
def test_results_are_bitwise_identical_on_1_2_3_and_4_ranks(tmp_path, case, shape, model, parameters, field):
    fields = {}
    for ranks in (1, 2, 3, 4):
        out = tmp_path / f"r{ranks}"
        config = config_for(tmp_path / f"{ranks}.toml", out, shape, model, parameters)
        result = run_tessera(["run", config], ranks=ranks)
        assert result.returncode == 0, result.stderr
        with h5py.File(out / "results.hdf5", "r") as f:
            fields[ranks] = f[f"t0_fields/{field}"][...]
    assert fields[1].shape == (1, 5, *shape)
    assert np.isfinite(fields[1]).all() and np.ptp(fields[1][0, -1]) > 0
    for ranks in (2, 3, 4):
        assert fields[ranks].tobytes() == fields[1].tobytes(), f"{ranks} ranks differ from 1"


@pytest.mark.parametrize("case,shape,model,parameters,field", CASES[:2], ids=IDS[:2])
def test_a_restart_mid_run_continues_bit_for_bit(tmp_path, case, shape, model, parameters, field):
    gold, out = tmp_path / "gold", tmp_path / "restarted"
    straight = config_for(tmp_path / "gold.toml", gold, shape, model, parameters, checkpoint="every = 20\nkeep = 5")
    assert run_tessera(["run", straight], ranks=2).returncode == 0
    # The run as if it had died after step 20: its output up to the checkpoint at step 20.
    shutil.copytree(gold, out)
    for later in (out / "checkpoints").glob("checkpoint-*.hdf5"):
        if later.name != "checkpoint-0000000020.hdf5":
            later.unlink()
    config = config_for(tmp_path / "again.toml", out, shape, model, parameters, checkpoint="every = 20\nkeep = 5")
    result = run_tessera(["run", config, "--restart", "auto"], ranks=3)
    assert result.returncode == 0, result.stderr
    assert "continuing from step 20" in result.stdout + result.stderr
    assert_same_as_gold(gold, out, 40, field=field)


def test_the_well_loader_reads_advection_output(tmp_path):
    the_well = pytest.importorskip("the_well.data")
    out = tmp_path / "out"
    config = config_for(tmp_path / "c.toml", out, [16, 12], "advection", "velocity = [1.0, 0.5]", steps=20, every=2)
    result = run_tessera(["run", config], ranks=3)
    assert result.returncode == 0, result.stderr
    dataset = the_well.WellDataset(path=str(out), n_steps_input=2, n_steps_output=3, use_normalization=False)
    sample = dataset[0]
    assert tuple(sample["input_fields"].shape) == (2, 16, 12, 1)
    assert tuple(sample["constant_scalars"].shape) == (2,)
    with h5py.File(out / "results.hdf5", "r") as f:
        assert list(f["t0_fields"].attrs["field_names"]) == ["concentration"]
        np.testing.assert_array_equal(sample["input_fields"][0, ..., 0].numpy(), f["t0_fields/concentration"][0, 0])


@pytest.mark.parametrize("ranks", [1, 3])
def test_the_advection_example_carries_the_sine_once_round(tmp_path, ranks):
    example = ROOT / "examples" / "advection.toml"
    result = run_tessera(["run", example, "--set", f"output.dir={tmp_path}"], ranks=ranks, timeout=120)
    assert result.returncode == 0, result.stderr
    with h5py.File(tmp_path / "results.hdf5", "r") as f:
        field = f["t0_fields/concentration"][0].astype(np.float64)
        assert f["dimensions/time"][-1] == pytest.approx(1.0)
    # After one period the exact solution is the initial state again.
    error = np.mean(np.abs(field[-1] - field[0]))
    assert error < 0.02 * np.mean(np.abs(field[0])), error
