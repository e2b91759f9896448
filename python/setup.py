"""Builds libvoxenc.so into the package when it is installed (`pip install ./python` from a voxenc checkout).

Where the library comes from, in order:
  1. VOXENC_LIBRARY=/path/to/libvoxenc.so: that file is copied in (a library built before, on this machine);
  2. the checkout this directory sits in: Sources/CVoxEncABI/build-libvoxenc.sh builds it (needs the Swift toolchain
     and the system libraries, README.md).
With VOXENC_CLI and VOXENC_LICENSES (python/build-dist.sh), the wheel also carries the `voxenc` command and the
licence notices of the libraries auditwheel bundles.
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


def extras_into(directory):
    """VOXENC_CLI: the `voxenc` executable, shipped as voxenc/bin/voxenc (the console script runs it);
    VOXENC_LICENSES: a folder of licence notices, shipped as voxenc/licenses/ (python/build-dist.sh sets both)."""
    cli = os.environ.get("VOXENC_CLI")
    if cli:
        os.makedirs(os.path.join(directory, "bin"), exist_ok=True)
        target = os.path.join(directory, "bin", "voxenc")
        shutil.copyfile(cli, target)
        os.chmod(target, 0o755)
    licenses = os.environ.get("VOXENC_LICENSES")
    if licenses:
        shutil.copytree(licenses, os.path.join(directory, "licenses"), dirs_exist_ok=True)


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        library_into(os.path.join(self.build_lib, "voxenc"))
        extras_into(os.path.join(self.build_lib, "voxenc"))


class BinaryDistribution(Distribution):
    """The wheel carries a native library: tagged for this platform, not pure Python."""

    def has_ext_modules(self):
        return True


try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel


class PlatformWheel(bdist_wheel):
    """py3-none-PLATFORM: the package calls the library through ctypes, not Python's C API, so one wheel serves every
    Python 3; only the platform (x86-64 Linux, the glibc auditwheel finds) binds it."""

    def get_tag(self):
        return ("py3", "none", super().get_tag()[2])


setup(cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel}, distclass=BinaryDistribution)
