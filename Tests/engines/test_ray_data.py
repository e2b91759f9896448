"""Ray Data in-process: the recipe of docs/scale-out.md ("## Ray Data (in-process)") on a local Ray cluster of 2 CPUs,
2 actors each holding one voxenc.Model, over 40 files + 2 broken ones (3 logical CPUs: the actors and the read task),
one file per batch. One actor is SIGKILLed in the middle of its work — once it has loaded libvoxenc and has spent
0.2 s of CPU past that (read from /proc/PID/stat, not a clock; its share of the job is ≈ 1 s) —
and Ray Data must restart it and finish: every parquet row's array equals the CLI's `--dtype float16` file bit for
bit, each file once, the broken files with their errors."""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

import harness


def cpu_jiffies(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])        # utime + stime


class ActorKiller(threading.Thread):
    """Records every Ray worker that has loaded libvoxenc.so — the actors holding a voxenc.Model (the driver, which
    imports voxenc too, is left out) — and SIGKILLs the first one once it has spent `work` jiffies of CPU past the
    moment it was first seen with the library (importing it and loading the model take a few)."""

    def __init__(self, driver, work=20, timeout=300):
        super().__init__(daemon=True)
        self.driver, self.work, self.timeout = str(driver).encode(), work, timeout
        self.seen, self.latest, self.killed, self.error = {}, {}, None, None
        self.stopping = threading.Event()

    def holders(self):
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                if self.driver in Path(f"/proc/{name}/cmdline").read_bytes():
                    continue
                if "libvoxenc.so" in Path(f"/proc/{name}/maps").read_text():
                    yield int(name)
            except OSError:
                continue

    def run(self):
        deadline = time.monotonic() + self.timeout
        try:
            while not self.stopping.is_set() and time.monotonic() < deadline:
                for pid in self.holders():
                    try:
                        jiffies = cpu_jiffies(pid)
                    except OSError:
                        continue
                    start = self.seen.setdefault(pid, jiffies)
                    self.latest[pid] = jiffies - start
                    if self.killed is None and jiffies - start >= self.work:
                        os.kill(pid, signal.SIGKILL)
                        self.killed = pid
                time.sleep(0.02)
        except BaseException as error:
            self.error = error


def test_ray_data_recipe_survives_a_killed_actor(tmp_path):
    corpus = harness.Corpus(tmp_path, good=40)   # 20 one-file batches per actor: ≈ 1 s of CPU each, killed at 0.2 s
    model = harness.model_dir()
    reference = tmp_path / "reference"
    run = harness.run([str(harness.voxenc_binary()), "embed", "--manifest", str(corpus.manifest), "--output-dir",
                       str(reference), "--model", str(model), "--threads", "2", "--quiet", "--dtype", "float16"], timeout=300)
    assert run.returncode == 3, run.stderr
    out = tmp_path / "embeddings"
    recipe = harness.recipe("Ray Data (in-process)", [
        ('"/models/voxtral-mini"', json.dumps(str(model))),
        ('threads=4', 'threads=1'),
        ('concurrency=4, num_cpus=4', 'concurrency=2, num_cpus=1'),
        ('batch_size=8', 'batch_size=1'),
        # 3 logical CPUs on the 2 cores: 2 actors of 1 CPU and the read task (a 2-CPU cluster would leave the read
        # task waiting for a CPU the two actors hold, and the job would never start).
        ('ray.init()', 'ray.init(address="local", num_cpus=3, include_dashboard=False, log_to_driver=False)'),
        ('"/data/audio"', json.dumps(str(corpus.root))),
        ('"/data/embeddings"', json.dumps(str(out))),
    ])
    driver = tmp_path / "driver.py"
    driver.write_text(recipe + "ray.shutdown()\n")
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=os.environ.get("PYTHONPATH", ""))
    killer = ActorKiller(driver)
    killer.start()
    try:
        process = harness.run([sys.executable, str(driver)], timeout=300, env=env, cwd=tmp_path)
    finally:
        killer.stopping.set()
        killer.join(10)
    assert killer.error is None, killer.error
    assert process.returncode == 0, f"the Ray Data driver failed (exit {process.returncode}):\n{process.stderr[-4000:]}"
    assert killer.killed is not None, f"no actor was killed: jiffies used by each holder {killer.latest}"
    assert len(killer.seen) >= 3, (f"the killed actor {killer.killed} was not replaced (workers with libvoxenc: "
                                   f"{killer.latest}): Ray Data did not restart it")

    rows = pq.read_table(out).to_pylist()
    by_path = {row["path"]: row for row in rows}
    assert len(rows) == len(by_path) == len(corpus.entries), f"each file once: {sorted(r['path'] for r in rows)}"
    for file_id, path in corpus.entries:
        row = by_path[str(path)]
        if file_id in corpus.broken:
            assert row["error"] and row["shape"] == [0, 0], row
            continue
        assert row["error"] == "" and row["dtype"] == "float16"
        array = np.frombuffer(row["embedding"], dtype=row["dtype"]).reshape(row["shape"])
        expected = np.load(reference / f"{file_id}.npy")
        assert expected.dtype == np.float16 and array.shape == expected.shape
        assert np.array_equal(array.view(np.uint16), expected.view(np.uint16)), f"{file_id} differs from the CLI's"
