#!/bin/bash
# Tessera under IBM Spectrum LSF: runs CONFIG, checkpoints before the run limit and has LSF
# requeue the job until the run is done.
#
#   bsub -n 128 -R "span[ptile=64]" -W 12:00 -P PROJECT -env "all,CONFIG=run.toml" < jobs/lsf.sh
#
# On the bsub line (or in #BSUB lines below):
#   -n RANKS -R "span[ptile=P]"   ranks, P per node (size them: tessera plan)
#   -W HH:MM                      the run limit of one job; a longer run goes on when requeued
#   -P PROJECT, -q QUEUE          as the site requires
# Variables (in the environment bsub passes on, or with -env):
#   CONFIG                        the TOML config (required)
#   TESSERA_MAX_REQUEUES=N        requeue at most N times (default 10); 0 never requeues
#   TESSERA_LAUNCHER="..."        default mpirun (an LSF-aware Open MPI reads the allocation);
#                                 for example "jsrun -n 128" or "mpirun -n 128"
#   TESSERA_ARGS="..."            more arguments for tessera run
#   TESSERA=/path/to/tessera      default: tessera on PATH (module load tessera)
#
# How it stops and comes back: -wa USR1 -wt 5 sends SIGUSR1 to the job 5 minutes before the
# run limit; the trap passes it on to every rank, which write a checkpoint and exit with 75
# ("stopped early, restart me"). -Q "75" makes LSF requeue a job that exits with 75; the
# requeued job continues from the newest checkpoint that verifies (--restart auto). The
# script counts requeues in .tessera-requeues-JOBID in the submission folder and, past the
# limit, exits with 3 instead ("stopped early, not requeued"). -r reruns the job after a
# host failure, which continues the same way.
#BSUB -J tessera
#BSUB -o tessera-%J.out
#BSUB -wa USR1
#BSUB -wt 5
#BSUB -Q "75"
#BSUB -r
set -uo pipefail
cd "${LS_SUBCWD:-.}" || exit 2

: "${CONFIG:?set the config with bsub -env \"all,CONFIG=run.toml\"}"
TESSERA="${TESSERA:-tessera}"
MAX_REQUEUES="${TESSERA_MAX_REQUEUES:-10}"
STOPPED_EARLY=75
OUT_OF_REQUEUES=3
read -r -a extra <<< "${TESSERA_ARGS:-}"
read -r -a launch <<< "${TESSERA_LAUNCHER:-mpirun}"
counter=".tessera-requeues-$LSB_JOBID"
requeues=$(cat "$counter" 2>/dev/null || echo 0)
echo "$(date -Is) job $LSB_JOBID on ${LSB_HOSTS:-?}, requeued $requeues times so far"

"${launch[@]}" "$TESSERA" run "$CONFIG" --restart auto ${extra[@]+"${extra[@]}"} &
pid=$!
trap 'echo "$(date -Is) SIGUSR1: asking tessera to checkpoint and stop"; kill -USR1 "$pid" 2>/dev/null' USR1
trap 'echo "$(date -Is) SIGTERM: asking tessera to checkpoint and stop"; kill -USR1 "$pid" 2>/dev/null' TERM
wait "$pid"
status=$?
while [ "$status" -gt 128 ] && kill -0 "$pid" 2>/dev/null; do
    wait "$pid"
    status=$?
done

echo "$(date -Is) tessera exited with $status"
if [ "$status" -eq "$STOPPED_EARLY" ]; then
    if [ "$requeues" -ge "$MAX_REQUEUES" ]; then
        echo "$(date -Is) stopped early; not requeueing after $requeues requeues (TESSERA_MAX_REQUEUES=$MAX_REQUEUES)"
        rm -f "$counter"
        exit "$OUT_OF_REQUEUES"
    fi
    echo $((requeues + 1)) > "$counter"
    echo "$(date -Is) stopped early; LSF requeues the job (requeue $((requeues + 1)) of at most $MAX_REQUEUES)"
else
    rm -f "$counter"
fi
exit "$status"
