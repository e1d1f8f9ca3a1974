"""A small human parser (photo -> CIHP parse map) trained on VITON's parse maps.

:mod:`tryon.parser.model` holds the network and :class:`Parser` (load a checkpoint, parse photos);
:mod:`tryon.parser.data` reads VITON's photos and parse maps (splits, augmentation, class weights);
:mod:`tryon.parser.train` trains one (``python -m tryon.parser.train``); :mod:`tryon.parser.evaluate`
measures per-class IoU on a VITON split (``python -m tryon.parser.evaluate``). The shipped parser is
``models/parser.pt`` (model card: ``models/PARSER.md``).
"""

from tryon.parser.model import Parser, ParserNet, build_parser_net

__all__ = ["Parser", "ParserNet", "build_parser_net"]
