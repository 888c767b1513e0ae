#!/usr/bin/env bash
# Two builds side by side: every model's whole step and its kernel alone (tessera bench-model)
# with BEFORE and AFTER in turn, rounds interleaved, on one rank. For a change that must not
# slow a kernel down: prints, per model, the median over rounds of AFTER's rate / BEFORE's.
#
#   bench/compare.sh BEFORE AFTER [ROUNDS]     (default 3 rounds)
#
# BEFORE and AFTER are tessera binaries (for example a worktree's .build/release/tessera
# built at the commit before the change). The cases are bench/models.sh's.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE="$1"
AFTER="$2"
ROUNDS="${3:-3}"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
mkdir -p bench/out
CASES=(
    "heat|192,192,192||10"
    "advection|160,160,160|scheme=\"upwind\"|10"
    "advection|160,160,160|scheme=\"muscl\"|5"
    "burgers|1536,1536|initial=\"random\"|5"
    "gray_scott|1536,1536||10"
    "wave|2048,2048|initial=\"gaussian\"|10"
    "euler|768,768|initial=\"kelvin_helmholtz\"|2"
)
: > bench/out/compare.txt
for round in $(seq "$ROUNDS"); do
    echo "round $round of $ROUNDS" >&2
    for case in "${CASES[@]}"; do
        IFS='|' read -r model shape parameters steps <<< "$case"
        sets=()
        for parameter in $parameters; do sets+=(--set "$parameter"); done
        # Alternate which build goes first, so that neither always follows the other.
        order=("before|$BEFORE" "after|$AFTER")
        if [ $((round % 2)) -eq 0 ]; then order=("after|$AFTER" "before|$BEFORE"); fi
        for entry in "${order[@]}"; do
            IFS='|' read -r which binary <<< "$entry"
            line=$(mpirun -n 1 --bind-to core "$binary" bench-model "$model" --shape "$shape" --steps "$steps" \
                ${sets[@]+"${sets[@]}"})
            echo "$which|$parameters|$line" >> bench/out/compare.txt
        done
    done
done
python3 - "$ROUNDS" <<'PY'
import statistics, sys
runs = {}
for line in open("bench/out/compare.txt"):
    which, parameters, result = line.rstrip("\n").split("|")
    words = result.split()
    fields = dict(zip(words[2::2], words[3::2]))
    name = words[0] + (f" ({parameters.split('=')[1].strip(chr(34))})" if parameters else "")
    runs.setdefault(name, {}).setdefault(which, []).append((float(fields["rate"]), float(fields["kernel"])))
print(f"after / before, median over {sys.argv[1]} interleaved rounds (cell updates per second, one rank)")
print(f"{'model':<26} {'step':>8} {'kernel':>8}")
for name, builds in runs.items():
    pairs = list(zip(builds["before"], builds["after"]))
    step = statistics.median(a[0] / b[0] for b, a in pairs)
    kernel = statistics.median(a[1] / b[1] for b, a in pairs)
    print(f"{name:<26} {step:>8.3f} {kernel:>8.3f}")
PY
