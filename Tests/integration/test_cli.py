"""The command-line surface: version, models, validate, inspect, bench-model."""

import math
import subprocess

import h5py
import numpy as np
import pytest
import yaml
from conftest import BINARY, ROOT, environment, run_tessera, write_config


def test_the_version_names_the_commit_in_every_file_and_the_log(tmp_path):
    """0.1.0+<commit>, with .dirty where tracked files differ from it: in --version, the
    start-up log, the results and the checkpoints."""
    result = run_tessera(["--version"])
    assert result.returncode == 0
    version = result.stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                             capture_output=True, text=True).stdout.strip()
    assert version == f"0.1.0+{commit[:12]}" + (".dirty" if changed else ""), (version, commit, changed)
    release = version.split("+")[0]
    assert f"## [{release}]" in (ROOT / "CHANGELOG.md").read_text()
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and str(citation["version"]) == release
    assert citation["license"] == "Apache-2.0" and "Apache License" in (ROOT / "LICENSE").read_text()[:200]
    assert "Apache License 2.0" in (ROOT / "README.md").read_text()
    config = write_config(tmp_path / "c.toml", [8, 6], tmp_path / "out", steps=2)
    run = run_tessera(["run", config], ranks=2)
    assert run.returncode == 0, run.stderr
    assert f"tessera {version}, " in run.stdout
    with h5py.File(tmp_path / "out" / "results.hdf5") as f:
        assert f.attrs["tessera_version"] == version
    with h5py.File(next((tmp_path / "out" / "checkpoints").glob("checkpoint-*.hdf5"))) as f:
        stored = f.attrs["tessera_version"]
        assert (stored.decode() if isinstance(stored, bytes) else stored) == version


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


# model, shape, parameters, divisions per cell update (van Leer: one per limited slope), and
# whether the model counts its floating-point work (the arithmetic-heavy kernels do)
BENCHMARKED = [
    ("heat", "24,20,16", [], 0, False),
    ("advection", "24,20,16", ['scheme="muscl"'], 3, True),
    ("advection", "24,20,16", ['scheme="muscl"', 'limiter="mc"'], 0, True),
    ("advection", "24,20", ['scheme="upwind"'], 0, False),
    ("burgers", "40,36", [], 4, True),
    ("euler", "40,36", ['initial="kelvin_helmholtz"'], 21, True),
    ("euler", "40,36", ['initial="kelvin_helmholtz"', 'integrator="ssprk2"'], 28, True),
    ("gray_scott", "40,36", [], 0, False),
    ("wave", "40,36", [], 0, False),
]


@pytest.mark.parametrize("model,shape,parameters,divisions,counted", BENCHMARKED)
@pytest.mark.parametrize("ranks", [1, 3])
def test_bench_model_reports_the_step_the_kernel_and_their_bounds(model, shape, parameters, divisions, counted,
                                                                 ranks):
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
    for name in ("rate", "bound", "kernel", "kernel_bound", "copy", "peak_additions", "peak_multiplications",
                 "peak_selects", "peak_divisions", "peak_roots"):
        assert 0 < float(fields[name]) < math.inf, (name, fields)
    assert float(fields["divisions"]) == divisions
    kinds = ("additions", "multiplications", "selects", "divisions", "roots")
    assert float(fields["flops"]) == sum(float(fields[kind]) for kind in kinds)
    assert (float(fields["flops"]) > 0) == counted, fields
    # The compute bound is the lower of the vector units' and the divider's, each finite
    # exactly when the cell update makes operations of that kind.
    vector, divider = float(fields["vector_bound"]), float(fields["divider_bound"])
    assert float(fields["compute_bound"]) == pytest.approx(min(vector, divider), rel=1e-3)
    assert (vector < math.inf) == counted and (divider < math.inf) == (divisions > 0 or float(fields["roots"]) > 0)
    assert (float(fields["compute_bound"]) < math.inf) == counted, fields


def test_inspect_shows_any_attribute_safely(tmp_path):
    """Attributes of any type, size or content are shown for a person: by value where that
    is short, by their type where Tessera cannot show them, never raw control characters."""
    path = tmp_path / "odd.h5"
    # Dense attribute storage that HDF5 1.10 can read, so a 50 MB attribute fits.
    with h5py.File(path, "w", libver=("earliest", "v110")) as f:
        f.attrs["complex"] = 1 + 2j
        f.attrs["u64"] = np.uint64(2**64 - 1)
        f.attrs["null"] = h5py.Empty("f8")
        f.attrs.create("color", 7, dtype=h5py.enum_dtype({"RED": 0, "BLUE": 7}, basetype="i1"))
        f.attrs["flags"] = np.array([True, False])
        f.attrs["escape"] = "x\x1b[31mred\x1b[0m"
        f.attrs["\x1b[2Jname"] = 1
        for index in range(3):  # past 8 attributes, storage turns dense: no 64 kB limit
            f.attrs[f"small{index}"] = index
        f.attrs["huge"] = "y" * (50 << 20)
        f.attrs["many"] = np.arange(5000)
        f.create_dataset("d\x1b[31m", data=np.zeros(3))
    result = run_tessera(["inspect", path], timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b" not in out
    assert "@complex = (a compound type" in out
    assert "@u64 = 18446744073709551615" in out
    assert "@null = (empty: no value)" in out
    assert "@color = BLUE" in out and "@flags = [true, false]" in out
    assert '@escape = "x\\u{1b}[31mred' in out and "@\\u{1b}[2Jname = 1" in out
    assert f"({50 << 20} bytes)" in out and len(out) < 10000
    assert "[0, 1, 2, 3, 4, 5, 6, 7, … (5000 values)]" in out
    assert "d\\u{1b}[31m  float64 [3]" in out


def test_inspect_says_when_this_hdf5_cannot_read_a_files_attributes(tmp_path):
    """A newer HDF5 (h5py's) can write attributes that HDF5 1.10 cannot decode; HDF5 lists an
    object's attributes all at once, so one such hides them all. Say so, not `@ = ...`."""
    path = tmp_path / "newer.h5"
    with h5py.File(path, "w", libver="latest") as f:
        for index in range(9):
            f.attrs[f"a{index}"] = index
        f.attrs["complex"] = 1 + 2j
        f.create_dataset("d", data=np.zeros(3))
    result = run_tessera(["inspect", path], timeout=60)
    assert result.returncode == 0, result.stderr
    assert "@ =" not in result.stdout
    # HDF5 1.10 (Debian 12) cannot decode them; a later HDF5 shows them.
    assert "(the attributes cannot be read by this HDF5: " in result.stdout or "@complex = (a compound" in \
        result.stdout, result.stdout
    assert "d  float64 [3]" in result.stdout


def test_log_lines_have_one_format_a_level_and_go_where_they_belong(tmp_path):
    import os
    import re
    config = write_config(tmp_path / "c.toml", [10, 6], tmp_path / "out", steps=4, every=2)
    run = run_tessera(["run", config], ranks=2)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    # Plain lines in a pipe: the UTC time once, then the message; no label or source repeated.
    assert lines and all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \S", line) for line in lines), lines
    assert not any("tessera:" in line or "[Runtime]" in line or " info " in line for line in lines), lines
    assert any("step 4/4" in line for line in lines) and run.stderr == ""
    # Warnings go to stderr, labelled: a folder whose lock holder died.
    (tmp_path / "out" / ".tessera.lock").write_text("host elsewhere pid 1 started 2026-01-01T00:00:00Z\n")
    for quiet in (["-q"], ["--log-level", "warning"], ["--quiet"]):
        again = run_tessera(["run", config, "--overwrite", *quiet], ranks=2)
        assert again.returncode == 0, again.stderr
        assert again.stdout == "", (quiet, again.stdout)
        if quiet == ["-q"]:
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ warning: the run that last wrote ", again.stderr), \
                again.stderr
    env_quiet = subprocess.run(
        [str(BINARY), "run", str(config), "--overwrite"], capture_output=True, text=True, timeout=60,
        env={**environment(), "TESSERA_LOG_LEVEL": "error"})
    assert env_quiet.returncode == 0 and env_quiet.stdout == "", env_quiet.stdout
    verbose = run_tessera(["run", config, "--overwrite", "-v"])
    assert verbose.returncode == 0 and "step 4/4" in verbose.stdout
    for bad, message in ((["--log-level", "loud"], "--log-level loud is not a level"),
                         (["-q", "-v"], "give one of --quiet, --verbose")):
        refused = run_tessera(["run", config, "--overwrite", *bad])
        assert refused.returncode != 0 and message in refused.stderr, refused.stderr
    refused = subprocess.run(
        [str(BINARY), "run", str(config), "--overwrite"], capture_output=True, text=True, timeout=60,
        env={**environment(), "TESSERA_LOG_LEVEL": "chatty"})
    assert refused.returncode != 0 and "TESSERA_LOG_LEVEL=chatty is not a level" in refused.stderr
    assert os.path.exists(tmp_path / "out" / "results.hdf5")


def test_json_of_validate_plan_inspect_and_models_parses_with_the_same_facts(tmp_path):
    import json
    config = write_config(tmp_path / "c.toml", [12, 8, 6], tmp_path / "out", steps=4, every=2,
                          checkpoint="every = 2")
    valid = json.loads(run_tessera(["validate", config, "--ranks", "3", "--json"]).stdout)
    assert valid["valid"] is True and valid["model"] == "heat" and valid["ranks"] == 3
    assert valid["grid"]["shape"] == [12, 8, 6] and valid["time"]["steps"] == 4 and valid["time"]["end_time"] is None
    text = run_tessera(["validate", config, "--ranks", "3"]).stdout
    assert f"process grid {'×'.join(map(str, valid['process_grid']))}" in text
    assert valid["parameters"]["diffusivity"] == 1.0

    bad = tmp_path / "bad.toml"
    bad.write_text(config.read_text().replace("steps = 4", "steps = 4\ncfl = 7\nstesp = 1"))
    invalid = run_tessera(["validate", bad, "--json"])
    assert invalid.returncode == 1
    report = json.loads(invalid.stdout)
    assert report["valid"] is False
    assert sorted(p["key"] for p in report["problems"]) == ["time.cfl", "time.stesp"]

    plan = run_tessera(["plan", config, "--ranks", "4", "--step-rate", "1e8", "--json"])
    facts = json.loads(plan.stdout)
    assert facts["ranks"] == 4 and facts["frame_bytes"] == 12 * 8 * 6 * 4 and facts["frames"] == 3
    assert facts["cells_per_rank"]["max"] * 4 >= 12 * 8 * 6 and facts["cell_rate"]["per_rank"] == 1e8
    lines = run_tessera(["plan", config, "--ranks", "4", "--step-rate", "1e8"]).stdout
    assert f"cells per rank:       {facts['cells_per_rank']['min']}" in lines

    assert run_tessera(["run", config], ranks=2).returncode == 0
    tree = json.loads(run_tessera(["inspect", tmp_path / "out" / "results.hdf5", "--json"]).stdout)
    assert tree["attributes"]["dataset_name"] == "tessera_heat"
    temperature = tree["members"]["t0_fields"]["members"]["temperature"]
    assert temperature["type"] == "float32" and temperature["shape"] == [1, 3, 12, 8, 6]
    checkpoint = json.loads(run_tessera(
        ["inspect", tmp_path / "out" / "checkpoints" / "checkpoint-0000000004.hdf5", "--json"]).stdout)
    assert checkpoint["checkpoint"]["step"] == 4 and checkpoint["checkpoint"]["verifies"] is True
    folder = json.loads(run_tessera(["inspect", tmp_path / "out", "--json"]).stdout)
    assert [c["step"] for c in folder["checkpoints"]] == [4, 2]
    assert folder["restart_auto"].endswith("checkpoint-0000000004.hdf5")

    models = json.loads(run_tessera(["models", "--json"]).stdout)
    euler = next(m for m in models if m["name"] == "euler")
    assert euler["boundaries"] == {"accepted": ["reflecting", "neumann"], "default": "reflecting"}
    assert any(p["name"] == "gamma" and p["default"] == 1.4 for p in euler["parameters"])
