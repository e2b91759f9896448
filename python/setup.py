"""Builds libvoxenc.so into the package when it is installed (`pip install ./python` from a voxenc checkout).

Where the library comes from, in order:
  1. VOXENC_LIBRARY=/path/to/libvoxenc.so: that file is copied in (a library built before, on this machine);
  2. the checkout this directory sits in: Sources/CVoxEncABI/build-libvoxenc.sh builds it (needs the Swift toolchain
     and the system libraries, README.md).
The installed package needs neither the toolchain nor torch: the library carries the Swift runtime (docs/bindings.md).
"""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def library_into(directory):
    target = os.path.join(directory, "libvoxenc.so")
    given = os.environ.get("VOXENC_LIBRARY")
    if given:
        shutil.copyfile(given, target)
        return
    script = os.path.join(REPO, "Sources", "CVoxEncABI", "build-libvoxenc.sh")
    if not os.path.exists(script):
        raise SystemExit("voxenc: set VOXENC_LIBRARY to a built libvoxenc.so, or install from a voxenc checkout "
                         "(pip install ./python), whose Sources/CVoxEncABI/build-libvoxenc.sh builds it")
    built = subprocess.run([script], check=True, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
    shutil.copyfile(built, target)


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        library_into(os.path.join(self.build_lib, "voxenc"))


class BinaryDistribution(Distribution):
    """The wheel carries a native library: tagged for this platform, not pure Python."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution)
