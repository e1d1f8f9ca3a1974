"""A small human parser: person photo -> CIHP parse map, trained on VITON's parse maps (LIP -> CIHP ids).

The network (:class:`ParserNet`, built by :func:`build_parser_net`) is a plain U-Net: an encoder of
``len(widths)`` levels, each two 3x3 conv + BatchNorm + ReLU blocks and a 2x2 max-pool between levels,
and a decoder that upsamples (bilinear, ``align_corners=False``), concatenates the encoder features of
the same size and applies two conv blocks; a 1x1 conv gives the logits of the :data:`N_CIHP` classes.
It works at :data:`WORK_SIZE` (128 x 96, H x W: VITON's 256x192 halved), so the photo is resized to it;
the logits are upsampled bilinearly to the photo's size and the argmax taken there, which gives smoother
label edges than nearest upsampling of the small map.

    from tryon.parser import Parser
    parser = Parser.load("models/parser.pt")
    parse = parser(photo)              # photo uint8 [H, W, 3] -> uint8 [H, W] CIHP ids
    parses = parser.parse_batch([p1, p2])

A photo of another aspect ratio than 4:3 (H:W) is stretched to the working size (the parser was only
trained on VITON's 256x192 studio photos; VITON-HD's 1024x768 photos have the same aspect).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tryon.data.labels import CIHP, N_CIHP

#: (H, W) the network sees: VITON's 256x192 halved
WORK_SIZE = (128, 96)
#: default encoder widths (about 1.2 M parameters)
WIDTHS = (16, 32, 64, 128, 192)
#: the checkpoint's ``format`` value: how :meth:`Parser.load` tells a parser checkpoint from another file
CHECKPOINT_FORMAT = "tryon-parser"
#: photo normalisation: uint8 -> [-1, 1]
_MEAN, _STD = 127.5, 127.5


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class ParserNet(nn.Module):
    """U-Net photo -> parse logits.

    forward(x): x float [B, 3, H, W] in [-1, 1], H and W multiples of ``2 ** (len(widths) - 1)``;
    returns ``{"logits": float [B, n_classes, H, W]}``.
    """

    def __init__(self, n_classes: int = N_CIHP, widths: Sequence[int] = WIDTHS, in_channels: int = 3):
        super().__init__()
        widths = [int(w) for w in widths]
        if len(widths) < 2 or min(widths) < 1:
            raise ValueError(f"widths: expected at least two positive widths, got {widths}")
        self.n_down = len(widths) - 1
        self.enc = nn.ModuleList()
        cin = in_channels
        for w in widths:
            self.enc.append(_block(cin, w))
            cin = w
        self.dec = nn.ModuleList()
        for skip in reversed(widths[:-1]):
            self.dec.append(_block(cin + skip, skip))
            cin = skip
        self.head = nn.Conv2d(cin, n_classes, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        m = 2**self.n_down
        if x.shape[-2] % m or x.shape[-1] % m:
            raise ValueError(f"input H x W must be multiples of {m}, got {tuple(x.shape[-2:])}")
        skips = []
        for i, enc in enumerate(self.enc):
            x = enc(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        x = skips.pop()  # [B, widths[-1], H / m, W / m]
        for dec in self.dec:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = dec(torch.cat([x, skip], dim=1))  # [B, w + skip -> skip, h, w]
        return {"logits": self.head(x)}


def build_parser_net(n_classes: int = N_CIHP, widths: Sequence[int] = WIDTHS) -> ParserNet:
    """The parser network from the explicit arguments stored in a checkpoint's ``architecture``."""
    return ParserNet(n_classes=n_classes, widths=widths)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------------------------
# Photos <-> tensors
# --------------------------------------------------------------------------------------------
def photos_to_tensor(photos: Sequence[np.ndarray], size: tuple[int, int] = WORK_SIZE) -> torch.Tensor:
    """uint8 photos [H_i, W_i, 3] (any sizes) -> float [B, 3, h, w] in [-1, 1] at ``size`` = (h, w),
    resized with antialiased bilinear (PIL's, as the training data is)."""
    from PIL import Image

    h, w = size
    out = np.empty((len(photos), h, w, 3), dtype=np.uint8)
    for i, p in enumerate(photos):
        p = np.asarray(p)
        if p.ndim != 3 or p.shape[2] != 3 or p.dtype != np.uint8:
            raise ValueError(f"photo {i}: expected uint8 [H, W, 3], got {p.dtype} {list(p.shape)}")
        out[i] = p if p.shape[:2] == (h, w) else np.asarray(Image.fromarray(p).resize((w, h), Image.BILINEAR))
    x = torch.from_numpy(out).permute(0, 3, 1, 2)  # [B, H, W, 3] -> [B, 3, H, W]
    return (x.float() - _MEAN) / _STD


# --------------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------------
class Parser:
    """A trained :class:`ParserNet` with its working size; call it on a photo (see the module doc)."""

    def __init__(self, net: ParserNet, size: tuple[int, int] = WORK_SIZE, meta: dict | None = None,
                 device: str | torch.device = "cpu"):  # fmt: skip
        self.device = torch.device(device)
        self.net = net.to(self.device).to(memory_format=torch.channels_last).eval()  # faster on CPU
        self.size = (int(size[0]), int(size[1]))
        self.meta = dict(meta or {})

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> Parser:
        """A parser from a checkpoint written by :mod:`tryon.parser.train`. A missing, unreadable or
        foreign file (another model's checkpoint) -> one-line ``ValueError`` naming it."""
        from tryon.checkpoint import load_checkpoint

        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: parser checkpoint not found")
        ck = load_checkpoint(path, map_location="cpu")  # ValueError naming the file when unreadable
        if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(
                f"{path}: not a tryon parser checkpoint (no format '{CHECKPOINT_FORMAT}'; "
                "write one with python -m tryon.parser.train)"
            )
        if ck.get("labelset") != "cihp":
            raise ValueError(f"{path}: parser labels {ck.get('labelset')!r}, expected 'cihp'")
        try:
            net = build_parser_net(**ck["architecture"])
            net.load_state_dict(ck["model"])
        except (KeyError, TypeError, RuntimeError):
            raise ValueError(
                f"{path}: parser weights do not fit its architecture (a damaged file?)"
            ) from None
        meta = {k: v for k, v in ck.items() if k != "model"}
        return cls(net, tuple(ck["size"]), meta, device)

    @torch.no_grad()
    def logits(self, photos: Sequence[np.ndarray]) -> torch.Tensor:
        """float [B, n_classes, h, w] at the working size."""
        x = photos_to_tensor(photos, self.size).to(self.device).contiguous(memory_format=torch.channels_last)
        return self.net(x)["logits"]

    @torch.no_grad()
    def parse_batch(self, photos: Sequence[np.ndarray]) -> list[np.ndarray]:
        """uint8 photos [H_i, W_i, 3] -> uint8 CIHP maps [H_i, W_i] (logits upsampled bilinearly to each
        photo's size, then argmax)."""
        if not len(photos):
            return []
        logits = self.logits(photos)
        out = []
        for i, p in enumerate(photos):
            hw = tuple(np.asarray(p).shape[:2])
            lg = logits[i : i + 1]
            if hw != tuple(lg.shape[-2:]):
                lg = F.interpolate(lg, size=hw, mode="bilinear", align_corners=False)  # [1, C, H_i, W_i]
            out.append(lg[0].argmax(0).to(torch.uint8).cpu().numpy())
        return out

    def __call__(self, photo: np.ndarray) -> np.ndarray:
        """uint8 [H, W, 3] -> uint8 [H, W] CIHP ids (:class:`~tryon.data.labels.CIHP`)."""
        return self.parse_batch([photo])[0]


__all__ = ["CIHP", "CHECKPOINT_FORMAT", "Parser", "ParserNet", "WORK_SIZE", "build_parser_net"]
