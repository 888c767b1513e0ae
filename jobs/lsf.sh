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
#   TESSERA_COMMAND=run|ensemble  what tessera runs (default run); both continue with --restart auto
#   TESSERA_ARGS="..."            more arguments for tessera
#   TESSERA=/path/to/tessera      default: tessera on PATH (module load tessera)
#
# How it stops and comes back: -wa USR1 -wt 5 sends SIGUSR1 to the job 5 minutes before the
# run limit; the trap passes it on to every rank, which write a checkpoint and exit with 75
# ("stopped early, restart me"). -Q "75" makes LSF requeue a job that exits with 75; the
# requeued job continues from the newest checkpoint that verifies (--restart auto). The
# script counts requeues in .tessera-requeues-JOBID in the submission folder and, past the
# limit, exits with 3 instead ("stopped early, not requeued"). bkill (SIGINT, then SIGTERM)
# and preemption also make the ranks checkpoint, and the script exits with 3 then too, so
# that a cancelled job stays cancelled. -r reruns the job after a host failure, which
# continues the same way.
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
COMMAND="${TESSERA_COMMAND:-run}"
STOPPED_EARLY=75
NOT_REQUEUED=3
case "$COMMAND" in
    run | ensemble) ;;
    *) echo "TESSERA_COMMAND must be run or ensemble, not '$COMMAND'" >&2; exit 2 ;;
esac
read -r -a extra <<< "${TESSERA_ARGS:-}"
read -r -a launch <<< "${TESSERA_LAUNCHER:-mpirun}"
counter=".tessera-requeues-$LSB_JOBID"
requeues=$(cat "$counter" 2>/dev/null || echo 0)
echo "$(date -Is) job $LSB_JOBID on ${LSB_HOSTS:-?}, requeued $requeues times so far"

echo "$(date -Is) launching: ${launch[*]} $TESSERA $COMMAND $CONFIG --restart auto ${extra[*]}"
"${launch[@]}" "$TESSERA" "$COMMAND" "$CONFIG" --restart auto ${extra[@]+"${extra[@]}"} &
pid=$!
cancelled=no
# shellcheck disable=SC2317  # called from the traps below
on_signal() {
    echo "$(date -Is) SIG$1: asking tessera to checkpoint and stop"
    [ "$1" != USR1 ] && cancelled=yes
    kill -USR1 "$pid" 2>/dev/null
}
trap 'on_signal USR1' USR1
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT
wait "$pid"
status=$?
while [ "$status" -gt 128 ] && kill -0 "$pid" 2>/dev/null; do
    wait "$pid"
    status=$?
done

echo "$(date -Is) tessera exited with $status"
if [ "$status" -eq "$STOPPED_EARLY" ]; then
    if [ "$cancelled" = yes ]; then
        echo "$(date -Is) stopped after bkill or preemption: not requeueing"
        rm -f "$counter"
        exit "$NOT_REQUEUED"
    fi
    if [ "$requeues" -ge "$MAX_REQUEUES" ]; then
        echo "$(date -Is) stopped early; not requeueing after $requeues requeues (TESSERA_MAX_REQUEUES=$MAX_REQUEUES)"
        rm -f "$counter"
        exit "$NOT_REQUEUED"
    fi
    echo $((requeues + 1)) > "$counter"
    echo "$(date -Is) stopped early; LSF requeues the job (requeue $((requeues + 1)) of at most $MAX_REQUEUES)"
else
    rm -f "$counter"
fi
exit "$status"
