"""A job that reports what its forked process already held: it imports nothing of the app's."""

import sys


def modules_held(names: list[str]) -> list[str]:
    return [name for name in names if name in sys.modules]
