"""adaptive's version for the Python tools' --version, read from VERSION at
the top of the source tree (the one place it is written)."""
import os
import sys


def version_line(program=None):
    """'TOOL (adaptive X.Y.Z)'."""
    path = os.path.join(os.path.dirname(os.path.realpath(__file__)), os.pardir, "VERSION")
    with open(path) as f:
        version = f.readline().strip()
    return f"{os.path.basename(program or sys.argv[0])} (adaptive {version})"


def answer_version():
    """For tools without argparse: `TOOL --version` prints version_line() and exits."""
    if sys.argv[1:] == ["--version"]:
        print(version_line())
        sys.exit(0)
