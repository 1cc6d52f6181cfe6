"""The ``imgpar`` console script: the same command line as the Rust binary."""

import sys

from . import _imgpar


def main() -> None:
    """Runs ``imgpar`` with this process's arguments and exits with its code."""
    sys.exit(_imgpar.main(["imgpar", *sys.argv[1:]]))
