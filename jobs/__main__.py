"""`python -m jobs [serve]`, `python -m jobs list`, `python -m jobs run-once [NAME ...]`."""

import argparse
import contextlib
import logging
import sys

from jobs.memory import settle_after_start
from jobs.registry import load_all, run_job


def main(argv: list[str] | None = None) -> int:
    """Run the jobs command line."""
    parser = argparse.ArgumentParser(prog="python -m jobs", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the scheduler until stopped (default)")
    sub.add_parser("list", help="list registered jobs")
    once = sub.add_parser("run-once", help="run jobs now, synchronously, then exit")
    once.add_argument("names", nargs="*", help="job names (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s jobs %(levelname)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    jobs = load_all()
    settle_after_start()

    if args.command == "list":
        for entry in jobs.values():
            print(f"{entry.name:<24} every {entry.seconds:>5}s  {entry.description}")
        return 0
    if args.command == "run-once":
        unknown = [n for n in args.names if n not in jobs]
        if unknown:
            print(
                f"Unknown job(s): {', '.join(unknown)}. Known: {', '.join(jobs)}.", file=sys.stderr
            )
            return 2
        failed = False
        for name in args.names or list(jobs):
            run = run_job(name)
            if run is None:
                print(f"{name}: skipped (running in another process)")
                continue
            failed |= run.status != "ok"
            print(f"{name}: {run.status} {run.details or ''}".rstrip())
            if run.error:
                print(run.error, file=sys.stderr)
        return 1 if failed else 0

    from jobs.scheduler import serve

    with contextlib.suppress(KeyboardInterrupt):
        serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
