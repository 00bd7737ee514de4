"""Write docs/performance.md from benchmarks/results.json.

.venv-serve/bin/python -m benchmarks.report
"""

import sys

from support.performance import main

if __name__ == "__main__":
    sys.exit(main())
