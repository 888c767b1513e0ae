#!/usr/bin/env bash
# Results output against the raw disk, measured in the same rounds:
#
#   1. Frame bandwidth: heat frames of a 256^3 and a 512^3 float64 state (float32 on disk, 67
#      and 537 MB; 21 and 5 frames, 1.4 and 2.7 GB) on 1 and 2 ranks, written between steps
#      (overlap = false) so that each
#      frame's time runs from the end of its step until its bytes are durable (flushed and
#      fsync'd), against the raw rate of the same bytes (bench/rawwrite.c: pwrite in 8 MiB
#      blocks and one fsync per frame, as `dd bs=8M conv=fsync`, holding as much memory as
#      the run holds its state in). Goal: >= 0.7 x raw.
#   2. Overlap: a 256^3 run writing a frame every step, with output overlapped, on 1 and 2
#      ranks, not bound to cores (--bind-to none), so that each rank's output threads find
#      what CPU there is: its stepping time against max(compute, raw write time of its frames),
#      where compute is the same steps as `tessera bench-model` times them and the raw write
#      time is the raw per-frame time of the same round times the frames. Goal: <= 1.15.
#      The same run with overlap = false is shown beside it. With 2 ranks on a 2-core machine no
#      CPU is left for the output's threads, so overlap = "auto" writes between steps there;
#      the overlapped figure is overlap = true.
#   3. Ensemble assembly: `tessera ensemble`'s copy of the members into data/ (its own log
#      line: from the first byte read until every file is durable), in bytes per second
#      against the raw rate of the same bytes written as one file after another.
#   4. Many small writers: the frame bandwidth at 256^3 on 4 and 8 ranks (oversubscribed);
#      reported, no goal.
#
#   [PARTS="frames many overlap ensemble"] bench/output.sh [ROUNDS] [FOLDER]
#       ROUNDS: interleaved rounds; each ratio is taken within a round, and the median of
#               the rounds' ratios reported (default 3)
#       FOLDER: on the disk to measure (default bench/out/output)
#       PARTS: which of the four measurements to make (default all)
#
# As root the page cache is dropped before every measurement, Tessera's and the raw loop's
# alike, and then left to settle for ten seconds. On a
# virtual machine that hands freed memory back to its host (free page reporting, as here),
# the first touch of every page then costs a fault, for the page cache as for a process's own
# memory; so the raw loop first touches as much memory as the run holds (its state, the next
# state and its frame buffers), and both fill the page cache from the same starting point.
# Freed memory stays backed for several seconds (here, most of 3.5 GB three seconds after a
# process freed it, almost none after ten), and pages still backed are filled four to ten times
# faster: so every measurement waits ten seconds, whatever ran before it, and writes at least
# 1.4 GB, so that its median frame is the steady rate.
set -euo pipefail
# shellcheck source=bench/setup.sh
source "$(dirname "$0")/setup.sh"
ROUNDS="${1:-3}"
PARTS="${PARTS:-frames many overlap ensemble}"
FOLDER="${2:-bench/out/output}"
rm -rf "$FOLDER" && mkdir -p "$FOLDER"
RAW="$FOLDER/rawwrite"
gcc -O2 -o "$RAW" bench/rawwrite.c
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1

drop_caches() {
    sync
    if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; fi
    sleep 10
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Seconds per frame of the raw loop for BYTES-byte frames, FRAMES of them, holding RESIDENT bytes.
raw_seconds() { "$RAW" "$FOLDER/raw" "$1" "$2" $((8 << 20)) "${3:-0}" | sed -E 's/.*median ([0-9.]+) s per frame.*/\1/'; }
# What a heat run on N^3 cells holds: state and next state in float64, and BUFFERS frame
# buffers in float32.
resident() { echo $(($1 * $1 * $1 * (16 + 4 * $2))); }
# The median seconds per frame from Tessera's closing output line.
frame_seconds() { grep -a "output (" | sed -E 's/.*median ([0-9.]+) s from.*/\1/'; }
stepping_seconds() { grep -a "output (" | sed -E 's/.*stepping took ([0-9.]+) s.*/\1/'; }

config() { # config NAME N STEPS
    cat > "$FOLDER/$1.toml" <<TOML
[grid]
shape = [$2, $2, $2]
[model]
name = "heat"
initial = "gaussian"
[time]
steps = $3
[output]
dir = "$FOLDER/run"
every = 1
TOML
}
config frames256 256 20
config frames512 512 4
config overlap256 256 20
cat > "$FOLDER/ensemble.toml" <<TOML
[grid]
shape = [96, 96, 96]
[model]
name = "heat"
initial = "gaussian"
[time]
steps = 10
[output]
dir = "$FOLDER/campaign"
every = 1
[ensemble]
members = 8
trajectories_per_file = 4
fractions = [0.5, 0.5, 0.0]
[ensemble.parameters]
diffusivity = { uniform = [0.5, 1.0] }
TOML

run() { # run RANKS CONFIG [--set ...]
    local ranks=$1 file=$2
    shift 2
    rm -rf "$FOLDER/run"
    mpirun --bind-to none -n "$ranks" "$TESSERA" run "$FOLDER/$file.toml" "$@" 2>&1
}

has() { case " $PARTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

for round in $(seq "$ROUNDS"); do
    echo "round $round of $ROUNDS" >&2
    if has frames; then
        for n in 256 512; do
            bytes=$((n * n * n * 4))
            frames=$([ "$n" = 256 ] && echo 21 || echo 5)
            for ranks in 1 2; do
                drop_caches
                raw_seconds "$bytes" "$frames" "$(resident "$n" 1)" >> "$FOLDER/raw-$n-$ranks"
                drop_caches
                run "$ranks" "frames$n" --set output.overlap=false | frame_seconds >> "$FOLDER/frame-$n-$ranks"
            done
        done
    fi
    if has many; then
        for ranks in 4 8; do
            drop_caches
            raw_seconds $((256 * 256 * 256 * 4)) 21 "$(resident 256 1)" >> "$FOLDER/raw-256-$ranks"
            drop_caches
            run "$ranks" frames256 --set output.overlap=false | frame_seconds >> "$FOLDER/frame-256-$ranks"
        done
    fi
    if has overlap; then
        for ranks in 1 2; do
            mpirun -n "$ranks" "$TESSERA" bench-model heat --shape 256,256,256 --steps 20 --repeats 2 |
                sed -E 's/.* rate ([0-9.e+]+) .*/\1/' >> "$FOLDER/step-rate-$ranks"
            # The raw loop first in odd rounds and last in even ones.
            if [ $((round % 2)) -eq 1 ]; then
                drop_caches
                raw_seconds $((256 * 256 * 256 * 4)) 21 "$(resident 256 2)" >> "$FOLDER/raw-overlap-$ranks"
            fi
            drop_caches
            run "$ranks" overlap256 --set output.overlap=true | stepping_seconds >> "$FOLDER/overlapped-$ranks"
            drop_caches
            run "$ranks" overlap256 --set output.overlap=false | stepping_seconds >> "$FOLDER/between-$ranks"
            if [ $((round % 2)) -eq 0 ]; then
                drop_caches
                raw_seconds $((256 * 256 * 256 * 4)) 21 "$(resident 256 2)" >> "$FOLDER/raw-overlap-$ranks"
            fi
        done
    fi
    if has ensemble; then
        for ranks in 1 2; do
            # The members once, untimed; then the assembly again (--restart auto keeps finished
            # members and rebuilds data/) from the raw loop's starting point: caches dropped and
            # settled, with the members' files read back into the page cache, where a campaign
            # that has just written them finds them.
            rm -rf "$FOLDER/campaign"
            mpirun -n "$ranks" "$TESSERA" ensemble "$FOLDER/ensemble.toml" > "$FOLDER/ensemble.log" 2>&1
            drop_caches
            cat "$FOLDER"/campaign/members/*/results.hdf5 > /dev/null
            mpirun -n "$ranks" "$TESSERA" ensemble "$FOLDER/ensemble.toml" --restart auto > "$FOLDER/ensemble.log" 2>&1
            grep -a "assembled" "$FOLDER/ensemble.log" | grep -aoE '[0-9.]+ GB/s' | cut -d' ' -f1 \
                >> "$FOLDER/assembly-$ranks"
            file_bytes=$(stat -c %s "$FOLDER"/campaign/data/train/*_0000.hdf5)
            files=$(find "$FOLDER/campaign/data" -name '*.hdf5' | wc -l)
            drop_caches
            awk -v s="$(raw_seconds "$file_bytes" "$files")" -v b="$file_bytes" 'BEGIN { print b / s / 1e9 }' \
                >> "$FOLDER/raw-assembly-$ranks"
        done
    fi
done
rm -f "$FOLDER/raw"

# Ratios are taken within each round (Tessera and the raw loop measured minutes apart), then
# the median over the rounds; the rates beside them are the medians of each.
ratios() { paste "$@" | awk "{ print $RATIO }" | median; }
if has frames || has many; then
    echo "Frames written between steps, from the end of the step until durable; medians of $ROUNDS rounds"
    printf '%6s %6s %10s %14s %14s %8s\n' cells ranks "frame MB" "Tessera GB/s" "raw GB/s" "ratio"
    for n in 256 512; do
        for ranks in 1 2 4 8; do
            [ -s "$FOLDER/frame-$n-$ranks" ] || continue
            mb=$((n * n * n * 4 / 1000000))
            frame=$(median < "$FOLDER/frame-$n-$ranks")
            raw=$(median < "$FOLDER/raw-$n-$ranks")
            ratio=$(RATIO='$2 / $1' ratios "$FOLDER/frame-$n-$ranks" "$FOLDER/raw-$n-$ranks")
            awk -v n="$n" -v r="$ranks" -v mb="$mb" -v f="$frame" -v w="$raw" -v q="$ratio" \
                'BEGIN { printf "%5d^3 %6d %10d %14.3f %14.3f %8.2f\n", n, r, mb, mb / f / 1000, mb / w / 1000, q }'
        done
    done
    echo
fi
if has overlap; then
    echo "A frame every step, 256^3, 20 steps and 21 frames (1.4 GB); seconds, medians of $ROUNDS rounds"
    printf '%6s %10s %12s %12s %12s %16s %10s\n' ranks compute "raw write" overlapped between "overlapped/max" goal
    for ranks in 1 2; do
        rate=$(median < "$FOLDER/step-rate-$ranks")
        raw=$(median < "$FOLDER/raw-overlap-$ranks")
        overlapped=$(median < "$FOLDER/overlapped-$ranks")
        between=$(median < "$FOLDER/between-$ranks")
        ratio=$(RATIO='$1 / (20 * 256 ^ 3 / $3 > 21 * $2 ? 20 * 256 ^ 3 / $3 : 21 * $2)' \
            ratios "$FOLDER/overlapped-$ranks" "$FOLDER/raw-overlap-$ranks" "$FOLDER/step-rate-$ranks")
        awk -v r="$ranks" -v rate="$rate" -v w="$raw" -v o="$overlapped" -v b="$between" -v q="$ratio" 'BEGIN {
            printf "%6d %10.3f %12.3f %12.3f %12.3f %16.2f %10s\n", r, 20 * 256 ^ 3 / rate, 21 * w, o, b, q, "<= 1.15" }'
    done
    echo
fi
if has ensemble; then
    echo "Ensemble assembly (8 members of 96^3, 11 frames each, into 2 files); medians of $ROUNDS rounds"
    printf '%6s %16s %14s %8s\n' ranks "assembly GB/s" "raw GB/s" ratio
    for ranks in 1 2; do
        assembly=$(median < "$FOLDER/assembly-$ranks")
        raw=$(median < "$FOLDER/raw-assembly-$ranks")
        ratio=$(RATIO='$1 / $2' ratios "$FOLDER/assembly-$ranks" "$FOLDER/raw-assembly-$ranks")
        awk -v r="$ranks" -v a="$assembly" -v w="$raw" -v q="$ratio" 'BEGIN { printf "%6d %16.3f %14.3f %8.2f\n", r, a, w, q }'
    done
fi
