"""``python -m tryon.viz.explore rank | screenshot`` (:mod:`tryon.viz.explore.__main__` runs :func:`main`)."""

from __future__ import annotations

from collections.abc import Sequence

from tryon import paths
from tryon.viz.explore.browser import screenshot
from tryon.viz.explore.inputs import RANK_PERSONS
from tryon.viz.explore.sweeps import parse_values, weight_width_rank


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tryon.viz.explore rank [--checkpoint C] [--persons ...]`` |
    ``python -m tryon.viz.explore screenshot NOTEBOOK [--out PNG]``."""
    import argparse

    from tryon.viz import explore

    ap = argparse.ArgumentParser(
        prog="python -m tryon.viz.explore", description=explore.__doc__.split("\n")[0]
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rank", help="Spearman rank correlation of warped-garment width vs weight, per person")
    r.add_argument("--checkpoint", help="default: data/05_train/model.pt if present, else models/model.pt")
    r.add_argument("--persons", nargs="+", default=list(RANK_PERSONS), help="VITON-HD sample person ids")
    r.add_argument("--values", default="45:110:5", help="weights (kg): start:stop:step or a list")
    r.add_argument("--text", help="the other fields (default: estimated from each parse map)")
    r.add_argument("--height", type=int, help="scale the photos to this many rows (default: own size)")
    r.add_argument("--threads", type=int, default=1)
    s = sub.add_parser("screenshot", help="draw a notebook in JupyterLab with headless Chromium")
    s.add_argument("notebook", help="an executed notebook under the repository")
    s.add_argument("--out", default=str(paths.REPORTS_DIR / "explore.png"))
    s.add_argument("--width", type=int, default=1400)
    s.add_argument("--height", type=int, default=2800)
    args = ap.parse_args(argv)
    if args.cmd == "rank":
        weight_width_rank(
            args.checkpoint,
            args.persons,
            parse_values("weight", args.values),
            args.text,
            args.height,
            args.threads,
        )
        return 0
    print(screenshot(args.notebook, args.out, args.width, args.height))
    return 0
