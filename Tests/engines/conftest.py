"""Counts per engine (test file) for the closing lines of Tests/engines/run.sh."""

import json
import os
from collections import defaultdict

counts = defaultdict(lambda: {"passed": 0, "failed": 0, "skipped": 0})


def pytest_runtest_logreport(report):
    engine = os.path.basename(report.nodeid.split("::")[0])[len("test_"):-len(".py")]
    if report.when == "call" or report.outcome != "passed":   # a setup error or a skip counts too
        outcome = "passed" if report.passed else "skipped" if report.skipped else "failed"
        counts[engine][outcome] += 1


def pytest_terminal_summary(terminalreporter):
    path = os.environ.get("VOXENC_ENGINES_COUNTS")
    if path:
        with open(path, "w") as f:
            json.dump(counts, f)
