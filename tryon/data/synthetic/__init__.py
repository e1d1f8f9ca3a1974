"""Procedural synthetic wardrobe with exact ground truth (stage 01_prepare's default data).

One *sample* = a parametric 2-D front-view body (height, weight, body type, build, pose, skin, hair, lower
garment, background) wearing a procedurally drawn upper garment. Everything is rendered with signed
distance fields (SDF) and 1-pixel soft edges (coverage = clip(0.5 - sdf, 0, 1)), numpy-vectorised.

Coordinates: continuous pixel coordinates, x right, y down, pixel i covers [i, i+1] (its centre is i+0.5);
the normalised form is ``2 * x / S - 1`` which is the align_corners=False convention of ``grid_sample``.
The person image has a fixed camera: the image spans ``_TOP_CM`` .. ``_BOTTOM_CM`` above the ground
(``S / _SPAN_CM`` pixels per cm), so a person's height is visible as head height in the frame.

The worn garment is the flat garment mapped by a known backward map G (person pixel -> flat garment point):
- torso panel: v is linear in y (shoulder top -> hem, scaled by the body's torso length); u stretches the
  flat panel's half-width hw_f(v) onto the worn half-width W(y) = smooth_max(body_hw(y) + ease,
  scale * hw_f(v)) (ease over bust/waist/hips: tight on heavy bodies, loose on thin ones), plus a known
  smooth low-frequency wrinkle displacement;
- sleeves: arc length along the arm (shoulder -> elbow -> wrist) and signed distance across it map to the
  flat sleeve's axis and width.
The worn colour is the bilinear sample of the flat garment image at G (the same operation as
``grid_sample(..., align_corners=False)``), then folds/cylinder shading multiply it. ``gt_grid`` stores G
normalised to [-1, 1] (x first); ``flow_valid`` marks the worn pixels whose colour comes from one garment
point only (fully opaque, not blended with an edge or an occluder).

Determinism: sample i of a split draws its body and its garment from two seed streams keyed by
(seed, split, i), so the files do not depend on the number of worker processes, and train and test share
no body and no garment. Option: real flat garment photos (``garment_dir``, e.g. a VITON-HD ``cloth/``
folder) replace the procedural garments; they are worn through the torso mapping only (their sleeves
travel with the panel), which is cruder than the procedural sleeves.

Entry points: :func:`generate` (``tryon generate``), :func:`make_sample` / :func:`render_sample` (in memory),
:func:`body_silhouette` (shape statistics), :func:`benchmark` / :func:`bench_generate` (``tryon bench data``).

Submodules (every public name is re-exported here, so ``from tryon.data.synthetic import X`` works):

- ``primitives``: pixel grid, SDF primitives (capsule, ellipse), soft coverage, smooth interpolation and
  maximum, random colours.
- ``body``: camera and vocabulary -> geometry constants (``SHAPE_FACTORS``, ``BMI_RANGES``, heights, skin
  and hair colours, ``LOWER_TYPES``, ``HAIR_STYLES``), :class:`Body`, :func:`sample_body`,
  :func:`body_geometry`, the body-part SDFs and :func:`body_silhouette`.
- ``garment``: ``GARMENT_TYPES``, ``TEXTURES``, :class:`Garment`, :class:`PhotoFlat`,
  :func:`sample_garment`, the flat panel / sleeve SDFs (:func:`garment_sdf`) and the real garment photos
  (:func:`list_garment_photos`, :func:`photo_garment`, :func:`photo_split`).
- ``texture``: value noise, stripes, the garment textures and logo, the font cache and
  :func:`render_flat_garment`.
- ``worn``: the worn garment's backward maps G (torso panel, sleeves) and its shading on the body.
- ``render``: ``BODYSUIT_RGB``, ``CONTOUR_BG_RGB``, the background and :func:`render_sample` with its
  steps (person SDFs, the ``worn`` maps, painting back to front, pasting into the frame, measurements).
- ``sample``: the split folder layout (``LAYOUT``, ``SPLITS``, ``GRID_DTYPE``), :func:`sample_id`,
  :func:`make_sample`, :func:`make_unpaired`, :func:`manifest_row`, :func:`write_sample`,
  :func:`generate_split` (and its process-pool worker) and :func:`generate`.
- ``bench``: :func:`benchmark` and :func:`bench_generate`.
"""

from tryon.data.synthetic.bench import bench_generate, benchmark
from tryon.data.synthetic.body import (
    BMI_RANGES,
    HAIR_STYLES,
    LOWER_TYPES,
    SHAPE_FACTORS,
    Body,
    body_geometry,
    body_silhouette,
    sample_body,
)
from tryon.data.synthetic.garment import (
    GARMENT_TYPES,
    TEXTURES,
    Garment,
    PhotoFlat,
    garment_sdf,
    list_garment_photos,
    photo_garment,
    photo_split,
    sample_garment,
)
from tryon.data.synthetic.render import BODYSUIT_RGB, CONTOUR_BG_RGB, render_sample
from tryon.data.synthetic.sample import (
    GRID_DTYPE,
    LAYOUT,
    SPLITS,
    generate,
    generate_split,
    make_sample,
    make_unpaired,
    manifest_row,
    sample_id,
    write_sample,
)
from tryon.data.synthetic.texture import render_flat_garment

__all__ = [
    "BMI_RANGES",
    "BODYSUIT_RGB",
    "CONTOUR_BG_RGB",
    "GARMENT_TYPES",
    "GRID_DTYPE",
    "HAIR_STYLES",
    "LAYOUT",
    "LOWER_TYPES",
    "SHAPE_FACTORS",
    "SPLITS",
    "TEXTURES",
    "Body",
    "Garment",
    "PhotoFlat",
    "bench_generate",
    "benchmark",
    "body_geometry",
    "body_silhouette",
    "garment_sdf",
    "generate",
    "generate_split",
    "list_garment_photos",
    "make_sample",
    "make_unpaired",
    "manifest_row",
    "photo_garment",
    "photo_split",
    "render_flat_garment",
    "render_sample",
    "sample_body",
    "sample_garment",
    "sample_id",
    "write_sample",
]
