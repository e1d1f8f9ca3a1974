"""Unpaired VITON figures: does the new garment keep its own shape, and does the try-on look real?

Every paired figure (:mod:`tryon.eval.viton`) puts a person in the garment they wear, so the photo is the
truth. Users try on garments they are not wearing; there is no photo of that. Two figures stand in for it:

**Garment-shape agreement** (``shape``). Every VITON garment ``X_1`` is worn by its owner in photo ``X_0``,
with a true parse map and pose: that fixes the garment's worn shape in body units
(:func:`tryon.eval.shape.garment_shape`: sleeve reach, hem, shoulder cover, torso cover, width). Each
unpaired try-on (person ``A`` in garment ``X``) is parsed by the trained parser (:mod:`tryon.parser`) and
measured with ``A``'s pose; the figure is the mean absolute disagreement per quantity, with a bootstrap
95% interval over the pairs. References on the same pairs:

* ``parser_floor``: the parser's own error, ``A``'s real photo parsed against its true parse map (what a
  perfect try-on could at best read);
* ``old_garment``: ``A``'s old garment (true parse) against ``X``'s shape: what a try-on that keeps the old
  garment's outline scores, parsed perfectly;
* ``naive_paste`` (the new garment pasted into the old garment's box) and ``keep_trunk``, through the parser.

And the other way round, ``<name>_vs_old`` for every method: its try-on's shape against ``A``'s **old**
garment (true parse). A try-on that takes the new garment's shape scores about ``old_garment`` there; one
that fills the old garment's outline scores near 0 (the person representation leaks the old outline).

**What the shape follows** (``follows``, :func:`follow_figures`): per method and quantity, the least-squares
fit over the pairs of the try-on's value on the new garment's and the old garment's values,
``try-on = a * new + b * old + c``, with bootstrap 95% intervals of ``a`` and ``b``. A try-on that takes the
new garment's shape has ``a`` near 1 and ``b`` near 0; one that keeps the old outline the other way round;
``a`` near 0 means the new garment's shape does not reach the try-on at all (a mean disagreement can look
fair then: every try-on gets an average shape). ``follows_bound`` (:func:`flat_mask_bound`) is how far ``a``
can go: the share of each quantity's variance that the flat garment photo tells at all (on VITON, most of the
sleeves' reach and little of the hem: how long a top ends up is how it is worn).

**Realism** (``realism_auc``): the classifier two-sample test of :mod:`tryon.eval.realism` between the real
photos of the test persons and each method's unpaired try-ons (0.5 = the critic cannot tell them apart);
``real_vs_real`` (two halves of the real photos) calibrates it. The conditional form (``_conditional``)
shows the critic the flat garment too, so it can check that the worn garment is the given one; ``mismatch``
(a real photo with another person's garment) is its calibration.

Try-ons are network output at the photo's 256x192 (no paste-back); the body text is estimated from each
person's parse map, as in the paired benchmark.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

#: the shape quantities reported (:data:`tryon.eval.shape.QUANTITIES` without the per-arm reaches)
SHAPE_FIGURES = ("sleeve_reach", "hem", "shoulder_cover", "torso_cover", "width")
#: network-free try-ons scored beside the models (:mod:`tryon.eval.baselines`)
BASELINES = ("naive_paste", "keep_trunk")
#: suffix of the rows that read a try-on against the person's old garment (module docstring)
VS_OLD = "_vs_old"
#: try-ons shown per figure in the report (those it scores worst)
N_WORST = 8


def owner_files(cloth: str | os.PathLike) -> tuple[Path, Path, Path]:
    """The photo, parse map and pose of the garment's owner: ``<split>/cloth/X_1.jpg`` is worn in
    ``<split>/image/X_0.jpg`` (CP-VTON layout); VITON-HD's ``cloth/X.jpg`` in ``image/X.jpg`` (its
    ``image-parse/X.png``, ``openpose_json/X_keypoints.json``)."""
    cloth = Path(cloth)
    top, stem = cloth.parents[1], cloth.stem
    if stem.endswith("_1"):
        stem = stem[:-2]
        return (
            top / "image" / f"{stem}_0.jpg",
            top / "image-parse" / f"{stem}_0.png",
            top / "pose" / f"{stem}_0_keypoints.json",
        )
    return (
        top / "image" / f"{stem}.jpg",
        top / "image-parse" / f"{stem}.png",
        top / "openpose_json" / f"{stem}_keypoints.json",
    )


def _short(file_id: str) -> str:
    """A CP-VTON file id without its ``_0`` / ``_1`` suffix (``000038_0`` -> ``000038``); others as they are."""
    return file_id[:-2] if file_id.endswith(("_0", "_1")) else file_id


def keypoints_of(path: str | os.PathLike | None) -> dict:
    """The pose keypoints of a photo (:func:`tryon.eval.shape.read_keypoints`), {} when it has no pose file
    (then :func:`~tryon.eval.shape.garment_shape` with ``fallback`` estimates shoulders and hips)."""
    from tryon.data.pose import read_keypoints

    return read_keypoints(path) if path is not None and Path(path).is_file() else {}


def true_shape(parse_path, pose_path, labelset: str = "lip", fallback: bool = False) -> dict:
    """:func:`~tryon.eval.shape.garment_shape` of a photo from its true parse map (``labelset``) and pose."""
    from tryon.data.vitonhd import load_parse
    from tryon.eval.shape import garment_shape

    return garment_shape(load_parse(Path(parse_path), labelset), keypoints_of(pose_path), fallback)


def unpaired_records(
    root, split_csv, split: str = "test", max_pairs: int = 0, clean_only: bool = True
) -> list:
    """The unpaired (record, text) pairs of ``split`` (``test``: ``test_pairs.txt``, only persons of
    ``test_clean_ids.txt`` with ``clean_only``; ``dev``: each dev person in the next dev person's garment),
    ``max_pairs`` > 0 of them evenly spaced over the list."""
    from tryon.eval.viton import clean_ids, test_records

    recs = test_records(split_csv, root, "unpaired", split)
    if split == "test" and clean_only:
        clean = clean_ids(root)
        recs = [(r, t) for r, t in recs if r.person_id[:-2] in clean]
    if max_pairs and max_pairs < len(recs):
        recs = [recs[i] for i in np.unique(np.linspace(0, len(recs) - 1, max_pairs).round().astype(int))]
    return recs


def try_on_all(models: dict, recs: list, progress: bool = False) -> tuple[list[dict], list[str]]:
    """Each unpaired pair through every model (``{name: TryOn}``) and the :data:`BASELINES`: one dict per
    pair with the person photo, the new garment, its owner's photo, the person's own garment, the
    try-on of each method, and both shapes' inputs (parse, keypoints). Pairs with a broken file are
    skipped and named (second element)."""
    from tryon.data import labels
    from tryon.data.io import read_rgb
    from tryon.eval import baselines as B
    from tryon.infer.batch import read_pair
    from tryon.infer.inputs import InferError

    first = next(iter(models.values()))
    it = recs
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(recs, desc="VITON unpaired", unit="pair", mininterval=10)
    pairs, skipped = [], []
    for rec, text in it:
        try:
            inp, parse, _ = read_pair(first, rec, text=text or None)
            owner_img, owner_parse, owner_pose = owner_files(rec.cloth)
            pid = _short(rec.person_id)
            own_cloth = (
                Path(rec.person).parents[1]
                / "cloth"
                / (f"{pid}_1.jpg" if pid != rec.person_id else f"{pid}.jpg")
            )
            extra = {"owner": read_rgb(owner_img), "own_garment": read_rgb(own_cloth)}
            kp = keypoints_of(rec.pose)
        except (InferError, ValueError, OSError) as e:
            skipped.append(f"{rec.person_id} {rec.cloth_id}: {str(e).splitlines()[0]}")
            continue
        outs = {name: m.predict(inp, detail=False).network for name, m in models.items()}
        for b in BASELINES:
            outs[b] = B.make(b, inp.person, parse, inp.garment, inp.garment_mask, rec.category)
        pairs.append(
            {
                "id": f"{pid}+{_short(rec.cloth_id)}",
                "person_id": pid,
                "person": inp.person,
                "garment": inp.garment,
                "parse": parse,
                "keypoints": kp,
                "owner_parse": owner_parse,
                "owner_pose": owner_pose,
                "labelset": rec.labelset,
                "outputs": outs,
                "garment_region": labels.garment_mask(parse),
                **extra,
            }
        )
    return pairs, skipped


def _summary(rows: list[dict], keys=SHAPE_FIGURES) -> dict:
    from tryon.eval.metrics import bootstrap_ci

    out: dict = {"n": len(rows)}
    for q in keys:
        v = [r[q] for r in rows if math.isfinite(r[q])]
        out[q] = float(np.mean(v)) if v else math.nan
        out[f"{q}_ci95"] = bootstrap_ci(v)
        out[f"{q}_n"] = len(v)
    return out


def shape_figures(parser, pairs: list[dict], fallback: bool = False) -> tuple[dict, dict]:
    """The garment-shape disagreement of every method and reference (module docstring) over ``pairs``
    (:func:`try_on_all`): ``({name: {q: mean, q_ci95, q_n, n}}, {name: per-pair rows})``; each row holds
    the pair's id, its disagreements, and the parse of the try-on (for the report's worst cases).
    ``fallback``: shoulders and hips estimated from the parse map where the pose lacks them (VITON-HD's
    samples have no pose file for most persons; the sleeves then read NaN)."""
    from tryon.eval.shape import disagreement, garment_shape

    owners: dict[str, dict] = {}
    rows: dict[str, list[dict]] = {}
    names = list(pairs[0]["outputs"]) if pairs else []
    for p in pairs:
        key = str(p["owner_parse"])
        if key not in owners:
            owners[key] = true_shape(p["owner_parse"], p["owner_pose"], p["labelset"], fallback)
        target = owners[key]
        truth_here = garment_shape(p["parse"], p["keypoints"], fallback)
        parsed = parser.parse_batch([p["person"], *(p["outputs"][n] for n in names)])
        own = garment_shape(parsed[0], p["keypoints"], fallback)
        refs = {
            "parser_floor": disagreement(truth_here, own),
            "old_garment": disagreement(truth_here, target),
        }
        for name, d in refs.items():
            rows.setdefault(name, []).append({"id": p["id"], **d})
        for name, lab in zip(names, parsed[1:], strict=True):
            shape = garment_shape(lab, p["keypoints"], fallback)
            values = {q: (target.get(q), truth_here.get(q), shape.get(q)) for q in SHAPE_FIGURES}
            row = {"id": p["id"], **disagreement(shape, target), "parse": lab, "values": values}
            rows.setdefault(name, []).append(row)
            rows.setdefault(f"{name}{VS_OLD}", []).append({"id": p["id"], **disagreement(shape, truth_here)})
    return {n: _summary(r) for n, r in rows.items()}, rows


def follow_slopes(triples, n_boot: int = 1000, seed: int = 0) -> dict:
    """The fit ``try-on = a * new + b * old + c`` over ``triples`` ((new, old, try-on) per pair; a triple
    with a NaN or None is left out): ``{"new": a, "old": b, "new_ci95", "old_ci95" (seeded percentile
    bootstrap over the pairs), "n"}``; NaN with fewer than 4 pairs or when the new and old values do not
    vary independently (a singular fit)."""
    v = np.asarray(
        [t for t in triples if all(x is not None and math.isfinite(x) for x in t)], dtype=np.float64
    ).reshape(-1, 3)

    def fit(a: np.ndarray) -> np.ndarray | None:
        x = np.c_[a[:, 0], a[:, 1], np.ones(len(a))]
        if np.linalg.matrix_rank(x) < 3:
            return None
        return np.linalg.lstsq(x, a[:, 2], rcond=None)[0][:2]

    best = fit(v) if len(v) >= 4 else None
    ci = np.full((2, 2), math.nan)  # rows: 2.5% and 97.5% quantiles; columns: new, old
    if best is None:
        best = np.full(2, math.nan)
    else:
        rng = np.random.default_rng(seed)
        boots = [b for b in (fit(v[rng.integers(0, len(v), len(v))]) for _ in range(n_boot)) if b is not None]
        if boots:  # a resample can repeat one pair until the fit is singular; such draws are left out
            ci = np.quantile(np.array(boots), [0.025, 0.975], axis=0)
    return {
        "new": float(best[0]),
        "old": float(best[1]),
        "new_ci95": [float(ci[0, 0]), float(ci[1, 0])],
        "old_ci95": [float(ci[0, 1]), float(ci[1, 1])],
        "n": len(v),
    }


def follow_figures(rows: dict) -> dict:
    """``{method: {quantity: follow_slopes(...)}}`` from :func:`shape_figures`' per-pair rows (the methods'
    rows carry ``values``; the references and ``_vs_old`` rows do not)."""
    return {
        name: {q: follow_slopes([r["values"][q] for r in rs]) for q in SHAPE_FIGURES}
        for name, rs in rows.items()
        if rs and "values" in rs[0]
    }


#: VITON train pairs :func:`flat_mask_bound` reads (never the test split)
BOUND_PAIRS = 1000
#: the flat garment mask's size as :func:`flat_mask_bound` reads it (rows, columns)
BOUND_MASK = (16, 12)


def ridge_r2(
    x: np.ndarray, y: np.ndarray, fit_share: float = 0.7, lams=(10.0, 100.0, 1000.0), seed: int = 0
) -> float:
    """Held-out R² of a ridge regression of ``y`` on ``x``: fitted on the first ``fit_share`` of a seeded
    shuffle (the penalty chosen among ``lams`` by 5-fold cross-validation inside that share), scored on
    the rest. NaN with fewer than 20 rows."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(y) < 20:
        return math.nan
    order = np.random.default_rng(seed).permutation(len(y))
    n_fit = int(round(fit_share * len(y)))
    fit, held = order[:n_fit], order[n_fit:]

    def solve(rows, lam):
        mu, ym = x[rows].mean(0), y[rows].mean()
        f = x[rows] - mu
        w = np.linalg.solve(f.T @ f + lam * np.eye(x.shape[1]), f.T @ (y[rows] - ym))
        return lambda r: ym + (x[r] - mu) @ w

    folds = np.array_split(fit, 5)
    cv = {lam: sum(((y[k] - solve(np.setdiff1d(fit, k), lam)(k)) ** 2).sum() for k in folds) for lam in lams}
    best = min(cv, key=cv.get)
    resid = y[held] - solve(fit, best)(held)
    return float(1.0 - (resid**2).mean() / y[held].var())


def flat_mask_bound(root, n_pairs: int = BOUND_PAIRS, seed: int = 0) -> dict:
    """How much of each worn shape quantity the flat garment photo tells (``follows``' ceiling): on
    ``n_pairs`` random VITON **train** pairs (``train_pairs.txt``), the held-out R² (:func:`ridge_r2`) of the
    garment's worn value on its owner (:func:`true_shape`) from its flat mask (``cloth-mask`` at
    :data:`BOUND_MASK`). A try-on that reads only the flat garment can follow the new garment's value with a
    slope of about this R² at best; the rest of the worn shape (a top's length: how it is worn) is not in
    the flat photo. ``{quantity: {"r2", "n"}, "pairs", "features"}``."""
    from PIL import Image

    train = Path(root) / "train"
    lines = [ln.split() for ln in (Path(root) / "train_pairs.txt").read_text().splitlines() if ln.strip()]
    pick = np.random.default_rng(seed).choice(len(lines), min(n_pairs, len(lines)), replace=False)
    xs, ys = [], []
    for i in sorted(pick):
        person, cloth = lines[i][0], lines[i][1]
        try:
            with Image.open(train / "cloth-mask" / cloth) as im:
                mask = np.asarray(im.convert("L"), np.float32) / 255.0
            stem = Path(person).stem
            s = true_shape(train / "image-parse" / f"{stem}.png", train / "pose" / f"{stem}_keypoints.json")
        except (OSError, ValueError):
            continue
        small = Image.fromarray(mask).resize(BOUND_MASK[::-1], Image.BILINEAR)
        xs.append(np.asarray(small, np.float64).ravel())
        ys.append([s[q] for q in SHAPE_FIGURES])
    n_px = BOUND_MASK[0] * BOUND_MASK[1]
    x, y = np.array(xs).reshape(len(xs), n_px), np.array(ys, float).reshape(len(ys), len(SHAPE_FIGURES))
    out: dict = {
        "pairs": f"{len(x)} random VITON train pairs (seed {seed}); fitted on 70%, scored on 30%",
        "features": f"the flat garment's mask at {BOUND_MASK[0]}x{BOUND_MASK[1]}, ridge (penalty by 5-fold CV)",
    }
    for j, q in enumerate(SHAPE_FIGURES):
        ok = np.isfinite(y[:, j])
        out[q] = {"r2": ridge_r2(x[ok], y[ok, j], seed=seed), "n": int(ok.sum())}
    return out


def clean_photos(root) -> list[tuple[str, np.ndarray]]:
    """(id, photo) of every clean VITON test person (``test_clean_ids.txt``), byte-identical repeats once."""
    import hashlib

    from tryon.data.io import read_rgb
    from tryon.eval.viton import clean_ids

    out, seen = [], set()
    for i in sorted(clean_ids(root)):
        path = Path(root) / "test" / "image" / f"{i}_0.jpg"
        digest = hashlib.md5(path.read_bytes()).hexdigest() if path.is_file() else None
        if digest is not None and digest not in seen:
            seen.add(digest)
            out.append((i, read_rgb(path)))
    return out


def realism_figures(
    pairs: list[dict], models: list[str], folds: int = 5, seed: int = 0, progress=None, calibration=None
) -> dict:
    """``realism_auc`` (unconditional, per method and ``real_vs_real``) and ``realism_auc_conditional``
    (per model and ``mismatch``) over ``pairs``, with the per-image out-of-fold scores of the fakes
    (``scores``) for the report's worst cases. ``real_vs_real`` splits ``calibration`` ((id, photo) pairs,
    e.g. :func:`clean_photos`) in two halves by person when given, else the pairs' persons."""
    from tryon.eval.realism import mismatch_garments, realism_auc

    real = [p["person"] for p in pairs]
    ids = [p["person_id"] for p in pairs]
    kw = {"folds": folds, "seed": seed, "progress": progress}
    out: dict = {"unconditional": {}, "conditional": {}}
    for name in [*models, *BASELINES]:
        out["unconditional"][name] = realism_auc(
            real, [p["outputs"][name] for p in pairs], ids_real=ids, ids_fake=ids, **kw
        )
    photos = calibration or [(p["person_id"], p["person"]) for p in pairs]
    half = set(sorted({i for i, _ in photos})[::2])  # two halves of the persons: the calibration reads ~0.5
    a = [img for i, img in photos if i in half]
    b = [img for i, img in photos if i not in half]
    out["unconditional"]["real_vs_real"] = realism_auc(a, b, **kw)
    own = [p["own_garment"] for p in pairs]
    for name in [*models, "naive_paste"]:
        out["conditional"][name] = realism_auc(
            real, [p["outputs"][name] for p in pairs], garments_real=own,
            garments_fake=[p["garment"] for p in pairs], ids_real=ids, ids_fake=ids, **kw,
        )  # fmt: skip
    out["conditional"]["mismatch"] = realism_auc(
        real, real, garments_real=own, garments_fake=mismatch_garments(own, seed, ids),
        ids_real=ids, ids_fake=ids, **kw,
    )  # fmt: skip
    return out


def benchmark(
    checkpoints: dict,
    parser_path: str | os.PathLike | None,
    root: str | os.PathLike,
    split_csv: str | os.PathLike,
    split: str = "test",
    max_pairs: int = 0,
    realism: bool = True,
    folds: int = 5,
    device: str = "cpu",
    progress: bool = False,
) -> tuple[dict, dict]:
    """The unpaired figures of ``checkpoints`` (``{name: path}``, the first is the model the report leads
    with) on ``split``: ``(metrics, extras)``; metrics ``{"n_pairs", "shape": {name: {q: ...}},
    "realism_auc": {name: {...}}, "realism_auc_conditional": {name: {...}}, ...}``; extras hold the pairs
    and per-pair rows for the worst-case galleries (:func:`worst`)."""
    from tryon.infer.model import TryOn

    models = {n: TryOn(p, device) for n, p in checkpoints.items()}
    recs = unpaired_records(root, split_csv, split, max_pairs)
    pairs, skipped = try_on_all(models, recs, progress)
    m: dict = {
        "split": split,
        "checkpoints": {n: str(p) for n, p in checkpoints.items()},
        "pairs": (
            "test_pairs.txt, persons of test_clean_ids.txt"
            if split == "test"
            else "each dev person in the next dev person's garment"
        )
        + (f", {len(recs)} evenly spaced" if max_pairs else ""),  # fmt: skip
        "n_pairs": len(pairs),
        "n_skipped": len(skipped),
        "skipped": skipped,
        "tryon": "network output at 256x192 (no paste-back); body text estimated from the parse map",
    }
    ex: dict = {"pairs": pairs}
    if parser_path is not None and Path(parser_path).is_file() and pairs:
        from tryon.parser import Parser

        parser = Parser.load(parser_path)
        m["parser"] = str(parser_path)
        m["shape"], ex["shape_rows"] = shape_figures(parser, pairs)
        m["follows"] = follow_figures(ex["shape_rows"])
        m["follows_bound"] = flat_mask_bound(root)
    else:
        m["shape"] = m["follows"] = f"not computed: no parser checkpoint at {parser_path}"
    if realism and len(pairs) >= 2 * folds:
        calib = clean_photos(root) if split == "test" else None  # every clean photo: a steadier 0.5
        r = realism_figures(pairs, list(models), folds, calibration=calib)
        m["real_vs_real_photos"] = (
            f"{len(calib)} distinct clean test photos, two halves by person" if calib
            else "the pairs' person photos, two halves by person"
        )  # fmt: skip
        m["realism_auc"] = {n: _no_scores(v) for n, v in r["unconditional"].items()}
        m["realism_auc_conditional"] = {n: _no_scores(v) for n, v in r["conditional"].items()}
        ex["realism"] = r
    else:
        why = "realism off" if not realism else f"{len(pairs)} pairs, fewer than 2 x {folds} folds"
        m["realism_auc"] = m["realism_auc_conditional"] = f"not computed: {why}"
    return m, ex


def samples_shape(checkpoints: dict, parser_path, samples_root, device: str = "cpu") -> dict | str:
    """The garment-shape figures (:func:`shape_figures`) on the VITON-HD unpaired pairs of a samples folder
    (``vitonhd/pairs.txt``) whose garment's owner is there with a parse map; shoulders and hips from the
    parse map where a pose file is missing (``keypoints_from_parse``), so the sleeves may read NaN."""
    from tryon.data.real import record_of, split_table
    from tryon.infer.model import TryOn
    from tryon.parser import Parser

    if parser_path is None or not Path(parser_path).is_file():
        return f"not computed: no parser checkpoint at {parser_path}"
    if not (Path(samples_root) / "vitonhd").is_dir():
        return f"not computed: no VITON-HD samples at {samples_root}"
    df = split_table(samples_root)
    df = df[(df["subset"] == "vitonhd") & (df["mode"] == "unpaired")]
    recs = [(record_of(r, samples_root), None) for r in df.itertuples()]
    recs = [(r, t) for r, t in recs if owner_files(r.cloth)[1].is_file()]
    models = {n: TryOn(p, device) for n, p in checkpoints.items()}
    pairs, skipped = try_on_all(models, recs)
    if not pairs:
        return "not computed: no VITON-HD unpaired pair whose garment's owner has a parse map"
    shape, _ = shape_figures(Parser.load(parser_path), pairs, fallback=True)
    return {
        "pairs": "VITON-HD unpaired sample pairs whose garment's owner is in the samples with a parse map",
        "n_pairs": len(pairs),
        "ids": [p["id"] for p in pairs],
        "n_skipped": len(skipped),
        "keypoints": "shoulders and hips from the parse map where the sample has no pose file",
        "shape": shape,
    }


def _no_scores(r: dict) -> dict:
    return {k: v for k, v in r.items() if not k.startswith("scores")}


def worst(ex: dict, name: str, n: int = N_WORST) -> dict[str, list[dict]]:
    """For each figure, the ``n`` pairs that ``name``'s try-on scores worst: the largest disagreement per
    shape quantity, the highest fake score of the (unconditional) critic. ``{figure: [pair dict + "value"
    (+ "parse")]}``."""
    pairs = {p["id"]: p for p in ex.get("pairs", [])}
    out: dict[str, list[dict]] = {}
    for q in SHAPE_FIGURES:
        rows = [r for r in ex.get("shape_rows", {}).get(name, []) if math.isfinite(r[q])]
        rows.sort(key=lambda r: -r[q])
        out[f"shape.{q}"] = [{**pairs[r["id"]], "value": r[q], "parse": r["parse"]} for r in rows[:n]]
    r = ex.get("realism", {}).get("unconditional", {}).get(name)
    if r is not None and "scores_fake" in r:
        order = np.argsort(-np.asarray(r["scores_fake"]))[:n]
        plist = list(pairs.values())
        out["realism_auc"] = [{**plist[i], "value": float(r["scores_fake"][i])} for i in order]
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m tryon.eval.unpaired CKPT [--name NAME CKPT ...] --split dev``: the unpaired figures of one
    or more checkpoints (the dev split is where training choices are read)."""
    import argparse
    import json
    import sys

    from tryon import paths

    ap = argparse.ArgumentParser(
        prog="python -m tryon.eval.unpaired", description=main.__doc__.split("\n")[0]
    )
    ap.add_argument("checkpoint", help="the model (named 'model')")
    ap.add_argument("--also", nargs=2, action="append", default=[], metavar=("NAME", "CKPT"))
    ap.add_argument("--parser", default=str(paths.ROOT / "models" / "parser.pt"))
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--root", default=str(paths.SHARED_VITON))
    ap.add_argument("--split-csv", default=str(paths.DATA_DIR / "01_prepare" / "real_split.csv"))
    ap.add_argument("--max-pairs", type=int, default=0)
    ap.add_argument("--no-realism", action="store_true")
    ap.add_argument("--samples", help="also the VITON-HD unpaired samples of this folder (vton-samples)")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    ckpts = {"model": args.checkpoint, **dict(args.also)}
    m, _ = benchmark(
        ckpts, args.parser, args.root, args.split_csv, args.split, args.max_pairs, not args.no_realism,
        progress=True,
    )  # fmt: skip
    if args.samples:
        m["vitonhd_samples"] = samples_shape(ckpts, args.parser, args.samples)
    m["command"] = "python -m tryon.eval.unpaired " + " ".join(argv if argv is not None else sys.argv[1:])
    text = json.dumps(m, indent=1, default=float)
    if args.json:
        from tryon.config import atomic_write_text

        atomic_write_text(args.json, text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
