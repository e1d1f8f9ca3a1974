"""``tryon generate`` and ``tryon annotate`` (registered into the main CLI by ``register``).

Bad input (missing file, corrupt image, parse map of the wrong size, unknown label) raises a
:class:`~tryon.data.io.DataError` whose one-line message names the file; the main CLI prints it as
``error: ...`` with exit status 2 (``main`` below does the same when this module is run alone).
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def cmd_generate(args: argparse.Namespace) -> int:
    from tryon.data.synthetic import generate

    if args.workers < 0:
        raise ValueError(f"--workers: expected 0 (one per core) or a positive count, got {args.workers}")
    workers = args.workers or max(1, os.cpu_count() or 1)
    t0 = time.perf_counter()
    df = generate(
        args.out,
        n=args.n,
        size=args.size,
        seed=args.seed,
        n_test=args.n_test,
        workers=workers,
        garment_dir=args.garment_dir,
    )
    dt = time.perf_counter() - t0
    print(
        f"{args.out}: wrote {len(df)} samples at {args.size}x{args.size} in {dt:.1f} s "
        f"({len(df) / dt:.1f} samples/s, {workers} processes)"
    )
    return 0


def cmd_annotate(args: argparse.Namespace) -> int:
    from tryon.data.annotate import annotate

    df = annotate(args.root, args.out, layout=args.layout)
    out = args.out or f"{args.root}/body_text.csv"
    print(f"{out}: {len(df)} persons ({int((df['source'] == 'estimated').sum())} estimated)")
    return 0


def register(subparsers) -> None:
    """Add ``generate`` and ``annotate`` to an argparse subparsers object."""
    g = subparsers.add_parser("generate", help="write synthetic wardrobe samples (deterministic from --seed)")
    g.add_argument("--out", required=True, help="output folder (manifest.csv + train/ [+ test/])")
    g.add_argument("--n", type=int, required=True, help="number of train samples")
    g.add_argument("--size", type=int, default=256, help="image size in pixels (square)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument(
        "--n-test", type=int, default=0, help="number of test samples (disjoint bodies and garments)"
    )
    g.add_argument(
        "--workers",
        type=int,
        default=0,
        help="processes; 0 (default) = one per CPU core (the files do not depend on it)",
    )
    g.add_argument(
        "--garment-dir",
        default=None,
        help="folder of real flat garment photos (cloth/ [+ cloth-mask/]) instead of procedural garments",
    )
    g.set_defaults(func=cmd_generate)
    a = subparsers.add_parser("annotate", help="estimate body-shape text for a VITON-HD / Dress Code folder")
    a.add_argument("root", help="dataset folder (image/, image-parse/ ...)")
    a.add_argument(
        "--out", default=None, help="CSV to write or extend (default ROOT/body_text.csv); existing rows win"
    )
    a.add_argument("--layout", choices=["vitonhd", "dresscode"], default=None, help="default: detected")
    a.set_defaults(func=cmd_annotate)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tryon.data.cli")
    register(ap.add_subparsers(dest="command", required=True))
    args = ap.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError, KeyError) as e:
        print(
            f"error: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
