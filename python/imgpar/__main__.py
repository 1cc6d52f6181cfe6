"""``python -m imgpar ...`` is the ``imgpar`` command (and how process mode's workers start)."""

from ._command import main

main()
