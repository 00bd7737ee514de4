"""`python -m serve.batch`: see serve/batch/__init__.py."""

import sys

from serve.batch.cli import main

if __name__ == "__main__":  # not when a spawned worker process imports this module
    sys.exit(main())
