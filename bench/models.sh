#!/usr/bin/env bash
# Per-model benchmark: each model's whole step (halo exchange, boundaries, every stage) and its
# kernel alone (one update of every owned cell) on 1 and on 2 ranks, in cell updates per
# second, beside the memory-bandwidth bounds and, for kernels heavy in arithmetic (MUSCL
# advection, Burgers, Euler), the compute bound: every floating-point operation a cell update
# makes, against this core's peak rate for each kind, both measured by `tessera bench-model`
# in the same process (see `tessera bench-model --help`).
#
#   bench/models.sh [ROUNDS]     (default 3)
#
# Rounds are interleaved (every model and rank count once per round) so that all see the same
# machine load; the table quotes the best of the rounds. Grids are sized well past the 32 MiB
# last-level cache of the machine this was written on, so the state streams from memory.
set -euo pipefail
# shellcheck source=bench/setup.sh
source "$(dirname "$0")/setup.sh"
ROUNDS="${1:-3}"
mkdir -p bench/out

# model, shape, parameters (key=value, space-separated), steps, and options of bench-model:
# the tiled cases take eight steps per pass over the block (temporal blocking, halo depth 8)
# between walls, beside the same grids swept once a step.
CASES=(
    "heat|192,192,192||10"
    "heat|256,256,256||10|--periodic false"
    "heat|256,256,256||16|--periodic false --halo-depth 8"
    "wave|2048,2048|initial=\"gaussian\"|16|--periodic false --halo-depth 8"
    "wave|256,256,256|initial=\"gaussian\"|8|--periodic false"
    "wave|256,256,256|initial=\"gaussian\"|16|--periodic false --halo-depth 8"
    "advection|160,160,160|scheme=\"upwind\"|10"
    "advection|160,160,160|scheme=\"muscl\"|5"
    "burgers|1536,1536|initial=\"random\"|5"
    "gray_scott|1536,1536||10"
    "wave|2048,2048|initial=\"gaussian\"|10"
    "euler|768,768|initial=\"kelvin_helmholtz\"|2"
    "euler|768,768|initial=\"kelvin_helmholtz\" integrator=\"wave_propagation\"|2"
)

: > bench/out/models.txt
for _ in $(seq "$ROUNDS"); do
    for case in "${CASES[@]}"; do
        IFS='|' read -r model shape parameters steps options <<< "$case"
        sets=()
        for parameter in $parameters; do sets+=(--set "$parameter"); done
        # shellcheck disable=SC2206
        extra=(${options:-})
        for ranks in 1 2; do
            line=$(mpirun -n "$ranks" --bind-to core "$TESSERA" bench-model "$model" --shape "$shape" \
                --steps "$steps" ${sets[@]+"${sets[@]}"} ${extra[@]+"${extra[@]}"})
            echo "$parameters|${options:-}|$line" >> bench/out/models.txt
        done
    done
done

python3 - "$ROUNDS" <<'PY'
import statistics, sys, platform
rounds = {}
for line in open("bench/out/models.txt"):
    parameters, options, result = line.rstrip("\n").split("|")
    words = result.split()
    model, shape = words[0], words[1]
    fields = dict(zip(words[2::2], words[3::2]))
    named = [p.split("=")[1].strip('"') for p in parameters.split() if p.startswith(("scheme=", "initial=", "integrator="))]
    label = ", ".join(named + (["walls"] if "--periodic false" in options else [])
                      + ([f"tiled k={options.split('--halo-depth ')[1].split()[0]}"] if "--halo-depth" in options else []))
    key = (model + (f" ({label})" if label else ""), shape, int(fields["ranks"]))
    entry = {name: float(fields[name]) for name in ("rate", "bound", "kernel", "kernel_bound", "compute_bound",
                                                    "vector_bound", "divider_bound", "flops")}
    rounds.setdefault(key, []).append(entry)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"cell updates per second on {cpu}; {sys.argv[1]} interleaved rounds")
print("rates: the best round; fractions: the median over rounds of rate / bound, both from one process")
print(f"{'model':<34} {'grid':>12} {'ranks':>5} | {'step':>9} {'memory':>9} {'of it':>5} |"
      f" {'kernel':>9} {'memory':>9} {'compute':>9} {'flops':>5} {'of the lower':>12}")
for (model, shape, ranks), entries in sorted(rounds.items()):
    grid = "×".join(shape.split(","))
    best = max(entries, key=lambda e: e["kernel"])
    step = max(entries, key=lambda e: e["rate"])
    lower = [min(e["kernel_bound"], e["compute_bound"]) for e in entries]
    kernel_fraction = statistics.median(e["kernel"] / b for e, b in zip(entries, lower))
    step_fraction = statistics.median(e["rate"] / e["bound"] for e in entries)
    if best["kernel_bound"] <= best["compute_bound"]:
        which = "memory"
    else:
        which = "divider" if best["divider_bound"] <= best["vector_bound"] else "vector"
    compute = "-" if best["compute_bound"] == float("inf") else f"{best['compute_bound']:.3e}"
    flops = "-" if best["flops"] == 0 else f"{best['flops']:.0f}"
    print(f"{model:<34} {grid:>12} {ranks:>5} | {step['rate']:>9.3e} {step['bound']:>9.3e} {step_fraction:>5.2f} |"
          f" {best['kernel']:>9.3e} {best['kernel_bound']:>9.3e} {compute:>9} {flops:>5} {kernel_fraction:>5.2f} {which:<7}")
print("memory: copy rate of all ranks at once × 2 / arrays streamed per cell update (8 bytes each)")
print("compute: per cell update, the time of its additions, multiplications and selects at this core's peak")
print("  rate for each (they share the vector ports), or of its divisions and square roots (the divider,")
print("  beside them), whichever is longer; all ranks at once. flops: operations per cell update")
print("step: exchange, boundaries, every stage and combination; kernel: one update of every owned cell")
PY
