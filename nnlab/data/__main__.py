"""Command line for the course's data: `python -m nnlab.data fetch mnist`.

Downloads the full MNIST set once into `data/mnist/` (or `--data-dir DIR`), verified by
SHA-256. Exits 1 with the reason on stderr when anything fails.
"""

from __future__ import annotations

import argparse
import sys

from nnlab.data._common import DownloadError
from nnlab.data.mnist import MNIST_MIRRORS, fetch_mnist, mnist_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nnlab.data",
                                     description="Download the course's optional data sets.")
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="download a data set and verify its checksums")
    fetch.add_argument("dataset", choices=["mnist"], help="the data set to download")
    fetch.add_argument("--mirror", action="append", metavar="URL",
                       help="base URL holding the four *-ubyte.gz files (repeatable); "
                            f"default: {', '.join(MNIST_MIRRORS)}")
    fetch.add_argument("--data-dir", metavar="DIR",
                       help="folder to cache into (files go to DIR/mnist/); default: the "
                            "repository's data/ or $NNLAB_DATA")
    fetch.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cache = fetch_mnist(data_dir=args.data_dir, mirrors=args.mirror,
                            progress=not args.quiet)
    except (DownloadError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        print(f"nothing partial was left in {mnist_dir(args.data_dir)}", file=sys.stderr)
        return 1
    print(f"MNIST ready: {cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
