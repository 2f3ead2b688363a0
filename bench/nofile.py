"""Raise the open-file limit (RLIMIT_NOFILE): `python -m bench.nofile LIMIT COMMAND [ARG ...]` execs COMMAND with
the soft limit raised to LIMIT (or the hard limit, if lower), so it keeps its PID; `raise_nofile()` does it for
the calling process. A thousand websocket connections need more than the usual 1,024 descriptors.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys


def raise_nofile(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE to `wanted` (the hard limit too, when allowed); return the new
    soft limit, which stays below `wanted` when the hard limit cannot be raised."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    if hard != resource.RLIM_INFINITY and hard < wanted:
        with contextlib.suppress(ValueError, OSError):  # only a privileged process may raise the hard limit
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        wanted = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def main(argv: list[str]) -> None:
    """Raise the limit, then replace this process with the command."""
    if len(argv) < 2 or not argv[0].isdigit():
        sys.exit("usage: python -m bench.nofile LIMIT COMMAND [ARG ...]")
    raise_nofile(int(argv[0]))
    os.execvp(argv[1], argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
