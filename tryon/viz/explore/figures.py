"""The explorer's figures: :class:`Panels` (one view: the person side, the garment with one row of M) and
:func:`fig_panels`, :func:`fig_sweep` and :func:`sweep_table` (a sweep), PNG bytes and files."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tryon.data import io
from tryon.viz.explore.inputs import DEFAULT_VALUES
from tryon.viz.explore.run import MatchRow, View, default_query, matching_row
from tryon.viz.explore.sweeps import Sweep, with_field

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


SOURCE_LEGEND = "grey kept photo, green warped garment, blue fill, red painted"
#: panels of :class:`Panels`, in order: person side (same size as the photo) then the garment
PERSON_PANELS = ("person", "trunk map", "body map (text)", "model contour", "warped garment", "try-on",
                 "what made each pixel")  # fmt: skip


class Panels:
    """The explorer's figure: person, trunk map, body feature map, model contour (top row); the garment with
    one row of M, warped garment, try-on, what made each pixel (bottom row). Built once, then updated in
    place (:meth:`show`, :meth:`show_row`), so a widget canvas redraws without rebuilding its axes."""

    def __init__(self, fig: Figure | None = None, size: tuple[float, float] = (11.0, 6.6)):
        from matplotlib.figure import Figure

        self.fig = fig if fig is not None else Figure(figsize=size, dpi=80)
        axes = self.fig.subplots(2, 4)
        self.fig.subplots_adjust(left=0.01, right=0.99, top=0.88, bottom=0.01, wspace=0.05, hspace=0.16)
        names = ["person", "trunk map", "body map (text)", "model contour", "garment", "warped garment",
                 "try-on", "what made each pixel"]  # fmt: skip
        self.ax = dict(zip(names, axes.flat, strict=True))
        blank = np.zeros((2, 2, 3), np.uint8)
        self.im = {}
        for n, ax in self.ax.items():
            ax.set_xticks([])
            ax.set_yticks([])
            kw = {"cmap": "viridis"} if n == "body map (text)" else {}
            self.im[n] = ax.imshow(blank[..., 0] if kw else blank, interpolation="nearest", **kw)
        self.heat = self.ax["garment"].imshow(np.zeros((2, 2, 4)), interpolation="nearest")
        self.marks = [self.ax[n].plot([], [], "+", ms=14, mew=2.5, color="cyan")[0] for n in PERSON_PANELS]
        self.peak = self.ax["garment"].plot([], [], "x", ms=12, mew=2.5, color="cyan")[0]
        self.title = self.fig.suptitle("", fontsize=10)
        self.view: View | None = None
        self.row: MatchRow | None = None

    def axes_of(self, event_axes) -> str | None:
        """The panel name of a matplotlib Axes (None when it is none of them)."""
        return next((n for n, ax in self.ax.items() if ax is event_axes), None)

    def _set(self, name: str, img: np.ndarray, **kw) -> None:
        h, w = img.shape[:2]
        im = self.im[name]
        im.set_data(img)
        im.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        if kw:
            im.set_clim(**kw)
        ax = self.ax[name]
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)

    def show(self, view: View) -> Panels:
        r = view.result
        self.view = view
        self._set("person", view.inputs.person)
        self._set("trunk map", view.trunk)
        bm = view.body_map
        self._set("body map (text)", bm, vmin=float(bm.min()), vmax=float(bm.max()) + 1e-6)
        self._set("model contour", r.contour)
        self._set("garment", view.inputs.garment)
        self._set("warped garment", r.warped)
        self._set("try-on", r.image)
        self._set("what made each pixel", r.sources if r.sources is not None else r.network)
        self.ax["what made each pixel"].set_title(
            "what made each pixel" if r.sources is not None else "network image (no sources)", fontsize=9
        )
        for n in ("person", "trunk map", "model contour", "try-on"):
            self.ax[n].set_title(n, fontsize=9)
        self.ax["body map (text)"].set_title(
            f"body map of the text [{bm.min():.2g}, {bm.max():.2g}]", fontsize=9
        )
        self.ax["warped garment"].set_title(f"warped garment, width {view.width:.1%} of W", fontsize=9)
        h, w = view.inputs.person.shape[:2]
        self.title.set_text(
            f"{view.inputs.name}: \u201c{view.text}\u201d  |  trunk from {r.parse_source}  |  {w}x{h} px, "
            f"{view.seconds:.2f} s\n{SOURCE_LEGEND}"
        )
        self.show_row(matching_row(view, *default_query(view)))
        return self

    def show_row(self, row: MatchRow) -> Panels:
        self.row = row
        gh, gw = row.heat.shape
        self.heat.set_data(heat_rgba(row.heat))
        self.heat.set_extent((-0.5, gw - 0.5, gh - 0.5, -0.5))
        for m in self.marks:
            m.set_data([row.query[0]], [row.query[1]])
        self.peak.set_data([row.peak[0]], [row.peak[1]])
        where = "on the warped garment" if row.on_garment else "off the warped garment"
        self.ax["garment"].set_title(
            f"row of M at (+) {where}\nmax {row.heat.max():.2f}, x = soft-argmax", fontsize=9
        )
        return self


def heat_rgba(heat: np.ndarray, cmap: str = "magma") -> np.ndarray:
    """A row of M as an overlay, float [h, w, 4]: colour and opacity grow with the weight (scaled to its
    maximum), so the garment stays visible where the row is near zero."""
    from matplotlib import colormaps

    a = heat / max(float(heat.max()), 1e-12)
    rgba = colormaps[cmap](0.35 + 0.65 * a)
    rgba[..., 3] = 0.85 * np.sqrt(a)
    return rgba


def fig_panels(view: View, query: tuple[float, float] | None = None) -> Figure:
    """The explorer's figure of one view (:class:`Panels`), with the row of M at ``query`` (photo pixels;
    default :func:`default_query`)."""
    p = Panels().show(view)
    if query is not None:
        p.show_row(matching_row(view, *query))
    return p.fig


def fig_sweep(sw: Sweep, max_images: int = 14) -> Figure:
    """The sweep as a strip of try-ons (at most ``max_images``, evenly picked) above the warped garment's
    width against the swept value, with Spearman's rank correlation for a numeric field."""
    from matplotlib.figure import Figure

    idx = np.unique(np.linspace(0, len(sw.values) - 1, min(max_images, len(sw.values))).round().astype(int))
    n = len(idx)
    h, w = sw.images[0].shape[:2]
    fig = Figure(figsize=(max(6.0, 1.05 * n * w / h * 1.6), 5.4), dpi=80)
    grid = fig.add_gridspec(2, n, height_ratios=[1.6, 1.0], hspace=0.35, wspace=0.03)
    for k, i in enumerate(idx):
        ax = fig.add_subplot(grid[0, k])
        ax.imshow(sw.images[i])
        v = sw.values[i]
        ax.set_title(f"{v:g}" if isinstance(v, float) else str(v), fontsize=8)
        ax.axis("off")
    ax = fig.add_subplot(grid[1, :])
    x = np.asarray(sw.values, float) if sw.field in DEFAULT_VALUES else np.arange(len(sw.values))
    ax.plot(x, 100 * sw.widths, "o-")
    if sw.field not in DEFAULT_VALUES:
        ax.set_xticks(x, [str(v) for v in sw.values], fontsize=8)
    unit = {"weight": " (kg)", "height": " (cm)"}.get(sw.field, "")
    ax.set_xlabel(sw.field + unit)
    ax.set_ylabel("warped width (% of W)")
    rho = sw.rank_correlation()
    ax.set_title(
        f"{sw.person}: warped-garment width per value"
        + ("" if math.isnan(rho) else f", Spearman {rho:+.2f}")
        + f"  ({len(sw.values)} try-ons, {sw.seconds:.1f} s)",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    fig.suptitle(f"sweep of {sw.field}: \u201c{with_field(sw.texts[0], sw.field, None)}\u201d", fontsize=10)
    return fig


def sweep_table(sw: Sweep) -> pd.DataFrame:
    """One row per sweep value: the value, the text, the warped garment's width (% of the photo width)."""
    import pandas as pd

    return pd.DataFrame(
        {sw.field: sw.values, "text": sw.texts, "warped width (% of W)": np.round(100 * sw.widths, 2)}
    )


def png_bytes(fig: Figure, dpi: int | None = None) -> bytes:
    """A Figure as PNG bytes (its own Agg canvas; no pyplot state)."""
    import io as _io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi)
    return buf.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike) -> Path:
    """Write a Figure as PNG (atomically); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = png_bytes(fig)
    io._atomic_save(path, lambda t: Path(t).write_bytes(data))
    return path
