"""What each environment installs: the serving requirements, and what the optional Ray
engine adds to them (requirements-ray.txt, beside requirements-serve.txt).

    .venv-serve/bin/python -m benchmarks.environments [--record]

Measured in .venv-serve once `make predict ENGINE=ray` (or the tests) installed Ray there.
"""

from __future__ import annotations

import argparse

from serve.settings import ROOT
from support.results import add_record_option, record
from support.sizes import installed_mb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_record_option(parser)
    args = parser.parse_args(argv)
    serve, ray = ROOT / "requirements-serve.txt", ROOT / "requirements-ray.txt"
    figures = {
        "serve_mb": installed_mb(str(serve)),
        "ray_adds_mb": installed_mb(str(ray), str(serve)),
    }
    print(f"requirements-serve.txt installs {figures['serve_mb']:g} MB")
    print(f"requirements-ray.txt adds {figures['ray_adds_mb']:g} MB to it")
    record(args.record, environments=figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
