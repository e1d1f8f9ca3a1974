"""User-facing try-on inference: a person photo, a flat garment photo and a body-shape text -> the
try-on image at the person photo's own size.

    from tryon.infer import TryOn
    tryon = TryOn("data/05_train/model.pt")
    res = tryon("person.jpg", "garment.jpg", "height 165cm, weight 50kg, pear, thin", parse="parse.png")
    res.image  # uint8 [H, W, 3], the person photo's size

Submodules:

- :mod:`tryon.infer.inputs`: reading and checking the inputs (sizes, formats, categories, parse maps,
  garment masks), :class:`InferError`, writing result images atomically;
- :mod:`tryon.infer.model`: the model wrapper: loading a checkpoint, :class:`TryOn` (pad, network,
  un-pad, paste back), :class:`Result`, the side-by-side sheet;
- :mod:`tryon.infer.batch`: the batch form over the pairs of a VITON-HD / Dress Code folder
  (images and ``summary.csv``; its face SSIM is :mod:`tryon.eval.face`);
- :mod:`tryon.infer.cli`: the ``tryon try-on`` subcommand;
- :mod:`tryon.infer.autoparse`: photo-only parsing, for a person photo without a parse map: the learned
  parser (:mod:`tryon.parser`, ``models/parser.pt``, the default) or mediapipe (run by
  :mod:`tryon.infer._mediapipe_worker` in its own environment) and a CIHP pseudo-parse (its rules in
  :mod:`tryon.infer.parse_rules`).
"""

from tryon.infer.inputs import InferError, save_image

__all__ = ["InferError", "Result", "TryOn", "load_model", "save_image"]


def __getattr__(name: str):
    # the model wrapper imports torch: loaded on first use, so `tryon --help` and the CLI's argument
    # errors do not wait for torch (the CLI registers its parser from tryon.infer.inputs)
    if name in ("Result", "TryOn", "load_model"):
        from tryon.infer import model

        return getattr(model, name)
    raise AttributeError(f"module 'tryon.infer' has no attribute {name!r}")
