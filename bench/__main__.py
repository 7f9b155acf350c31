"""`make bench` / `python -m bench [NAME ...] [--customers N]`: print performance figures.

Every benchmark makes its own throwaway database and prints its figures with the target and
the earlier figure beside them. `--customers N` sets the scale of every benchmark that seeds a
demo (the default is sized for a laptop; the targets are stated at 10,000 customers).
"""

import argparse
import importlib
import inspect
import sys
import time

# name -> module with a `run(...) -> list[str]`; `make bench` runs them in this order.
BENCHES = {
    "detection": "bench.detection",
    "documentation": "bench.documentation",
    "tracking": "bench.tracking",
    "reads": "bench.reads",
    "api": "bench.api",
    "pages": "bench.pages",
    "demo": "bench.demo",
    "size": "bench.observation_size",
    "outbox": "bench.outbox",
    "chaos": "bench.chaos",
}
ON_REQUEST = {"chaos"}  # long fault-injection runs: `make chaos`, or named here


def _runner(name: str):
    return importlib.import_module(BENCHES[name]).run


def scaled(name: str) -> bool:
    """Tell whether a benchmark takes the --customers scale."""
    return "customers" in inspect.signature(_runner(name)).parameters


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (all but the on-request ones by default) and print figures."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(BENCHES)}")
    parser.add_argument("--customers", type=int, help="scale of the benchmarks that seed a demo")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.customers is not None and args.customers < 1:
        parser.error("--customers must be at least 1")
    names = args.names or [n for n in BENCHES if n not in ON_REQUEST]
    took = []
    for name in names:
        scale = {"customers": args.customers} if args.customers and scaled(name) else {}
        print(f"── {name} " + "─" * (60 - len(name)), flush=True)
        started = time.perf_counter()
        for line in _runner(name)(**scale):
            print(line, flush=True)
        took.append((name, time.perf_counter() - started))
    if len(took) > 1:
        print("── took " + "─" * 56)
        print("   ".join(f"{name} {seconds:,.0f} s" for name, seconds in took), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
