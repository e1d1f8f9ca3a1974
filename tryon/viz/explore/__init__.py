"""The explorer behind ``notebooks/explore.ipynb``: one person photo, one garment, a body-shape text, and what
the method makes of them (METHOD.md, inference [0207]-[0216]).

Everything the notebook shows is computed here; the notebook only calls it. Layers, bottom up:

- **choosing inputs** (:func:`catalogue`, :func:`read_inputs`): a person and a garment from the VITON test
  split (CP-VTON layout, LIP parse labels), the VITON-HD / Dress Code samples (``../shared/data``), or files;
  with the person's parse map, or from the photo alone (mediapipe, as ``tryon try-on`` without ``--parse``);
- **one try-on, explained** (:class:`Explorer`, :class:`View`): :meth:`tryon.infer.model.TryOn.predict`
  plus what the network computed on the way, read by a forward hook (no second run): the trunk map
  ([0121]-[0124]), the body feature map of the text ([0111]-[0120]), the first feature maps T1 / C1 whose
  correlation is the association matrix M ([0151]-[0157]); :func:`matching_row` is one row of M, where in
  the garment a person pixel looks;
- **a sweep of one text field** (:func:`sweep`): one try-on per value and the warped garment's width;
  :func:`weight_width_rank` is its rank correlation with the weight on the VITON-HD test persons;
- **figures** (:class:`Panels`, :func:`fig_panels`, :func:`fig_sweep`) and the **widgets**
  (:class:`ExplorerUI`: ipywidgets, the panels on an ipympl canvas, so a click is a matplotlib event);
- :func:`screenshot`: the executed notebook opened in JupyterLab and drawn by headless Chromium.

Sizes: the network works at the checkpoint's square working size S (128 px by default). The explorer shows
the photo scaled to ``height`` rows (default S, the size the network decides at; an update then takes about
0.6 s on one torch thread, the default), or at the photo's own size (``height=None``, as ``tryon try-on``
writes it).

``python -m tryon.viz.explore rank`` prints :func:`weight_width_rank`; ``python -m tryon.viz.explore
screenshot NOTEBOOK --out PNG`` draws a notebook in JupyterLab (``make explore-screenshot``).

Modules: :mod:`~tryon.viz.explore.inputs` (choosing inputs), :mod:`~tryon.viz.explore.run` (the network run,
explained), :mod:`~tryon.viz.explore.sweeps` (sweeps, the rank), :mod:`~tryon.viz.explore.figures` (panels
and figures), :mod:`~tryon.viz.explore.summary` (the run's JSON and latency line),
:mod:`~tryon.viz.explore.widgets` (the UI), :mod:`~tryon.viz.explore.browser` (the screenshot),
:mod:`~tryon.viz.explore.cli` (the command line, run by ``__main__``); every public name is re-exported here.
"""

from tryon.viz.explore.browser import CHROMIUM, CHROMIUM_FLAGS, screenshot
from tryon.viz.explore.cli import main
from tryon.viz.explore.figures import (
    PERSON_PANELS,
    SOURCE_LEGEND,
    Panels,
    fig_panels,
    fig_sweep,
    heat_rgba,
    png_bytes,
    save_figure,
    sweep_table,
)
from tryon.viz.explore.inputs import (
    DEFAULT_TEXT,
    DEFAULT_VALUES,
    DRESSCODE,
    FIELDS,
    FILE,
    RANK_PERSONS,
    SOURCES,
    VITON,
    VITONHD,
    Catalogue,
    Garment,
    Person,
    available_sources,
    catalogue,
    data_roots,
    default_checkpoint,
    read_inputs,
    scaled,
)
from tryon.viz.explore.run import Explorer, MatchRow, View, default_query, garment_width, matching_row
from tryon.viz.explore.summary import latency_note, write_summary
from tryon.viz.explore.sweeps import Sweep, check_values, parse_values, sweep, weight_width_rank, with_field
from tryon.viz.explore.widgets import ExplorerUI, mediapipe_available

__all__ = [
    "DEFAULT_TEXT",
    "DEFAULT_VALUES",
    "DRESSCODE",
    "FIELDS",
    "FILE",
    "RANK_PERSONS",
    "SOURCES",
    "VITON",
    "VITONHD",
    "Catalogue",
    "Garment",
    "Person",
    "available_sources",
    "catalogue",
    "data_roots",
    "default_checkpoint",
    "read_inputs",
    "scaled",
    "Explorer",
    "MatchRow",
    "View",
    "default_query",
    "garment_width",
    "matching_row",
    "Sweep",
    "check_values",
    "parse_values",
    "sweep",
    "weight_width_rank",
    "with_field",
    "PERSON_PANELS",
    "SOURCE_LEGEND",
    "Panels",
    "fig_panels",
    "fig_sweep",
    "heat_rgba",
    "png_bytes",
    "save_figure",
    "sweep_table",
    "latency_note",
    "write_summary",
    "ExplorerUI",
    "mediapipe_available",
    "CHROMIUM",
    "CHROMIUM_FLAGS",
    "screenshot",
    "main",
]
