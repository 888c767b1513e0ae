#!/usr/bin/env bash
# Checkpoint bandwidth: writing and restart-reading a 256^3 heat state (134 MB in float64)
# on 1 and 2 ranks, beside the raw sequential write and read bandwidth of the same disk,
# measured in the same run with dd (conv=fsync for the write; the page cache is dropped
# before every read and write when run as root, so reads come from the disk).
#
#   bench/checkpoint.sh [ROUNDS] [FOLDER]
#       ROUNDS: interleaved rounds, medians reported (default 5)
#       FOLDER: on the disk to measure (default bench/out/checkpoint)
#
# A checkpoint write includes everything a committed checkpoint costs: the collective
# HDF5 write, the checksum, fsync, rename and folder fsync. A restart read
# includes verifying every checksum.
set -euo pipefail
# shellcheck source=bench/setup.sh
source "$(dirname "$0")/setup.sh"
ROUNDS="${1:-5}"
FOLDER="${2:-bench/out/checkpoint}"
rm -rf "$FOLDER" && mkdir -p "$FOLDER"

# Drops the page cache, then waits: on a virtual machine the memory it frees goes back to the
# host within a second or two, and filling the cache again is slower after that (here dd
# read 1.8 GB/s at once, 0.7 GB/s two seconds later). Tessera reads after its start-up, so
# dd and Tessera both start from that settled state.
drop_caches() {
    sync
    if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; fi
    sleep 3
}
rate() { grep -aoE '[0-9.]+ GB/s' | tail -1 | cut -d' ' -f1; }
dd_rate() { grep -oE '[0-9.]+ [MG]B/s' | awk '{print ($2 == "MB/s") ? $1 / 1000 : $1}'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cat > "$FOLDER/c.toml" <<TOML
[grid]
shape = [256, 256, 256]
[model]
name = "heat"
initial = "gaussian"
[time]
steps = 1
[output]
dir = "$FOLDER/run"
every = 1
TOML

# Rounds interleave the disk's raw figures with Tessera's, so that both see the same
# moments of a shared machine; the table gives medians over the rounds.
for _ in $(seq "$ROUNDS"); do
    drop_caches
    dd if=/dev/zero of="$FOLDER/raw" bs=8M count=16 conv=fsync 2>&1 | dd_rate >> "$FOLDER/raw-write"
    drop_caches
    dd if="$FOLDER/raw" of=/dev/null bs=8M 2>&1 | dd_rate >> "$FOLDER/raw-read"
    rm -f "$FOLDER/raw"
    for ranks in 1 2; do
        rm -rf "$FOLDER/run"
        drop_caches
        mpirun -n "$ranks" "$TESSERA" run "$FOLDER/c.toml" 2>&1 | grep -a "checkpoint at step" | rate >> "$FOLDER/write-$ranks"
        drop_caches
        mpirun -n "$ranks" "$TESSERA" run "$FOLDER/c.toml" --restart auto 2>&1 | grep -a "restarting from" | rate \
            >> "$FOLDER/read-$ranks"
    done
done

raw_write=$(median < "$FOLDER/raw-write")
raw_read=$(median < "$FOLDER/raw-read")
echo "checkpoint of a 256^3 float64 state (134 MB), medians of $ROUNDS rounds;" \
    "raw disk: write $raw_write GB/s, read $raw_read GB/s (dd, 128 MB)"
printf '%6s %18s %12s %18s %12s\n' ranks "write GB/s" "vs raw" "restart GB/s" "vs raw"
for ranks in 1 2; do
    write=$(median < "$FOLDER/write-$ranks")
    read=$(median < "$FOLDER/read-$ranks")
    awk -v r="$ranks" -v w="$write" -v rd="$read" -v rw="$raw_write" -v rr="$raw_read" \
        'BEGIN { printf "%6d %18.2f %12.2f %18.2f %12.2f\n", r, w, w / rw, rd, rd / rr }'
done
