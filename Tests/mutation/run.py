#!/usr/bin/env python3
"""Mutation check, run by hand (not in CI): does the suite notice when guarded behaviour breaks?

Each mutation below perturbs one guarded behaviour in the sources (exact text, which must occur exactly as many times
as stated), rebuilds, runs the tests that should notice (a --filter, to keep the run short), records which tests
failed, and restores the file. A mutation no test catches is a hole in the suite: the script exits 1.

    Tests/mutation/run.py --lock /work/heavy.lock --report docs/mutation-report.md   # every mutation
    Tests/mutation/run.py --lock /work/heavy.lock --only bias-add                     # one; the report on stdout

--lock FILE runs each build and test run under `flock FILE` (a machine shared with others).

It edits this checkout in place (the build directory is reused, so each mutation costs one incremental build):
the files it touches must have no uncommitted changes, and every file is restored on exit, even on Ctrl-C. The last
step rebuilds the unmutated tree. docs/mutation-report.md is the report of the last full run.
"""
import argparse
import datetime
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = ["swift", "build", "-c", "release", "-Xswiftc", "-enable-testing", "--build-tests"]
TEST = ["swift", "test", "-c", "release", "-Xswiftc", "-enable-testing", "--skip-build"]

# (name, what it breaks, file, [(old, new, count)], test filter)
MUTATIONS = [
    ("whole-audio-clamp", "the clamp to the whole audio's maximum − 8 is not applied",
     "Sources/VoxEncAudio/Spectrogram/LogMelSpectrogram.swift",
     [("x.replace(with: lowest, where: x .< lowest)", "_ = lowest", 1),
      ("values[i] = (max(values[i], lowest[0]) + 4) * 0.25", "values[i] = (values[i] + 4) * 0.25", 1)],
     "LogMelParityTests|LogMelChunkedTests|MelCommandTests"),
    ("sidecar-valid-frame-count", "the .npy sidecar's valid_frame_count is one row too many",
     "Sources/VoxEnc/Output/EmbeddingsFile.swift",
     [('"valid_frame_count": embeddings.validFrameCount,', '"valid_frame_count": embeddings.validFrameCount + 1,', 1)],
     "EmbedCommandTests"),
    ("cli-flag-default", "`voxenc mel --mel-bins` defaults to 80 instead of 128",
     "Sources/VoxEncCLI/MelCommand.swift",
     [("var melBins: Int = 128", "var melBins: Int = 80", 1)],
     "CLIDocumentationTests|MelCommandTests"),
    ("row-block-size", "GEMM row blocks aim at 500 rows instead of 375 (3 blocks per 1500-row chunk instead of 4)",
     "Sources/VoxEncModel/Kernels/RowBlocks.swift",
     [("        return 375\n", "        return 500\n", 1)],
     "RowBlocksTests|KernelInvarianceTests"),
    ("bias-add", "Linear's float32 bias add skips the last output column",
     "Sources/VoxEncModel/Kernels/Linear.swift",
     [("for c in 0..<columns { row[c] += vector[c] }", "for c in 0..<max(0, columns - 1) { row[c] += vector[c] }", 1)],
     "KernelTests|EncoderParityTests"),
    ("bf16-tie-rule", "float32 → bf16 rounds ties away from zero instead of to even",
     "Sources/CVoxEncKernels/kernels_template.h",
     [("(bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16", "(bits + 0x8000u) >> 16", 2)],
     "ElementwiseKernelTests|AVX512KernelTests|AVX2KernelTests|SSE2KernelTests"),
    ("retry-after", "a 503 queue_full carries no Retry-After header",
     "Sources/VoxEncServer/APIError.swift",
     [('code: "queue_full", headers: ["Retry-After": String(retryAfter)])', 'code: "queue_full", headers: [:])', 1)],
     "ServerTests|OpenAPITests"),
    ("error-exit-code", "a missing audio file exits 65 (bad data) instead of 66 (no input)",
     "Sources/VoxEnc/Errors/ErrorReport.swift",
     [("case .fileNotFound, .notARegularFile, .unreadable: category = .noInput\n            case .channelOutOfRange",
       "case .notARegularFile, .unreadable: category = .noInput\n            case .channelOutOfRange", 1)],
     "CLIDocumentationTests|BadInputCorpusTests|EmbedCommandTests"),
]

originals = {}


def restore():
    for path, text in originals.items():
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    originals.clear()


LOCK = []


def run(command, log):
    with open(log, "w", encoding="utf-8") as f:
        return subprocess.run(LOCK + command, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT).returncode


def failing_tests(log):
    """Test names Swift Testing reports as failed ("✘ Test "…" … failed")."""
    names = []
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            # "… failed" lines, and "recorded an issue" lines (a run that then crashes never prints the former).
            m = re.match(r'✘ Test "(.+?)"(?: with \d+ test cases?)? (?:failed|recorded an issue)', line) or \
                re.match(r'✘ Test (\S+\([^)]*\))(?: recorded an issue with (\d+ arguments? .+?) at| (?:with \d+ test cases? )?failed)', line)
            if m and m.group(1) not in names:
                names.append(m.group(1))
    return names


def cpu():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = re.search(r"Model name:\s*(.+)", out).group(1).strip()
        flags = re.search(r"Flags:\s*(.+)", out).group(1).split()
        isa = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16") if f in flags]
        return f"{model} ({', '.join(isa)}), {os.cpu_count()} cores"
    except Exception:  # noqa: BLE001 - lscpu is optional
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="mutation names to run (default: all)")
    parser.add_argument("--report", help="also write the markdown report to this file")
    parser.add_argument("--logs", default="/tmp/voxenc-mutation", help="directory for build and test logs")
    parser.add_argument("--lock", help="run each build and test under flock LOCK")
    args = parser.parse_args()
    if args.lock:
        LOCK[:] = ["flock", args.lock]
    os.makedirs(args.logs, exist_ok=True)
    chosen = [m for m in MUTATIONS if not args.only or m[0] in args.only]
    files = sorted({m[2] for m in chosen})
    dirty = subprocess.run(["git", "status", "--porcelain", "--"] + files, cwd=ROOT, capture_output=True, text=True).stdout
    if dirty.strip():
        sys.exit(f"uncommitted changes in files the mutations edit:\n{dirty}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    rows, holes = [], []
    try:
        for name, what, file, edits, tests in chosen:
            path = os.path.join(ROOT, file)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            originals[path] = text
            mutated = text
            for old, new, count in edits:
                found = mutated.count(old)
                if found != count:
                    sys.exit(f"{name}: expected {count} × {old!r} in {file}, found {found}: update the mutation")
                mutated = mutated.replace(old, new)
            with open(path, "w", encoding="utf-8") as f:
                f.write(mutated)
            start = time.time()
            build_log = os.path.join(args.logs, f"{name}.build.log")
            if run(BUILD, build_log) != 0:
                rows.append((name, what, file, tests, "does not compile (see " + build_log + ")", []))
                holes.append(name)
            else:
                test_log = os.path.join(args.logs, f"{name}.test.log")
                status = run(TEST + ["--filter", tests], test_log)
                caught = failing_tests(test_log)
                verdict = f"caught by {len(caught)} test(s)" if status != 0 and caught else \
                    ("test run failed without a named test (see " + test_log + ")" if status != 0 else "NOT CAUGHT")
                if status == 0 or not caught:
                    holes.append(name)
                rows.append((name, what, file, tests, verdict, caught))
            restore()
            print(f"{name}: {rows[-1][4]} ({time.time() - start:.0f} s)", file=sys.stderr, flush=True)
    finally:
        restore()
        # The report, also of an interrupted run (the mutations not reached are listed as not run).
        done = {r[0] for r in rows}
        for name, what, file, _, tests in chosen:
            if name not in done:
                rows.append((name, what, file, tests, "not run (interrupted)", []))
                holes.append(name)
        write_report(rows, holes, commit, args.report)
        print("rebuilding the unmutated tree", file=sys.stderr, flush=True)
        run(BUILD, os.path.join(args.logs, "restore.build.log"))
    sys.exit(1 if holes else 0)


def write_report(rows, holes, commit, path):
    lines = ["# Mutation check", "",
             f"`Tests/mutation/run.py`, run by hand on {datetime.date.today().isoformat()}, commit {commit}, "
             f"{cpu()}. Each mutation perturbs one guarded behaviour, rebuilds, runs the filtered tests, and is "
             "restored. Every mutation must be caught.", "",
             "| mutation | what it breaks | file | tests run (`--filter`) | result |", "| --- | --- | --- | --- | --- |"]
    for name, what, file, tests, verdict, _ in rows:
        lines.append(f"| `{name}` | {what} | `{file}` | `{tests}` | {verdict} |")
    lines += ["", "Tests that caught each mutation:", ""]
    for name, _, _, _, _, caught in rows:
        lines.append(f"- `{name}`: " + ("; ".join(f"\"{c}\"" for c in caught) if caught else "none"))
    lines += ["", "All caught." if not holes else f"Not caught or not run: {', '.join(holes)}.", ""]
    report = "\n".join(lines)
    print(report, flush=True)
    if path:
        with open(os.path.join(ROOT, path) if not os.path.isabs(path) else path, "w", encoding="utf-8") as f:
            f.write(report)


if __name__ == "__main__":
    main()
