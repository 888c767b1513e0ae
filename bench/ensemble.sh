#!/usr/bin/env bash
# Throughput of an ensemble campaign of small members: `tessera ensemble` on 2 ranks as one
# group of 2 ranks and as 2 groups of 1 rank, in trajectories per hour and bytes written per
# second (the members' results and the dataset), best of ROUNDS, the two layouts alternating.
#
#   bench/ensemble.sh [ROUNDS]     (default 3)
set -euo pipefail
# shellcheck source=bench/setup.sh
source "$(dirname "$0")/setup.sh"
ROUNDS="${1:-3}"
OUT=bench/out/ensemble
mkdir -p "$OUT"
# 32 members of 1-D Burgers on 2048 cells to t = 0.025, 51 frames each (examples/ensemble-burgers.toml);
# each member takes its own adaptive steps, 450 to 2660 of them (1000 each before every_time).
SETS=(--set "grid.shape=[2048]" --set time.end_time=0.025 --set output.every_time=0.0005 --set checkpoint.every=1000)

declare -A best_rate best_bytes
for _ in $(seq "$ROUNDS"); do
    for rpm in 2 1; do
        log=$(mpirun -n 2 --bind-to core "$TESSERA" ensemble examples/ensemble-burgers.toml "${SETS[@]}" \
            --set "ensemble.ranks_per_member=$rpm" --set "output.dir=$OUT/rpm$rpm" --overwrite 2>&1)
        line=$(grep "trajectories per hour" <<< "$log")
        rate=$(sed -n 's/.*s: \([0-9.e+]*\) trajectories per hour.*/\1/p' <<< "$line")
        bytes=$(sed -n 's/.*, \([0-9.]*\) MB\/s.*/\1/p' <<< "$line")
        if [ -z "${best_rate[$rpm]:-}" ] || awk "BEGIN { exit !($rate > ${best_rate[$rpm]}) }"; then
            best_rate[$rpm]=$rate
            best_bytes[$rpm]=$bytes
        fi
    done
done
{
    echo "32 Burgers members (2048 cells to t = 0.025, 51 frames), 2 ranks, $(date -u +%Y-%m-%d), best of $ROUNDS"
    printf '%-22s %22s %14s\n' layout "trajectories per hour" "MB/s written"
    printf '%-22s %22s %14s\n' "1 group of 2 ranks" "${best_rate[2]}" "${best_bytes[2]}"
    printf '%-22s %22s %14s\n' "2 groups of 1 rank" "${best_rate[1]}" "${best_bytes[1]}"
    awk "BEGIN { printf \"2 groups / 1 group: %.2f\\n\", ${best_rate[1]} / ${best_rate[2]} }"
} | tee bench/out/ensemble.txt
