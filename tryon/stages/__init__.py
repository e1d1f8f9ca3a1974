"""Stage entry points called by the notebooks (one module per stage slug)."""
