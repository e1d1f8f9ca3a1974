"""Networks: explicit typed constructor arguments, ``build_*`` factories, dict outputs."""
