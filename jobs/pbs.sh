#!/bin/bash
# Tessera under PBS Pro or OpenPBS (Torque: see the resource line below): runs CONFIG,
# checkpoints before the wall-clock limit and resubmits itself until the run is done.
#
#   qsub -l select=2:ncpus=64:mpiprocs=64 -l walltime=12:00:00 -A PROJECT -v CONFIG=run.toml jobs/pbs.sh
#   Torque:  qsub -l nodes=2:ppn=64 -l walltime=12:00:00 -A PROJECT -v CONFIG=run.toml jobs/pbs.sh
#
# On the qsub line (or in #PBS lines below):
#   -l select=NODES:ncpus=C:mpiprocs=R   ranks = NODES × R (size them: tessera plan)
#   -l walltime=HH:MM:SS                 the wall time of one job; a longer run goes on in the next
#   -A PROJECT, -q QUEUE                 as the site requires
#   -v CONFIG=run.toml,...               the config, and any of the variables below
# Variables:
#   CONFIG                     the TOML config (required; PBS passes no arguments to scripts)
#   TESSERA_MAX_REQUEUES=N     resubmit at most N times (default 10); 0 never resubmits
#   TESSERA_ARGS="..."         more arguments for tessera run (no commas: -v splits on them)
#   TESSERA=/path/to/tessera   default: tessera on PATH (module load tessera)
#   TESSERA_MARGIN=SECONDS     tell tessera the limit is this much earlier (default 120), for
#                              start-up and shut-down; tessera adds its own checkpoint margin
#
# How it stops and comes back: PBS gives no warning before the limit, so the script passes
# the job's walltime to tessera (--walltime), which stops with a checkpoint in time, leaving
# a margin for the checkpoint itself, and exits with 75 ("stopped early, restart me"). A
# SIGTERM from qdel or the server is passed on to the ranks as SIGUSR1 (they checkpoint).
# On 75 the script submits itself again, depending on this job; the new job continues from
# the newest checkpoint that verifies (--restart auto). -r y lets PBS rerun the job after a
# node failure, which continues the same way.
#PBS -N tessera
#PBS -j oe
#PBS -r y
set -uo pipefail
cd "${PBS_O_WORKDIR:-.}" || exit 2

: "${CONFIG:?set the config with qsub -v CONFIG=run.toml}"
TESSERA="${TESSERA:-tessera}"
MAX_REQUEUES="${TESSERA_MAX_REQUEUES:-10}"
COUNT="${TESSERA_REQUEUE_COUNT:-0}"
STOPPED_EARLY=75
read -r -a extra <<< "${TESSERA_ARGS:-}"

# The job's walltime, less the margin, for tessera's own deadline.
walltime=$(qstat -f "$PBS_JOBID" 2>/dev/null | awk -F' = ' '/Resource_List.walltime/ { print $2 }')
deadline=()
margin="${TESSERA_MARGIN:-120}"
if [[ "$walltime" =~ ^([0-9]+):([0-9]{2}):([0-9]{2})$ ]]; then
    seconds=$((10#${BASH_REMATCH[1]} * 3600 + 10#${BASH_REMATCH[2]} * 60 + 10#${BASH_REMATCH[3]}))
    [ "$seconds" -gt "$margin" ] && deadline=(--walltime $((seconds - margin)))
fi
ranks=$(wc -l < "$PBS_NODEFILE")
echo "$(date -Is) job $PBS_JOBID, $ranks ranks, walltime ${walltime:-unknown}, resubmitted $COUNT times so far"

mpirun -n "$ranks" -machinefile "$PBS_NODEFILE" "$TESSERA" run "$CONFIG" --restart auto \
    ${deadline[@]+"${deadline[@]}"} ${extra[@]+"${extra[@]}"} &
pid=$!
resubmit=yes
# shellcheck disable=SC2317  # called from the traps below
on_signal() {
    echo "$(date -Is) SIG$1: asking tessera to checkpoint and stop"
    [ "$1" = TERM ] && resubmit=no
    kill -USR1 "$pid" 2>/dev/null
}
trap 'on_signal TERM' TERM
trap 'on_signal USR1' USR1
wait "$pid"
status=$?
while [ "$status" -gt 128 ] && kill -0 "$pid" 2>/dev/null; do
    wait "$pid"
    status=$?
done

if [ "$status" -eq "$STOPPED_EARLY" ] && [ "$resubmit" = yes ]; then
    if [ "$COUNT" -ge "$MAX_REQUEUES" ]; then
        echo "$(date -Is) stopped early; not resubmitting after $COUNT resubmissions (TESSERA_MAX_REQUEUES=$MAX_REQUEUES)"
    else
        next=$(qsub -W depend=afterany:"$PBS_JOBID" \
            -v "CONFIG=$CONFIG,TESSERA=$TESSERA,TESSERA_MAX_REQUEUES=$MAX_REQUEUES,TESSERA_REQUEUE_COUNT=$((COUNT + 1)),TESSERA_ARGS=${TESSERA_ARGS:-},TESSERA_MARGIN=$margin" \
            "$0")
        echo "$(date -Is) stopped early; resubmitted as $next ($((COUNT + 1)) of at most $MAX_REQUEUES)"
    fi
fi
echo "$(date -Is) tessera exited with $status"
exit "$status"
