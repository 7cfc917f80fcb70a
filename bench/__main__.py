"""Run the benchmark sections: each module in `bench` whose ``run()`` yields lines.

``python -m bench`` runs all sections in name order; ``python -m bench epoch`` runs the
named ones. BLAS is pinned to one thread (threadpoolctl) so figures are comparable on
a busy 2-core machine. Exits 1 when a section raised, after running the others.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback

import bench


def sections() -> list[str]:
    """Names of the modules in the bench package, in order (private ones skipped)."""
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__)
                  if not m.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"sections to run (default: all of "
                                                 f"{', '.join(sections())})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(sections()))
    if unknown:
        parser.error(f"no bench section {unknown}; the sections are {sections()}")
    from threadpoolctl import threadpool_limits

    failed = []
    with threadpool_limits(limits=1):
        for name in args.names or sections():
            module = importlib.import_module(f"bench.{name}")
            run = getattr(module, "run", None)
            if not callable(run):
                continue
            print(f"== {name} ==", flush=True)
            start = time.perf_counter()
            try:
                for line in run():
                    print(line, flush=True)
            except Exception:                       # report, then run the other sections
                failed.append(name)
                traceback.print_exc()
            print(f"({name}: {time.perf_counter() - start:.1f} s)\n", flush=True)
    if failed:
        print(f"bench sections that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
