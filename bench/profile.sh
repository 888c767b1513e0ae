#!/usr/bin/env bash
# Where a model's kernel spends its time: `tessera bench-model` on one rank under `perf record`
# (the cpu-clock software event, which needs no hardware counters, so it works in virtual
# machines), then the share of each of Tessera's functions and the hottest instructions of the
# hottest one. A sample lands on the instruction after the one that made the core wait (skid),
# so a hot `vmovupd` after a `vdivpd` is the division's latency.
#
#   bench/profile.sh MODEL SHAPE [key=value ...]     for example: bench/profile.sh euler 768,768 initial=\"kelvin_helmholtz\"
#
# Needs perf (Debian: linux-perf). Writes bench/out/profile-MODEL.txt.
set -euo pipefail
# shellcheck source=bench/setup.sh
source "$(dirname "$0")/setup.sh"
MODEL="$1"
SHAPE="$2"
shift 2
sets=()
for parameter in "$@"; do sets+=(--set "$parameter"); done
command -v perf > /dev/null || { echo "bench/profile.sh needs perf (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p bench/out
DATA="bench/out/profile-$MODEL.data"
perf record -q -e cpu-clock -F 4000 -o "$DATA" "$TESSERA" bench-model "$MODEL" --shape "$SHAPE" --steps 20 \
    --repeats 1 ${sets[@]+"${sets[@]}"} > /dev/null
{
    echo "# $MODEL $SHAPE $*: share of samples by function (tessera's own, demangled)"
    perf report -i "$DATA" --no-children --sort symbol --stdio 2> /dev/null | grep -E '^ +[0-9.]+%' \
        | grep -v '\[k\]' | awk 'NR <= 12' | swift demangle --simplified | cut -c1-160
    hottest=$(perf report -i "$DATA" --no-children --sort symbol --stdio 2> /dev/null | grep -E '^ +[0-9.]+%' \
        | grep -v '\[k\]' | awk 'NR == 1 { print $3 }')
    echo "# the hottest instructions of the hottest function (percent of its samples)"
    perf annotate -i "$DATA" --stdio -s "$hottest" 2> /dev/null | grep -E '^ +[0-9]+\.[0-9]+ +:' | sort -rn \
        | awk 'NR <= 16'
} | tee "bench/out/profile-$MODEL.txt"
