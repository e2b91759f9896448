"""The `voxenc` command of the wheel: the console-script entry point execs the native CLI shipped in the package
(voxenc/bin/voxenc), as ruff and uv ship theirs. A package installed from source without it says how to get one."""
import os
import stat
import sys


def binary():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "voxenc")


def main():
    path = binary()
    if not os.path.exists(path):
        sys.stderr.write("voxenc: error: this installation of the voxenc package has no command-line tool "
                         "(hint: install a wheel made by python/build-dist.sh, or build it with `swift build -c release`)\n")
        return 69
    if not os.access(path, os.X_OK):
        try:
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError:
            pass
    os.execv(path, ["voxenc"] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
