"""The batch scripts' own logic under every scheduler, with fake scheduler commands on PATH.

Debian has no PBS, LSF or Flux, so their commands here are small scripts that record what
they were given (one line per call in calls.txt) and answer as the real ones do: qstat -f
prints a job record with a wrapped line, flux answers `job info ... jobspec` with a jobspec.
The launcher (mpirun, srun, flux run, aprun) records its arguments and runs the tessera
command it was given; tessera is a stand-in that records its arguments and either stops
early at once (exit 75, as at a wall-clock limit) or waits for SIGUSR1 and then exits 75,
as the real one does after writing its checkpoint. The real tessera under real Slurm is
test_jobs.py's.
"""

import json
import os
import pathlib
import shlex
import signal
import subprocess
import time

import pytest

from conftest import ROOT

JOBS = ROOT / "jobs"

RECORD = """#!/bin/bash
{ printf '%s' "$(basename "$0")"; printf '\\t%s' "$@"; printf '\\n'; } >> "$FAKE_CALLS"
"""

# A launcher: records itself, then runs everything from the tessera binary on.
LAUNCHER = RECORD + """while [ "$#" -gt 0 ] && [ "$1" != "$TESSERA" ]; do shift; done
exec "$@"
"""

TESSERA = RECORD + """case "$FAKE_MODE" in
    early) exit 75 ;;
    done) exit 0 ;;
    wait) trap 'exit 75' USR1; touch "$FAKE_STARTED"; while :; do sleep 0.05; done ;;
esac
"""

PBS_RECORD = """Job Id: 1234.pbs01
    Job_Name = tessera
    Job_Owner = user@login1
    job_state = R
    queue = workq
    server = pbs01
    Account_Name = PROJECT
    Resource_List.mpiprocs = 128
    Resource_List.ncpus = 128
    Resource_List.nodect = 2
    Resource_List.place = scatter
    Resource_List.select = 2:ncpus=64:mpiprocs=64:mem=2
\t00gb
    Resource_List.walltime = 12:00:00
    Variable_List = PBS_O_HOME=/home/user,PBS_O_LANG=C,PBS_O_LOGNAME=user,
\tPBS_O_PATH=/usr/bin:/bin,PBS_O_SHELL=/bin/bash
"""

TORQUE_RECORD = """Job Id: 77.torque
    Job_Name = tessera
    queue = batch
    Account_Name = geo
    Resource_List.nodes = 2:ppn=64
    Resource_List.mem = 64gb
    Resource_List.nodect = 2
    Resource_List.walltime = 01:00:00
"""

JOBSPEC = {
    "version": 1,
    "resources": [],
    "tasks": [],
    "attributes": {"system": {"duration": 43200.0, "queue": "pbatch", "bank": "climate", "cwd": "/w"}},
}

FLUX = RECORD + """[ "$1" = --parent ] && shift
case "$1 $2" in
    "job timeleft") echo 3600 ;;
    "job info") cat "$FAKE_JOBSPEC" ;;
    "resource list") case "$*" in *ncores*) echo 6 ;; *nnodes*) echo 2 ;; esac ;;
    batch*) echo f2Z3xq ;;
    run*) while [ "$#" -gt 0 ] && [ "$1" != "$TESSERA" ]; do shift; done; exec "$@" ;;
esac
"""


class Scheduler:
    """One scheduler's batch script, its environment and its fake commands."""

    def __init__(self, name, script, env, commands):
        self.name, self.script, self.env, self.commands = name, script, env, commands


@pytest.fixture
def fake(tmp_path):
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()

    def command(name, text):
        path = bin_folder / name
        path.write_text(text)
        path.chmod(0o755)
        return path

    tessera = command("tessera", TESSERA)
    for launcher in ("mpirun", "srun", "aprun", "mpiexec"):
        command(launcher, LAUNCHER)
    for recorder in ("scontrol", "sbatch"):
        command(recorder, RECORD)
    command("qsub", RECORD + "echo 1235.pbs01\n")
    command("qstat", RECORD + 'cat "$FAKE_QSTAT"\n')
    command("flux", FLUX)
    (tmp_path / "qstat.txt").write_text(PBS_RECORD)
    (tmp_path / "jobspec.json").write_text(json.dumps(JOBSPEC))
    nodefile = tmp_path / "nodefile"
    nodefile.write_text("n1\nn1\nn1\n")
    (tmp_path / "c.toml").write_text("# a config\n")
    base = {
        "PATH": f"{bin_folder}:{os.environ['PATH']}",
        "TESSERA": str(tessera),
        "FAKE_CALLS": str(tmp_path / "calls.txt"),
        "FAKE_STARTED": str(tmp_path / "started"),
        "FAKE_QSTAT": str(tmp_path / "qstat.txt"),
        "FAKE_JOBSPEC": str(tmp_path / "jobspec.json"),
        "FAKE_MODE": "early",
    }
    settings = ("TESSERA_LAUNCHER", "TESSERA_COMMAND", "TESSERA_ARGS", "TESSERA_MAX_REQUEUES", "TESSERA_CHAIN")
    inherited = {name: value for name, value in os.environ.items() if name not in settings}
    schedulers = {
        "slurm": Scheduler("slurm", JOBS / "slurm.sh", {"SLURM_JOB_ID": "501", "SLURM_JOB_NUM_NODES": "1",
                                                        "SLURM_NTASKS": "3"}, ["c.toml"]),
        "pbs": Scheduler("pbs", JOBS / "pbs.sh", {"PBS_JOBID": "1234.pbs01", "PBS_NODEFILE": str(nodefile),
                                                  "PBS_O_WORKDIR": str(tmp_path), "CONFIG": "c.toml"}, []),
        "lsf": Scheduler("lsf", JOBS / "lsf.sh", {"LSB_JOBID": "88", "LS_SUBCWD": str(tmp_path),
                                                  "CONFIG": "c.toml"}, []),
        "flux": Scheduler("flux", JOBS / "flux.sh", {"FLUX_JOB_ID": "f1Ab"}, ["c.toml"]),
    }
    for scheduler in schedulers.values():
        scheduler.env = {**inherited, **base, **scheduler.env}
    return tmp_path, schedulers


def calls(folder):
    """The recorded calls: (command, [arguments]) in order."""
    path = folder / "calls.txt"
    if not path.exists():
        return []
    return [(line.split("\t")[0], line.split("\t")[1:]) for line in path.read_text().splitlines()]


def called(folder, name):
    return [arguments for command, arguments in calls(folder) if command == name]


def run_script(folder, scheduler, **env):
    return subprocess.run(["bash", str(scheduler.script), *scheduler.commands], cwd=folder,
                          env={**scheduler.env, **env}, capture_output=True, text=True, timeout=30)


def test_pbs_continuation_keeps_resources_account_queue_and_environment(fake):
    folder, schedulers = fake
    result = run_script(folder, schedulers["pbs"])
    assert result.returncode == 75, result.stdout + result.stderr
    [launch] = called(folder, "mpirun")
    assert launch[:4] == ["-n", "3", "-machinefile", str(folder / "nodefile")]
    [tessera] = called(folder, "tessera")
    assert tessera == ["run", "c.toml", "--restart", "auto", "--walltime", str(12 * 3600 - 120)]
    [qsub] = called(folder, "qsub")
    # The wrapped select line joined again; nothing PBS derives from select (ncpus, nodect).
    assert " ".join(qsub[:-1]).startswith("-V -W depend=afterany:1234.pbs01 "
                                          "-l select=2:ncpus=64:mpiprocs=64:mem=200gb -l place=scatter "
                                          "-l walltime=12:00:00 -A PROJECT -q workq -v "), qsub
    assert "ncpus=128" not in " ".join(qsub) and "nodect" not in " ".join(qsub)
    assert "CONFIG=c.toml,TESSERA_REQUEUE_COUNT=1" in qsub
    assert qsub[-1] == str(schedulers["pbs"].script)
    assert "resubmitted as 1235.pbs01" in result.stdout


def test_torque_continuation_keeps_nodes_memory_and_walltime(fake):
    folder, schedulers = fake
    (folder / "qstat.txt").write_text(TORQUE_RECORD)
    result = run_script(folder, schedulers["pbs"], TESSERA_REQUEUE_COUNT="2")
    assert result.returncode == 75, result.stdout + result.stderr
    [qsub] = called(folder, "qsub")
    assert qsub[:12] == ["-V", "-W", "depend=afterany:1234.pbs01", "-l", "nodes=2:ppn=64", "-l",
                         "walltime=01:00:00", "-l", "mem=64gb", "-A", "geo", "-q"], qsub
    assert "CONFIG=c.toml,TESSERA_REQUEUE_COUNT=3" in qsub


def test_flux_continuation_keeps_nodes_slots_time_queue_and_bank(fake):
    folder, schedulers = fake
    result = run_script(folder, schedulers["flux"])
    assert result.returncode == 75, result.stdout + result.stderr
    [launch] = [arguments for arguments in called(folder, "flux") if arguments[0] == "run"]
    assert launch[:3] == ["run", "-n", "6"]
    [batch] = [arguments for arguments in called(folder, "flux") if "batch" in arguments]
    assert batch == ["--parent", "batch", "--dependency=afterany:f1Ab", "-N", "2", "-n", "6",
                     "--time-limit=43200s", "--queue=pbatch", "--setattr=system.bank=climate",
                     str(schedulers["flux"].script), "c.toml"], batch
    assert "resubmitted as f2Z3xq" in result.stdout


def test_lsf_requeues_through_its_exit_code_and_counts(fake):
    folder, schedulers = fake
    result = run_script(folder, schedulers["lsf"])
    assert result.returncode == 75, result.stdout + result.stderr
    assert (folder / ".tessera-requeues-88").read_text().strip() == "1"
    result = run_script(folder, schedulers["lsf"], TESSERA_MAX_REQUEUES="1")
    assert result.returncode == 3 and "not requeueing after 1 requeues" in result.stdout, result.stdout
    assert not (folder / ".tessera-requeues-88").exists()


RESUBMITS = {"slurm": ("scontrol", "requeue"), "pbs": ("qsub", "-V"), "flux": ("flux", "batch"), "lsf": None}


def interrupt(folder, scheduler, signal_number):
    """Starts the script with a tessera that waits, sends it `signal_number`, and returns the
    finished process."""
    # A shell started with SIGINT ignored (a background job of a non-interactive shell, as
    # a CI runner may start the suite) cannot trap it: give the script the default, as a
    # batch system's job starter does.
    process = subprocess.Popen(["bash", str(scheduler.script), *scheduler.commands], cwd=folder,
                               env={**scheduler.env, "FAKE_MODE": "wait"}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 20
    while not (folder / "started").exists():
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()[0]
        time.sleep(0.05)
    process.send_signal(signal_number)
    output, _ = process.communicate(timeout=20)
    return process.returncode, output


def resubmissions(folder, name):
    resubmit = RESUBMITS[name]
    if resubmit is None:  # LSF requeues by the exit code
        return None
    command, word = resubmit
    return [arguments for arguments in called(folder, command) if word in arguments]


@pytest.mark.parametrize("name", ["slurm", "pbs", "flux", "lsf"])
def test_cancel_checkpoints_and_never_requeues(fake, name):
    folder, schedulers = fake
    status, output = interrupt(folder, schedulers[name], signal.SIGTERM)
    assert "asking tessera to checkpoint and stop" in output, output
    assert "tessera exited with 75" in output, output
    if name == "lsf":
        assert status == 3 and "not requeueing" in output, output  # -Q "75" would requeue a 75
        assert not (folder / ".tessera-requeues-88").exists()
    else:
        assert status == 75 and resubmissions(folder, name) == [], output


@pytest.mark.parametrize("name", ["slurm", "pbs", "flux", "lsf"])
def test_the_warning_signal_checkpoints_and_comes_back(fake, name):
    folder, schedulers = fake
    status, output = interrupt(folder, schedulers[name], signal.SIGUSR1)
    assert status == 75, output
    if name == "lsf":
        assert (folder / ".tessera-requeues-88").read_text().strip() == "1"
    else:
        assert len(resubmissions(folder, name)) == 1, output


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="no SIGINT")
def test_bkill_sends_sigint_first_and_that_is_a_cancel_too(fake):
    folder, schedulers = fake
    status, output = interrupt(folder, schedulers["lsf"], signal.SIGINT)
    assert status == 3 and "SIGINT: asking tessera" in output, output


@pytest.mark.parametrize("name", ["slurm", "pbs", "flux", "lsf"])
def test_tessera_launcher_replaces_the_launch_command(fake, name):
    folder, schedulers = fake
    result = run_script(folder, schedulers[name], TESSERA_LAUNCHER="aprun -n 7 -N 4", FAKE_MODE="done")
    assert result.returncode == 0, result.stdout + result.stderr
    [aprun] = called(folder, "aprun")
    assert aprun[:4] == ["-n", "7", "-N", "4"] and aprun[4] == schedulers[name].env["TESSERA"]
    assert called(folder, "mpirun") == [] and called(folder, "srun") == []
    assert not [a for a in called(folder, "flux") if a and a[0] == "run"]
    assert f"launching: aprun -n 7 -N 4 {schedulers[name].env['TESSERA']} run c.toml --restart auto" in result.stdout


def test_slurm_launches_with_pmix_unless_told_otherwise(fake):
    folder, schedulers = fake
    assert run_script(folder, schedulers["slurm"], FAKE_MODE="done").returncode == 0
    assert run_script(folder, schedulers["slurm"], FAKE_MODE="done",
                      TESSERA_LAUNCHER="srun --mpi=pmi2").returncode == 0
    assert [call[:1] for call in called(folder, "srun")] == [["--mpi=pmix"], ["--mpi=pmi2"]]


@pytest.mark.parametrize("name", ["slurm", "pbs", "flux", "lsf"])
def test_ensemble_mode_runs_tessera_ensemble_with_restart_auto(fake, name):
    folder, schedulers = fake
    result = run_script(folder, schedulers[name], TESSERA_COMMAND="ensemble", TESSERA_ARGS="--set a=1")
    assert result.returncode == 75, result.stdout + result.stderr
    [tessera] = called(folder, "tessera")
    assert tessera[:4] == ["ensemble", "c.toml", "--restart", "auto"] and tessera[-2:] == ["--set", "a=1"], tessera
    bad = run_script(folder, schedulers[name], TESSERA_COMMAND="gradient")
    assert bad.returncode == 2 and "TESSERA_COMMAND must be run or ensemble" in bad.stderr


def test_a_chain_link_stopped_early_exits_zero_for_afterok_and_a_cancelled_one_does_not(fake):
    folder, schedulers = fake
    slurm = schedulers["slurm"]
    result = run_script(folder, slurm, TESSERA_CHAIN="1", TESSERA_MAX_REQUEUES="0")
    assert result.returncode == 0 and "the next link of the chain continues" in result.stdout, result.stdout
    assert "tessera exited with 75" in result.stdout and called(folder, "scontrol") == []
    slurm.env.update(TESSERA_CHAIN="1", TESSERA_MAX_REQUEUES="0")
    status, output = interrupt(folder, slurm, signal.SIGTERM)
    assert status == 75 and "not requeueing" in output, output


def test_the_chain_submits_afterok_links_that_die_with_a_failed_predecessor(fake):
    folder, schedulers = fake
    env = {**schedulers["slurm"].env}
    (folder / "bin" / "sbatch").write_text(RECORD + 'echo $((100 + $(grep -c sbatch "$FAKE_CALLS")))\n')
    result = subprocess.run([str(JOBS / "slurm-chain.sh"), "3", "--ntasks=4", "c.toml"], cwd=folder, env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    links = called(folder, "sbatch")
    assert len(links) == 3
    for index, link in enumerate(links):
        assert "--export=ALL,TESSERA_MAX_REQUEUES=0,TESSERA_CHAIN=1" in link
        dependency = [a for a in link if a.startswith("--dependency")]
        assert dependency == ([] if index == 0 else [f"--dependency=afterok:{100 + index}"])
        assert ("--kill-on-invalid-dep=yes" in link) == (index > 0)
    assert result.stdout.split() == shlex.split("link 1 of 3: job 101 link 2 of 3: job 102 link 3 of 3: job 103")
