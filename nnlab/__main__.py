"""`python -m nnlab binder-link [--remote URL] [--ref REF]`: print this course's Binder link.

Other commands live in their modules: `python -m nnlab.checks`, `python -m nnlab.data`,
`python -m nnlab.demo`.
"""

from __future__ import annotations

import argparse
import sys

from nnlab.binder import binder_link, origin_remote


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    link = sub.add_parser("binder-link", help="the mybinder.org link that opens the first "
                                              "student notebook of this clone's remote")
    link.add_argument("--remote", help="a clone URL (default: git remote get-url origin)")
    link.add_argument("--ref", default="HEAD", help="branch, tag or commit (default HEAD)")
    args = parser.parse_args(argv)
    try:
        remote = args.remote if args.remote is not None else origin_remote()
        print(binder_link(remote, args.ref))
    except ValueError as exc:
        print(f"python -m nnlab binder-link: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
