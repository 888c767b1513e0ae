#!/usr/bin/env bash
# Temporal blocking on one core: how the tiled pass's rate depends on the halo depth (steps per
# pass) and on the tiles, for heat at 256^3 between Dirichlet walls (`tessera bench-model`), and
# on how often frames end a pass (`tessera run` at 192^3, output.every). Rounds are
# interleaved; the tables quote the best of the rounds.
#
#   bench/tiling.sh [ROUNDS]     (default 2)
set -euo pipefail
# shellcheck source=bench/setup.sh
source "$(dirname "$0")/setup.sh"
ROUNDS="${1:-2}"
OUT=bench/out/tiling
mkdir -p "$OUT"
N=256
model() { # extra bench-model options; prints the whole step's rate
    mpirun -n 1 --bind-to core "$TESSERA" bench-model heat --shape "$N,$N,$N" --steps 32 --repeats 2 \
        --periodic false "$@" | awk '{print $6}'
}
cat > "$OUT/heat.toml" <<'TOML'
[grid]
shape = [192, 192, 192]
periodic = false
[model]
name = "heat"
initial = "gaussian"
[time]
steps = 8
[output]
dir = "bench/out/tiling/run"
TOML
run_rate() { # depth every: cell updates per second over the stepping of a 64-step run, as its
    # log states it (frames staged and written meanwhile; waits for them included)
    mpirun -n 1 --bind-to core "$TESSERA" run "$OUT/heat.toml" --set grid.halo_depth="$1" \
        --set output.every="$2" --set time.steps=64 --overwrite 2>&1 |
        sed -n 's/.*stepping took \([0-9.]*\) s.*/\1/p' | python3 -c "import sys; print(192 ** 3 * 64 / float(sys.stdin.read()))"
}
: > "$OUT/raw.txt"
for _ in $(seq "$ROUNDS"); do
    for k in 1 2 4 8 12 16; do echo "depth $k $(model --halo-depth "$k")" >> "$OUT/raw.txt"; done
    for tiling in 1,34 4,8 4,16 4,34 4,64 4,128 4,256 8,34 16,34; do
        echo "tiling $tiling $(model --halo-depth 8 --tiling "$tiling")" >> "$OUT/raw.txt"
    done
    for every in 1 2 4 8 16 64; do
        for k in 1 8; do echo "every $every,$k $(run_rate "$k" "$every")" >> "$OUT/raw.txt"; done
    done
done
python3 - "$ROUNDS" "$OUT/raw.txt" <<'PY'
import sys
rounds, path = sys.argv[1], sys.argv[2]
best = {}
for kind, key, value in (line.split() for line in open(path)):
    best[(kind, key)] = max(best.get((kind, key), 0.0), float(value))
print(f"heat 256^3 between Dirichlet walls, one core, best of {rounds} rounds; cell updates per second")
print("halo depth (steps per tiled pass; 1 = one sweep a step), tiles chosen by Tessera:")
for (kind, key), value in best.items():
    if kind == "depth":
        print(f"  {key:>4}  {value:.3e}  ({value / best[('depth', '1')]:.2f} of depth 1)")
print("depth 8, slab (planes along x) and tile width (cells along y):")
for (kind, key), value in best.items():
    if kind == "tiling":
        print(f"  {key:>7}  {value:.3e}")
print("`tessera run` at 192^3, 64 steps, a frame every E steps (each ends a pass), over its stepping time:")
for every in (1, 2, 4, 8, 16, 64):
    one, eight = best[("every", f"{every},1")], best[("every", f"{every},8")]
    print(f"  E = {every:>2}: depth 1 {one:.3e}, depth 8 {eight:.3e}, speed-up {eight / one:.2f}")
PY
