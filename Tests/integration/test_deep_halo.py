"""Deep halos (`[grid] halo_depth = k`) through the real binary: ghost zones k stencils deep,
exchanged once every k steps, give the bytes of exchanging every step on 1, 2, 3 and 4 ranks,
with frames, checkpoints, receivers, sources, sponges and walls where they were; restarts
continue bit for bit; the run says how many exchanges it made; models whose step has more than
one stage refuse it clearly."""

import json
import math
import re
import shutil

import pytest

from conftest import ROOT, assert_each_fails_clearly, assert_same_as_gold, datasets, run_tessera, write_config

# (case, shape, periodic, boundary lines, model, its parameters): every single-stage model,
# with walls (Dirichlet, reflecting) beside periodic axes, a point source, a sponge and receivers.
CASES = [
    ("heat-2d-walls", [30, 22], [False, True], 'condition = "dirichlet"\nvalue = 0.5', "heat",
     'initial = "gaussian"\nwidth = 0.15\ncentre = [0.8, 0.5]'),
    ("heat-3d-periodic", [12, 10, 9], [True, True, True], "", "heat", 'initial = "sine"\nmodes = [1, 2, 1]'),
    ("wave-2d-source-sponge", [30, 24], [False, False], 'condition = "reflecting"', "wave",
     'velocity = 1.2\nanomaly = 0.4\nsource = [0.45, 0.3]\nreceivers = 7\nreceiver_start = [0.1, 0.2]\n'
     'receiver_end = [0.9, 0.8]\nsponge = 4'),
    ("wave-3d", [12, 10, 9], [True, False, True], "", "wave",
     'initial = "standing"\nanomaly = -0.3\nsource = [0.5, 0.5, 0.5]\nreceivers = 3\n'
     'receiver_start = [0.1, 0.1, 0.1]\nreceiver_end = [0.9, 0.9, 0.9]'),
    ("gray-scott-2d", [32, 26], [True, True], "", "gray_scott",
     'pattern = "maze"\nseeds = 4\nwidth = 0.1\ndiffusivity_a = 2e-3\ndiffusivity_b = 1e-3'),
    ("advection-upwind-2d", [30, 22], [True, False], 'condition = "neumann"', "advection",
     'scheme = "upwind"\ninitial = "gaussian"\nvelocity = [1.0, -0.6]'),
]
STEPS = 40
EXCHANGES = re.compile(r"halo exchanges: (\d+) in (\d+) steps \(halo depth (\d+)\)")


def config(tmp_path, name, case, depth, checkpoint=""):
    _, shape, periodic, boundary, model, parameters = case
    return write_config(tmp_path / f"{name}.toml", shape, tmp_path / name, model=model, extra_model=parameters,
                        steps=STEPS, every=10, periodic=periodic, boundary=boundary, checkpoint=checkpoint,
                        extra=f"halo_depth = {depth}")


def exchanges(result):
    """(exchanges, steps, depth) from the run's log."""
    found = EXCHANGES.findall(result.stdout + result.stderr)
    assert len(found) == 1, result.stdout + result.stderr
    return tuple(map(int, found[0]))


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_deep_halos_give_the_bytes_of_one_exchange_a_step_on_1_2_3_and_4_ranks(tmp_path, case):
    reference = run_tessera(["run", config(tmp_path, "k1", case, 1)], ranks=2)
    assert reference.returncode == 0, reference.stderr
    assert exchanges(reference) == (STEPS, STEPS, 1)
    expected = datasets(tmp_path / "k1" / "results.hdf5")
    assert expected and all(values.size > 0 for values in expected.values())
    # A frame every 10 steps falls inside a cycle of 3 (and of 4 on the last rank count).
    for ranks, depth in ((1, 3), (2, 3), (3, 3), (4, 4)):
        name = f"r{ranks}k{depth}"
        result = run_tessera(["run", config(tmp_path, name, case, depth)], ranks=ranks)
        assert result.returncode == 0, result.stderr
        assert exchanges(result) == (math.ceil(STEPS / depth), STEPS, depth)
        got = datasets(tmp_path / name / "results.hdf5")
        assert sorted(got) == sorted(expected)
        for key in expected:
            assert got[key].tobytes() == expected[key].tobytes(), f"{ranks} ranks, depth {depth}: {key} differs"


@pytest.mark.parametrize("integrator", ["split", "wave_propagation"])
def test_one_dimensional_euler_takes_adaptive_steps_with_deep_halos_and_the_same_bytes(tmp_path, integrator):
    """Euler's split schemes are one sweep a step in 1-D: deep halos apply, with adaptive steps
    (each rank reduces the same stable step) and a stencil two cells wide."""
    def run(name, ranks, depth):
        path = tmp_path / f"{name}.toml"
        path.write_text(f'[grid]\nshape = [120]\nperiodic = false\nhalo_depth = {depth}\n[model]\nname = "euler"\n'
                        f'initial = "sod"\nintegrator = "{integrator}"\n[time]\nend_time = 0.1\n[output]\ndir = "{tmp_path / name}"\n'
                        f'every_time = 0.02\n[boundary]\ncondition = "neumann"\n')
        result = run_tessera(["run", path], ranks=ranks)
        assert result.returncode == 0, result.stderr
        return exchanges(result), datasets(tmp_path / name / "results.hdf5")
    (count, steps, _), expected = run("k1", 2, 1)
    assert count == steps > 20
    for ranks in (1, 3, 4):
        (count, taken, depth), got = run(f"r{ranks}", ranks, 3)
        assert (count, taken, depth) == (math.ceil(steps / 3), steps, 3)
        assert sorted(got) == sorted(expected)
        for key in expected:
            assert got[key].tobytes() == expected[key].tobytes(), f"{ranks} ranks: {key} differs"


def test_the_agreement_is_not_for_want_of_anything_crossing_the_ranks_faces(tmp_path):
    """The wave crosses the faces between 3 ranks (at x = 10 and 20) between frames, so a ghost
    updated wrongly between exchanges would show in the bytes compared above."""
    case = CASES[2]
    deep = run_tessera(["run", config(tmp_path, "k3", case, 3)], ranks=3)
    assert exchanges(deep) == (math.ceil(STEPS / 3), STEPS, 3)
    pressure = datasets(tmp_path / "k3" / "results.hdf5")["t0_fields/pressure"]
    for frame in range(1, 5):
        for face in (10, 20):
            assert abs(pressure[0, frame, face - 1:face + 1] - pressure[0, frame - 1, face - 1:face + 1]).max() > 1e-6


def test_a_restart_mid_cycle_on_another_rank_count_and_depth_continues_bit_for_bit(tmp_path):
    case = CASES[2]
    gold = run_tessera(["run", config(tmp_path, "gold", case, 3, checkpoint="every = 7\nkeep = 9")], ranks=2)
    assert gold.returncode == 0, gold.stderr
    out = tmp_path / "restarted"
    shutil.copytree(tmp_path / "gold", out)
    # As if the job died after step 14: in the middle of a cycle of 3 (steps 13, 14, 15).
    for later in (out / "checkpoints").glob("checkpoint-*.hdf5"):
        if int(later.stem.split("-")[1]) > 14:
            later.unlink()
    again = config(tmp_path, "again", case, 4, checkpoint="every = 7\nkeep = 9")
    again.write_text(again.read_text().replace(str(tmp_path / "again"), str(out)))
    result = run_tessera(["run", again, "--restart", "auto"], ranks=3)
    assert result.returncode == 0, result.stderr
    assert "continuing from step 14" in result.stdout + result.stderr
    # The first step after the restart exchanges: its ghosts are new.
    assert exchanges(result) == (math.ceil((STEPS - 14) / 4), STEPS - 14, 4)
    assert_same_as_gold(tmp_path / "gold", out, STEPS)


def test_validate_and_plan_show_the_depth_and_the_exchanges_it_saves(tmp_path):
    path = write_config(tmp_path / "c.toml", [64, 64], tmp_path / "out", steps=30, every=10, extra="halo_depth = 3")
    text = run_tessera(["validate", path, "--ranks", "4"]).stdout
    assert "halo depth 3 (ghost zones 3 cells deep, exchanged once every 3 steps" in text
    grid = json.loads(run_tessera(["validate", path, "--ranks", "4", "--json"]).stdout)["grid"]
    assert grid["halo_depth"] == 3 and grid["ghost"] == 3
    facts = {depth: json.loads(run_tessera(["plan", path, "--ranks", "4", "--json", "--set",
                                            f"grid.halo_depth={depth}"]).stdout) for depth in (1, 3)}
    # 2×2 periodic blocks of 32×32: four faces and four corners, to other ranks.
    assert facts[1]["process_grid"] == [2, 2] and facts[3]["ghost"] == 3 and facts[3]["halo_depth"] == 3
    assert facts[1]["halo_messages_per_exchange_per_rank"] == {"min": 8, "max": 8}
    assert facts[3]["halo_messages_per_exchange_per_rank"] == {"min": 8, "max": 8}
    assert facts[1]["halo_bytes_per_step_per_rank"]["max"] == (4 * 32 + 4) * 8
    assert facts[3]["halo_bytes_per_step_per_rank"]["max"] == (4 * 32 * 3 + 4 * 9) * 8 // 3
    lines = run_tessera(["plan", path, "--ranks", "4"]).stdout
    assert "halo messages:        8 sent per rank per exchange, one exchange every 3 steps" in lines


def test_a_tiling_the_config_sets_is_the_one_the_passes_use_with_the_same_bytes(tmp_path):
    """[grid] tiling fixes the tiled pass's slab and tile width: no trials, the log and
    validate name it, and the bytes are those of one exchange a step on 1 and 3 ranks."""
    case = ("heat-3d-walls", [24, 20, 18], [False, False, True], 'condition = "neumann"', "heat",
            'initial = "gaussian"\nwidth = 0.2')
    reference = run_tessera(["run", config(tmp_path, "k1", case, 1)], ranks=1)
    assert reference.returncode == 0, reference.stderr
    expected = datasets(tmp_path / "k1" / "results.hdf5")
    for ranks, tiling in ((1, "[2, 3]"), (3, "[1, 5]")):
        name = f"r{ranks}"
        path = config(tmp_path, name, case, 4)
        path.write_text(path.read_text().replace("halo_depth = 4", f"halo_depth = 4\ntiling = {tiling}"))
        result = run_tessera(["run", path], ranks=ranks)
        assert result.returncode == 0, result.stderr
        log = result.stdout + result.stderr
        slab, width = json.loads(tiling)
        assert f"(slabs of {slab}, tiles {width} wide)" in log, log
        assert "tried in the first passes" not in log, log
        got = datasets(tmp_path / name / "results.hdf5")
        for key in expected:
            assert got[key].tobytes() == expected[key].tobytes(), f"{ranks} ranks, tiling {tiling}: {key} differs"
        text = run_tessera(["validate", path, "--ranks", str(ranks)]).stdout
        assert f"slabs of {slab} planes, tiles {width} wide along y (grid.tiling)" in text, text
        grid = json.loads(run_tessera(["validate", path, "--ranks", str(ranks), "--json"]).stdout)["grid"]
        assert grid["tiling"] == [slab, width]
    # Left to the engine, the first passes try tile widths and the log says which won.
    automatic = run_tessera(["run", config(tmp_path, "auto", case, 4)], ranks=1)
    assert automatic.returncode == 0, automatic.stderr
    assert "tried in the first passes" in automatic.stdout + automatic.stderr
    # A tiling without a tiled pass to set is refused, naming the key.
    refused = run_tessera(["validate", config(tmp_path, "flat", case, 1), "--set", "grid.tiling=[2, 3]"])
    assert refused.returncode != 0 and "[grid.tiling] sets the tiled pass" in refused.stderr


def test_models_of_more_than_one_stage_and_blocks_thinner_than_the_halo_are_refused(tmp_path):
    def text(model, parameters, shape="[32, 32]", depth=2):
        return (f"[grid]\nshape = {shape}\nhalo_depth = {depth}\n[model]\nname = \"{model}\"\n{parameters}\n"
                f"[time]\nsteps = 4\n[output]\ndir = \"{tmp_path / 'out'}\"\n")
    assert_each_fails_clearly(tmp_path, "run", {
        "euler": (text("euler", ""), "[grid.halo_depth] the euler model's step has 2 stages"),
        "burgers": (text("burgers", ""), "deep halos are for models whose step is one update"),
        "muscl": (text("advection", 'scheme = "muscl"'), "Set halo_depth = 1"),
        "rk-gray-scott": (text("gray_scott", 'integrator = "ssprk2"'), "[grid.halo_depth]"),
        "zero": (text("heat", "", depth=0), "[grid.halo_depth] must be at least 1, got 0"),
        "thin": (text("heat", "", shape="[8, 8]", depth=5),
                 "[grid.halo_depth] 5 stencil widths make ghost zones 5 cells deep"),
    }, ranks=4)



def test_bench_network_measures_two_ranks_and_plan_projects_a_step_with_its_figures(tmp_path):
    result = run_tessera(["bench-network", "--json"], ranks=2, timeout=120)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["name"] == "measured"
    for key in ("latency_seconds", "bandwidth_bytes_per_second", "message_rate_per_second"):
        assert figures[key] > 0, key
    # Shared memory: a small message in well under a millisecond, large ones faster than 100 MB/s.
    assert figures["latency_seconds"] < 1e-3 and figures["bandwidth_bytes_per_second"] > 1e8
    network = tmp_path / "network.json"
    network.write_text(result.stdout)

    path = write_config(tmp_path / "c.toml", [64, 64, 64], tmp_path / "out", steps=10, every=10)
    facts = json.loads(run_tessera(["plan", path, "--ranks", "8", "--network", network, "--step-rate", "1e8",
                                    "--json"]).stdout)["projection"]
    this = facts["this"]
    # 2×2×2 blocks of 32³ on a periodic grid: 26 neighbours, each rank its own on none.
    assert facts["ranks"] == 8 and this["halo_depth"] == 1 and this["messages_per_exchange"] == 26
    assert this["bytes_per_exchange"] == (6 * 32 * 32 + 12 * 32 + 8) * 8
    assert this["compute_seconds"] == 32 ** 3 / 1e8 == this["one_rank_step_seconds"]
    halo = (figures["latency_seconds"] + 25 / figures["message_rate_per_second"]
            + this["bytes_per_exchange"] / figures["bandwidth_bytes_per_second"])
    assert abs(this["halo_seconds"] - halo) <= 1e-12 * halo
    assert abs(this["reduction_seconds"] - 2 * 3 * figures["latency_seconds"]) <= 1e-15
    assert 0 < this["efficiency"] < 1 and facts["best"]["step_seconds"] <= this["step_seconds"]
    text = run_tessera(["plan", path, "--ranks", "8", "--network", "slingshot-11", "--step-rate", "1e10"]).stdout
    assert "network:              slingshot-11: latency 2 µs, 25 GB/s" in text
    assert "projected step:" in text and "weak-scaling eff.:" in text
    # Fast enough a rank that the latency counts: deeper halos send as many bytes a step in fewer messages.
    assert "best halo depth:" in text


def test_bench_network_and_plan_network_refuse_what_they_cannot_use(tmp_path):
    alone = run_tessera(["bench-network"], ranks=1, timeout=60)
    assert alone.returncode == 1 and "bench-network needs 2 ranks" in alone.stderr
    path = write_config(tmp_path / "c.toml", [32, 32], tmp_path / "out", steps=10, every=10)
    unknown = run_tessera(["plan", path, "--ranks", "4", "--network", "token-ring", "--step-rate", "1e8"])
    assert unknown.returncode == 1
    assert "token-ring is neither a known network (slingshot-11, infiniband-hdr, infiniband-ndr)" in unknown.stderr


def test_a_wall_clock_stop_mid_cycle_checkpoints_and_the_restart_matches(tmp_path):
    """A stop request (the wall-clock limit here) ends a run with deep halos at the step it
    reaches, mid-cycle or not, with a checkpoint there; the restart, at another depth and rank
    count, ends with the bytes of a straight run at depth 1."""
    def config(name, depth):
        return write_config(tmp_path / f"{name}.toml", [64, 64, 64], tmp_path / name, steps=16000, every=400,
                            extra=f"halo_depth = {depth}")
    stopped = run_tessera(["run", config("stopped", 3), "--walltime", "00:00:02"], ranks=2, timeout=120)
    log = stopped.stdout + stopped.stderr
    assert stopped.returncode == 75 and "wall-clock limit" in log, log[-3000:]
    taken = exchanges(stopped)[1]
    assert 0 < taken < 16000
    assert (tmp_path / "stopped" / "checkpoints" / f"checkpoint-{taken:010d}.hdf5").exists()
    again = config("stopped", 2)  # the same output folder, another depth
    resumed = run_tessera(["run", again, "--restart", "auto"], ranks=3, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"continuing from step {taken}" in resumed.stdout + resumed.stderr
    straight = run_tessera(["run", config("straight", 1)], ranks=2, timeout=300)
    assert straight.returncode == 0, straight.stderr
    assert_same_as_gold(tmp_path / "straight", tmp_path / "stopped", 16000)


def test_the_wave_exchanges_one_time_level_at_depth_one_and_both_deeper():
    # examples/wave.toml on 4 ranks: 2×2 blocks of 100×100 between walls, so each rank sends
    # two faces and a corner. At depth 1 only p's ghosts are read; deeper ghost cells are
    # updated from p⁻ there too.
    facts = {depth: json.loads(run_tessera(["plan", str(ROOT / "examples" / "wave.toml"), "--ranks", "4", "--json",
                                            "--set", f"grid.halo_depth={depth}"]).stdout) for depth in (1, 2)}
    assert facts[1]["halo_bytes_per_step_per_rank"] == {"min": (100 + 100 + 1) * 8, "max": (100 + 100 + 1) * 8}
    assert facts[2]["halo_bytes_per_step_per_rank"]["max"] == (2 * 100 * 2 + 2 * 2) * 2 * 8 // 2
