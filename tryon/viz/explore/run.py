"""One try-on, explained: :class:`Explorer` runs :meth:`tryon.infer.model.TryOn.predict` and reads what the
network computed on the way with a forward hook (:class:`View`); :func:`matching_row` is one row of the
association matrix M (:class:`MatchRow`), where in the garment a person pixel looks."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tryon import paths
from tryon.viz.explore.inputs import (
    DEFAULT_TEXT,
    Catalogue,
    Garment,
    Person,
    catalogue,
    data_roots,
    read_inputs,
)

if TYPE_CHECKING:  # torch and the model wrapper load on first use: the CLI's --help stays fast
    import torch

    from tryon.infer.model import Inputs, Result


@dataclass
class View:
    """One try-on and what made it, at the person photo's size ``(H, W)`` (as shown).

    ``result``: :class:`tryon.infer.model.Result` (try-on, contour, warped garment, sources, ...);
    ``trunk``: the trunk map the contour generator saw, uint8 [H, W, 3] (removed pixels are 0 in [-1, 1]:
    grey); ``body_map``: the text's body feature map, float32 [H, W]; ``feat_person`` / ``feat_garment``:
    T1 / C1 ``[1, C, h, w]`` at the working size / stride; ``temperature``: the matcher's;
    ``seconds``: the prediction's wall time."""

    inputs: Inputs
    result: Result
    trunk: np.ndarray
    body_map: np.ndarray
    feat_person: torch.Tensor
    feat_garment: torch.Tensor
    temperature: float
    seconds: float

    @property
    def text(self) -> str:
        return self.inputs.text

    @property
    def width(self) -> float:
        """The warped garment's width (:func:`garment_width`), a fraction of the photo's width."""
        return garment_width(self.result.warped_mask)[0]


@dataclass
class MatchRow:
    """One row of the association matrix M: where in the garment the person pixel ``query`` (x, y, photo
    pixels) looks. ``heat``: float32 [h, w] over the garment photo (non-negative; its cells are the matcher's
    feature cells, sum 1 over the padded garment square); ``peak``: its soft-argmax (x, y) in garment pixels,
    the garment point the warp takes there; ``on_garment``: the query lies on the warped garment."""

    query: tuple[float, float]
    heat: np.ndarray
    peak: tuple[float, float]
    on_garment: bool


class Explorer:
    """A loaded try-on model that explains its predictions (no widgets; :class:`ExplorerUI` adds them).

    ``height``: the rows the photos are scaled to (default: the checkpoint's working size; None: their own
    size); ``threads``: torch CPU threads. One by default: the network at 128 px takes about 0.2 s on one
    thread, and a second one made updates up to ten times slower whenever other work (a training run)
    shared the cores (measured on 2 cores at load 5.5: 0.6 s per update with one thread, 2-7 s with two)."""

    def __init__(
        self,
        checkpoint: str | os.PathLike | None = None,
        threads: int = 1,
        height: int | None | str = "working",
        roots: dict[str, Path] | None = None,
    ):
        from tryon.infer.model import TryOn

        if checkpoint is None:
            self.checkpoint, self.checkpoint_note = paths.default_checkpoint()
        else:
            self.checkpoint, self.checkpoint_note = Path(checkpoint), "given"
        self.model = TryOn(self.checkpoint, num_threads=threads)
        self.height = self.model.size if height == "working" else height
        self.roots = roots or data_roots()
        self._seen: dict = {}
        # the network's inputs and outputs of the last prediction, without running it again
        self.model.model.register_forward_hook(self._capture, with_kwargs=True)
        self._cache: dict = {}

    def _capture(self, module, args, kwargs, output) -> None:
        trunk = args[1] if len(args) > 1 else kwargs["trunk"]
        self._seen = {"trunk": trunk.detach(), "out": output}

    @property
    def vocab(self):
        return self.model.vocab

    def catalogue(self, source: str) -> Catalogue:
        if source not in self._cache:
            self._cache[source] = catalogue(source, self.roots)
        return self._cache[source]

    def read(self, person: Person, garment: Garment, text: str = DEFAULT_TEXT, photo_only: bool = False):
        """:func:`read_inputs` at this explorer's ``height``."""
        return read_inputs(self.model, person, garment, text, photo_only, self.height)

    def run(self, inp: Inputs, text: str | None = None) -> View:
        """The try-on of ``inp`` (with ``text`` instead of its own, when given) and what made it."""
        from tryon.data import preprocess

        if text is not None:
            inp = replace(inp, text=text)
        t0 = time.perf_counter()
        res = self.model.predict(inp)
        sec = time.perf_counter() - t0
        seen = self._seen
        h, w = inp.person.shape[:2]
        pad = preprocess.pad_box(w, h)

        def back(x: torch.Tensor) -> torch.Tensor:  # [C, S, S] working size -> [C, H, W] as shown
            return preprocess.unpad(x.float().cpu(), pad, (w, h))

        out = seen["out"]
        return View(
            inputs=inp,
            result=res,
            trunk=preprocess.tensor_to_rgb(back(seen["trunk"][0])),
            body_map=back(out["body_map"][0])[0].numpy(),
            feat_person=out["feat_contour"].float().cpu(),
            feat_garment=out["feat_garment"].float().cpu(),
            temperature=float(getattr(self.model.model.warp_net, "temperature", 1.0)),
            seconds=sec,
        )

    def estimate_text(self, inp: Inputs) -> tuple[str, str]:
        """(body text, note) estimated from the parse map in use (:func:`tryon.data.annotate.estimate_attributes`:
        body type and build from the silhouette, a population height and the build's middle weight). A word
        this checkpoint's vocabulary lacks is left unknown, and the note says so."""
        from tryon.data.annotate import estimate_attributes
        from tryon.text import parse_body_text

        est = parse_body_text(estimate_attributes(inp.parse)["text"])
        dropped = []
        if est.body_type is not None and est.body_type not in self.vocab.body_types:
            dropped.append(f"body type {est.body_type!r}")
            est = replace(est, body_type=None)
        if est.build is not None and est.build not in self.vocab.builds:
            dropped.append(f"build {est.build!r}")
            est = replace(est, build=None)
        note = "estimated from the parse map (height and weight are population guesses)"
        if dropped:
            note += f"; {' and '.join(dropped)} not in this model's vocabulary: left unknown"
        return est.to_text(), note


def garment_width(mask: np.ndarray) -> tuple[float, np.ndarray]:
    """Width of a garment mask bool [H, W]: (the mean over the rows it covers of the pixels it covers in the
    row, as a fraction of W, i.e. area / rows covered / W; the pixels covered per row, int [H]). 0 for an
    empty mask."""
    m = np.asarray(mask, dtype=bool)
    per_row = m.sum(axis=1)
    rows = int((per_row > 0).sum())
    return (float(per_row.sum() / rows / m.shape[1]) if rows else 0.0), per_row


def matching_row(view: View, x: float, y: float) -> MatchRow:
    """Row of M for the person pixel (x, y) (photo pixels as shown): where in the garment it looks.

    The pixel is mapped into the padded working square and onto the matcher's feature grid
    (stride cells); the row (:func:`tryon.matching.matching_rows`) is upsampled to the padded garment
    square (nearest: one block per feature cell) and its pad cropped off."""
    import torch

    from tryon.data import preprocess
    from tryon.matching import matching_rows, soft_argmax

    h, w = view.inputs.person.shape[:2]
    gh, gw = view.inputs.garment.shape[:2]
    left, top, _, _ = preprocess.pad_box(w, h)
    side = max(h, w)
    fh, fw = view.feat_person.shape[-2:]
    qx = min(fw - 1, max(0, int((x + 0.5 + left) / side * fw)))
    qy = min(fh - 1, max(0, int((y + 0.5 + top) / side * fh)))
    q = torch.tensor([[[qx, qy]]])  # [1, 1, 2] feature cell (x, y)
    with torch.no_grad():
        rows = matching_rows(view.feat_person, view.feat_garment, q, temperature=view.temperature)
        centre = soft_argmax(rows)[0, 0]  # [2] normalised (x, y), align_corners=False
    gpad = preprocess.pad_box(gw, gh)
    heat = preprocess.unpad(rows[0], gpad, (gw, gh), mode="nearest")[0].numpy()  # [gh, gw]
    gside = max(gh, gw)
    px = float(((centre[0] + 1) * gside - 1) / 2) - gpad[0]
    py = float(((centre[1] + 1) * gside - 1) / 2) - gpad[1]
    mask = view.result.warped_mask
    yi, xi = min(h - 1, max(0, round(y))), min(w - 1, max(0, round(x)))
    on = bool(mask is not None and mask[yi, xi])
    return MatchRow((float(x), float(y)), heat.astype(np.float32), (px, py), on)


def default_query(view: View) -> tuple[float, float]:
    """A person pixel to show a row of M for before any click: the chest of the warped garment
    (:func:`tryon.viz.warp.query_points`), else the photo's centre."""
    import torch

    from tryon.viz.warp import query_points

    m = view.result.warped_mask
    if m is None or not m.any():
        h, w = view.inputs.person.shape[:2]
        return (w / 2, h / 2)
    return tuple(float(v) for v in query_points(torch.from_numpy(m))["chest"])
