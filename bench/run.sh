#!/usr/bin/env bash
# Heat-kernel benchmark: Tessera's Swift kernel beside the same update in plain C
# (gcc -O3 -march=native) and in Devito (PyPI `devito`, float64, one thread, gcc), and the
# memory-bandwidth bound for that kernel, on one core.
#
#   bench/run.sh [ROUNDS]     (default 7)
#
# Every round times C, then Swift, then Devito, then the copy kernel, at 128^3 and 256^3, so
# that all see the same machine load; the table quotes the best rate of each and the medians
# of the per-round Swift/C and Swift/Devito ratios. Devito is installed into
# bench/.venv-devito on the first run. Speed is never asserted in tests: the machines are
# shared.
set -euo pipefail
# shellcheck source=bench/setup.sh
source "$(dirname "$0")/setup.sh"
ROUNDS="${1:-7}"
mkdir -p bench/out
gcc -O3 -march=native -o bench/out/heat-c bench/heat.c
DEVITO_VERSION=4.8.23
if ! bench/.venv-devito/bin/python -c "import devito" 2>/dev/null; then
    python3 -m venv bench/.venv-devito
    bench/.venv-devito/bin/pip install --quiet "devito==$DEVITO_VERSION"
fi

{
    for _ in $(seq "$ROUNDS"); do
        for n in 128 256; do
            steps=$((n == 128 ? 40 : 10))
            echo "c $n $(bench/out/heat-c heat "$n" "$steps" 3)"
            echo "swift $n $("$TESSERA" bench --size "$n" --steps "$steps" --repeats 3 | awk '{print $3}')"
            echo "devito $n $(DEVITO_LANGUAGE=C DEVITO_ARCH=gcc bench/.venv-devito/bin/python bench/heat_devito.py \
                "$n" "$steps" 3)"
            echo "copy $n $(bench/out/heat-c copy "$n" "$steps" 3)"
        done
    done
} > bench/out/raw.txt

python3 - "$ROUNDS" <<'PY'
import statistics, sys, platform, subprocess
rows = [line.split() for line in open("bench/out/raw.txt")]
rate = {}
for kind, n, value in rows:
    rate.setdefault((kind, int(n)), []).append(float(value))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
print(f"heat kernel, 7-point stencil, one core of {cpu}; {sys.argv[1]} interleaved rounds")
print(f"{'size':>6} {'C -O3 -march=native':>20} {'Devito':>10} {'Tessera (Swift)':>16} {'Swift/C':>8}"
      f" {'Swift/Devito':>13} {'bandwidth bound':>16} {'Swift/bound':>12}")
for n in (128, 256):
    c, s, d, b = rate[("c", n)], rate[("swift", n)], rate[("devito", n)], rate[("copy", n)]
    over_c = statistics.median(x / y for x, y in zip(s, c))
    over_devito = statistics.median(x / y for x, y in zip(s, d))
    print(f"{n:>5}^3 {max(c):>20.3e} {max(d):>10.3e} {max(s):>16.3e} {over_c:>8.2f} {over_devito:>13.2f}"
          f" {max(b):>16.3e} {max(s) / max(b):>12.2f}")
print("rates in cell updates per second (bound: copy elements per second, the same two streams)")
PY
