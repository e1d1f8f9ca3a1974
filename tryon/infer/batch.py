"""The batch form of try-on over a pairs file (VITON-HD / Dress Code layout): :func:`dataset_records`
lists a folder's pairs, :func:`run_pairs` tries each on (every input read and checked before anything is
written) and writes the images and a ``summary.csv`` with the face / image SSIM against the photo
(:mod:`tryon.eval.face`).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np

from tryon.data import io
from tryon.eval.face import face_ssim, image_ssim, neck_row
from tryon.infer.inputs import InferError, check_image, save_image
from tryon.infer.model import Inputs, TryOn, _auto_parse, sheet


def dataset_records(root: str | os.PathLike, pairs: str = "all") -> list:
    """The pairs of a VITON-HD or Dress Code folder (``pairs``: paired | unpaired | all | a file)."""
    from tryon.data import dresscode, vitonhd
    from tryon.data.dataset import detect_layout

    root = Path(root)
    if not root.is_dir():
        raise InferError(f"--dataset {root}: folder not found")
    try:
        mod = {"vitonhd": vitonhd, "dresscode": dresscode}[detect_layout(root)]
        recs = mod.list_pairs(root, pairs)
    except io.DataError as e:
        raise InferError(str(e)) from None
    if not recs:
        raise InferError(f"--pairs {pairs}: no pairs listed in {root}")
    return recs


#: text_source of a body text estimated from the parse map (its words outside the training vocabulary
#: are encoded as unknown; a given or annotated text must use known words)
ESTIMATED = "estimated from the parse map"


def _record_text(rec, text: str | None, annotations, parse: np.ndarray) -> tuple[str, str]:
    from tryon.data.annotate import estimate_attributes

    if text:
        return text, "given"
    if annotations is not None and rec.person_id in annotations.index:
        return str(annotations.loc[rec.person_id, "text"]), "annotations"
    return str(estimate_attributes(parse)["text"]), ESTIMATED


def run_pairs(
    model: TryOn,
    records: list,
    out_dir: str | os.PathLike,
    text: str | None = None,
    annotations: str | os.PathLike | None = None,
    use_parse: bool = True,
    write_sheet: bool = False,
    paste_back: bool = False,
    detail: bool = True,
    progress=None,
    ext: str = ".png",
    fail_fast: bool = False,
    skip_existing: bool = False,
    auto_parse_method: str | None = None,
):
    """Try on every pair; writes ``<out_dir>/<person>__<garment>.png`` (and ``..._sheet.png``) and
    ``summary.csv`` (one row per pair: which parse path, the text and its source, seconds, face SSIM
    of the output and of the network's image alone against the photo, and for paired pairs the SSIM of
    the whole output against the photo, which shows the same person in the same garment).

    A broken pair (unreadable or missing file, parse map of the wrong size, unknown label, ...) does
    not stop the batch: its row has ``status`` "error" and the one-line ``error`` text, and no image is
    written for it (an image whose sheet fails is removed again). ``fail_fast``: the first broken pair
    raises :class:`InferError` instead (images already written stay, no summary). ``skip_existing``: a
    pair whose image is already in ``out_dir`` is not run again (``status`` "existing"; its row is
    taken from the previous ``summary.csv`` when it has one). ``summary.csv`` is written atomically at
    the end; its "ok" and "existing" rows are exactly the images on disk. ``ext``: .png or .jpg
    (quality 95). ``paste_back``, ``detail``: as :meth:`TryOn.predict`. ``auto_parse_method``: how a
    photo without a parse map (``use_parse=False``) is parsed, as :meth:`TryOn.read_inputs` (the
    ``parse_source`` column names it). Returns the summary DataFrame."""
    import pandas as pd

    out_dir = Path(out_dir)
    if text:
        model.encode_text(text)  # one text for every pair: an unreadable one stops before any work
    ann = _read_annotations(annotations)
    method = _check_method(auto_parse_method) if not use_parse else auto_parse_method
    found = (
        _find_poses(records) if not use_parse and method == "mediapipe" else _prefetch_poses(model, records)
    )
    before = _previous_rows(out_dir) if skip_existing else {}
    rows = []
    for i, rec in enumerate(records):
        name = f"{rec.person_id}__{rec.cloth_id}"
        if skip_existing and (out_dir / f"{name}{ext}").is_file():
            rows.append({**before.get(name, _bare_row(rec, name)), "status": "existing", "error": ""})
        else:
            try:
                job = _read_job(model, rec, text, ann, use_parse, found, method)
                rows.append(_run_job(model, *job, out_dir, write_sheet, paste_back, ext, detail) | _OK)
            except (InferError, io.DataError, ValueError, OSError) as e:
                msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                if fail_fast:
                    raise InferError(f"{name}: {msg}") from None
                rows.append({**_bare_row(rec, name), "status": "error", "error": msg})
        if progress is not None:
            progress(i + 1, len(records), rows[-1])
    df = pd.DataFrame(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    io._atomic_save(out_dir / "summary.csv", lambda t: df.to_csv(t, index=False))
    return df


_OK = {"status": "ok", "error": ""}


def _bare_row(rec, name: str) -> dict:
    """The summary columns a pair has before it is run."""
    return {
        "pair": name,
        "person": rec.person_id,
        "garment": rec.cloth_id,
        "person_file": str(rec.person),
        "garment_file": str(rec.cloth),
        "category": rec.category,
        "mode": rec.mode,
    }


def _previous_rows(out_dir: Path) -> dict[str, dict]:
    """pair -> its row in an earlier ``summary.csv`` of ``out_dir`` (empty when there is none)."""
    import pandas as pd

    path = out_dir / "summary.csv"
    if not path.is_file():
        return {}
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return {}
    if "pair" not in df.columns:
        return {}
    return {str(r["pair"]): r for r in df.to_dict("records")}


def _read_annotations(annotations: str | os.PathLike | None):
    """The body-text CSV of `tryon annotate` (a DataFrame indexed by person id), or None."""
    ann = None
    if annotations is not None:
        from tryon.data.annotate import read_annotations

        try:
            ann = read_annotations(annotations)
        except (io.DataError, ValueError) as e:
            raise InferError(str(e).splitlines()[0]) from None
    return ann


def _check_method(method: str | None) -> str:
    """The photo-only method (None: the default), checked before any pair is read: an unknown one or a
    missing parser checkpoint -> :class:`InferError`."""
    from tryon.infer import autoparse

    try:
        method = autoparse.resolve_method(method)
        if method == "parser":
            autoparse.learned_parser()
    except autoparse.AutoParseUnavailable as e:
        raise InferError(f"--no-parse: {e}") from None
    except ValueError as e:
        raise InferError(str(e).splitlines()[0]) from None
    return method


def _find_poses(records: list) -> dict:
    """mediapipe's result per person photo (path -> :func:`tryon.infer.autoparse.run_mediapipe` dict),
    for the pairs without a parse map (``--no-parse``); every person photo is checked first."""
    from tryon.infer import autoparse

    persons = sorted({str(r.person) for r in records})
    for p in persons:
        check_image(p, "person")
    try:
        found = dict(zip(persons, autoparse.run_mediapipe([Path(p) for p in persons]), strict=True))
    except autoparse.AutoParseUnavailable as e:
        raise InferError(f"--no-parse: {e}") from None
    except ValueError as e:
        raise InferError(str(e).splitlines()[0]) from None
    return found


def _prefetch_poses(model: TryOn, records: list) -> dict:
    """mediapipe's result per person photo that has no keypoint file, all in one mediapipe process (the
    model reads their pose from it: :func:`tryon.infer.autoparse.auto_keypoints`; one process per photo
    costs about a second of start-up each). Empty when the model reads no pose, without mediapipe, or
    when a photo fails: each pair then runs mediapipe on its own and its row reports its own error."""
    from tryon.infer import autoparse

    if not getattr(model, "reads_pose", False):
        return {}
    persons = sorted({str(r.person) for r in records if r.pose is None or not Path(r.pose).is_file()})
    if not persons or not autoparse.available():
        return {}
    try:
        return dict(zip(persons, autoparse.run_mediapipe([Path(p) for p in persons]), strict=True))
    except (autoparse.AutoParseError, autoparse.AutoParseUnavailable, ValueError, OSError):
        return {}


def read_pair(
    model: TryOn, rec, text: str | None = None, use_parse: bool = True, auto_parse_method: str | None = None
):
    """Read and check one pair of a dataset folder (nothing written): ``(Inputs, the dataset's parse
    map as CIHP ids or None, the text's source)``; without ``text`` it is estimated from the parse map."""
    _, inp, gt_parse, t_src = _read_job(model, rec, text, None, use_parse, {}, auto_parse_method)
    return inp, gt_parse, t_src


def _read_job(
    model: TryOn, rec, text: str | None, ann, use_parse: bool, found: dict, method: str | None = None
):
    """Read and check one pair (nothing written): (record, :class:`Inputs`, the dataset's parse map as
    CIHP ids or None, the text's source)."""
    from tryon.data.vitonhd import load_parse

    gt_parse = None
    if Path(rec.parse).is_file():
        rgb_size = check_image(rec.person, "person")
        try:
            gt_parse = load_parse(rec.parse, rec.labelset, rgb_size)
        except (io.DataError, ValueError) as e:
            raise InferError(str(e).splitlines()[0]) from None
    elif use_parse:
        raise InferError(f"{rec.parse}: parse map not found (pass --no-parse to parse the photo)")
    cmask = rec.cloth_mask if rec.cloth_mask is not None and Path(rec.cloth_mask).is_file() else None
    text_parse = gt_parse
    if text_parse is None and not text:  # estimate the body text from the automatic parse
        text_parse, _ = _auto_parse(
            Path(rec.person), io.read_rgb(rec.person), found.get(str(rec.person)), method
        )
    t, t_src = _record_text(rec, text, ann, text_parse)
    inp = model.read_inputs(
        rec.person,
        rec.cloth,
        t,
        parse=rec.parse if use_parse else None,
        parse_labels=rec.labelset,
        garment_mask=cmask,
        category=rec.category,
        auto_parse=found.get(str(rec.person)),
        auto_parse_method=method,
        pose=rec.pose if rec.pose is not None and Path(rec.pose).is_file() else None,
        strict_text=t_src != ESTIMATED,  # an estimate may name a body type the model never saw
    )
    return rec, inp, gt_parse, t_src


def _run_job(
    model: TryOn,
    rec,
    inp: Inputs,
    gt_parse,
    t_src: str,
    out_dir: Path,
    write_sheet: bool,
    paste_back: bool,
    ext: str,
    detail: bool = True,
) -> dict:
    """Try on one read pair, write its image (and sheet), and return its ``summary.csv`` row."""
    t0 = time.perf_counter()
    res = model.predict(inp, paste_back, detail)
    sec = time.perf_counter() - t0
    name = f"{rec.person_id}__{rec.cloth_id}"
    image = save_image(out_dir / f"{name}{ext}", res.image)
    if write_sheet:
        try:
            save_image(out_dir / f"{name}_sheet.png", sheet(inp, res))
        except BaseException:
            image.unlink(missing_ok=True)  # no half result: the image goes with its sheet
            raise
    face_parse = gt_parse if gt_parse is not None else inp.parse
    neck = neck_row(rec.pose, inp.person.shape[0]) if rec.labelset == "dresscode" else None
    return {
        **_bare_row(rec, name),
        "parse_source": res.parse_source,
        "text": inp.text,
        "text_source": t_src,
        "width": res.image.shape[1],
        "height": res.image.shape[0],
        "same_size": res.image.shape == inp.person.shape,
        "seconds": round(sec, 4),
        "face_ssim": face_ssim(res.image, inp.person, face_parse, neck_y=neck),
        "face_crop_ssim": face_ssim(res.image, inp.person, face_parse, crop=True, neck_y=neck),
        "face_ssim_network": face_ssim(res.network, inp.person, face_parse, neck_y=neck),
        "ssim_vs_photo": image_ssim(res.image, inp.person) if rec.mode == "paired" else math.nan,
        "ssim_vs_photo_network": (image_ssim(res.network, inp.person) if rec.mode == "paired" else math.nan),
    }
