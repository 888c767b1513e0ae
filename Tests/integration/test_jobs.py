"""The batch scripts in jobs/: every one passes shellcheck, and the Slurm ones run on a real
single-node Slurm cluster that this module starts (slurmctld and slurmd on localhost, no
systemd, auth/none) and shuts down at the end.

Each Slurm job is interrupted partway, the way a cluster interrupts it: by the warning
signal before the time limit (`scancel --signal=USR1 --batch` delivers exactly what
`--signal=B:USR1@300` does, without waiting for a real limit), or by `scontrol requeue`. It
must come back by itself, continue from its checkpoint and end bitwise identical to a
straight run on another rank count.
"""

import os
import pathlib
import shutil
import socket
import subprocess
import time

import pytest

from conftest import BINARY, ROOT, assert_same_as_gold, environment, run_tessera, write_config
from test_ensemble import campaign_config, dataset_files, trajectory_data

JOBS = ROOT / "jobs"
STEPS = 6000
SCRIPTS = sorted(JOBS.glob("*.sh"))


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed (scripts/test installs it as root)")
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_batch_scripts_pass_shellcheck(script):
    result = subprocess.run(["shellcheck", "-x", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_there_is_a_script_for_each_scheduler():
    assert {s.name for s in SCRIPTS} >= {"slurm.sh", "slurm-chain.sh", "pbs.sh", "lsf.sh", "flux.sh"}
    for script in SCRIPTS:
        text = script.read_text()
        assert "--restart auto" in text or "slurm.sh" in text, script
        assert os.access(script, os.X_OK), f"{script} is not executable"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, base):
        self.base = base
        self.env = environment()
        self.env["SLURM_CONF"] = str(base / "slurm.conf")

    def run(self, *command, check=True):
        result = subprocess.run(command, capture_output=True, text=True, env=self.env, timeout=60)
        if check:
            assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
        return result

    def state(self, job):
        """The job's state (PENDING, RUNNING, ...), or None once it has left the queue. A
        squeue that fails (slurmctld busy under load) says UNKNOWN, not gone: the jobs end
        well within slurmctld's MinJobAge, so squeue knows them to the end."""
        result = self.run("squeue", "-h", "-j", str(job), "-o", "%T", check=False)
        if result.returncode != 0:
            return "UNKNOWN"
        return result.stdout.strip() or None

    def start_now(self, job, log):
        """Skips a requeued job's start delay, once the node has finished with the job's last
        run and the clock has moved into a later second. slurmd revoked the last run's
        credential when it killed it, and refuses a credential made in that second or before
        (cred_revoked compares whole seconds: ctime <= revoked), saying "Job N already killed,
        do not launch batch job"; the job then ends FAILED instead of running again. The
        delay Slurm puts on a requeued job is there for this; the tests cut it short."""
        self.wait_for(lambda: self.run("sinfo", "-h", "-o", "%T", check=False).stdout.strip() == "idle",
                      "the node to finish with the job's last run", log)
        # The revocation came before the node went idle, so it is in this second or earlier.
        time.sleep(1.2 - time.time() % 1.0)
        self.run("scontrol", "update", f"jobid={job}", "StartTime=now")

    def wait_for(self, condition, what, log=None, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.25)
        text = log.read_text() if log and log.exists() else "(no job output)"
        pytest.fail(f"timed out after {timeout} s waiting for {what}\n{text}")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    for daemon in ("slurmctld", "slurmd", "sbatch"):
        if shutil.which(daemon) is None:
            pytest.skip(f"{daemon} is not installed (scripts/test installs Slurm as root)")
    base = tmp_path_factory.mktemp("slurm")
    host = socket.gethostname().split(".")[0]
    for folder in ("state", "spool", "log"):
        (base / folder).mkdir()
    (base / "slurm.conf").write_text(f"""\
ClusterName=tessera-test
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={base}/log/jobcomp.txt
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool
SlurmctldPidFile={base}/slurmctld.pid
SlurmdPidFile={base}/slurmd.pid
SlurmctldLogFile={base}/log/slurmctld.log
SlurmdLogFile={base}/log/slurmd.log
SlurmdParameters=config_overrides
ReturnToService=2
JobRequeue=1
KillWait=15
NodeName={host} NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
    cluster = Cluster(base)
    cluster.run("slurmctld", "-f", str(base / "slurm.conf"))
    cluster.run("slurmd", "-f", str(base / "slurm.conf"))
    try:
        cluster.wait_for(lambda: cluster.run("sinfo", "-h", "-o", "%T", check=False).stdout.strip() == "idle",
                         "the node to be idle", timeout=30)
        yield cluster
    finally:
        cluster.run("scontrol", "shutdown", check=False)
        pids = [int((base / f"{d}.pid").read_text()) for d in ("slurmctld", "slurmd") if (base / f"{d}.pid").exists()]
        deadline = time.monotonic() + 20
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if pathlib.Path(f"/proc/{p}").exists()]
            time.sleep(0.2)
        for pid in pids:  # still there: do not leave daemons behind
            os.kill(pid, 9)


@pytest.fixture(scope="module")
def gold(tmp_path_factory):
    """The straight run, on 2 ranks under mpirun."""
    base = tmp_path_factory.mktemp("gold")
    config = job_config(base / "c.toml", base / "out")
    result = run_tessera(["run", config], ranks=2, timeout=300)
    assert result.returncode == 0, result.stderr
    return base / "out"


def job_config(path, output):
    """Long enough (10 s or so here) for a job to be interrupted after its first checkpoint."""
    return write_config(path, [64, 64, 64], output, steps=STEPS, every=500, checkpoint="every = 500")


def submit(slurm, folder, *options, env=None, script="slurm.sh"):
    config = job_config(folder / "c.toml", folder / "out")
    slurm.env.update({"TESSERA": str(BINARY), **(env or {})})
    result = slurm.run("sbatch", "--parsable", f"--chdir={folder}", *options, str(JOBS / script), str(config))
    return int(result.stdout.strip().split(";")[0])


def has_checkpoint(folder):
    checkpoints = folder / "out" / "checkpoints"
    return checkpoints.exists() and any(checkpoints.glob("checkpoint-*.hdf5"))


def test_warning_signal_checkpoints_requeues_and_finishes_bitwise(slurm, gold, tmp_path):
    job = submit(slurm, tmp_path, "--ntasks=3", env={"TESSERA_LAUNCHER": "srun --mpi=pmix"})
    log = tmp_path / f"tessera-{job}.out"
    slurm.wait_for(lambda: has_checkpoint(tmp_path), "the first checkpoint", log)
    slurm.run("scancel", "--signal=USR1", "--batch", str(job))
    slurm.wait_for(lambda: log.exists() and "requeueing (requeue 1" in log.read_text(), "the self-requeue", log)
    slurm.wait_for(lambda: slurm.state(job) == "PENDING", "the job to be pending again", log)
    slurm.start_now(job, log)
    slurm.wait_for(lambda: slurm.state(job) is None, "the requeued job to finish", log)
    text = log.read_text()
    assert "launched by srun (Slurm job" in text and "3 ranks on 1 node" in text
    assert "USR1: asking tessera to checkpoint and stop" in text
    assert "stopped at step" in text and "received SIGUSR1" in text
    assert "requeued 1 times so far" in text and "restarting from" in text
    assert text.rstrip().endswith("tessera exited with 0"), text
    assert_same_as_gold(gold, tmp_path / "out", STEPS)


def test_scheduler_requeue_continues_from_the_checkpoint_bitwise(slurm, gold, tmp_path):
    job = submit(slurm, tmp_path, "--ntasks=4", env={"TESSERA_LAUNCHER": "mpirun"})
    log = tmp_path / f"tessera-{job}.out"
    slurm.wait_for(lambda: has_checkpoint(tmp_path), "the first checkpoint", log)
    slurm.run("scontrol", "requeue", str(job))
    slurm.wait_for(lambda: slurm.state(job) == "PENDING", "the job to be requeued", log)
    slurm.start_now(job, log)
    slurm.wait_for(lambda: slurm.state(job) is None, "the requeued job to finish", log)
    text = log.read_text()
    assert "launched by mpirun (Open MPI): 4 ranks" in text
    assert "requeued 1 times so far" in text and "restarting from" in text, text
    assert text.rstrip().endswith("tessera exited with 0"), text
    assert_same_as_gold(gold, tmp_path / "out", STEPS)


def test_a_chain_of_jobs_goes_on_where_the_last_one_stopped(slurm, gold, tmp_path):
    config = job_config(tmp_path / "c.toml", tmp_path / "out")
    slurm.env["TESSERA"] = str(BINARY)
    result = subprocess.run([str(JOBS / "slurm-chain.sh"), "2", "--ntasks=3", f"--chdir={tmp_path}", str(config)],
                            capture_output=True, text=True, env=slurm.env, timeout=60)
    assert result.returncode == 0, result.stderr
    first, second = [int(line.split()[-1]) for line in result.stdout.splitlines()]
    first_log, second_log = tmp_path / f"tessera-{first}.out", tmp_path / f"tessera-{second}.out"
    assert slurm.state(second) == "PENDING"
    slurm.wait_for(lambda: has_checkpoint(tmp_path), "the first checkpoint", first_log)
    slurm.run("scancel", "--signal=USR1", "--batch", str(first))
    slurm.wait_for(lambda: slurm.state(first) is None, "the first link to end", first_log)
    assert "the next link of the chain continues" in first_log.read_text()
    slurm.wait_for(lambda: slurm.state(second) is None, "the second link to finish", second_log)
    text = second_log.read_text()
    assert "restarting from" in text and text.rstrip().endswith("tessera exited with 0"), text
    assert_same_as_gold(gold, tmp_path / "out", STEPS)


def test_bad_input_fails_the_job_at_once_without_requeue(slurm, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[grid]\nshape = [0, 8]\n")
    slurm.env["TESSERA"] = str(BINARY)
    job = int(slurm.run("sbatch", "--parsable", f"--chdir={tmp_path}", "--ntasks=3", str(JOBS / "slurm.sh"),
                        str(config)).stdout.strip())
    log = tmp_path / f"tessera-{job}.out"
    slurm.wait_for(lambda: slurm.state(job) is None, "the job to fail", log, timeout=60)
    text = log.read_text()
    assert "[grid.shape]" in text and "tessera exited with 1" in text, text
    assert "requeue" not in text.split("so far", 1)[1]


def test_a_chain_stops_at_a_failed_link_instead_of_burning_the_rest(slurm, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[grid]\nshape = [0, 8]\n")
    slurm.env["TESSERA"] = str(BINARY)
    result = subprocess.run([str(JOBS / "slurm-chain.sh"), "3", "--ntasks=2", f"--chdir={tmp_path}", str(config)],
                            capture_output=True, text=True, env=slurm.env, timeout=60)
    assert result.returncode == 0, result.stderr
    first, *rest = [int(line.split()[-1]) for line in result.stdout.splitlines()]
    first_log = tmp_path / f"tessera-{first}.out"
    slurm.wait_for(lambda: all(slurm.state(job) is None for job in [first, *rest]), "the chain to end", first_log)
    assert "tessera exited with 1" in first_log.read_text()
    for job in rest:
        record = slurm.run("scontrol", "show", "job", str(job)).stdout
        assert "JobState=CANCELLED" in record and "DependencyNeverSatisfied" in record, record
        assert not (tmp_path / f"tessera-{job}.out").exists(), "a link after the failure ran"


def test_an_ensemble_job_stopped_by_the_warning_signal_requeues_and_gives_the_same_dataset(slurm, tmp_path):
    """TESSERA_COMMAND=ensemble: the campaign stops partway, the job requeues itself, and
    tessera ensemble --restart auto ends with the dataset of a straight run."""
    # Members of a few seconds each, so that the signal, sent once the first has finished,
    # finds the second round still running: at 0.2 s each, the whole campaign sometimes
    # finished first, and the job ended without a requeue.
    settings = dict(members=4, shape=(64, 64), end_time=1000.0, every_time=100.0, checkpoint=20000)
    straight_config = campaign_config(tmp_path, "straight", **settings)
    result = run_tessera(["ensemble", straight_config], ranks=2, timeout=300)
    assert result.returncode == 0, result.stderr
    config = campaign_config(tmp_path, "resumed", **settings)
    slurm.env.update({"TESSERA": str(BINARY), "TESSERA_COMMAND": "ensemble", "TESSERA_LAUNCHER": "mpirun"})
    try:
        job = int(slurm.run("sbatch", "--parsable", f"--chdir={tmp_path}", "--ntasks=2", str(JOBS / "slurm.sh"),
                            str(config)).stdout.strip())
    finally:
        del slurm.env["TESSERA_COMMAND"]
    log = tmp_path / f"tessera-{job}.out"
    members = tmp_path / "resumed" / "members"
    slurm.wait_for(lambda: any(members.glob("*/complete")), "the first member to finish", log)
    slurm.run("scancel", "--signal=USR1", "--batch", str(job))
    slurm.wait_for(lambda: log.exists() and "requeueing (requeue 1" in log.read_text(), "the self-requeue", log)
    slurm.wait_for(lambda: slurm.state(job) == "PENDING", "the job to be pending again", log)
    slurm.start_now(job, log)
    slurm.wait_for(lambda: slurm.state(job) is None and "requeued 1 times so far" in log.read_text(),
                   "the requeued campaign to finish", log)
    text = log.read_text()
    assert "ensemble" in text.split("launching:", 1)[1].split("\n", 1)[0]
    assert text.rstrip().endswith("tessera exited with 0"), text
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert dataset_files(resumed) == dataset_files(straight) != []
    for name in dataset_files(straight):
        expected, got = trajectory_data(straight / name), trajectory_data(resumed / name)
        for key in expected:
            assert expected[key].tobytes() == got[key].tobytes(), f"{name} {key}"
