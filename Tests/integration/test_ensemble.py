"""Ensemble campaigns through the real binary: each member the same alone and in campaigns of
1 or 2 ranks per member (and on an odd number of groups), the dataset read by The Well's
loader and a PyTorch DataLoader, stats.yaml against NumPy, a campaign stopped and resumed
giving the same dataset, and clear errors."""

import glob
import json
import os
import re
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest
import yaml

from conftest import (assert_each_fails_clearly, assert_paraview_shows, BINARY, MPIRUN, ROOT, datasets, environment,
                      run_tessera)

HEAT = """
[grid]
shape = {shape}
periodic = [true, false]
[boundary]
condition = "neumann"
[model]
name = "heat"
initial = "gaussian"
diffusivity_max = 0.02
[time]
end_time = {end_time}
[output]
dir = "{out}"
every_time = {every_time}
[checkpoint]
every = {checkpoint}
[ensemble]
members = {members}
ranks_per_member = {rpm}
seed = 5
fractions = [0.6, 0.2, 0.2]
trajectories_per_file = 2
[ensemble.parameters]
diffusivity = {{ log_uniform = [0.002, 0.02] }}
width = {{ uniform = [0.05, 0.15] }}
centre = [{{ uniform = [0.3, 0.7] }}, {{ uniform = [0.3, 0.7] }}]
amplitude = {{ choice = [0.5, 1.0, 2.0] }}
"""


def campaign_config(tmp_path, name, rpm=1, members=7, shape=(24, 20), end_time=0.8, every_time=0.2, checkpoint=20,
                    extra=""):
    path = tmp_path / f"{name}.toml"
    path.write_text(HEAT.format(shape=list(shape), end_time=end_time, out=tmp_path / name, every_time=every_time,
                                checkpoint=checkpoint, members=members, rpm=rpm) + extra)
    return path


def run_campaign(tmp_path, name, ranks, rpm=1, **kwargs):
    config = campaign_config(tmp_path, name, rpm=rpm, **kwargs)
    result = run_tessera(["ensemble", config], ranks=ranks, timeout=300)
    assert result.returncode == 0, result.stderr
    return tmp_path / name


def dataset_files(root):
    return sorted(os.path.relpath(p, root) for p in glob.glob(str(root / "data" / "*" / "*.hdf5")))


def trajectory_data(path):
    """The data of a dataset file: fields, scalars and times (not provenance attributes)."""
    return datasets(path, groups=("t0_fields", "t1_fields", "t2_fields", "scalars", "dimensions"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A campaign of 7 members on 2 ranks, one rank per member (2 groups)."""
    return run_campaign(tmp_path_factory.mktemp("reference"), "campaign", ranks=2)


def test_each_member_is_the_same_alone_and_in_campaigns_of_1_and_2_ranks_per_member(tmp_path, reference):
    layouts = {"2 groups of 2": run_campaign(tmp_path, "pairs", ranks=4, rpm=2),
               "3 groups of 1": run_campaign(tmp_path, "three", ranks=3)}
    files = dataset_files(reference)
    # 7 members: 4 train, 1 valid, 2 test, two trajectories a file.
    assert files == ["data/test/tessera_heat_test_0000.hdf5", "data/train/tessera_heat_train_0000.hdf5",
                     "data/train/tessera_heat_train_0001.hdf5", "data/valid/tessera_heat_valid_0000.hdf5"]
    for layout, root in layouts.items():
        assert dataset_files(root) == files
        for name in files:
            expected, got = trajectory_data(reference / name), trajectory_data(root / name)
            assert sorted(expected) == sorted(got)
            for key in expected:
                assert expected[key].tobytes() == got[key].tobytes(), f"{layout}: {name} {key}"
        assert (root / "stats.yaml").read_bytes() == (reference / "stats.yaml").read_bytes(), layout
    # Member 3 run alone with `tessera run` and the overrides the manifest lists.
    manifest = json.loads((reference / "manifest.json").read_text())
    member = manifest["members"][3]
    sets = [arg for override in member["overrides"] for arg in ("--set", override)]
    config = tmp_path / "campaign.toml"
    config.write_text((reference.parent / "campaign.toml").read_text())
    alone = run_tessera(["run", config, *sets, "--set", f"output.dir={tmp_path / 'alone'}"], ranks=1)
    assert alone.returncode == 0, alone.stderr
    with h5py.File(tmp_path / "alone" / "results.hdf5") as single, h5py.File(reference / member["file"]) as file:
        trajectory = member["trajectory"]
        assert list(file.attrs["tessera_members"])[trajectory] == 3
        assert single["t0_fields/temperature"][0].tobytes() == file["t0_fields/temperature"][trajectory].tobytes()
        assert (single["scalars/total_temperature"][0].tobytes()
                == file["scalars/total_temperature"][trajectory].tobytes())


def test_the_manifest_records_every_member_once_with_its_parameters(reference):
    manifest = json.loads((reference / "manifest.json").read_text())
    members = manifest["members"]
    assert [m["member"] for m in members] == list(range(7))
    assert manifest["splits"] == {"train": 4, "valid": 1, "test": 2}
    assert [m["split"] for m in members] == ["train"] * 4 + ["valid"] + ["test"] * 2
    placed = {(m["file"], m["trajectory"]) for m in members}
    assert len(placed) == 7
    for member in members:
        with h5py.File(reference / member["file"]) as f:
            t = member["trajectory"]
            assert f["scalars/diffusivity"][t] == member["parameters"]["diffusivity"]
            assert f["scalars/centre_0"][t] == member["parameters"]["centre"][0]
            assert f["scalars/amplitude"][t] == member["parameters"]["amplitude"]
            assert f.attrs["n_trajectories"] == len(f.attrs["tessera_members"])
        assert 0.002 <= member["parameters"]["diffusivity"] <= 0.02
        assert member["parameters"]["amplitude"] in (0.5, 1.0, 2.0)
    # Draws depend on the seed and the member alone: they differ between members.
    assert len({m["parameters"]["diffusivity"] for m in members}) == 7
    # ParaView shows each member's results where they are.
    results = sorted(reference.glob("members/*/results.hdf5"))
    assert len(results) == 7
    for path in results[:2]:
        assert_paraview_shows(path)


def test_the_well_loads_every_split_and_a_dataloader_batches_windows(reference):
    import torch
    from the_well.data import WellDataset
    from the_well.data.normalization import ZScoreNormalization

    for split, trajectories in [("train", 4), ("valid", 1), ("test", 2)]:
        dataset = WellDataset(path=str(reference / "data" / split), n_steps_input=1, n_steps_output=1,
                              use_normalization=False)
        # 5 frames give 4 windows of one input and one output step per trajectory.
        assert len(dataset) == 4 * trajectories
        sample = dataset[0]
        assert sample["input_fields"].shape == (1, 24, 20, 1)
        assert sample["output_fields"].shape == (1, 24, 20, 1)
    train = WellDataset(path=str(reference), well_split_name="train", n_steps_input=2, n_steps_output=1,
                        use_normalization=True, normalization_type=ZScoreNormalization)
    assert train.norm is not None
    batch = next(iter(torch.utils.data.DataLoader(train, batch_size=3, shuffle=True)))
    assert batch["input_fields"].shape == (3, 2, 24, 20, 1)
    assert batch["output_fields"].shape == (3, 1, 24, 20, 1)
    assert torch.isfinite(batch["input_fields"]).all()
    # The drawn parameters arrive as per-trajectory constant scalars.
    assert batch["constant_scalars"].shape[0] == 3


def test_stats_yaml_agrees_with_numpy_over_the_training_split(reference):
    values = []
    for path in sorted(glob.glob(str(reference / "data" / "train" / "*.hdf5"))):
        with h5py.File(path) as f:
            values.append(f["t0_fields/temperature"][...].astype(np.float64))
    x = np.concatenate(values)
    delta = np.diff(x, axis=1)
    stats = yaml.safe_load((reference / "stats.yaml").read_text())
    expected = {"mean": x.mean(), "std": x.std(), "rms": np.sqrt((x ** 2).mean()),
                "mean_delta": delta.mean(), "std_delta": delta.std(), "rms_delta": np.sqrt((delta ** 2).mean())}
    for key, value in expected.items():
        assert abs(stats[key]["temperature"] - value) <= 1e-9 * max(abs(value), 1e-3), key


def test_a_campaign_stopped_and_killed_then_resumed_gives_the_same_dataset(tmp_path):
    settings = dict(members=6, shape=(64, 64), end_time=50.0, every_time=5.0, checkpoint=2000)
    straight = run_campaign(tmp_path, "straight", ranks=2, **settings)
    config = campaign_config(tmp_path, "resumed", **settings)
    out = tmp_path / "resumed"
    command = [MPIRUN, "-n", "2", str(BINARY), "ensemble", str(config)]

    def interrupt(how, restart):
        process = subprocess.Popen(command + (["--restart", "auto"] if restart else []), env=environment(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        done = len(glob.glob(str(out / "members" / "*" / "complete")))
        deadline = time.monotonic() + 120
        while len(glob.glob(str(out / "members" / "*" / "complete"))) == done and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
        if how == "signal":
            # As a batch system warns a job: mpirun forwards SIGUSR1 to every rank.
            process.send_signal(signal.SIGUSR1)
        else:
            subprocess.run(["pkill", "-9", "-f", f"ensemble {config}"])
            process.kill()
        _, stderr = process.communicate(timeout=60)
        return process.returncode, stderr

    code, stderr = interrupt("signal", restart=False)
    assert code == 75, stderr
    finished = len(glob.glob(str(out / "members" / "*" / "complete")))
    assert 0 < finished < 6, "the campaign must stop partway"
    assert any(glob.glob(str(out / "members" / "*" / "checkpoints" / "checkpoint-*.hdf5"))), \
        "the interrupted members keep their checkpoints"
    code, _ = interrupt("kill", restart=True)
    assert code != 0
    assert not (out / "manifest.json").exists()
    result = run_tessera(["ensemble", config, "--restart", "auto"], ranks=2, timeout=300)
    assert result.returncode == 0, result.stderr
    assert dataset_files(out) == dataset_files(straight)
    for name in dataset_files(straight):
        expected, got = trajectory_data(straight / name), trajectory_data(out / name)
        for key in expected:
            assert expected[key].tobytes() == got[key].tobytes(), f"{name} {key}"
    assert (out / "stats.yaml").read_bytes() == (straight / "stats.yaml").read_bytes()
    assert (out / "manifest.json").read_text().replace("resumed", "straight") == (straight / "manifest.json").read_text()


def test_random_initial_states_get_each_members_own_seed(tmp_path):
    example = (ROOT / "examples" / "ensemble-burgers.toml").read_text()
    config = tmp_path / "burgers.toml"
    config.write_text(example.replace("members = 32", "members = 6").replace("end_time = 0.1", "end_time = 0.02")
                      .replace('dir = "output/ensemble-burgers"', f'dir = "{tmp_path / "burgers"}"'))
    result = run_tessera(["ensemble", config], ranks=3, timeout=300)
    assert result.returncode == 0, result.stderr
    # Each member takes its own (adaptive) steps, as its own state allows ...
    assert result.stdout.count("adaptive steps: each 0.8 ×") == 6, result.stdout
    steps = dict(re.findall(r"member (\d+): step (\d+) \(100%\)", result.stdout))
    assert len(steps) == 6 and len(set(steps.values())) > 1, result.stdout
    manifest = json.loads((tmp_path / "burgers" / "manifest.json").read_text())
    seeds = [m["parameters"]["seed"] for m in manifest["members"]]
    assert len(set(seeds)) == 6
    firsts = []
    for member in manifest["members"]:
        with h5py.File(tmp_path / "burgers" / member["file"]) as f:
            firsts.append(f["t1_fields/velocity"][member["trajectory"], 0])
            # ... and the frames of all are at the same times: one [T] axis.
            assert f["dimensions/time"][...].tobytes() == (np.arange(5) * 0.005).tobytes()
            assert not f["dimensions/time"].attrs["sample_varying"]
            # The seed is no physics: a root attribute, not a scalar a model is fed.
            assert "seed" not in f["scalars"] and "seed" not in list(f.attrs["simulation_parameters"])
            assert f.attrs["seed"][member["trajectory"]] == member["parameters"]["seed"]
    assert all(not np.array_equal(firsts[0], other) for other in firsts[1:])


@pytest.mark.parametrize("ranks", [1, 3])
def test_a_bad_campaign_fails_clearly_on_every_rank(tmp_path, ranks):
    base = campaign_config(tmp_path, "base").read_text()
    cases = {
        "no-section": (base.split("[ensemble]")[0], "[ensemble] section is missing"),
        "steps": (base.replace("end_time = 0.8", "steps = 40").replace("every_time = 0.2", "every = 10"),
                  "an ensemble needs [time] end_time and [output] every_time"),
        "bad-distribution": (base.replace("log_uniform = [0.002, 0.02]", "log_uniform = [-1.0, 0.02]"),
                             "log_uniform needs positive bounds"),
        "unknown-distribution": (base.replace("uniform = [0.05, 0.15]", "normal = [0.1, 0.01]"),
                                 '"normal" is not a distribution'),
        "two-fractions": (base.replace("fractions = [0.6, 0.2, 0.2]", "fractions = [0.5, 0.5]"),
                          "needs 3 entries, the fractions of train, valid and test, got 2"),
        "out-of-range": (base.replace("log_uniform = [0.002, 0.02]", "uniform = [0.03, 0.05]"),
                         "which the model refuses"),
    }
    if ranks == 3:
        cases["groups"] = (base.replace("ranks_per_member = 1", "ranks_per_member = 2"),
                           "does not divide the job's 3 ranks")
    assert_each_fails_clearly(tmp_path, "ensemble", cases, ranks)


def test_a_finished_campaign_is_not_overwritten_by_accident(tmp_path):
    root = run_campaign(tmp_path, "kept", ranks=1, members=3)
    before = (root / "manifest.json").read_bytes()
    result = run_tessera(["ensemble", tmp_path / "kept.toml"], ranks=1)
    assert result.returncode == 1 and "already holds a campaign" in result.stderr
    assert (root / "manifest.json").read_bytes() == before
    again = run_tessera(["ensemble", tmp_path / "kept.toml", "--restart", "auto"], ranks=1)
    assert again.returncode == 0, again.stderr
    assert "ran 0 members" in again.stdout
    assert (root / "manifest.json").read_bytes() == before
    # A restart whose config draws other parameters must not mix two campaigns.
    changed = tmp_path / "changed.toml"
    changed.write_text((tmp_path / "kept.toml").read_text().replace("seed = 5", "seed = 6"))
    mixed = run_tessera(["ensemble", changed, "--restart", "auto"], ranks=1)
    assert mixed.returncode == 1 and "was run with other settings" in mixed.stderr, mixed.stderr
    assert (root / "manifest.json").read_bytes() == before


def test_members_of_different_splits_with_the_same_draws_are_warned_of(tmp_path):
    """A `choice` with fewer values than members repeats physics across splits: identical
    trajectories in train and test, said at the start. `--set` reaches [ensemble.parameters]."""
    config = campaign_config(tmp_path, "leak", members=5, end_time=0.08, every_time=0.04, checkpoint=4)
    fixed = ["--set", "ensemble.parameters.diffusivity={ choice = [0.01] }",
             "--set", "ensemble.parameters.width={ choice = [0.1] }",
             "--set", "ensemble.parameters.centre=[{ choice = [0.5] }, { choice = [0.5] }]",
             "--set", "ensemble.parameters.amplitude={ choice = [1.5] }"]
    result = run_tessera(["ensemble", config, *fixed], ranks=1, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "the splits share data" in result.stderr and "amplitude = 1.5" in result.stderr, result.stderr
    manifest = json.loads((tmp_path / "leak" / "manifest.json").read_text())
    assert {m["parameters"]["amplitude"] for m in manifest["members"]} == {1.5}
    plain = run_tessera(["ensemble", campaign_config(tmp_path, "apart", members=5, end_time=0.08, every_time=0.04,
                                                     checkpoint=4)],
                        ranks=1, timeout=300)
    assert plain.returncode == 0 and "the splits share data" not in plain.stderr, plain.stderr
