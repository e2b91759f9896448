"""Spark: the recipe of docs/scale-out.md ("## Spark") in local mode (`local[2,4]`: 2 threads, up to 4 attempts of a
task, what spark.task.maxFailures gives a cluster), RDD.pipe over the manifest's lines with `--manifest -`, 16 files
+ 2 broken ones in 3 partitions. The first attempt of each partition with 4 good files or more fails: its voxenc gets SIGKILL while it writes its
third file, the exit-3 wrapper passes the signal's status on, pipe(checkCode=True) fails the task and Spark runs it
again, resuming with --skip-existing. The partition holding the broken files ends with exit 3, which the wrapper
turns into success. Spark's event log must show each partition's failed attempt."""

import json
import os
import sys
import time

import harness

PARTITIONS = 3

DRIVER = '''
import json, os, sys, time
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2,4]").appName("voxenc-engine-test")
         .config("spark.ui.enabled", "false").config("spark.eventLog.enabled", "true")
         .config("spark.eventLog.dir", "file://{events}").config("spark.eventLog.compress", "false")
         .config("spark.eventLog.rolling.enabled", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
# The partitions the recipe's textFile makes (same file, same minPartitions), for the test's killer.
layout = spark.sparkContext.textFile("file://{manifest}", minPartitions={partitions}).glom().collect()
json.dump([[json.loads(line)["id"] for line in lines] for lines in layout], open("{layout}.tmp", "w"))
os.rename("{layout}.tmp", "{layout}")
deadline = time.monotonic() + 60
while not os.path.exists("{go}"):
    assert time.monotonic() < deadline, "the test never said go"
    time.sleep(0.01)
{recipe}
spark.stop()
'''


def wait_for(path, timeout, what):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what} ({path})"
        time.sleep(0.05)


def test_spark_recipe_survives_killed_partitions(tmp_path):
    corpus = harness.Corpus(tmp_path)
    reference = harness.reference_run(corpus, tmp_path)
    out, saved, events = tmp_path / "embeddings", tmp_path / "results", tmp_path / "events"
    events.mkdir()
    recipe = harness.recipe("Spark", [
        ('--output-dir /shared/embeddings', f'--output-dir {out}'),
        ('--model /models/voxtral-mini', f'--model {harness.model_dir()}'),
        ('--threads 4', '--threads 1'),
        ('"hdfs:///corpus/manifest.jsonl", minPartitions=64', f'"file://{corpus.manifest}", minPartitions={PARTITIONS}'),
        ('"PATH": "/usr/local/bin:', f'"PATH": "{harness.bin_dir(tmp_path)}:'),
        ('"hdfs:///corpus/embedding-results"', f'"file://{saved}"'),
    ])
    layout, go = tmp_path / "layout.json", tmp_path / "go"
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER.format(events=events, manifest=corpus.manifest, partitions=PARTITIONS, layout=layout,
                                    go=go, recipe=recipe))
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    log = open(tmp_path / "driver.log", "w+")
    process = harness.subprocess.Popen([sys.executable, str(driver)], stdout=log, stderr=log, env=env, cwd=tmp_path,
                                       start_new_session=True)
    try:
        wait_for(layout, 180, "the driver's partition layout")
        partitions = dict(enumerate(json.loads(layout.read_text())))
        good = {p: [i for i in ids if i not in corpus.broken] for p, ids in partitions.items()}
        victims = [p for p, ids in good.items() if len(ids) >= 4]   # killed at the third, one left to embed after it
        assert victims, f"no partition has the 4 good files a kill at the third needs: {partitions}"
        assert any(set(ids) & corpus.broken for ids in partitions.values())
        killer = harness.Killer(out, partitions, harness.sigkill, victims=victims)
        killer.start()
        go.touch()
        try:
            status = process.wait(timeout=420)
        finally:
            killer.stopping.set()
    finally:
        if process.poll() is None:
            harness.kill_group(process)
    log.seek(0)
    text = log.read()
    causes = sorted({line.strip() for line in text.splitlines() if "PIPE_FUNCTION_EXITED" in line or "Job aborted" in line})
    assert status == 0, f"the Spark driver failed (exit {status}):\n" + "\n".join(causes[:6]) + f"\n…\n{text[-2000:]}"
    killer.check()

    # Spark's own record: each killed partition has a failed attempt, then a successful one.
    attempts = {}
    for path in sorted(p for p in events.rglob("*") if p.is_file() and not p.name.startswith(".")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event.get("Event") == "SparkListenerTaskEnd":
                info = event["Task Info"]
                attempts.setdefault((event["Stage ID"], info["Index"]), []).append(
                    (info["Attempt"], event["Task End Reason"]["Reason"]))
    last_stage = max(stage for stage, _ in attempts)
    for partition in killer.killed:
        record = sorted(attempts.get((last_stage, partition), []))
        assert len(record) >= 2 and record[0][1] != "Success" and record[-1][1] == "Success", (
            f"partition {partition}: Spark's attempts {record}, expected a failed first attempt and a successful retry")

    # The committed results hold the successful attempts only: one part file per partition.
    lines = {p: [json.loads(l) for l in (saved / f"part-{p:05d}").read_text().splitlines()] for p in partitions}
    harness.check_results(lines, corpus, partitions, killed=killer.killed)
    harness.check_outputs(out, reference)
