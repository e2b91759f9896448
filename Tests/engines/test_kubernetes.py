"""Kubernetes: no container engine or cluster can run here, so the Job of docs/scale-out.md ("## Kubernetes Indexed
Job") is (1) validated against the batch/v1 Job schema of Kubernetes 1.33 (backoffLimitPerIndex and FailIndex GA)
to the newest that kubernetes-validate ships, strict (an unknown or misspelt field fails), plus the Job API's rules
the schema cannot express; (2) its container's args are run with the real binary as the Job's pods would run them,
one process per completion index with JOB_COMPLETION_INDEX set: their exit codes must be those the
podFailurePolicy expects (3: the index is done, some files broken) and their outputs equal a single run.
Not run: the Job controller, pod restarts, the podFailurePolicy itself."""

import json
import os

import jsonschema
import kubernetes_validate
import pytest
import yaml

import harness


def job():
    return yaml.safe_load(harness.recipe("Kubernetes Indexed Job"))


@pytest.mark.parametrize("version", ["1.33.0", kubernetes_validate.latest_version()])
def test_kubernetes_job_matches_the_job_schema(version):
    problem = None
    try:
        kubernetes_validate.validate(job(), version, strict=True)
    except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as error:
        problem = f"at {'/'.join(str(p) for p in error.path)}: {error.message}"   # the schema dump is too long to print
    assert problem is None, f"docs/scale-out.md's Job is not a valid batch/v1 Job of Kubernetes {version} {problem}"


def test_kubernetes_job_follows_the_job_api_rules():
    """Rules of the Job API reference that the JSON schema does not carry."""
    spec = job()["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    args = container["args"]
    assert spec["completionMode"] == "Indexed", "JOB_COMPLETION_INDEX is set only in Indexed Jobs"
    assert pod["restartPolicy"] == "Never", "backoffLimitPerIndex and podFailurePolicy need restartPolicy: Never"
    assert "backoffLimitPerIndex" in spec, "the FailIndex action needs backoffLimitPerIndex"
    rules = spec["podFailurePolicy"]["rules"]
    assert any(r["action"] == "FailIndex" and r["onExitCodes"]["operator"] == "In" and 3 in r["onExitCodes"]["values"]
               for r in rules), "exit 3 (a finished shard with broken files) must not be retried"
    assert all(0 not in r.get("onExitCodes", {}).get("values", []) for r in rules), "onExitCodes In may not list 0"
    assert args[args.index("--shard-count") + 1] == str(spec["completions"]), "--shard-count must equal completions"
    assert args[args.index("--shard") + 1] == "auto"


def test_kubernetes_pods_args_run_as_the_job_would(tmp_path):
    corpus = harness.Corpus(tmp_path)
    reference = harness.reference_run(corpus, tmp_path)
    out = tmp_path / "embeddings"
    spec = job()["spec"]
    count = 4                                          # the Job's 16 completions, made 4 to keep the test short
    args = [a.replace("/data/corpus.jsonl", str(corpus.manifest)).replace("/data/embeddings", str(out))
             .replace("/models/voxtral-mini", str(harness.model_dir())) for a in spec["template"]["spec"]["containers"][0]["args"]]
    args[args.index("--shard-count") + 1] = str(count)
    args[args.index("--threads") + 1] = "2"
    shards = corpus.shards(count)
    lines = {}
    for index in range(count):
        env = dict(os.environ, JOB_COMPLETION_INDEX=str(index))
        env.pop("SLURM_ARRAY_TASK_ID", None)
        run = harness.run([str(harness.voxenc_binary()), *args], timeout=300, env=env)
        broken = bool(set(shards[index]) & corpus.broken)
        assert run.returncode == (3 if broken else 0), (
            f"index {index}: exit {run.returncode}, expected {3 if broken else 0} (podFailurePolicy FailIndex on 3)\n{run.stderr}")
        lines[index] = [json.loads(l) for l in run.stdout.splitlines()]
    harness.check_results(lines, corpus, shards, killed={})
    harness.check_outputs(out, reference)
