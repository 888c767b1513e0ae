"""The measuring and tabulating half of bench/scaling.sh (see there)."""

import json
import os
import re
import subprocess

TESSERA = os.environ["TESSERA"]
ROUNDS = int(os.environ.get("ROUNDS", "3"))
OUT = os.environ["OUT"]
NETWORK = f"{OUT}/network.json"
CORES = os.cpu_count()
BLOCK = 160
GRIDS = {1: [1, 1, 1], 2: [2, 1, 1], 4: [2, 2, 1], 8: [2, 2, 2]}


def config(path, shape, model="heat", steps=10, extra=""):
    with open(path, "w") as f:
        f.write(f"[grid]\nshape = {shape}\n[model]\nname = \"{model}\"\n{extra}\n[time]\nsteps = {steps}\n"
                f"[output]\ndir = \"{OUT}/run\"\nevery = {steps}\noverlap = false\n")
    return path


def seconds(ranks, path):
    """The time the run's steps took, as its log says (start-up and the last checkpoint aside)."""
    binding = "core" if ranks <= CORES else "none"
    log = subprocess.run(["mpirun", "-n", str(ranks), "--bind-to", binding, TESSERA, "run", path, "--overwrite"],
                         check=True, capture_output=True, text=True)
    return float(re.search(r"stepping took ([0-9.]+) s", log.stdout + log.stderr).group(1))


def plan(path, ranks, network, rate=None):
    command = [TESSERA, "plan", path, "--ranks", str(ranks), "--network", network, "--json"]
    if rate:
        command += ["--step-rate", str(rate)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


measured = {}
for ranks, dims in GRIDS.items():
    shape = [BLOCK * d for d in dims]
    long_ = config(f"{OUT}/long-{ranks}.toml", shape, steps=110)
    short = config(f"{OUT}/short-{ranks}.toml", shape, steps=10)
    measured[ranks] = min(seconds(ranks, long_) - seconds(ranks, short) for _ in range(ROUNDS)) / 100

network = json.load(open(NETWORK))
print(f"This machine's shared memory (bench-network, 2 ranks): latency {network['latency_seconds'] * 1e6:.3g} µs, "
      f"bandwidth {network['bandwidth_bytes_per_second'] / 1e9:.3g} GB/s, "
      f"{network['message_rate_per_second'] / 1e6:.3g} million messages/s; {CORES} cores")
rate = BLOCK ** 3 / measured[1]
print(f"Heat, {BLOCK}³ cells per rank, best of {ROUNDS} rounds of 100 steps; rate on 1 rank {rate:.3g} cell updates/s")
print("| ranks | measured step | projected step | of which compute, halo, reduction | error |")
print("| ---: | ---: | ---: | --- | ---: |")
errors = []
for ranks, dims in GRIDS.items():
    path = f"{OUT}/long-{ranks}.toml"
    p = plan(path, ranks, NETWORK, rate)["projection"]["this"]
    share = max(1, ranks / CORES)
    projected = p["compute_seconds"] * share + p["halo_seconds"] + p["reduction_seconds"]
    error = projected / measured[ranks] - 1
    errors.append(abs(error))
    print(f"| {ranks} | {measured[ranks] * 1e3:.2f} ms | {projected * 1e3:.2f} ms | "
          f"{p['compute_seconds'] * share * 1e3:.2f}, {p['halo_seconds'] * 1e3:.3f}, "
          f"{p['reduction_seconds'] * 1e3:.4f} ms | {100 * error:+.0f} % |")
print(f"largest error: {100 * max(errors):.0f} %")

# Where the halo dominates: small blocks on 2 ranks (one per core), at halo depths 1, 2 and 4.
SMALL = 24
print()
print(f"Heat, {SMALL}³ cells per rank on 2 ranks (process grid 2×1×1), best of {ROUNDS} rounds of 1000 steps")
print("| halo depth | measured step | projected step | of which compute, halo, reduction | error |")
print("| ---: | ---: | ---: | --- | ---: |")
shape = [2 * SMALL, SMALL, SMALL]
alone = {}
for depth in (1, 2, 4):
    extra = f"halo_depth = {depth}"
    def small(ranks, steps):
        grid = shape if ranks == 2 else [SMALL] * 3
        with open(f"{OUT}/small-{ranks}-{steps}.toml", "w") as f:
            f.write(f"[grid]\nshape = {grid}\n{extra}\n[model]\nname = \"heat\"\n[time]\nsteps = {steps}\n"
                    f"[output]\ndir = \"{OUT}/run\"\nevery = {steps}\noverlap = false\n")
        return f"{OUT}/small-{ranks}-{steps}.toml"
    if not alone:
        alone["rate"] = SMALL ** 3 / (min(seconds(1, small(1, 1100)) - seconds(1, small(1, 100))
                                           for _ in range(ROUNDS)) / 1000)
    step = min(seconds(2, small(2, 1100)) - seconds(2, small(2, 100)) for _ in range(ROUNDS)) / 1000
    p = plan(small(2, 1100), 2, NETWORK, alone["rate"])["projection"]["this"]
    error = p["step_seconds"] / step - 1
    print(f"| {depth} | {step * 1e6:.1f} µs | {p['step_seconds'] * 1e6:.1f} µs | {p['compute_seconds'] * 1e6:.1f}, "
          f"{p['halo_seconds'] * 1e6:.1f}, {p['reduction_seconds'] * 1e6:.1f} µs | {100 * error:+.0f} % |")

print()
NODES = [1, 8, 64, 512, 1024, 4096, 8192]
MODELS = [("heat", ""), ("wave", 'initial = "gaussian"'), ("euler", 'initial = "kelvin_helmholtz"')]
NETWORKS = ["slingshot-11", "infiniband-hdr", "infiniband-ndr"]


def dims_for(nodes):
    dims = [1, 1, 1]
    axis = 0
    while dims[0] * dims[1] * dims[2] < nodes:
        dims[axis] *= 2
        axis = (axis + 1) % 3
    return dims


print("Projected weak-scaling efficiency, 256³ cells per rank, one rank per node (network interface), each "
      "model's update timed here on one core (`plan`, on a block of at most 2^20 cells); at halo depth 1, and "
      "after a slash at the best depth (k) where that is not 1. The last column: the rate per rank (cell updates "
      "per second) at which 1024 nodes fall to 92 % at depth 1, and the efficiency there at the best depth.")
rates = {}
for model, extra in MODELS:
    path = config(f"{OUT}/{model}-rate.toml", [256, 256, 256], model=model, extra=extra)
    rates[model] = plan(path, 1, NETWORKS[0])["cell_rate"]["per_rank"]
for name in NETWORKS:
    print()
    print(f"{name}:")
    print("| model | rate | " + " | ".join(f"{n} nodes" for n in NODES) + " | 92 % at 1024 nodes |")
    print("| --- | ---: | " + " | ".join("---:" for _ in NODES) + " | ---: |")
    for model, extra in MODELS:
        cells = []
        for nodes in NODES:
            path = config(f"{OUT}/{model}-{nodes}.toml", [256 * d for d in dims_for(nodes)], model=model, extra=extra)
            facts = plan(path, nodes, name, rates[model])["projection"]
            this, best = facts["this"], facts["best"]
            cell = f"{100 * this['efficiency']:.1f} %"
            if best["halo_depth"] != this["halo_depth"]:
                cell += f" / {100 * best['efficiency']:.1f} % ({best['halo_depth']})"
            cells.append(cell)
            if nodes == 1024:
                # efficiency = alone / (alone + halo + reduction) at depth 1: 92 % where alone is
                # 0.92 / 0.08 of the rest.
                rest = this["halo_seconds"] + this["reduction_seconds"]
                limit = 256 ** 3 / (0.92 / 0.08 * rest)
                there = plan(path, nodes, name, limit)["projection"]["best"]
                edge = f"{limit:.3g}" + (f", {100 * there['efficiency']:.1f} % ({there['halo_depth']})"
                                         if there["halo_depth"] != 1 else "")
        print(f"| {model} | {rates[model]:.3g} | " + " | ".join(cells) + f" | {edge} |")
