"""tryon: a reproducible implementation of shape-aware virtual try-on (see ../shared/METHOD.md)."""

__version__ = "0.1.0"
