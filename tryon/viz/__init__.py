"""Figures and report helpers (plots only): ``images`` (flow colours, tensor -> image), ``warp``
(matching rows, flow, real warps), ``train`` (loss curves, galleries, breakdowns), ``report`` (metrics
JSON, ``reports/index.html``)."""
