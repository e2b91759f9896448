"""Ray: the recipe of docs/scale-out.md ("## Ray") on a local Ray cluster that the test starts (ray.init with
address="local", 2 CPUs), 4 shard tasks over 16 files + 2 broken ones. Every task's first attempt is killed: the
task's voxenc gets SIGKILL while it writes its third file, the task function raises, and Ray must retry the task
(retry_exceptions) so that --skip-existing resumes it."""

import json
import os
import sys

import harness

SHARDS = 4


def test_ray_recipe_survives_killed_tasks(tmp_path):
    corpus = harness.Corpus(tmp_path)
    reference = harness.reference_run(corpus, tmp_path)
    out, results = tmp_path / "embeddings", tmp_path / "results.json"
    recipe = harness.recipe("Ray", [
        ('"/data/corpus.jsonl"', json.dumps(str(corpus.manifest))),
        ('"/data/embeddings"', json.dumps(str(out))),
        ('"/models/voxtral-mini"', json.dumps(str(harness.model_dir()))),
        ('num_cpus=4', 'num_cpus=1'),                       # a 2-CPU local cluster: 2 tasks at a time
        ('"--threads", "4"', '"--threads", "1"'),
        ('ray.init()', 'ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)'),
        ('count = 32', f'count = {SHARDS}'),
    ])
    driver = tmp_path / "driver.py"
    driver.write_text(recipe + f"json.dump(results, open({str(results)!r}, 'w'))\nray.shutdown()\n")

    shards = corpus.shards(SHARDS)
    killer = harness.Killer(out, shards, harness.sigkill)
    env = dict(os.environ, PATH=f"{harness.bin_dir(tmp_path)}:{os.environ['PATH']}", RAY_USAGE_STATS_ENABLED="0")
    killer.start()
    try:
        run = harness.run([sys.executable, str(driver)], timeout=420, env=env, cwd=tmp_path)
    finally:
        killer.stopping.set()
    assert run.returncode == 0, f"the Ray driver failed (exit {run.returncode}):\n{run.stderr[-4000:]}"
    killer.check()
    assert "2 failed" in run.stdout.splitlines(), f"the driver should print '2 failed': {run.stdout[-2000:]!r}"

    records = json.loads(results.read_text())
    lines = {s: [r for r in records if harness.shard_of(r["id"], SHARDS) == s] for s in shards}
    harness.check_results(lines, corpus, shards, killed=killer.killed)
    harness.check_outputs(out, reference)
