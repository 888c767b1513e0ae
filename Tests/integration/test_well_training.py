"""The README's tutorial, run as written: a 2-D ensemble from `tessera ensemble` on 2 ranks,
loaded by The Well's `WellDataModule` (normalised), and The Well's own FNO trained by The
Well's own `Trainer` for a few dozen steps, beating the prediction of no change."""

import json
import math
import subprocess
import sys

import h5py
import numpy as np
import pytest

from conftest import ROOT, run_tessera

README = (ROOT / "README.md").read_text()
TUTORIAL = README.split("### Tutorial: train The Well's FNO on a Tessera dataset")[1].split("\n## ")[0]
COMMANDS = TUTORIAL.split("```sh\n")[1].split("```")[0].strip().splitlines()
SNIPPET = TUTORIAL.split("```python\n")[1].split("```")[0]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """The tutorial's first command, into a folder of the test's own."""
    assert COMMANDS[0] == "mpirun -n 2 tessera ensemble examples/ensemble-advection.toml"
    root = tmp_path_factory.mktemp("tutorial") / "output" / "ensemble-advection"
    result = run_tessera(["ensemble", ROOT / "examples" / "ensemble-advection.toml", "--set", f"output.dir={root}"],
                         ranks=2, timeout=300)
    assert result.returncode == 0, result.stderr
    return root


def field_moments(dataset):
    """Per-field mean and standard deviation of every sample's input frames."""
    values = np.concatenate([dataset[i]["input_fields"].numpy().reshape(-1, dataset[i]["input_fields"].shape[-1])
                             for i in range(len(dataset))])
    return values.mean(axis=0), values.std(axis=0)


def test_the_readme_data_module_normalises_the_training_split(dataset):
    from the_well.data import WellDataset

    namespace = {}
    exec(SNIPPET.replace('root = "output/ensemble-advection"', f'root = "{dataset}"')
         .replace('well_base_path="output"', f'well_base_path="{dataset.parent}"'), namespace)
    assert namespace["x"].shape == (8, 4, 64, 64, 1) and namespace["y"].shape == (8, 1, 64, 64, 1)
    data = namespace["data"]
    train = data.train_dataset
    assert train.use_normalization and train.norm is not None
    assert len(train) == 12 * (21 - 4)
    mean, std = field_moments(train)
    assert np.all(np.abs(mean) < 0.05) and np.all(np.abs(std - 1) < 0.05), (mean, std)
    # The same check fails for the data as stored: it can tell normalised from not.
    raw_mean, raw_std = field_moments(WellDataset(path=str(dataset), well_split_name="train", n_steps_input=4,
                                                  n_steps_output=1, use_normalization=False))
    assert not (np.all(np.abs(raw_mean) < 0.05) and np.all(np.abs(raw_std - 1) < 0.05)), (raw_mean, raw_std)
    # Physical parameters once each, the drawn ones per trajectory; nothing else.
    assert sorted(train.metadata.constant_scalar_names) == ["amplitude", "velocity_x", "velocity_y", "width"]
    batch = namespace["batch"]
    assert "constant_scalars" in batch and batch["constant_scalars"].shape == (8, 4)
    # One time axis for all: every member's frames at k × 0.05, whatever its time step.
    for path in sorted(dataset.glob("data/*/*.hdf5")):
        with h5py.File(path) as f:
            assert f["dimensions/time"][...].tobytes() == (np.arange(21) * 0.05).tobytes(), path


def test_the_wells_fno_trained_by_its_trainer_beats_predicting_no_change(dataset, tmp_path):
    assert COMMANDS[1] == ".venv/bin/python examples/train_fno.py output/ensemble-advection"
    summary = tmp_path / "summary.json"
    picture = tmp_path / "rollout.png"
    # The tutorial's second command, for 3 epochs (78 steps) rather than 20.
    result = subprocess.run([sys.executable, ROOT / "examples" / "train_fno.py", dataset, "--epochs", "3",
                             "--summary", summary, "--picture", picture], capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    facts = json.loads(summary.read_text())
    losses, vrmse, baseline = facts["training_loss"], facts["validation_vrmse"], facts["last_frame_vrmse"]
    assert facts["steps_per_epoch"] * 3 >= 24
    assert losses[-1] < 0.5 * losses[0], losses
    assert all(math.isfinite(v) for v in vrmse + [baseline])
    assert vrmse[-1] < baseline, (vrmse, baseline)
    assert "validation VRMSE" in result.stdout and "no change (last input frame)" in result.stdout
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 10_000
