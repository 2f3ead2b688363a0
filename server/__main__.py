"""`python -m server ...`: the CLI. `run` serves on gevent, which must patch the stdlib before any import."""

import sys

if sys.argv[1:2] == ["run"]:
    from gevent import monkey

    monkey.patch_all()

from server.cli import main  # noqa: E402

main()
