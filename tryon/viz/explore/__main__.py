"""``python -m tryon.viz.explore rank | screenshot``: :func:`tryon.viz.explore.cli.main`."""

from tryon.viz.explore.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
