"""The explorer's widgets (:class:`ExplorerUI`): ipywidgets to choose the inputs and the body text, the
panels on an ipympl canvas (so a click is a matplotlib event), a sweep of one field."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tryon.data import io
from tryon.viz.explore.figures import PERSON_PANELS, Panels, fig_sweep, png_bytes
from tryon.viz.explore.inputs import (
    DEFAULT_TEXT,
    DEFAULT_VALUES,
    FIELDS,
    FILE,
    Garment,
    Person,
    available_sources,
)
from tryon.viz.explore.run import Explorer, View, matching_row
from tryon.viz.explore.sweeps import Sweep, parse_values, sweep

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from tryon.infer.model import Inputs


def mediapipe_available() -> bool:
    """Whether photo-only parsing (mediapipe's separate environment) can run here."""
    from tryon.infer import autoparse

    return autoparse.available()


@dataclass
class _Choice:
    """What the widgets currently select."""

    person_source: str
    person: str | None
    garment_source: str
    garment: str | None
    photo_only: bool = False
    person_file: str = ""
    parse_file: str = ""
    parse_labels: str = "cihp"
    garment_file: str = ""
    garment_mask_file: str = ""
    category: str = "upper_body"
    text: str = DEFAULT_TEXT


class ExplorerUI:
    """The explorer's widgets: choose a person and a garment, type the body text or set it with the
    sliders and drop-downs (kept in sync), "estimated from the photo"; every change redraws the panels
    (:class:`Panels`, on an ipympl canvas); a click on a person-side panel shows that pixel's row of M;
    a sweep of one field draws :func:`fig_sweep`. ``display(ui.widget)`` shows it.

    The first view is computed in the constructor, so a headless run (papermill) has it too."""

    def __init__(
        self,
        explorer: Explorer,
        source: str | None = None,
        person: str | None = None,
        garment: str | None = None,
        garment_source: str | None = None,
        text: str = DEFAULT_TEXT,
        person_file: str | None = None,
        parse_file: str | None = None,
        parse_labels: str = "cihp",
        garment_file: str | None = None,
        garment_mask_file: str | None = None,
        category: str = "upper_body",
        photo_only: bool = False,
    ):
        self.ex = explorer
        self.sources = available_sources(explorer.roots)
        if person_file:
            source = FILE
        source = source or self.sources[0]
        garment_source = garment_source or (FILE if garment_file else source)
        self.view: View | None = None
        self.inputs: Inputs | None = None
        self.latencies: list[dict] = []
        self._busy = False
        self.mediapipe = mediapipe_available()
        self._build_person_widgets(source, person_file, parse_file, parse_labels, photo_only)
        self._build_garment_widgets(garment_source, garment_file, garment_mask_file, category)
        self._build_text_widgets(text)
        self._build_panel_widgets()
        self._build_layout()
        self._fill_lists(person, garment)
        self._text_to_widgets(text)
        self._connect()
        self.reload()

    # ---- building the widgets (the constructor's steps, in order) ---------------------------------
    def _build_person_widgets(
        self,
        source: str,
        person_file: str | None,
        parse_file: str | None,
        parse_labels: str,
        photo_only: bool,
    ) -> None:
        import ipywidgets as W

        lay = W.Layout
        self.w_psrc = W.Dropdown(
            options=self.sources, value=source, description="person", layout=lay(width="250px")
        )
        self.w_person = W.Dropdown(options=[], layout=lay(width="180px"))
        self.w_pfile = W.Text(value=person_file or "", placeholder="person photo path", continuous_update=False,
                              layout=lay(width="300px"))  # fmt: skip
        self.w_parse = W.Text(value=parse_file or "", placeholder="parse map path (optional)",
                              continuous_update=False, layout=lay(width="260px"))  # fmt: skip
        from tryon.infer.inputs import LABELSETS

        self.w_labels = W.Dropdown(options=list(LABELSETS), value=parse_labels, layout=lay(width="110px"))
        self.w_photo_only = W.Checkbox(
            value=photo_only and self.mediapipe,
            description="photo only, no parse map (mediapipe)",
            disabled=not self.mediapipe,
            indent=False,
            layout=lay(width="330px"),
        )
        self.w_mp_note = W.HTML(
            ""
            if self.mediapipe
            else "<i>photo-only parsing unavailable: the mediapipe environment is "
            "missing (<code>make mediapipe</code>)</i>"
        )

    def _build_garment_widgets(
        self, garment_source: str, garment_file: str | None, garment_mask_file: str | None, category: str
    ) -> None:
        import ipywidgets as W

        from tryon.infer.inputs import CATEGORIES

        lay = W.Layout
        self.w_gsrc = W.Dropdown(options=self.sources, value=garment_source, description="garment",
                                 layout=lay(width="250px"))  # fmt: skip
        self.w_garment = W.Dropdown(options=[], layout=lay(width="180px"))
        self.w_gfile = W.Text(value=garment_file or "", placeholder="garment photo path", continuous_update=False,
                              layout=lay(width="300px"))  # fmt: skip
        self.w_gmask = W.Text(value=garment_mask_file or "", placeholder="garment mask path (optional)",
                              continuous_update=False, layout=lay(width="260px"))  # fmt: skip
        self.w_category = W.Dropdown(options=list(CATEGORIES), value=category, layout=lay(width="130px"))

    def _build_text_widgets(self, text: str) -> None:
        import ipywidgets as W

        lay = W.Layout
        v = self.ex.vocab
        self.w_text = W.Text(value=text, description="body text", continuous_update=False,
                             layout=lay(width="560px"))  # fmt: skip
        self.w_estimate = W.Button(description="estimated from the photo", layout=lay(width="200px"))
        slider = {
            "continuous_update": False,
            "step": 1.0,
            "readout_format": ".0f",
            "layout": lay(width="330px"),
        }
        self.w_height = W.FloatSlider(min=140, max=210, value=170, description="height cm", **slider)
        self.w_weight = W.FloatSlider(min=35, max=150, value=65, description="weight kg", **slider)
        self.w_hknown = W.Checkbox(value=True, description="known", indent=False, layout=lay(width="80px"))
        self.w_wknown = W.Checkbox(value=True, description="known", indent=False, layout=lay(width="80px"))
        self.w_btype = W.Dropdown(options=[*v.body_types, "unknown"], description="body type",
                                  layout=lay(width="250px"))  # fmt: skip
        self.w_build = W.Dropdown(
            options=[*v.builds, "unknown"], description="build", layout=lay(width="250px")
        )
        self.w_status = W.HTML()

    def _build_panel_widgets(self) -> None:
        """The panels (an ipympl canvas) and the sweep's widgets."""
        import ipywidgets as W

        lay = W.Layout
        self.panels = Panels()
        self.canvas = _widget_canvas(self.panels.fig)
        self.canvas.mpl_connect("button_press_event", self._on_click)
        self.w_field = W.Dropdown(options=list(FIELDS), value="weight", description="sweep",
                                  layout=lay(width="200px"))  # fmt: skip
        self.w_values = W.Text(value="45:110:5", description="values", layout=lay(width="300px"),
                               tooltip="start:stop:step, or a comma-separated list")  # fmt: skip
        self.w_sweep = W.Button(description="run the sweep", layout=lay(width="140px"))
        self.w_sweep_img = W.Image(format="png", layout=lay(max_width="100%"))
        self.w_sweep_status = W.HTML()
        self.last_sweep: Sweep | None = None

    def _build_layout(self) -> None:
        """:attr:`widget`, the whole explorer in rows."""
        import ipywidgets as W

        self.w_person_row = W.HBox([self.w_psrc, self.w_person, self.w_pfile, self.w_parse, self.w_labels])
        self.w_garment_row = W.HBox(
            [self.w_gsrc, self.w_garment, self.w_gfile, self.w_gmask, self.w_category]
        )
        self.widget = W.VBox([
            self.w_person_row,
            W.HBox([self.w_photo_only, self.w_mp_note]),
            self.w_garment_row,
            W.HBox([self.w_text, self.w_estimate]),
            W.HBox([self.w_height, self.w_hknown, self.w_btype]),
            W.HBox([self.w_weight, self.w_wknown, self.w_build]),
            self.w_status,
            self.canvas,
            W.HTML("<b>click a pixel of the person, warped garment or try-on: the garment panel shows its row "
                   "of the matching matrix M</b>"),
            W.HBox([self.w_field, self.w_values, self.w_sweep]),
            self.w_sweep_status,
            self.w_sweep_img,
        ])  # fmt: skip

    def _connect(self) -> None:
        """Every widget's change (or click) to its handler."""
        for w in (self.w_psrc, self.w_gsrc):
            w.observe(self._on_source, "value")
        for w in (self.w_person, self.w_garment, self.w_pfile, self.w_parse, self.w_labels, self.w_gfile,
                  self.w_gmask, self.w_category, self.w_photo_only):  # fmt: skip
            w.observe(self._on_inputs, "value")
        self.w_text.observe(self._on_text, "value")
        for w in (self.w_height, self.w_weight, self.w_hknown, self.w_wknown, self.w_btype, self.w_build):
            w.observe(self._on_field, "value")
        self.w_estimate.on_click(lambda _: self.estimate())
        self.w_sweep.on_click(lambda _: self.run_sweep())
        self.w_field.observe(self._on_sweep_field, "value")

    # ---- state ---------------------------------------------------------------------------------
    def choice(self) -> _Choice:
        return _Choice(
            self.w_psrc.value, self.w_person.value, self.w_gsrc.value, self.w_garment.value,
            bool(self.w_photo_only.value), self.w_pfile.value.strip(), self.w_parse.value.strip(),
            self.w_labels.value, self.w_gfile.value.strip(), self.w_gmask.value.strip(),
            self.w_category.value, self.w_text.value,
        )  # fmt: skip

    def _fill_lists(self, person: str | None = None, garment: str | None = None) -> None:
        """Fill the person / garment drop-downs of the chosen sources (the source's default pair)."""
        self._busy = True
        try:
            for src_w, item_w, file_ws, which, want in (
                (self.w_psrc, self.w_person, (self.w_pfile, self.w_parse, self.w_labels), "persons", person),
                (self.w_gsrc, self.w_garment, (self.w_gfile, self.w_gmask, self.w_category), "garments", garment),
            ):  # fmt: skip
                is_file = src_w.value == FILE
                item_w.layout.display = "none" if is_file else None
                for f in file_ws:
                    f.layout.display = None if is_file else "none"
                if is_file:
                    item_w.options = []
                    continue
                cat = self.ex.catalogue(src_w.value)
                names = list(getattr(cat, which))
                default = cat.default_pair()[0 if which == "persons" else 1]
                item_w.options = names
                item_w.value = want if want in names else default
        finally:
            self._busy = False

    def _person_and_garment(self, c: _Choice) -> tuple[Person, Garment]:
        from tryon.infer.inputs import InferError

        if c.person_source == FILE:
            if not c.person_file:
                raise InferError("person: give a photo path")
            person = Person(Path(c.person_file).stem, Path(c.person_file),
                            Path(c.parse_file) if c.parse_file else None, c.parse_labels)  # fmt: skip
        else:
            person = self.ex.catalogue(c.person_source).persons[c.person]
        if c.garment_source == FILE:
            if not c.garment_file:
                raise InferError("garment: give a photo path")
            garment = Garment(Path(c.garment_file).stem, Path(c.garment_file),
                              Path(c.garment_mask_file) if c.garment_mask_file else None, c.category)  # fmt: skip
        else:
            garment = self.ex.catalogue(c.garment_source).garments[c.garment]
        if person.parse is None and not self.mediapipe:
            raise InferError(
                f"{person.photo}: no parse map, and photo-only parsing is unavailable (make mediapipe)"
            )
        return person, garment

    # ---- events ----------------------------------------------------------------------------------
    def _on_source(self, _change) -> None:
        if self._busy:
            return
        self._fill_lists(self.w_person.value, self.w_garment.value)  # kept where the new list has them
        self.reload()

    def _on_inputs(self, _change) -> None:
        if not self._busy:
            self.reload()

    def _on_text(self, change) -> None:
        if self._busy:
            return
        if self._text_to_widgets(change["new"]):
            self.refresh()

    def _on_field(self, _change) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self.w_height.disabled = not self.w_hknown.value
            self.w_weight.disabled = not self.w_wknown.value
            self.w_text.value = self._widgets_to_text()
        finally:
            self._busy = False
        self.refresh()

    def _on_click(self, event) -> None:
        name = self.panels.axes_of(event.inaxes)
        if self.view is None or name not in PERSON_PANELS or event.xdata is None:
            return
        self.panels.show_row(matching_row(self.view, event.xdata, event.ydata))
        self.canvas.draw()
        _keep_static_image(self.canvas)

    def _on_sweep_field(self, change) -> None:
        f = change["new"]
        if f in DEFAULT_VALUES:
            v = DEFAULT_VALUES[f]
            self.w_values.value = f"{v[0]}:{v[-1]}:{v[1] - v[0]}"
        else:
            words = self.ex.vocab.body_types if f == "body type" else self.ex.vocab.builds
            self.w_values.value = ", ".join(words)

    # ---- text <-> widgets ------------------------------------------------------------------------
    def _text_to_widgets(self, text: str) -> bool:
        """Set the sliders and drop-downs from a text; False (and the error in the status line) when the
        text cannot be read or names a word this model does not know."""
        from tryon.text import BodyTextError, parse_body_text

        try:
            p = parse_body_text(text)
            self.ex.model.vocab.encode(p)
        except BodyTextError as e:
            self._status(f"body text: {str(e).splitlines()[0]}", error=True)
            return False
        self._busy = True
        try:
            self.w_hknown.value = not math.isnan(p.height_cm)
            self.w_wknown.value = not math.isnan(p.weight_kg)
            self.w_height.disabled = not self.w_hknown.value
            self.w_weight.disabled = not self.w_wknown.value
            if self.w_hknown.value:
                self.w_height.value = min(max(p.height_cm, self.w_height.min), self.w_height.max)
            if self.w_wknown.value:
                self.w_weight.value = min(max(p.weight_kg, self.w_weight.min), self.w_weight.max)
            self.w_btype.value = p.body_type or "unknown"
            self.w_build.value = p.build or "unknown"
        finally:
            self._busy = False
        return True

    def _widgets_to_text(self) -> str:
        from tryon.text import BodyText

        return BodyText(
            float(self.w_height.value) if self.w_hknown.value else math.nan,
            float(self.w_weight.value) if self.w_wknown.value else math.nan,
            None if self.w_btype.value == "unknown" else self.w_btype.value,
            None if self.w_build.value == "unknown" else self.w_build.value,
        ).to_text()

    def set_text(self, text: str) -> None:
        """Type a body text (as the text box does): the widgets follow, and the panels are redrawn."""
        self.w_text.value = text

    # ---- work ------------------------------------------------------------------------------------
    def _status(self, msg: str, error: bool = False) -> None:
        colour = "#b00020" if error else "#333"
        self.w_status.value = f"<span style='color:{colour}'>{msg}</span>"

    def reload(self) -> None:
        """Read the chosen person and garment, then :meth:`refresh`."""
        from tryon.infer.inputs import InferError

        c = self.choice()
        try:
            person, garment = self._person_and_garment(c)
            self.inputs = self.ex.read(person, garment, c.text, c.photo_only)
        except (InferError, io.DataError, ValueError, KeyError, OSError) as e:
            self.inputs = None
            self._status(f"cannot read the inputs: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
                         error=True)  # fmt: skip
            return
        self.refresh()

    def refresh(self) -> None:
        """Run the try-on for the current text and redraw the panels; the time it took is in the status
        line and in :attr:`latencies`."""
        from tryon.infer.inputs import InferError

        if self.inputs is None:
            return
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            view = self.ex.run(self.inputs, self.w_text.value)
        except InferError as e:
            self._status(str(e).splitlines()[0], error=True)
            return
        self.view = view
        self.panels.show(view)
        self.canvas.draw()  # render now (and send to the page): the time below is what the user waits
        _keep_static_image(self.canvas)
        sec = time.perf_counter() - t0
        self.latencies.append({"seconds": sec, "predict": view.seconds, "cpu": time.process_time() - c0})
        h, w = view.inputs.person.shape[:2]
        self._status(
            f"updated in {sec:.2f} s (network + composition {view.seconds:.2f} s) at {w}x{h} px; trunk from "
            f"{view.result.parse_source}; warped-garment width {view.width:.1%} of the photo width"
        )

    def estimate(self) -> None:
        """The "estimated from the photo" button: the body text estimated from the parse map in use."""
        if self.inputs is None:
            return
        text, note = self.ex.estimate_text(self.inputs)
        self.w_text.value = text  # -> _on_text -> refresh
        self._status(self.w_status.value + f"<br><i>{note}</i>")

    def run_sweep(self, field: str | None = None, values: str | None = None) -> Sweep | None:
        """The sweep button: :func:`sweep` of the chosen field and values (``field`` / ``values``: set the
        widgets first; ``values`` as :func:`parse_values` reads them), drawn by :func:`fig_sweep`."""
        if field is not None:
            self.w_field.value = field
        if values is not None:
            self.w_values.value = values
        if self.inputs is None:
            return None
        try:
            vals = parse_values(self.w_field.value, self.w_values.value)
            sw = sweep(self.ex, self.inputs, self.w_field.value, vals, self.w_text.value)
        except ValueError as e:
            self.w_sweep_status.value = f"<span style='color:#b00020'>{str(e).splitlines()[0]}</span>"
            return None
        self.last_sweep = sw
        self.w_sweep_img.value = png_bytes(fig_sweep(sw))
        rho = sw.rank_correlation()
        self.w_sweep_status.value = f"{len(sw.values)} try-ons in {sw.seconds:.1f} s" + (
            "" if math.isnan(rho) else f"; Spearman rank correlation of width and {sw.field}: {rho:+.2f}"
        )
        return sw

    def time_updates(self, weights: Sequence[float] = (50, 62, 74, 86, 98)) -> dict:
        """Move the weight slider through ``weights`` (one update each, as a user would) and return the
        update times: ``median``, ``max``, ``each`` (wall seconds, including drawing the panels),
        ``predict_median``, ``cpu_median`` / ``cpu_max`` (the CPU seconds of this process, all its threads:
        with no other work on the machine an update's wall time is at most this, since some thread of it runs
        all the time), the photo ``size`` (W, H) and the machine (threads, cores, load)."""
        import torch

        from tryon import runtime

        if self.inputs is None:
            raise RuntimeError(f"no try-on to time: {self.w_status.value}")
        start = len(self.latencies)
        self.w_wknown.value = True
        for w in weights:
            before = len(self.latencies)
            self.w_weight.value = float(w)
            if len(self.latencies) == before:  # the slider was there already: no change event
                self.refresh()
        got = self.latencies[start:]
        each = [r["seconds"] for r in got]
        h, w = self.inputs.person.shape[:2] if self.inputs is not None else (0, 0)
        return {
            "n": len(each), "each": each,
            "median": float(np.median(each)) if each else math.nan,
            "max": float(np.max(each)) if each else math.nan,
            "predict_median": float(np.median([r["predict"] for r in got])) if got else math.nan,
            "cpu_median": float(np.median([r["cpu"] for r in got])) if got else math.nan,
            "cpu_max": float(np.max([r["cpu"] for r in got])) if got else math.nan,
            "size": (w, h), "working_size": self.ex.model.size, "threads": torch.get_num_threads(),
            **runtime.cpu_load(),
        }  # fmt: skip


def _widget_canvas(fig: Figure):
    """An ipympl canvas (a widget whose mouse clicks are matplotlib events) for ``fig``, without switching
    pyplot's backend: the notebook's other figures stay inline PNGs."""
    from ipympl.backend_nbagg import Canvas, FigureManager

    canvas = Canvas(fig)
    FigureManager(canvas, 0)
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.toolbar_visible = False
    canvas.resizable = False
    return canvas


def _keep_static_image(canvas) -> None:
    """Keep the canvas's whole image in the widget state while no page shows it (a headless run).

    ipympl (0.10) stores the last image it sent in ``_data_url`` only while no page is connected, and then
    as the bare base64 of the last *difference* image, without the ``data:`` prefix or the canvas size, so
    a page opening the saved notebook draws nothing. Store the whole image as a data URL, and its size."""
    if not getattr(canvas, "syncing_data_url", False):
        return
    import base64
    import io as _io

    from PIL import Image

    rgba = np.asarray(canvas.buffer_rgba())  # [H, W, 4], what the last draw rendered
    buf = _io.BytesIO()
    Image.fromarray(rgba).save(buf, format="png")
    canvas._size = (rgba.shape[1], rgba.shape[0])
    canvas._data_url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
