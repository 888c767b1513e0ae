"""The command-line surface: version, models, validate, inspect, bench-model."""

import math

import pytest
from conftest import run_tessera, write_config


def test_version():
    result = run_tessera(["--version"])
    assert result.returncode == 0
    assert result.stdout.strip() == "0.1.0"


def test_models_lists_heat_and_its_parameters():
    result = run_tessera(["models"])
    assert result.returncode == 0
    assert result.stdout.startswith("heat:")
    for parameter in ("diffusivity", "initial", "modes", "width"):
        assert parameter in result.stdout


def test_validate_shows_the_layout_for_a_rank_count(tmp_path):
    config = write_config(tmp_path / "c.toml", [64, 64, 64], tmp_path / "out", steps=10)
    result = run_tessera(["validate", config, "--ranks", "6"])
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "6 ranks, process grid 3×2×1" in result.stdout
    assert not (tmp_path / "out").exists()


def test_run_as_a_plain_process_and_inspect_the_result(tmp_path):
    config = write_config(tmp_path / "c.toml", [10, 6], tmp_path / "out", steps=4, every=2)
    run = run_tessera(["run", config])
    assert run.returncode == 0, run.stderr
    assert "step 4/4" in run.stdout + run.stderr
    result = run_tessera(["inspect", tmp_path / "out" / "results.hdf5"])
    assert result.returncode == 0, result.stderr
    assert "@dataset_name = \"tessera_heat\"" in result.stdout
    assert "temperature  float32 [1 × 3 × 10 × 6]" in result.stdout
    assert "@tessera_ranks = 1" in result.stdout


def test_inspect_of_a_missing_or_foreign_file_fails_clearly(tmp_path):
    missing = run_tessera(["inspect", tmp_path / "none.hdf5"])
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    junk = tmp_path / "junk.hdf5"
    junk.write_text("not hdf5")
    result = run_tessera(["inspect", junk])
    assert result.returncode == 1 and "H5Fopen" in result.stderr


# model, shape, parameters, divisions per cell update (van Leer: one per reconstruction)
BENCHMARKED = [
    ("heat", "24,20,16", [], 0),
    ("advection", "24,20,16", ['scheme="muscl"'], 3),
    ("advection", "24,20", ['scheme="upwind"'], 0),
    ("burgers", "40,36", [], 8),
    ("euler", "40,36", ['initial="kelvin_helmholtz"'], 38),
    ("gray_scott", "40,36", [], 0),
    ("wave", "40,36", [], 0),
]


@pytest.mark.parametrize("model,shape,parameters,divisions", BENCHMARKED)
@pytest.mark.parametrize("ranks", [1, 3])
def test_bench_model_reports_the_step_the_kernel_and_their_bounds(model, shape, parameters, divisions, ranks):
    # What the benchmark prints, not how fast: speed is never asserted in a test.
    sets = [argument for parameter in parameters for argument in ("--set", parameter)]
    result = run_tessera(["bench-model", model, "--shape", shape, "--steps", "2", "--repeats", "1", *sets],
                         ranks=ranks)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    words = lines[0].split()
    assert words[:2] == [model, shape]
    fields = dict(zip(words[2::2], words[3::2]))
    assert int(fields["ranks"]) == ranks
    for name in ("rate", "bound", "kernel", "kernel_bound", "copy"):
        assert 0 < float(fields[name]) < math.inf, (name, fields)
    assert float(fields["divisions"]) == divisions
    assert (float(fields["compute_bound"]) < math.inf) == (divisions > 0), fields
