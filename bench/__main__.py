"""`make bench` / `python -m bench [NAME ...]`: print performance figures."""

import argparse
import sys

from bench import api, chaos, demo, detection, documentation, outbox

BENCHES = {
    "outbox": outbox.run,
    "chaos": chaos.run,
    "detection": detection.run,
    "documentation": documentation.run,
    "demo": demo.run,
    "api": api.run,
    "reads": lambda: __import__("bench.reads", fromlist=["run"]).run(),  # imported when run
}

SCALED = ("detection", "demo")  # benchmarks that seed a demo of --customers customers


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (all by default) and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(BENCHES)}")
    parser.add_argument("--customers", type=int, help=f"scale of {', '.join(SCALED)}")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    for name in args.names or list(BENCHES):
        scale = {"customers": args.customers} if args.customers and name in SCALED else {}
        for line in BENCHES[name](**scale):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
