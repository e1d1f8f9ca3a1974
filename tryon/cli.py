"""The ``tryon`` command line.

    tryon generate --out DIR --n N --size S --seed K     synthetic wardrobe samples
    tryon annotate ...                                   body-text CSV for real data
    tryon try-on --person P --garment G --text T --out O  try a garment on a photo (batch: --dataset)
    tryon bench {data,warp,train,infer,all}              benchmarks that print figures

Every subcommand reports bad input as one line ``error: ...`` on stderr with exit status 2.
Subcommands live beside their logic: a module exposes ``register(subparsers)`` which adds its
parsers and sets ``func`` (called with the parsed args, returns an exit status).
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: modules that add subcommands (imported lazily so `tryon --help` stays fast)
COMMAND_MODULES = ["tryon.data.cli", "tryon.infer.cli", "tryon.eval.cli"]

#: `tryon bench NAME` -> "module:function" (each prints its own table)
BENCHES = {
    "data": "tryon.data.synthetic:bench_generate",
    "warp": "tryon.bench.matching:bench_warp",
    "train": "tryon.bench.train:bench_train",
    "infer": "tryon.bench.infer:bench_infer",
}


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def _bench(args: argparse.Namespace) -> int:
    names = list(BENCHES) if args.name == "all" else [args.name]
    for name in names:
        module, func = BENCHES[name].split(":")
        print(f"== tryon bench {name} ==", flush=True)
        getattr(importlib.import_module(module), func)()
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tryon", description="Shape-aware virtual try-on (see README.md).")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    b = sub.add_parser("bench", help="print benchmark figures (measured side by side in one run)")
    b.add_argument("name", choices=[*BENCHES, "all"])
    b.set_defaults(func=_bench)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CliError, ValueError, OSError, KeyError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
