"""The ``tryon try-on`` subcommand: the single form (one person photo, one garment photo, a body text ->
one image) and the batch form over every pair of a VITON-HD / Dress Code folder (:mod:`tryon.infer.batch`).
Bad inputs raise :class:`tryon.infer.inputs.InferError`: one line on stderr, exit status 2. In the
batch form a broken pair is recorded in ``summary.csv`` and skipped; when any pair failed the exit
status is :data:`BATCH_FAILED` (3) (``--fail-fast``: stop at the first, exit 2).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from tryon.infer.inputs import CATEGORIES, LABELSETS, InferError, check_out, save_image

if TYPE_CHECKING:  # the model and batch modules import torch: only when a try-on runs
    from tryon.infer.model import TryOn

#: exit status of a batch in which some pairs failed (the others were written; see summary.csv)
BATCH_FAILED = 3


def register(sub) -> None:
    p = sub.add_parser(
        "try-on",
        help="try a garment on a person photo (or every pair of a VITON-HD / Dress Code folder)",
        description=(
            "Single: --person P --garment G --text T --out O.png. Batch: --dataset DIR --pairs "
            "{paired,unpaired,all,FILE} --out-dir DIR. Without a parse map (--parse, or --no-parse in "
            "the batch form) the trunk regions come from the photo (--auto-parse: the learned parser "
            "models/parser.pt by default, or mediapipe, `make mediapipe`)."
        ),
    )
    p.add_argument(
        "--checkpoint",
        help="a 05_train model.pt (default: data/05_train/model.pt when the pipeline has run, else the "
        "shipped models/model.pt)",
    )
    p.add_argument("--person", help="person photo (any size; padded to 1:1 and restored)")
    p.add_argument("--garment", help="flat garment photo on a plain background")
    p.add_argument("--text", help='body-shape text, e.g. "height 165cm, weight 50kg, pear, thin"')
    p.add_argument("--out", help="output image (.png or .jpg), the person photo's size")
    p.add_argument("--parse", help="human-parse label map of the person photo (CIHP ids by default)")
    p.add_argument("--parse-labels", choices=LABELSETS, default="cihp", help="label set of --parse")
    p.add_argument("--garment-mask", help="garment mask (default: estimated from the background)")
    p.add_argument(
        "--pose",
        help="body keypoints of the person photo (OpenPose COCO-18 / BODY_25 JSON, or Dress Code's), for a "
        "model trained with a pose map; without it mediapipe's pose is used when installed",
    )
    p.add_argument("--category", choices=CATEGORIES, default="upper_body")
    p.add_argument("--dataset", help="batch: a VITON-HD or Dress Code folder")
    p.add_argument("--pairs", default="all", help="batch: paired | unpaired | all | a pairs file")
    p.add_argument("--out-dir", help="batch: output folder (images, sheets, summary.csv)")
    p.add_argument(
        "--annotations", help="batch: body-text CSV from `tryon annotate` (else --text or estimated)"
    )
    p.add_argument(
        "--no-parse", action="store_true", help="batch: ignore the dataset's parse maps (--auto-parse)"
    )
    p.add_argument(
        "--auto-parse",
        choices=("parser", "mediapipe"),
        default=None,
        help="without a parse map: parse the photo with the learned parser (models/parser.pt; the default "
        "when it exists) or the mediapipe rules (`make mediapipe`; better on full-length photos like Dress "
        "Code's, see docs/experiments/2026-12-07_parser_vs_rules.json)",
    )
    p.add_argument("--fail-fast", action="store_true", help="batch: stop at the first broken pair (exit 2)")
    p.add_argument(
        "--skip-existing", action="store_true", help="batch: do not redo pairs whose image is in --out-dir"
    )
    p.add_argument("--sheet", action="store_true", help="also write a side-by-side sheet with the warp")
    p.add_argument(
        "--paste-back",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="keep the photo's own pixels outside the replaced region (default: the network's image alone)",
    )
    p.add_argument(
        "--detail",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add the warped print's detail above the network's size to the painted share of the garment",
    )
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    p.set_defaults(func=_cli)


def _batch(args: argparse.Namespace, model: TryOn) -> int:
    """The batch form: every pair of --dataset; exit 0, or BATCH_FAILED when any pair failed."""
    from tryon.infer.batch import dataset_records, run_pairs

    records = dataset_records(args.dataset, args.pairs)

    def show(i: int, n: int, row: dict) -> None:
        if row["status"] == "ok":
            print(
                f"[{i}/{n}] {row['pair']}: face SSIM {row['face_ssim']:.3f}, {row['seconds']:.2f} s",
                flush=True,
            )
        else:
            print(f"[{i}/{n}] {row['pair']}: {row['status']} {row['error']}".rstrip(), flush=True)

    df = run_pairs(
        model,
        records,
        args.out_dir,
        text=args.text,
        annotations=args.annotations,
        use_parse=not args.no_parse,
        write_sheet=args.sheet,
        paste_back=args.paste_back,
        detail=args.detail,
        progress=show,
        fail_fast=args.fail_fast,
        skip_existing=args.skip_existing,
        auto_parse_method=args.auto_parse,
    )
    counts = df["status"].value_counts()
    done = df[df["status"] == "ok"]
    print(
        f"{args.out_dir}: {counts.get('ok', 0)} try-ons written, {counts.get('existing', 0)} already there, "
        f"{counts.get('error', 0)} failed (summary.csv)"
        + (f"; face SSIM min {done['face_ssim'].min():.3f}" if len(done) else "")
    )
    if counts.get("error", 0):
        first = df[df["status"] == "error"].iloc[0]
        print(
            f"error: {counts['error']} of {len(df)} pairs failed, e.g. {first['pair']}: {first['error']}",
            file=sys.stderr,
        )
        return BATCH_FAILED
    return 0


def _cli(args: argparse.Namespace) -> int:
    batch = args.dataset is not None or args.out_dir is not None
    if batch:
        missing = [f"--{k.replace('_', '-')}" for k in ("dataset", "out_dir") if getattr(args, k) is None]
        extra = [f"--{k}" for k in ("person", "garment", "out", "parse") if getattr(args, k) is not None]
        if missing or extra:
            raise InferError(
                "batch form: needs --dataset and --out-dir"
                + (f" (missing {', '.join(missing)})" if missing else "")
                + (f"; {', '.join(extra)} belong to the single form" if extra else "")
            )
    else:
        missing = [f"--{k}" for k in ("person", "garment", "text", "out") if getattr(args, k) is None]
        if missing:
            raise InferError(f"try-on: missing {', '.join(missing)} (or use --dataset/--out-dir)")
        check_out(args.out)
        if args.no_parse:
            raise InferError(
                "--no-parse: batch form only (the single form parses the photo when --parse is absent)"
            )
    if args.auto_parse is not None and (args.parse is not None or (batch and not args.no_parse)):
        raise InferError("--auto-parse: only without a parse map (no --parse; batch form: with --no-parse)")
    from tryon.infer.model import TryOn, sheet

    checkpoint = args.checkpoint
    if checkpoint is None:
        from tryon.paths import default_checkpoint

        checkpoint, what = default_checkpoint()
        if not checkpoint.is_file():
            raise InferError(f"{checkpoint}: no model (run `make repro`, or pass --checkpoint)")
        print(f"model: {what}", file=sys.stderr)
    model = TryOn(checkpoint, args.device, args.threads)
    if batch:
        return _batch(args, model)
    inp = model.read_inputs(
        args.person,
        args.garment,
        args.text,
        parse=args.parse,
        parse_labels=args.parse_labels,
        garment_mask=args.garment_mask,
        category=args.category,
        auto_parse_method=args.auto_parse,
        pose=args.pose,
    )
    t0 = time.perf_counter()
    res = model.predict(inp, paste_back=args.paste_back, detail=args.detail)
    sec = time.perf_counter() - t0
    out = save_image(args.out, res.image)
    msg = f"wrote {out} ({res.image.shape[1]}x{res.image.shape[0]}) in {sec:.2f} s; trunk from: {res.parse_source}"
    if model.reads_pose:
        msg += f"; pose from: {inp.pose_source}" + (
            " (the pose map is empty)" if inp.keypoints is None else ""
        )
    if args.sheet:
        try:
            sp = save_image(out.with_name(f"{out.stem}_sheet.png"), sheet(inp, res))
        except BaseException:
            out.unlink(missing_ok=True)  # no half result: the image goes with its sheet
            raise
        msg += f"; sheet {sp}"
    print(msg)
    return 0
