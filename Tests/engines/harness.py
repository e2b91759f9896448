"""What the engine tests share: the recipe text taken from docs/scale-out.md, a corpus made at test time, the
single-process reference run, a killer that SIGKILLs a worker's voxenc at a known point of its work, and the checks
every engine must pass (outputs equal the reference bit for bit, each file once, no temporaries, the JSON lines
account for every file).

The kill is event-driven, never timed: a voxenc process writes each output into an unnamed O_TMPFILE in the output's
directory, which /proc/PID/fd shows as "OUT/<folder of the id>/#INODE (deleted)". Every id of the corpus has a
folder of its own, so the killer knows which file a process is writing. It kills a worker when it writes the third
file of its list (position 2): by then the first file is complete (files finish in order, in encoder batches of 2
chunks, and every file here is one chunk), and at least one file is left, so the restarted attempt must both skip
and embed. The checks then require exactly that, so a kill that came too late fails the test instead of passing it.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import wave
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "scale-out.md"
FIXTURES = REPO / "Tests" / "Fixtures" / "audio"


def voxenc_binary():
    path = Path(os.environ.get("VOXENC", REPO / ".build" / "release" / "voxenc"))
    assert path.is_file() and os.access(path, os.X_OK), (
        f"no voxenc binary at {path}: build it (swift build -c release --product voxenc) or set VOXENC")
    return path


def model_dir():
    path = Path(os.environ.get("VOXENC_ENGINES_MODEL", REPO / "Weights" / "models" / "whisper-tiny.en"))
    assert (path / "model.bin").is_file(), (
        f"no model at {path}: install it with python3 Weights/tools/install_models.py")
    return path


def bin_dir(tmp):
    """A directory holding `voxenc` (a symlink to the built binary), to put first on PATH: the recipes call `voxenc`."""
    directory = Path(tmp) / "bin"
    directory.mkdir(exist_ok=True)
    link = directory / "voxenc"
    if not link.exists():
        link.symlink_to(voxenc_binary())
    return directory


# MARK: - The recipes, as the doc gives them

def recipe(section, substitutions=()):
    """The first indented code block under `## {section}` in docs/scale-out.md, dedented, with each (old, new)
    substitution applied. Each `old` must occur in the recipe: a doc that changed under the test fails it loudly."""
    text = DOC.read_text()
    match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"{DOC}: no section '## {section}'"
    lines, block = match.group(1).split("\n"), []
    for line in lines:
        if line.startswith("    ") or (block and line == ""):
            block.append(line[4:])
        elif block:
            break
    assert block, f"{DOC}: section '## {section}' has no indented code block"
    code = "\n".join(block).strip("\n") + "\n"
    for old, new in substitutions:
        assert old in code, f"{DOC}, '## {section}': the recipe no longer contains {old!r}; update the test with the doc"
        code = code.replace(old, new)
    return code


# MARK: - The corpus

def fnv1a(text):
    """voxenc's shard hash (Sources/VoxEnc/Jobs/Shard.swift): 64-bit FNV-1a of the UTF-8 bytes."""
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) % 2**64
    return h


def shard_of(file_id, count):
    return fnv1a(file_id) % count


class Corpus:
    """`good` WAV variants of the committed 16 kHz speech sample (different lengths and gains, all under 30 s: one
    chunk each) and a FLAC copy, then two broken files (text posing as WAV, a FLAC cut after its header), in a
    JSON-lines manifest with absolute paths. Each id has its own folder (see the module comment)."""

    def __init__(self, tmp, good=16):
        self.root = Path(tmp) / "audio"
        self.root.mkdir(parents=True)
        entries = []
        with wave.open(str(FIXTURES / "speech-16k.wav")) as source:
            params, frames = source.getparams(), source.readframes(source.getnframes())
        samples = memoryview(frames).cast("h")
        for index in range(good - 1):
            count = len(samples) * (index % 4 + 2) // 5           # 40 … 100 % of the sample
            gain = 0.5 + 0.1 * (index % 6)
            data = bytearray()
            for value in samples[:count]:
                data += int(max(-32768, min(32767, value * gain))).to_bytes(2, "little", signed=True)
            path = self.root / f"speech-{index:02d}.wav"
            with wave.open(str(path), "wb") as out:
                out.setparams(params)
                out.writeframes(bytes(data))
            entries.append((f"f{index:02d}/speech", path))
        flac = self.root / "speech-22k-stereo.flac"
        shutil.copyfile(FIXTURES / "speech-22k-stereo.flac", flac)
        entries.append((f"f{good - 1:02d}/flac", flac))
        text = self.root / "broken-text.wav"
        text.write_text("just text, not audio\n")
        cut = self.root / "broken-cut.flac"
        cut.write_bytes((FIXTURES / "speech-22k-stereo.flac").read_bytes()[:64])
        entries += [(f"b{good:02d}/text", text), (f"b{good + 1:02d}/cut", cut)]
        self.entries = entries                     # manifest order: the broken files last
        self.ids = [file_id for file_id, _ in entries]
        self.broken = {f"b{good:02d}/text", f"b{good + 1:02d}/cut"}
        self.manifest = Path(tmp) / "manifest.jsonl"
        self.manifest.write_text("".join(json.dumps({"id": i, "path": str(p)}) + "\n" for i, p in entries))

    def shards(self, count):
        """Shard index → its ids in manifest order (the order a worker embeds them)."""
        return {s: [i for i in self.ids if shard_of(i, count) == s] for s in range(count)}


def run(command, timeout, **kwargs):
    """Runs a command in a process group of its own, with a bound: on time-out the whole group is killed (an engine's
    daemons started by a driver go with it), and the output is kept for the error message."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, **kwargs)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        stdout, stderr = process.communicate()
        raise AssertionError(f"timed out after {timeout} s: {command}\nstdout: {stdout[-3000:]}\nstderr: {stderr[-3000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def kill_group(process):
    """SIGKILLs the process group that `process` leads (started with start_new_session=True)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def reference_run(corpus, tmp):
    """The single-process run every engine is compared with: exit 3 (every file done, the broken ones failed)."""
    out = Path(tmp) / "reference"
    result = run([str(voxenc_binary()), "embed", "--manifest", str(corpus.manifest), "--output-dir", str(out),
                  "--model", str(model_dir()), "--threads", "2", "--quiet"], timeout=300)
    assert result.returncode == 3, f"reference run: exit {result.returncode}, expected 3\n{result.stderr}"
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {l["id"] for l in lines if l["status"] == "failed"} == corpus.broken, lines
    return out


# MARK: - The killer

class Killer(threading.Thread):
    """Watches this test's voxenc processes (those whose command line names `out`) and calls
    `kill(pid, group)` once per group when a process of that group is writing the file at position 2 of the group's
    list. `group_of` maps ids to groups (shards, partitions); `victims` are the groups to kill (all by default)."""

    def __init__(self, out, groups, kill, victims=None, timeout=240):
        super().__init__(daemon=True)
        self.out = str(Path(out).resolve())
        self.position = {i: n for ids in groups.values() for n, i in enumerate(ids)}
        self.group_of = {i: g for g, ids in groups.items() for i in ids}
        self.victims = set(groups if victims is None else victims)
        self.kill_action, self.timeout = kill, timeout
        self.killed = {}           # group → (pid, the id being written)
        self.error = None
        self.stopping = threading.Event()

    def ours(self, pid):
        try:
            if Path(f"/proc/{pid}/comm").read_bytes() != b"voxenc\n":
                return False
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return bool(cmdline) and cmdline[0].endswith(b"voxenc") and any(self.out.encode() in a for a in cmdline)

    def writing(self, pid):
        """The ids whose output this process is writing now (its open O_TMPFILEs under `out`)."""
        ids = set()
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            return ids
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(self.out + "/") and "/#" in target:
                folder = target[len(self.out) + 1:].rsplit("/#", 1)[0]
                ids |= {i for i in self.position if i.rsplit("/", 1)[0] == folder}
        return ids

    def run(self):
        deadline = time.monotonic() + self.timeout
        try:
            while self.victims - set(self.killed) and not self.stopping.is_set():
                if time.monotonic() > deadline:
                    raise AssertionError(f"killer: after {self.timeout} s, no worker of groups "
                                         f"{sorted(self.victims - set(self.killed))} reached its third file")
                for name in os.listdir("/proc"):
                    if not name.isdigit() or not self.ours(int(name)):
                        continue
                    pid = int(name)
                    for file_id in self.writing(pid):
                        group = self.group_of[file_id]
                        if group in self.victims and group not in self.killed and self.position[file_id] >= 2:
                            self.kill_action(pid, group)
                            self.killed[group] = (pid, file_id)
                            break
                time.sleep(0.02)           # a file takes ≥ 0.3 s: the kill lands well inside the third
        except BaseException as error:  # reported by check(), in the test's thread
            self.error = error

    def check(self):
        self.stopping.set()
        self.join(10)
        if self.error:
            raise self.error
        missing = self.victims - set(self.killed)
        assert not missing, f"groups {sorted(missing)} were never killed; kills: {self.killed}"


def sigkill(pid, _group):
    os.kill(pid, signal.SIGKILL)


# MARK: - The checks

def files_under(root):
    root = Path(root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def check_outputs(out, reference):
    """Every output of the single-process run, bit for bit, and nothing else (no temporary, no extra file)."""
    expected, actual = files_under(reference), files_under(out)
    assert actual == expected, (f"outputs differ from the single-process run: missing {sorted(set(expected) - set(actual))}, "
                                f"extra {sorted(set(actual) - set(expected))}")
    for name in expected:
        a, b = (Path(out) / name).read_bytes(), (Path(reference) / name).read_bytes()
        assert a == b, f"{name} differs from the single-process run ({len(a)} vs {len(b)} bytes)"
    hidden = [p for p in Path(out).rglob(".*")]
    assert not hidden, f"temporaries left: {hidden}"


def check_results(lines, corpus, groups, killed):
    """`lines`: group → the JSON lines of that group's last complete run. Every id is reported once, by its own group;
    the broken ones failed with an error, the others ok or skipped; a killed group's rerun both skipped (resumed the
    killed attempt's work) and embedded (the kill came while work was left)."""
    seen = {}
    for group, records in lines.items():
        for record in records:
            file_id = record["id"]
            assert file_id not in seen, f"{file_id} reported twice (groups {seen[file_id][0]} and {group})"
            seen[file_id] = (group, record)
    assert set(seen) == set(corpus.ids), (f"the results do not account for every file: missing "
                                          f"{sorted(set(corpus.ids) - set(seen))}, unknown {sorted(set(seen) - set(corpus.ids))}")
    for file_id, (group, record) in seen.items():
        assert file_id in groups[group], f"{file_id} reported by group {group}, which does not hold it"
        if file_id in corpus.broken:
            assert record["status"] == "failed" and record.get("error"), f"{file_id} should have failed: {record}"
        else:
            assert record["status"] in ("ok", "skipped"), f"{file_id}: {record}"
    for group in killed:
        statuses = [r["status"] for r in lines[group]]
        assert "skipped" in statuses, (f"group {group} was killed at its third file, but its rerun skipped nothing: "
                                       f"the retry did not resume (statuses {statuses})")
        assert "ok" in statuses, (f"group {group}: its rerun embedded nothing, so the kill came after the work was done "
                                  f"and proved nothing (statuses {statuses})")


def last_run(records, ids):
    """Of JSON lines appended by several runs of one worker, the last line of each id (the last complete run)."""
    last = {}
    for record in records:
        last[record["id"]] = record
    assert set(last) <= set(ids)
    return [last[i] for i in ids if i in last]
