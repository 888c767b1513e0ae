#!/usr/bin/env bash
# Cost of a gradient: `tessera gradient` on a 512×512 seismic shot, on 1 and 2 ranks, with
# every forward state kept and with two smaller memory budgets. For each: the gradient's time
# as a multiple of one forward run timed in the same process (best of ROUNDS, alternating the
# two), the forward steps it took (recomputation included), and the peak memory per rank
# against the budget.
#
#   bench/gradient.sh [ROUNDS]     (default 3)
set -euo pipefail
# shellcheck source=bench/setup.sh
source "$(dirname "$0")/setup.sh"
ROUNDS="${1:-3}"
OUT=bench/out/gradient
rm -rf "$OUT" && mkdir -p "$OUT"
SHAPE=(--set "grid.shape=[512,512]" --set model.sponge=40 --set time.end_time=0.3 --set output.every=10)

mpirun -n 2 "$TESSERA" run examples/invert-wave.toml "${SHAPE[@]}" --set model.anomaly=0.4 \
    --set "output.dir=$OUT/observed" >/dev/null 2>&1
{
    echo "512×512 wave, $(date -u +%Y-%m-%d), best of $ROUNDS; ratio = gradient time / forward run time"
    printf '%-6s %-10s %8s %14s %24s %18s\n' ranks budget ratio forward-steps "peak memory per rank" snapshots
    for ranks in 1 2; do
        for budget in all "400 MB" "50 MB"; do
            sets=(--set "inversion.observed=\"$PWD/$OUT/observed/results.hdf5\"" --set "output.dir=$OUT/g")
            [ "$budget" = all ] || sets+=(--set "inversion.memory=\"$budget\"")
            log=$(mpirun -n "$ranks" --bind-to core "$TESSERA" gradient examples/invert-wave.toml "${SHAPE[@]}" \
                "${sets[@]}" --overwrite --time-forward --repeats "$ROUNDS" 2>&1)
            ratio=$(sed -n 's/.*the gradient costs \([0-9.]*\) forward runs.*/\1/p' <<< "$log")
            steps=$(sed -n 's/.*gradient in .* (\([0-9]*\) forward and.*/\1/p' <<< "$log")
            peak=$(sed -n 's/.*peak memory per rank \(.*\), of which.*/\1/p' <<< "$log")
            held=$(sed -n 's/.*of which forward snapshots \([^(]*\).*/\1/p' <<< "$log")
            printf '%-6s %-10s %8s %14s %24s %18s\n' "$ranks" "$budget" "$ratio" "$steps" "$peak" "$held"
        done
    done
} | tee bench/out/gradient.txt
