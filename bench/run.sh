#!/usr/bin/env bash
# Heat benchmark: Tessera's Swift kernel beside the same update in plain C (gcc -O3
# -march=native) and in Devito (PyPI `devito`, float64, one thread, gcc); Tessera's whole step
# with temporal blocking (halo depth 8: eight steps per tiled pass), in `tessera bench-model`
# and in `tessera run`; and the single-sweep memory-bandwidth bound, on one core.
#
#   bench/run.sh [ROUNDS]     (default 7)
#
# Every round times each of them, then the copy kernel, at 128^3, 192^3 and 256^3, so that
# all see the same machine load; the table quotes the best rate of each and the medians of the
# per-round ratios. Devito is installed into
# bench/.venv-devito on the first run. Speed is never asserted in tests: the machines are
# shared.
set -euo pipefail
# shellcheck source=bench/setup.sh
source "$(dirname "$0")/setup.sh"
ROUNDS="${1:-7}"
mkdir -p bench/out
gcc -O3 -march=native -o bench/out/heat-c bench/heat.c
# The bound's copy as a loop of loads and stores, as a stencil makes them: left to itself, gcc
# calls the C library's memcpy, whose large copies on Intel cores (rep movsb) skip reading each
# destination line before writing it, which no ordinary store does; both are printed.
gcc -O3 -march=native -fno-tree-loop-distribute-patterns -o bench/out/heat-c-loop bench/heat.c
DEVITO_VERSION=4.8.23
if ! bench/.venv-devito/bin/python -c "import devito" 2>/dev/null; then
    python3 -m venv bench/.venv-devito
    bench/.venv-devito/bin/pip install --quiet "devito==$DEVITO_VERSION"
fi

# The whole step as `tessera run` takes it (walls, boundary conditions, progress, the control's
# all-reduce, frames at the first and last step, the checkpoint at the end): the difference of
# two runs' wall times over the difference of their steps.
cat > bench/out/heat-run.toml <<'TOML'
[grid]
shape = [128, 128, 128]
periodic = false
halo_depth = 8
[model]
name = "heat"
initial = "gaussian"
[time]
steps = 8
[output]
dir = "bench/out/heat-run"
TOML
run_rate() { # N: cell updates per second of a run's step at N^3, halo depth 8
    local n=$1 short=8 long=88 t0 t1 t2
    t0=$EPOCHREALTIME
    "$TESSERA" run bench/out/heat-run.toml --set "grid.shape=[$n,$n,$n]" --set time.steps=$short \
        --set output.every=$short --overwrite -q
    t1=$EPOCHREALTIME
    "$TESSERA" run bench/out/heat-run.toml --set "grid.shape=[$n,$n,$n]" --set time.steps=$long \
        --set output.every=$long --overwrite -q
    t2=$EPOCHREALTIME
    python3 -c "print(f'{$n ** 3 * ($long - $short) / (($t2 - $t1) - ($t1 - $t0)):.4e}')"
}

{
    for _ in $(seq "$ROUNDS"); do
        for n in 128 192 256; do
            steps=$((n == 128 ? 40 : n == 192 ? 16 : 10))
            echo "c $n $(bench/out/heat-c heat "$n" "$steps" 3)"
            echo "swift $n $("$TESSERA" bench --size "$n" --steps "$steps" --repeats 3 | awk '{print $3}')"
            echo "tiled $n $("$TESSERA" bench-model heat --shape "$n,$n,$n" --steps 32 --repeats 2 --halo-depth 8 \
                --periodic false | awk '{print $6}')"
            echo "run $n $(run_rate "$n")"
            echo "devito $n $(DEVITO_LANGUAGE=C DEVITO_ARCH=gcc bench/.venv-devito/bin/python bench/heat_devito.py \
                "$n" "$steps" 3)"
            echo "copy $n $(bench/out/heat-c-loop copy "$n" "$steps" 3)"
            echo "memcpy $n $(bench/out/heat-c copy "$n" "$steps" 3)"
        done
    done
} > bench/out/raw.txt

python3 - "$ROUNDS" <<'PY'
import statistics, sys, platform
rows = [line.split() for line in open("bench/out/raw.txt")]
rate = {}
for kind, n, value in rows:
    rate.setdefault((kind, int(n)), []).append(float(value))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"heat, 7-point stencil, float64, one core of {cpu}; {sys.argv[1]} interleaved rounds")
print("best rates in cell updates per second; ratios are medians of the rounds' own ratios")
print(f"{'size':>6} {'C -O3':>10} {'Devito':>10} {'Swift':>10} {'tiled':>10} {'run':>10} {'bound':>10}"
      f" {'memcpy':>10} {'Swift/C':>8} {'Swift/Dev':>9} {'tiled/Dev':>9} {'run/Dev':>8} {'Swift/bnd':>9}"
      f" {'tiled/bnd':>9} {'tiled/mcp':>9}")
for n in (128, 192, 256):
    c, s, t, r, d, b, m = (rate[(kind, n)] for kind in ("c", "swift", "tiled", "run", "devito", "copy", "memcpy"))
    ratio = lambda x, y: statistics.median(p / q for p, q in zip(x, y))
    print(f"{n:>5}^3 {max(c):>10.3e} {max(d):>10.3e} {max(s):>10.3e} {max(t):>10.3e} {max(r):>10.3e}"
          f" {max(b):>10.3e} {max(m):>10.3e} {ratio(s, c):>8.2f} {ratio(s, d):>9.2f} {ratio(t, d):>9.2f}"
          f" {ratio(r, d):>8.2f} {ratio(s, b):>9.2f} {ratio(t, b):>9.2f} {ratio(t, m):>9.2f}")
print("Swift: the kernel alone, one sweep a step; tiled: `tessera bench-model heat --halo-depth 8`, the whole")
print("step with Dirichlet walls, 8 steps per tiled pass; run: `tessera run`, halo_depth = 8, frames and")
print("checkpoint included (from two runs' difference: noisy where a step is short); bound: one sweep a step")
print("at the rate a loop copies elements (loads and stores, as a stencil makes them); memcpy: the C library's")
print("copy, which on Intel cores skips reading the lines it overwrites")
PY
