"""Fuzzing through the real binary, with fixed seeds so that a failure reproduces.

Generated configs (a valid base with one to three keys set to random values of every TOML
type, extremes included, removed, or misspelt, and some with the text itself damaged) go
through `validate` and, where valid, `run` (as one process, and every eighth under mpirun
on 3 ranks) with a wall-clock limit so that a long but valid run stops itself. Mutated
checkpoints (bytes flipped, zeroed, truncated; attributes, datasets and dimensions changed
with h5py) go through `inspect` and `run --restart`.

No case may end by a signal or an exit code other than those Tessera documents, run past
its timeout, fail without exactly one error line, or exit 0 with data that is not the
truth: a restart that succeeds must give the straight run's results bit for bit; a
checkpoint that `inspect` passes must hold the original's data and metadata; a valid run's
results must have an increasing time axis and finite fields. docs/fuzzing.md records the
counts.
"""

import json
import math
import random
import shutil
import subprocess
import tomllib

import h5py
import numpy as np
import pytest

from conftest import BINARY, MPIRUN, datasets, environment

CONFIG_CASES = 240
FILE_CASES = 130
DOCUMENTED_CODES = {0, 1, 75}

BASE = {
    "grid": {"shape": [12, 10], "periodic": [True, False]},
    "boundary": {"condition": "neumann"},
    "model": {"name": "heat", "initial": "gaussian", "diffusivity": 0.5},
    "time": {"steps": 4},
    "output": {"dir": "out", "every": 2},
    "checkpoint": {"every": 2, "keep": 3},
}

KEYS = {
    "grid": ["shape", "extent", "periodic", "process_grid", "halo_depth", "tiling", "spacing"],
    "boundary": ["condition", "value"],
    "model": ["name", "initial", "diffusivity", "amplitude", "width", "modes", "receivers", "velocity", "speed",
              "seed", "speedup", "feed", "kill", "centre", "gamma", "viscosity"],
    "time": ["steps", "end_time", "cfl", "dt"],
    "output": ["dir", "every", "overlap", "flush", "hints", "alignment", "compression"],
    "checkpoint": ["every", "interval", "keep", "hints"],
    "run": ["watchdog"],
    "ensemble": ["members", "ranks_per_member", "fractions", "seed", "parameters"],
    "inversion": ["observed", "memory", "iterations", "first_step"],
    "grdi": ["shape"],
}

SCALARS = [
    0, 1, -1, 2, 3, 7, 64, 1000, 2**31, 2**53 + 1, 2**62, 2**63 - 1, -2**63,
    0.0, -0.0, 5e-324, 1e-20, 0.5, 0.9, 1.0, 1.5, 1e20, 1e308, math.inf, -math.inf, math.nan,
    "", "heat", "wave", "euler", "burgers", "advection", "gray_scott", "periodic", "dirichlet", "neumann",
    "reflecting", "auto", "frame", "checkpoint", "sine", "gaussian", "30m", "0s", "-5m", "1e999", "512 MB",
    "0 B", "x" * 5000, "é∂\u202e", "\t", "../sibling", "/proc/nowhere", "a/b/c", True, False,
]


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def toml_text(config):
    lines = []
    for section, table in config.items():
        lines.append(f"[{section}]")
        lines += [f"{json.dumps(key)} = {toml_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


# Values a user might well give, valid or at an edge, so that many configs get as far as a run.
PLAUSIBLE = {
    "shape": [[8], [6, 5, 4], [1, 1], [3, 1], [16, 16], [2, 2, 2], [40, 1]],
    "extent": [[1.0, 2.0], [1e-9, 1.0], [1e9, 1e9], 3.0],
    "periodic": [[True, True], [False, False], True, False],
    "process_grid": [[1, 1], [3, 1], [0, 0], [2, 2]],
    "halo_depth": [1, 2, 3, 8],
    "tiling": [[1, 1], [2, 5], [4, 64], [0, 3], [3]],
    "condition": ["dirichlet", "neumann", "reflecting", ["dirichlet", "neumann"]],
    "value": [0.0, -1.0, 1e300],
    "name": ["heat", "wave", "burgers", "advection", "euler", "gray_scott"],
    "initial": ["sine", "gaussian", "random", "sod"],
    "diffusivity": [1e-12, 0.01, 100.0],
    "amplitude": [0.0, 1e-300, 1e300, -2.0],
    "width": [1e-6, 0.5, 10.0],
    "modes": [[1, 1], [0, 0], [100, 1]],
    "steps": [0, 1, 3, 10, 2**31],
    "end_time": [1e-9, 0.01, 1.0],
    "cfl": [1e-6, 0.5, 1.0],
    "dir": ["out2", "a/b/c", "é∂", "x" * 300],
    "every": [1, 2, 3, 4],
    "overlap": [True, False, "auto"],
    "flush": ["frame", "checkpoint"],
    "interval": ["1s", 0.5, "1h"],
    "keep": [1, 2, 100],
    "watchdog": [False, True, 1, "10m"],
}


def random_value(rng, depth=0, key=None):
    if key in PLAUSIBLE and rng.random() < 0.6:
        return rng.choice(PLAUSIBLE[key])
    kind = rng.random()
    if kind < 0.55 or depth > 1:
        return rng.choice(SCALARS)
    if kind < 0.9:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {rng.choice(["uniform", "choice", "log_uniform", "x"]): random_value(rng, depth + 1)}


def generated_configs(seed=20261202):
    rng = random.Random(seed)
    for index in range(CONFIG_CASES):
        config = json.loads(json.dumps(BASE))
        for _ in range(rng.randrange(1, 3)):
            section = rng.choice(list(KEYS))
            key = rng.choice(KEYS[section])
            action = rng.random()
            table = config.setdefault(section, {})
            if action < 0.8:
                table[key] = random_value(rng, key=key)
            elif action < 0.9:
                table.pop(key, None)
            else:
                table[key + "s"] = random_value(rng)
        text = toml_text(config)
        if rng.random() < 0.05:
            # Damaged text: a run of characters gone.
            start = rng.randrange(len(text))
            text = text[:start] + text[start + rng.randrange(1, 20):]
        yield index, text


def summary(problems):
    """The first line of every problem, then the first three in full."""
    heads = "\n".join(problem.splitlines()[0][:300] for problem in problems)
    return f"{len(problems)} problems:\n{heads}\n\n" + "\n\n".join(problem[:3000] for problem in problems[:3])


def run(args, timeout, cwd, ranks=None):
    command = [str(BINARY), *map(str, args)]
    if ranks:
        command = [MPIRUN, "-n", str(ranks), *command]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=environment(),
                              errors="replace")
    except subprocess.TimeoutExpired:
        return None


def judge(result, what, problems, mpi=False):
    """Adds to `problems` what is wrong with how `result` ended; returns its exit code."""
    if result is None:
        problems.append(f"{what}: ran past its timeout")
        return None
    code = result.returncode
    if code < 0 or code not in DOCUMENTED_CODES:
        problems.append(f"{what}: ended with {code} (a signal or an undocumented code)\n{result.stderr[-1500:]}")
    elif code == 1:
        errors = [line for line in result.stderr.splitlines() if line.startswith("tessera: error:")]
        if len(errors) != 1 and not (mpi and len(errors) >= 1):
            problems.append(f"{what}: exit 1 with {len(errors)} error lines\n{result.stderr[-1500:]}")
    return code


def check_results(folder, what, problems):
    path = folder / "results.hdf5"
    try:
        with h5py.File(path, "r") as f:
            times = f["dimensions/time"][...]
            if times.ndim != 1 or len(times) == 0 or np.any(np.diff(times) <= 0) or not np.all(np.isfinite(times)):
                problems.append(f"{what}: exit 0, but the time axis is {times}")
            for group in ("t0_fields", "t1_fields"):
                for name, item in f.get(group, {}).items():
                    if not np.all(np.isfinite(item[...])):
                        problems.append(f"{what}: exit 0, but {group}/{name} is not finite")
    except OSError as error:
        problems.append(f"{what}: exit 0, but {path} does not open: {error}")


def test_generated_configs_end_cleanly(tmp_path):
    problems = []
    counts = {"configs": 0, "refused": 0, "valid": 0, "ran": 0, "finished": 0, "stopped": 0, "failed": 0}
    for index, text in generated_configs():
        counts["configs"] += 1
        folder = tmp_path / f"c{index}"
        folder.mkdir()
        config = folder / "c.toml"
        config.write_text(text)
        what = f"config {index}:\n{text}"
        code = judge(run(["validate", config], 30, folder), f"validate {what}", problems)
        if code != 0:
            counts["refused"] += code == 1
            continue
        counts["valid"] += 1
        if "[ensemble]" in text or "[inversion]" in text:
            continue  # other commands; validated above
        mpi = index % 8 == 0
        result = run(["run", config, "--walltime", "8"], 90, folder, ranks=3 if mpi else None)
        code = judge(result, f"run {what}", problems, mpi=mpi)
        counts["ran"] += 1
        if code == 0:
            counts["finished"] += 1
            target = folder / tomllib.loads(text).get("output", {}).get("dir", "output")  # relative to the folder
            check_results(target, f"run {what}", problems)
        counts["stopped"] += code == 75
        counts["failed"] += code == 1
    print("fuzz configs:", counts)
    assert counts["configs"] >= 200 and counts["ran"] >= 20, counts
    assert not problems, summary(problems)


STRAIGHT = """[grid]
shape = [10, 8, 6]
[model]
name = "heat"
initial = "gaussian"
[time]
steps = 8
[output]
dir = "{out}"
every = 2
[checkpoint]
every = 2
keep = 5
"""


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    folder = tmp_path_factory.mktemp("straight")
    config = folder / "c.toml"
    config.write_text(STRAIGHT.format(out=folder / "out"))
    result = run(["run", config], 120, folder)
    assert result is not None and result.returncode == 0, result and result.stderr
    return folder / "out"


def mutate(path, rng, kind):
    """Damages the checkpoint at `path` in one of several ways; returns a description."""
    size = path.stat().st_size
    if kind == "flip":
        offsets = sorted(rng.randrange(size) for _ in range(rng.randrange(1, 9)))
        with open(path, "r+b") as f:
            for offset in offsets:
                f.seek(offset)
                byte = f.read(1)[0]
                f.seek(offset)
                f.write(bytes([byte ^ (1 << rng.randrange(8))]))
        return f"bits flipped at {offsets}"
    if kind == "zero":
        start, length = rng.randrange(size), rng.randrange(64, 4096)
        with open(path, "r+b") as f:
            f.seek(start)
            f.write(bytes(min(length, size - start)))
        return f"{length} bytes zeroed at {start}"
    if kind == "benign":
        # Changes that leave everything a restart reads intact: bytes past the end, or a note.
        if rng.random() < 0.5:
            with open(path, "ab") as f:
                f.write(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000))))
            return "bytes appended"
        with h5py.File(path, "r+") as f:
            f.attrs["note"] = "looked at by hand"
        return "an attribute of its own added"
    if kind == "truncate":
        length = rng.randrange(size)
        with open(path, "r+b") as f:
            f.truncate(length)
        return f"truncated to {length} bytes"
    with h5py.File(path, "r+") as f:
        if kind == "attribute":
            name = rng.choice(["step", "time", "dt", "results_frames", "output_every", "model", "physics",
                               "tessera_config", "field_names", "rng_state", "tessera_ranks",
                               "tessera_metadata_checksum", "tessera_process_grid"])
            change = rng.choice(["delete", "value", "type"])
            if name in f.attrs and change == "delete":
                del f.attrs[name]
            elif change == "type":
                f.attrs[name] = rng.choice(["text", 1.5, np.array([1, 2, 3]), np.uint64(2**64 - 1)])
            else:
                f.attrs[name] = rng.choice([0, -1, 3, 2**62, 1e308, -0.0, "heat", '{"model": 1}', ["x", "y"]])
            return f"attribute {name}: {change}"
        fields = f["fields"]
        name = "temperature"
        change = rng.choice(["shape", "dtype", "scalar", "huge", "delete", "extra", "checksum"])
        checksum = fields[name].attrs.get("tessera_checksum", 0)
        if change == "delete":
            del fields[name]
        elif change == "extra":
            fields.create_dataset("extra", data=np.zeros((10, 8, 6)))
        elif change == "checksum":
            fields[name].attrs["tessera_checksum"] = checksum + 1
        else:
            data = fields[name][...]
            del fields[name]
            if change == "shape":
                replaced = fields.create_dataset(name, data=np.zeros(rng.choice([(10, 8, 7), (8, 10, 6), (480,)])))
            elif change == "dtype":
                replaced = fields.create_dataset(name, data=data.astype(np.float32))
            elif change == "scalar":
                replaced = fields.create_dataset(name, data=1.0)
            else:
                replaced = fields.create_dataset(name, shape=(1 << 20, 1 << 20, 1 << 10), dtype="f8",
                                                 chunks=(1, 1, 64))
            replaced.attrs["tessera_checksum"] = checksum
        return f"field {name}: {change}"


def test_mutated_checkpoints_are_refused_or_give_the_truth(tmp_path, straight):
    rng = random.Random(1202)
    original = straight / "checkpoints" / "checkpoint-0000000004.hdf5"
    truth = datasets(original)
    with h5py.File(original, "r") as f:
        truth_attributes = {k: f.attrs[k] for k in ("step", "time", "dt", "results_frames", "model")}
    kinds = ["flip"] * 35 + ["zero"] * 15 + ["truncate"] * 15 + ["attribute"] * 30 + ["dataset"] * 25 + ["benign"] * 10
    assert len(kinds) == FILE_CASES
    problems = []
    counts = {"files": 0, "inspect refused": 0, "inspect passed": 0, "restart refused": 0, "restart matched": 0}
    for index, kind in enumerate(kinds):
        counts["files"] += 1
        folder = tmp_path / f"m{index}"
        out = folder / "out"
        shutil.copytree(straight, out)
        for newer in ("checkpoint-0000000006.hdf5", "checkpoint-0000000008.hdf5"):
            (out / "checkpoints" / newer).unlink()
        damaged = out / "checkpoints" / "checkpoint-0000000004.hdf5"
        try:
            how = mutate(damaged, rng, kind)
        except (OSError, ValueError, TypeError, KeyError) as error:
            how = f"{kind}: h5py could not finish the change ({error})"
        what = f"file {index} ({how})"
        result = run(["inspect", damaged], 30, folder)
        code = judge(result, f"inspect {what}", problems)
        if code == 0:
            counts["inspect passed"] += 1
            if "verifies: yes" in result.stdout:
                try:
                    same = datasets(damaged)
                    with h5py.File(damaged, "r") as f:
                        attributes = {k: f.attrs[k] for k in truth_attributes}
                    equal = sorted(same) == sorted(truth) and all(
                        same[k].tobytes() == truth[k].tobytes() for k in truth) and all(
                        np.array_equal(attributes[k], truth_attributes[k]) for k in truth_attributes)
                except (OSError, KeyError) as error:
                    equal = False
                    how += f"; h5py cannot read it: {error}"
                if not equal:
                    problems.append(f"inspect {what}: says it verifies, but it differs from the original")
        elif code == 1:
            counts["inspect refused"] += 1
        config = folder / "c.toml"
        config.write_text(STRAIGHT.format(out=out))
        result = run(["run", config, "--restart", damaged], 60, folder)
        code = judge(result, f"restart {what}", problems)
        if code == 0:
            got = datasets(out / "results.hdf5")
            expected = datasets(straight / "results.hdf5")
            if sorted(got) != sorted(expected) or any(got[k].tobytes() != expected[k].tobytes() for k in expected):
                problems.append(f"restart {what}: exit 0, but the results differ from the straight run")
            else:
                counts["restart matched"] += 1
        elif code == 1:
            counts["restart refused"] += 1
    print("fuzz files:", counts)
    assert counts["files"] >= 100
    assert not problems, summary(problems)
