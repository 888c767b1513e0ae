#!/usr/bin/env bash
# Weak scaling: the projection `tessera plan --network` makes, checked against what is measured
# here, then projected to large machines.
#
#   bench/scaling.sh [ROUNDS]     (default 3)
#
# 1. `tessera bench-network` measures this machine's shared memory between 2 ranks.
# 2. Heat with 96³ cells per rank runs on 1, 2, 4 and 8 ranks (one frame at the end, output
#    between steps), 110 steps and 10 steps, best of ROUNDS: the difference of the times the
#    runs' logs give for their steps is 100 whole steps.
# 3. `plan --network` projects each rank count from the 1-rank step rate and the measured
#    network. This machine has 2 cores: past 2 ranks they share them, so the check multiplies
#    the projected compute by ranks / 2 (the halo and reduction terms are as projected).
# 4. The projection for heat, wave and Euler at 256³ cells per rank on 1 to 8192 nodes (one
#    rank per network interface), at halo depth 1 and the best depth, each model's rate timed
#    here on one core by `plan`.
# Everything goes to bench/out/scaling.txt.
set -euo pipefail
# shellcheck source=bench/setup.sh
source "$(dirname "$0")/setup.sh"
ROUNDS="${1:-3}"
OUT=bench/out/scaling
mkdir -p "$OUT"
mpirun -n 2 "$TESSERA" bench-network --json > "$OUT/network.json"
export TESSERA ROUNDS OUT
python3 bench/scaling.py | tee bench/out/scaling.txt
