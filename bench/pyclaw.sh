#!/usr/bin/env bash
# Time to solution against PyClaw on Liska & Wendroff's 2-D Riemann problem (case 3,
# examples/euler.toml) to t = 0.8 at 400×400 cells: PyClaw 5.14 (PyPI `clawpack`, its own
# quadrants example, Fortran kernels built with gfortran) on one core, Tessera on one rank and
# on two, in the same rounds, best of ROUNDS; then the accuracy of each at 400² against PyClaw
# at 800², and a picture of both densities. PyClaw goes into bench/.venv-pyclaw on the first
# run (with numpy, h5py and matplotlib for the comparison).
#
#   bench/pyclaw.sh [ROUNDS] [N]     (default 3 rounds, N = 400)
set -euo pipefail
# shellcheck source=bench/setup.sh
source "$(dirname "$0")/setup.sh"
ROUNDS="${1:-3}"
N="${2:-400}"
OUT=bench/out/pyclaw
mkdir -p "$OUT"
PY=bench/.venv-pyclaw/bin/python
if ! "$PY" -c "import clawpack.pyclaw, h5py, matplotlib" 2>/dev/null; then
    python3 -m venv bench/.venv-pyclaw
    bench/.venv-pyclaw/bin/pip install --quiet numpy h5py matplotlib "clawpack==5.14.0"
fi
export OMP_NUM_THREADS=1
seconds() {
    local t0=$EPOCHREALTIME
    "$@" >/dev/null
    awk "BEGIN { print $EPOCHREALTIME - $t0 }"
}
tessera() {
    "$@" "$TESSERA" run examples/euler.toml --set "grid.shape=[$N,$N]" --set output.every_time=0.8 \
        --set "output.dir=$OUT/tessera-$N" --overwrite -q
}
: > "$OUT/times.txt"
for round in $(seq "$ROUNDS"); do
    p=$("$PY" bench/euler_pyclaw.py "$N" "$OUT/pyclaw-$N.npy" | tail -n 1)  # the facts: its last line
    t1=$(seconds tessera mpirun -n 1 --bind-to core)
    t2=$(seconds tessera mpirun -n 2 --bind-to core)
    echo "$round $p $t1 $t2" | tee -a "$OUT/times.txt"
done
[ -f "$OUT/pyclaw-$((2 * N)).npy" ] || "$PY" bench/euler_pyclaw.py $((2 * N)) "$OUT/pyclaw-$((2 * N)).npy" \
    > "$OUT/reference.json"
"$PY" - "$OUT" "$N" "$ROUNDS" <<'PYTHON' | tee bench/out/pyclaw.txt
import json, sys
import h5py, numpy as np
out, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = []
for line in open(f"{out}/times.txt"):
    facts, t1, t2 = line.split(" ", 1)[1].rsplit(" ", 2)
    rows.append((json.loads(facts), float(t1), float(t2)))
with h5py.File(f"{out}/tessera-{n}/results.hdf5") as f:
    tessera = f["t0_fields/density"][0, -1].astype(np.float64)
    assert f["dimensions/time"][-1] == 0.8
pyclaw = np.load(f"{out}/pyclaw-{n}.npy")
fine = np.load(f"{out}/pyclaw-{2 * n}.npy")
coarse = fine.reshape(n, 2, n, 2).mean(axis=(1, 3))
l1 = lambda a: float(np.abs(a - coarse).mean())
best = lambda xs: min(xs)
py_process = best(r[0]["process_seconds"] for r in rows)
py_solver = best(r[0]["solver_seconds"] for r in rows)
one, two = best(r[1] for r in rows), best(r[2] for r in rows)
ratios = [r[1] / r[0]["process_seconds"] for r in rows]
print(f"Liska & Wendroff case 3, {n}x{n} cells to t = 0.8, best of {rounds} rounds (same rounds)")
print(f"PyClaw 5.14, 1 core:    {py_process:7.2f} s whole process ({py_solver:.2f} s in claw.run()), "
      f"{rows[0][0]['steps']} steps")
print(f"Tessera, 1 rank:        {one:7.2f} s whole run")
print(f"Tessera, 2 ranks:       {two:7.2f} s whole run")
print(f"Tessera 1 rank / PyClaw: {sorted(ratios)[len(ratios) // 2]:.2f} (median of the rounds' ratios; goal <= 0.67)")
print(f"L1 density error against PyClaw at {2 * n}x{2 * n}: Tessera {l1(tessera):.4g}, PyClaw {l1(pyclaw):.4g}")
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
figure, axes = plt.subplots(1, 3, figsize=(15, 5))
for axis, (name, data) in zip(axes, [(f"Tessera {n}²", tessera), (f"PyClaw {n}²", pyclaw), (f"PyClaw {2 * n}²", fine)]):
    image = axis.imshow(data.T, origin="lower", extent=(0, 1, 0, 1), cmap="viridis", vmin=0, vmax=1.8)
    axis.set_title(f"{name}: density at t = 0.8")
figure.colorbar(image, ax=axes, fraction=0.02)
figure.savefig(f"{out}/densities.png", dpi=80)
print(f"picture: {out}/densities.png")
PYTHON
