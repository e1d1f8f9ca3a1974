"""``tryon eval realism REAL_DIR FAKE_DIR``: the realism critic (:mod:`tryon.eval.realism`) from folders.

Prints a small table and, with ``--json``, writes the result atomically. Bad input (a missing or empty
folder, an unreadable image, an image without its garment) raises ValueError naming it; the main CLI
prints it as one line ``error: ...`` with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

GARMENT_RULE = (
    "an image P__G.ext (the names `tryon try-on --dataset` writes) wears the garment of stem G; any other "
    "image S.ext the garment of stem S, else, for CP-VTON names <id>_0, of stem <id>_1"
)


def parse_size(text: str) -> tuple[int, int]:
    """``"128x96"`` -> ``(128, 96)`` (height x width)."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW such as 128x96, got {text!r}") from None
    if h < 32 or w < 32:
        raise argparse.ArgumentTypeError(f"expected a size of at least 32x32, got {text!r}")
    return h, w


def cmd_realism(args: argparse.Namespace) -> int:
    from tryon.config import atomic_write_text
    from tryon.eval.realism import CriticSettings, read_folder, realism_auc

    if args.folds < 2:
        raise ValueError(f"--folds: expected 2 or more, got {args.folds}")
    ids_r, real, g_real = read_folder(args.real_dir, args.garments)
    ids_f, fake, g_fake = read_folder(args.fake_dir, args.garments)
    st = CriticSettings() if args.epochs is None else CriticSettings(epochs=args.epochs)
    res = realism_auc(
        real,
        fake,
        g_real,
        g_fake,
        folds=args.folds,
        size=args.size,
        seed=args.seed,
        ids_real=ids_r,
        ids_fake=ids_f,
        settings=st,
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    res = {"real_dir": str(args.real_dir), "fake_dir": str(args.fake_dir), "garments": args.garments} | res
    lo, hi = res["auc_ci95"]
    rows = [
        ("real", f"{args.real_dir} ({res['n_real']} images)"),
        ("fake", f"{args.fake_dir} ({res['n_fake']} images)"),
        ("garments", args.garments or "-"),
        ("AUC", f"{res['auc']:.3f}  95% CI [{lo:.3f}, {hi:.3f}]  (0.5 = indistinguishable)"),
        ("folds", f"{res['folds']} (split by {res['split']})"),
        ("seconds", f"{res['seconds']:.1f}"),
    ]
    for k, v in rows:
        print(f"{k:<9} {v}")
    print(f"settings  {res['settings']}")
    if args.json:
        atomic_write_text(args.json, json.dumps(res, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def register(subparsers) -> None:
    """Add ``eval`` (with its ``realism`` subcommand) to an argparse subparsers object."""
    ev = subparsers.add_parser("eval", help="evaluation tools (realism critic)")
    sub = ev.add_subparsers(dest="eval_command", required=True, metavar="EVAL")
    r = sub.add_parser(
        "realism",
        help="classifier two-sample test: ROC AUC of a CNN telling REAL_DIR from FAKE_DIR (0.5 = alike)",
        description=(
            "A small CNN, trained from scratch with k-fold cross-validation, tells real photos from "
            "try-on images; both sides are resized and JPEG-encoded alike. Prints the ROC AUC of the "
            "pooled out-of-fold scores with a 95% bootstrap interval (0.5 = indistinguishable). Folds "
            "split by image, or by person id when the folders share one (file stem, the part before "
            "'__'). Files named *_sheet.* are skipped. With --garments: " + GARMENT_RULE + "."
        ),
    )
    r.add_argument("real_dir", metavar="REAL_DIR", help="folder of real person photos")
    r.add_argument("fake_dir", metavar="FAKE_DIR", help="folder of try-on images")
    r.add_argument(
        "--garments", default=None, help="folder of flat garment photos: the conditional critic (see above)"
    )
    r.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    r.add_argument("--size", type=parse_size, default=(128, 96), help="working size HxW (default 128x96)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument(
        "--epochs", type=int, default=None, help="training epochs per fold (default: the critic's)"
    )
    r.add_argument("--json", default=None, metavar="OUT", help="write the result as JSON (atomically)")
    r.set_defaults(func=cmd_realism)
