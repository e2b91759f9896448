"""Slurm: the job-array script of docs/scale-out.md ("## Slurm job array") on a one-node cluster that the test starts
(munged, slurmctld and slurmd from Debian's slurm-wlm and munge, a generated slurm.conf, everything in a temporary
directory, ports picked free), 4 array tasks with `--shard auto` over 16 files + 2 broken ones. One task is cancelled
with `scancel --signal=KILL` while its voxenc writes its third file, then requeued with `scontrol requeue`; the rerun
must resume (--skip-existing) and the array must end with the documented exit codes: 3 for the tasks whose shard has
a broken file, 0 for the others."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import harness

TASKS = 4


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


class SlurmCluster:
    """munged + slurmctld + slurmd, started here and stopped by their pids."""

    def __init__(self, root):
        self.root = root
        self.processes = []
        self.jobs = []
        self.env = None

    def boot(self):
        root = self.root
        for tool in ("munged", "slurmctld", "slurmd", "sbatch", "scontrol", "scancel"):
            assert shutil.which(tool), f"{tool} is not installed: apt-get install -y slurm-wlm munge (Tests/engines/run.sh does)"
        munge = root / "munge"
        munge.mkdir(mode=0o700)
        key = munge / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        self.socket = munge / "munge.sock"
        self.start(["munged", "--foreground", "--force", f"--key-file={key}", f"--socket={self.socket}",
                    f"--pid-file={munge}/munged.pid", f"--log-file={munge}/munged.log", f"--seed-file={munge}/seed"],
                   "munged")
        wait_until(self.socket.exists, 30, "munged's socket")

        node = harness.run(["slurmd", "-C"], timeout=30).stdout.splitlines()[0]   # this machine's name and CPUs
        node = re.sub(r"RealMemory=\d+", "RealMemory=2048", node)
        self.node = re.match(r"NodeName=(\S+)", node).group(1)
        ctld, slurmd = free_ports(2)
        for directory in ("state", "spool", "logs"):
            (root / directory).mkdir()
        self.conf = root / "slurm.conf"
        self.conf.write_text(f"""ClusterName=voxenc-test
SlurmctldHost={self.node}(127.0.0.1)
SlurmUser=root
SlurmctldPort={ctld}
SlurmdPort={slurmd}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.socket}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/logs/slurmctld.log
SlurmdLogFile={root}/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=3600
MpiDefault=none
SwitchType=switch/none
JobRequeue=0

{node} NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
""")
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))
        self.start(["slurmctld", "-D", "-i"], "slurmctld")
        self.start(["slurmd", "-D"], "slurmd")
        wait_until(lambda: self.scontrol("show", "node", self.node, check=False).find("State=IDLE") >= 0, 60,
                   f"node {self.node} to be idle (logs in {root}/logs)")

    def start(self, command, name):
        log = open(self.root / f"{name}.out", "w")
        self.processes.append((name, subprocess.Popen(command, stdout=log, stderr=log, env=self.env)))

    def scontrol(self, *arguments, check=True):
        result = harness.run(["scontrol", *arguments], timeout=30, env=self.env)
        assert result.returncode == 0 or not check, f"scontrol {' '.join(arguments)}: {result.stderr}"
        return result.stdout

    def tasks(self, job):
        """Array task id → (JobState, ExitCode, Restarts)."""
        states = {}
        for line in self.scontrol("-o", "show", "job", job).splitlines():
            fields = dict(re.findall(r"(\w+)=(\S*)", line))
            # Tasks not started yet share one record whose id is a list of ranges, e.g. "2-3" or "1,3-5%2".
            for part in fields["ArrayTaskId"].split("%")[0].split(","):
                first, _, last = part.partition("-")
                for task in range(int(first), int(last or first) + 1):
                    states[task] = (fields["JobState"], fields["ExitCode"], int(fields["Restarts"]))
        return states

    def stop(self):
        for job in self.jobs if self.env else []:                     # a test that failed may leave tasks running
            subprocess.run(["scancel", job], env=self.env, capture_output=True, timeout=30)
        for name, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def cluster():
    root = Path(tempfile.mkdtemp(prefix="voxenc-slurm-"))   # short: munged's socket path must fit in 108 bytes
    cluster = SlurmCluster(root)
    try:
        cluster.boot()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_slurm_array_survives_a_killed_and_requeued_task(tmp_path, cluster):
    corpus = harness.Corpus(tmp_path)
    reference = harness.reference_run(corpus, tmp_path)
    work, out = tmp_path / "work", tmp_path / "embeddings"
    (work / "logs").mkdir(parents=True)
    shutil.copyfile(corpus.manifest, work / "corpus.jsonl")
    script = harness.recipe("Slurm job array", [
        ("--array=0-63", f"--array=0-{TASKS - 1}"),
        ("--cpus-per-task=8", "--cpus-per-task=1"),              # 2 tasks at a time on 2 CPUs
        ("--mem=8G", "--mem=300M"),
        ("/shared/embeddings", str(out)),
        ("/shared/voxtral-mini", str(harness.model_dir())),
    ])
    (work / "voxenc.sbatch").write_text(script)
    env = dict(cluster.env, PATH=f"{harness.bin_dir(tmp_path)}:{os.environ['PATH']}")
    submit = harness.run(["sbatch", "--parsable", "voxenc.sbatch"], timeout=30, cwd=work, env=env)
    assert submit.returncode == 0, f"sbatch: {submit.stderr}"
    job = submit.stdout.strip().split(";")[0]
    cluster.jobs.append(job)

    shards = corpus.shards(TASKS)
    victim = min(s for s, ids in shards.items() if len([i for i in ids if i not in corpus.broken]) >= 4)

    def cancel(_pid, task):
        result = harness.run(["scancel", "--signal=KILL", f"{job}_{task}"], timeout=30, env=cluster.env)
        assert result.returncode == 0, f"scancel: {result.stderr}"

    killer = harness.Killer(out, shards, cancel, victims=[victim])
    killer.start()
    try:
        wait_until(lambda: killer.killed or killer.error, 300, f"task {victim}'s voxenc to reach its third file")
    finally:
        killer.stopping.set()
    killer.check()
    state = wait_until(lambda: cluster.tasks(job)[victim][0] in ("CANCELLED", "FAILED") and cluster.tasks(job)[victim],
                       60, f"task {job}_{victim} to end after scancel --signal=KILL")
    cluster.scontrol("requeue", f"{job}_{victim}")
    # Slurm holds a requeued batch job for about two minutes (its begin time); let it start now.
    cluster.scontrol("update", f"JobId={job}_{victim}", "StartTime=now")

    def finished():
        tasks = cluster.tasks(job)
        return len(tasks) == TASKS and all(s in ("COMPLETED", "FAILED", "CANCELLED") for s, _, _ in tasks.values()) and tasks
    tasks = wait_until(finished, 300, f"the array {job} to finish (logs in {work}/logs)")

    broken_tasks = {harness.shard_of(i, TASKS) for i in corpus.broken}
    for task, (status, exit_code, restarts) in tasks.items():
        expected = ("FAILED", "3:0") if task in broken_tasks else ("COMPLETED", "0:0")
        logs = "".join(p.read_text() for p in (work / "logs").glob(f"*_{task}.err"))
        assert (status, exit_code) == expected, f"task {task}: {status} {exit_code}, expected {expected}\n{logs}"
        assert restarts == (1 if task == victim else 0), f"task {task}: {restarts} restarts (killed: {state})"

    lines = {}
    for task, ids in shards.items():
        records = [json.loads(l) for l in (work / "results" / f"{task}.jsonl").read_text().splitlines()]
        lines[task] = harness.last_run(records, ids)
    harness.check_results(lines, corpus, shards, killed=killer.killed)
    harness.check_outputs(out, reference)
