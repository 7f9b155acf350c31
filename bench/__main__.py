"""`make bench` / `python -m bench [NAME ...]`: print performance figures."""

import argparse
import sys

from bench import api, chaos, demo, detection, outbox

BENCHES = {
    "outbox": outbox.run,
    "chaos": chaos.run,
    "detection": detection.run,
    "demo": demo.run,
    "api": api.run,
}


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (all by default) and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(BENCHES)}")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    for name in args.names or list(BENCHES):
        for line in BENCHES[name]():
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
