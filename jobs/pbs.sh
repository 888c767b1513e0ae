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
# Variables (#PBS -V passes the submitting shell's environment, loaded modules included):
#   CONFIG                     the TOML config (required; PBS passes no arguments to scripts)
#   TESSERA_LAUNCHER="..."     the launch command, default "mpirun -n RANKS -machinefile
#                              $PBS_NODEFILE"; for example "mpiexec -n 128 --ppn 64" (Cray PALS)
#                              or "aprun -n 128"
#   TESSERA_COMMAND=run|ensemble  what tessera runs (default run); both continue with --restart auto
#   TESSERA_MAX_REQUEUES=N     resubmit at most N times (default 10); 0 never resubmits
#   TESSERA_ARGS="..."         more arguments for tessera (no commas: -v splits on them)
#   TESSERA=/path/to/tessera   default: tessera on PATH (module load tessera)
#   TESSERA_MARGIN=SECONDS     tell tessera the limit is this much earlier (default 120), for
#                              start-up and shut-down; tessera adds its own checkpoint margin
#
# How it stops and comes back: PBS gives no warning before the limit, so the script passes
# the job's walltime to tessera (--walltime), which stops with a checkpoint in time, leaving
# a margin for the checkpoint itself, and exits with 75 ("stopped early, restart me"). A
# SIGTERM from qdel or the server is passed on to the ranks as SIGUSR1 (they checkpoint) and
# is never followed by a resubmission. On 75 the script submits itself again, depending on
# this job, with the resources, account and queue this job has (read back from qstat -f)
# and its environment (-V); the new job continues from the newest checkpoint that verifies
# (--restart auto). -r y lets PBS rerun the job after a node failure, which continues the
# same way.
#PBS -N tessera
#PBS -j oe
#PBS -r y
#PBS -V
set -uo pipefail
cd "${PBS_O_WORKDIR:-.}" || exit 2

: "${CONFIG:?set the config with qsub -v CONFIG=run.toml}"
TESSERA="${TESSERA:-tessera}"
MAX_REQUEUES="${TESSERA_MAX_REQUEUES:-10}"
COUNT="${TESSERA_REQUEUE_COUNT:-0}"
COMMAND="${TESSERA_COMMAND:-run}"
STOPPED_EARLY=75
case "$COMMAND" in
    run | ensemble) ;;
    *) echo "TESSERA_COMMAND must be run or ensemble, not '$COMMAND'" >&2; exit 2 ;;
esac
read -r -a extra <<< "${TESSERA_ARGS:-}"

# This job's attributes ("name = value"), with the lines qstat -f wraps joined again.
attributes=$(qstat -f "$PBS_JOBID" 2>/dev/null | awk '
    /^\t/ { sub(/^\t+/, ""); line = line $0; next }
    { if (line != "") print line; line = $0 }
    END { if (line != "") print line }')
attribute() {
    awk -v key="$1" '{ name = $0; sub(/ = .*/, "", name); sub(/^ +/, "", name)
        if (name == key) { sub(/^[^=]*= /, ""); print; exit } }' <<< "$attributes"
}

# The job's walltime, less the margin, for tessera's own deadline.
walltime=$(attribute Resource_List.walltime)
deadline=()
margin="${TESSERA_MARGIN:-120}"
if [[ "$walltime" =~ ^([0-9]+):([0-9]{2}):([0-9]{2})$ ]]; then
    seconds=$((10#${BASH_REMATCH[1]} * 3600 + 10#${BASH_REMATCH[2]} * 60 + 10#${BASH_REMATCH[3]}))
    [ "$seconds" -gt "$margin" ] && deadline=(--walltime $((seconds - margin)))
fi
ranks=$(wc -l < "$PBS_NODEFILE")
if [ -n "${TESSERA_LAUNCHER:-}" ]; then
    read -r -a launch <<< "$TESSERA_LAUNCHER"
else
    launch=(mpirun -n "$ranks" -machinefile "$PBS_NODEFILE")
fi
echo "$(date -Is) job $PBS_JOBID, $ranks ranks, walltime ${walltime:-unknown}, resubmitted $COUNT times so far"

echo "$(date -Is) launching: ${launch[*]} $TESSERA $COMMAND $CONFIG --restart auto ${deadline[*]} ${extra[*]}"
"${launch[@]}" "$TESSERA" "$COMMAND" "$CONFIG" --restart auto \
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

if [ "$status" -eq "$STOPPED_EARLY" ] && [ "$resubmit" = no ]; then
    echo "$(date -Is) stopped after SIGTERM (qdel or the server): not resubmitting"
elif [ "$status" -eq "$STOPPED_EARLY" ]; then
    if [ "$COUNT" -ge "$MAX_REQUEUES" ]; then
        echo "$(date -Is) stopped early; not resubmitting after $COUNT resubmissions (TESSERA_MAX_REQUEUES=$MAX_REQUEUES)"
    else
        # The same resources: PBS Pro derives ncpus, mem, nodect, ... from select, and
        # refuses them beside it; Torque has nodes instead.
        same=()
        if [ -n "$(attribute Resource_List.select)" ]; then names=(select place walltime); else names=(nodes walltime mem pmem); fi
        for name in "${names[@]}"; do
            value=$(attribute "Resource_List.$name")
            [ -n "$value" ] && same+=(-l "$name=$value")
        done
        account=$(attribute Account_Name)
        queue=$(attribute queue)
        [ -n "$account" ] && same+=(-A "$account")
        [ -n "$queue" ] && same+=(-q "$queue")
        next=$(TESSERA_REQUEUE_COUNT=$((COUNT + 1)) qsub -V -W depend=afterany:"$PBS_JOBID" \
            ${same[@]+"${same[@]}"} \
            -v "CONFIG=$CONFIG,TESSERA_REQUEUE_COUNT=$((COUNT + 1))" "$0")
        echo "$(date -Is) stopped early; resubmitted as $next with ${same[*]} ($((COUNT + 1)) of at most $MAX_REQUEUES)"
    fi
fi
echo "$(date -Is) tessera exited with $status"
exit "$status"
