"""The operator's command for the corrections store (CORRECTIONS_URL).

    python -m serve.corrections export DIR [--clear]
    make corrections OUT=DIR

writes DIR/labels.csv and DIR/images/ (serve/corrections/export.py). --clear then deletes
the exported corrections from the store, once they are on the disk: a full store (403)
takes corrections again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from serve.corrections.export import export
from serve.corrections.store import StoreUnavailable, open_store
from serve.settings import Settings


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m serve.corrections", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    export_command = commands.add_parser("export", help="write DIR/labels.csv and DIR/images/")
    export_command.add_argument("folder", type=Path, metavar="DIR")
    export_command.add_argument(
        "--clear", action="store_true", help="then delete the exported corrections from the store"
    )
    args = parser.parse_args(argv)

    url = Settings.from_environment().corrections_url
    store = open_store(url)
    if store.dialect.where() is None:  # no SQLite file: rather say so than make one
        print(f"error: no corrections store at {url} (set CORRECTIONS_URL)", file=sys.stderr)
        return 1
    try:
        count, last_id = export(store, args.folder)
        cleared = store.delete_through(last_id) if args.clear and last_id is not None else 0
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (StoreUnavailable, OSError) as error:
        print(f"error: the corrections could not be exported: {error}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"{count} corrections written to {args.folder / 'labels.csv'} and images/")
    if args.clear:
        print(f"{cleared} cleared from the store")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
