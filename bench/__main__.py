"""`python -m bench`: the SIP load benchmark (see bench/__init__.py and docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import sys

from . import environment

DEFAULT_STEPS = "20,25,30,35,40,50,75,100,110,125,150,175,200,225,250,275,300,350,400,450,500,600"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--steps",
        default=DEFAULT_STEPS,
        help="calls/s of the rate steps, in increasing order (default: %(default)s)",
    )
    parser.add_argument("--step-seconds", type=float, default=8.0, help="calls placed per step = rate x this")
    parser.add_argument("--latency-rate", type=int, default=50, help="rate of the setup-time runs (calls/s)")
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="skip the warm-up run (one call to every callee) before the measured runs",
    )
    parser.add_argument("--latency-seconds", type=float, default=10.0, help="length of the setup-time runs")
    parser.add_argument(
        "--light-rate", type=int, default=20, help="also measure set-up time at this lighter rate (0: don't)"
    )
    parser.add_argument(
        "--callees",
        type=int,
        default=500,
        help="callee users (ext 202...); the platform rings a busy user's phone no more, "
        "so calls are spread over this many callees",
    )
    parser.add_argument(
        "--paths",
        default="stasis,floor,baseline",
        help="which paths to measure: stasis (the platform), floor (a minimal Stasis application, "
        "bench/floor.py), baseline (plain Dial)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument(
        "--profile",
        default="",
        help="rate at which to run py-spy on the bridge during the Stasis step (needs py-spy)",
    )
    parser.add_argument(
        "--voicemail-only",
        action="store_true",
        help="run only the voicemail deposit benchmark (no SIP load runs)",
    )
    parser.add_argument("--no-voicemail", action="store_true", help="skip the voicemail deposit benchmark")
    parser.add_argument("--vm-rounds", type=int, default=3, help="rounds of concurrent voicemail deposits")
    parser.add_argument(
        "--vm-concurrent", type=int, default=10, help="concurrent voicemail deposits per round"
    )
    parser.add_argument("--vm-seconds", type=float, default=3.0, help="audio sent per voicemail deposit")
    parser.add_argument(
        "--routing-only",
        action="store_true",
        help="run only the routing decision benchmark (plan_call timed in this process, no platform)",
    )
    parser.add_argument("--no-routing", action="store_true", help="skip the routing decision benchmark")
    parser.add_argument(
        "--routing-calls", type=int, default=20_000, help="calls per round of the routing decision benchmark"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not args.no_routing:
        # First, while the machine is quiet: routing is a pure function, it needs no platform.
        from . import routing

        routing.main(args.routing_calls)
        if args.routing_only:
            return 0
    env = environment.apply()  # before Django reads its settings
    import django

    django.setup()
    from .runner import run

    return run(args, env)


if __name__ == "__main__":
    sys.exit(main())
