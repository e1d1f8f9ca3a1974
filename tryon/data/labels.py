"""Parse-label ids, named once: CIHP / VITON-HD (0..19) and Dress Code (0..17), plus mask helpers.

VITON-HD ``image-parse`` maps hold CIHP classes (CIHP_PGN ``evaluation/test_inst_part_ap.py``); Dress Code
has its own numbering (aimagelab/dress-code ``data/labelmap.py``). Everything downstream (synthetic data
included) works in CIHP ids; :func:`dresscode_to_cihp` converts a Dress Code map.

Mask helpers take an integer parse map ``[..., H, W]`` (numpy or torch) and return a boolean array of the
same shape. "Left"/"right" are the person's own sides, as in CIHP.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class CIHP(IntEnum):
    """CIHP / VITON-HD human-parsing classes (values of ``image-parse/*.png``)."""

    BACKGROUND = 0
    HAT = 1
    HAIR = 2
    GLOVE = 3
    SUNGLASSES = 4
    UPPER_CLOTHES = 5
    DRESS = 6
    COAT = 7
    SOCKS = 8
    PANTS = 9
    TORSO_SKIN = 10  # "tosor-skin" in CIHP; VITON-HD calls it neck
    SCARF = 11
    SKIRT = 12
    FACE = 13
    LEFT_ARM = 14
    RIGHT_ARM = 15
    LEFT_LEG = 16
    RIGHT_LEG = 17
    LEFT_SHOE = 18
    RIGHT_SHOE = 19


class DressCode(IntEnum):
    """Dress Code parse classes (values of ``image-parse/*_4.png``)."""

    BACKGROUND = 0
    HAT = 1
    HAIR = 2
    SUNGLASSES = 3
    UPPER_CLOTHES = 4
    SKIRT = 5
    PANTS = 6
    DRESS = 7
    BELT = 8
    LEFT_SHOE = 9
    RIGHT_SHOE = 10
    HEAD = 11
    LEFT_LEG = 12
    RIGHT_LEG = 13
    LEFT_ARM = 14
    RIGHT_ARM = 15
    BAG = 16
    SCARF = 17


N_CIHP = len(CIHP)
N_DRESSCODE = len(DressCode)
#: LIP (VITON as CP-VTON published it, ``image-parse/``): the CIHP order, but label 10 is jumpsuits
N_LIP = N_CIHP
LIP_JUMPSUITS = 10

#: Dress Code id -> CIHP id (head -> face; belt -> pants, as it sits on the lower garment; bag -> background,
#: it is not part of the body or of a garment that try-on changes)
DRESSCODE_TO_CIHP: dict[DressCode, CIHP] = {
    DressCode.BACKGROUND: CIHP.BACKGROUND,
    DressCode.HAT: CIHP.HAT,
    DressCode.HAIR: CIHP.HAIR,
    DressCode.SUNGLASSES: CIHP.SUNGLASSES,
    DressCode.UPPER_CLOTHES: CIHP.UPPER_CLOTHES,
    DressCode.SKIRT: CIHP.SKIRT,
    DressCode.PANTS: CIHP.PANTS,
    DressCode.DRESS: CIHP.DRESS,
    DressCode.BELT: CIHP.PANTS,
    DressCode.LEFT_SHOE: CIHP.LEFT_SHOE,
    DressCode.RIGHT_SHOE: CIHP.RIGHT_SHOE,
    DressCode.HEAD: CIHP.FACE,
    DressCode.LEFT_LEG: CIHP.LEFT_LEG,
    DressCode.RIGHT_LEG: CIHP.RIGHT_LEG,
    DressCode.LEFT_ARM: CIHP.LEFT_ARM,
    DressCode.RIGHT_ARM: CIHP.RIGHT_ARM,
    DressCode.BAG: CIHP.BACKGROUND,
    DressCode.SCARF: CIHP.SCARF,
}
_DC_LUT = np.array([int(DRESSCODE_TO_CIHP[DressCode(i)]) for i in range(N_DRESSCODE)], dtype=np.uint8)

#: garments a try-on replaces (VITON-HD ``get_parse_agnostic``: upper = {5, 6, 7})
UPPER_GARMENT = (CIHP.UPPER_CLOTHES, CIHP.DRESS, CIHP.COAT)
ARMS = (CIHP.LEFT_ARM, CIHP.RIGHT_ARM)
#: body silhouette = every non-background label
BODY = tuple(c for c in CIHP if c != CIHP.BACKGROUND)


class LabelError(ValueError):
    """A parse map holding an id outside its label set."""


def check_labels(parse: np.ndarray, n_labels: int, name: str) -> None:
    """Raise :class:`LabelError` (one line naming ``name``) if ``parse`` holds an id >= ``n_labels``."""
    mx = int(parse.max()) if parse.size else 0
    if mx >= n_labels:
        bad = sorted({int(v) for v in np.unique(parse) if v >= n_labels})
        raise LabelError(f"{name}: unknown parse label(s) {bad} (expected ids 0..{n_labels - 1})")


def dresscode_to_cihp(parse: np.ndarray, name: str = "parse map") -> np.ndarray:
    """Remap a Dress Code label map (uint ids 0..17) to CIHP ids (uint8, same shape)."""
    parse = np.asarray(parse)
    check_labels(parse, N_DRESSCODE, name)
    return _DC_LUT[parse]


def lip_to_cihp(parse: np.ndarray, name: str = "parse map") -> np.ndarray:
    """Remap a LIP label map (ids 0..19) to CIHP ids (uint8, same shape): every id is the same class but
    10, LIP's jumpsuits (CIHP's torso skin), which becomes a dress: a one-piece garment over the upper body
    that an upper-garment try-on replaces (:data:`UPPER_GARMENT`)."""
    parse = np.asarray(parse)
    check_labels(parse, N_LIP, name)
    out = parse.astype(np.uint8, copy=True)
    out[parse == LIP_JUMPSUITS] = CIHP.DRESS
    return out


#: label set name -> number of ids (the parse maps of each real layout)
LABELSET_SIZE = {"cihp": N_CIHP, "dresscode": N_DRESSCODE, "lip": N_LIP}


def to_cihp(parse: np.ndarray, labelset: str, name: str = "parse map") -> np.ndarray:
    """A parse map of ``labelset`` ('cihp' | 'dresscode' | 'lip') as CIHP ids."""
    if labelset == "cihp":
        check_labels(np.asarray(parse), N_CIHP, name)
        return np.asarray(parse)
    if labelset == "dresscode":
        return dresscode_to_cihp(parse, name)
    if labelset == "lip":
        return lip_to_cihp(parse, name)
    raise ValueError(f"labelset: expected one of {list(LABELSET_SIZE)}, got {labelset!r}")


def isin(parse, labels) -> np.ndarray:
    """Boolean mask of pixels whose id is in ``labels`` (numpy or torch input; output matches)."""
    ids = [int(v) for v in labels]
    if hasattr(parse, "new_tensor"):  # torch
        import torch

        return torch.isin(parse, parse.new_tensor(ids))
    return np.isin(parse, ids)


def garment_mask(parse) -> np.ndarray:
    """Upper garment (upper clothes, dress, coat) pixels."""
    return isin(parse, UPPER_GARMENT)


def body_mask(parse) -> np.ndarray:
    """The whole person (every non-background label)."""
    return parse != CIHP.BACKGROUND


def hands_mask(parse: np.ndarray, hand_frac: float = 0.07) -> np.ndarray:
    """Hands, estimated as the distal end of each arm label (CIHP has no hand class).

    parse: int [H, W] (numpy). For each arm label, the pixels farther from the torso centre (centroid of
    garment, torso skin and arms, else of the body) than ``max_dist - hand_frac * person_height`` are the
    hand.
    Works for hanging and raised arms alike. Returns bool [H, W].
    """
    parse = np.asarray(parse)
    out = np.zeros(parse.shape, dtype=bool)
    body = parse != CIHP.BACKGROUND
    if not body.any():
        return out
    rows = np.flatnonzero(body.any(axis=1))
    person_h = float(rows[-1] - rows[0] + 1)
    # the upper body whatever covers it (garment, torso skin or arm skin): the hands do not depend on the garment
    core = isin(parse, (*UPPER_GARMENT, CIHP.TORSO_SKIN, *ARMS))
    if not core.any():
        core = body
    cy, cx = (float(v.mean()) for v in np.nonzero(core))
    for arm in ARMS:
        ys, xs = np.nonzero(parse == arm)
        if len(ys) == 0:
            continue
        d = np.hypot(ys - cy, xs - cx)
        keep = d >= d.max() - hand_frac * person_h
        out[ys[keep], xs[keep]] = True
    return out


#: garment labels that a try-on of each Dress Code category replaces
CATEGORY_GARMENT: dict[str, tuple[CIHP, ...]] = {
    "upper_body": UPPER_GARMENT,
    "lower_body": (CIHP.PANTS, CIHP.SKIRT),
    "dresses": (*UPPER_GARMENT, CIHP.PANTS, CIHP.SKIRT),
}


def category_garment_mask(parse, category: str = "upper_body"):
    """Pixels of the garment that a try-on of ``category`` replaces (upper_body | lower_body | dresses)."""
    if category not in CATEGORY_GARMENT:
        raise ValueError(f"category: expected one of {list(CATEGORY_GARMENT)}, got {category!r}")
    return isin(parse, CATEGORY_GARMENT[category])


def keep_mask(parse: np.ndarray, category: str = "upper_body") -> np.ndarray:
    """What the try-on keeps of the photo, bool [H, W]: everything outside :func:`agnostic_region` (the face,
    hair, hands, lower body and the background away from the old garment). Inside that region the fusion
    paints: the new garment where it lands, skin or background where it does not. The trunk map (the
    contour generator's input, [0121]-[0124]) drops the background too. Lower-body try-ons keep the
    arms and the upper clothes as before (their region is the old garment's pixels)."""
    parse = np.asarray(parse)
    if category == "lower_body":
        return trunk_mask(parse, category) | isin(parse, (CIHP.BACKGROUND, *ARMS))
    return ~agnostic_region(parse, category)


#: the agnostic region's margin around the old garment, arms and neck, as a share of the person's height
AGNOSTIC_MARGIN = 0.03
#: never inside the agnostic region: what no upper garment covers
HEAD = (CIHP.HAT, CIHP.HAIR, CIHP.SUNGLASSES, CIHP.FACE)


def agnostic_region(
    parse: np.ndarray, category: str = "upper_body", margin: float = AGNOSTIC_MARGIN
) -> np.ndarray:
    """The garment-agnostic region, bool [H, W]: what the person representation hides, so that it does not
    show the old garment's outline (VITON-HD's and HR-VITON's agnostic masks do the same). For an upper
    garment or a dress: the old garment, both arms and the neck / torso skin, grown by ``margin`` of the
    person's height (a wider or longer garment than the old one still lands inside), minus the head
    (:data:`HEAD`) and the hands (:func:`hands_mask`). For a lower garment: the old garment's pixels.

    A departure from the method, whose trunk map keeps the neck ([0122]): with the neck and arm skin kept,
    a paired training pair always shows the exact hole of the worn garment, and a new garment of another
    cut is squeezed into the old one's outline."""
    from scipy import ndimage

    parse = np.asarray(parse)
    if category not in CATEGORY_GARMENT:
        raise ValueError(f"category: expected one of {list(CATEGORY_GARMENT)}, got {category!r}")
    core = isin(parse, CATEGORY_GARMENT[category])
    if category == "lower_body":
        return core
    core |= isin(parse, (*ARMS, CIHP.TORSO_SKIN))
    body = parse != CIHP.BACKGROUND
    if not core.any() or not body.any():
        return core
    rows = np.flatnonzero(body.any(axis=1))
    r = margin * float(rows[-1] - rows[0] + 1)
    region = core | (ndimage.distance_transform_edt(~core) <= r) if r >= 1 else core
    return region & ~isin(parse, HEAD) & ~hands_mask(parse)


#: where no garment lands, whatever its category: the head and the feet
HEAD_AND_FEET = (CIHP.HAT, CIHP.HAIR, CIHP.SUNGLASSES, CIHP.FACE, CIHP.LEFT_SHOE, CIHP.RIGHT_SHOE)
#: and per category: an upper garment not on the legs and lower clothes, a lower one not on the arms
#: and the upper clothes
PROTECTED = {
    "upper_body": (*HEAD_AND_FEET, CIHP.PANTS, CIHP.SKIRT, CIHP.LEFT_LEG, CIHP.RIGHT_LEG, CIHP.SOCKS),
    "lower_body": (*HEAD_AND_FEET, CIHP.UPPER_CLOTHES, CIHP.COAT, CIHP.LEFT_ARM, CIHP.RIGHT_ARM, CIHP.GLOVE),
    "dresses": HEAD_AND_FEET,
}


def protect_mask(parse: np.ndarray, category: str = "upper_body") -> np.ndarray:
    """Where the new garment of ``category`` never lands, bool [H, W] (:data:`PROTECTED`): the fusion
    takes the warped garment's mask off these pixels, so a stray piece of the warp cannot cover a face,
    shoes, or (upper garment) the trousers and legs."""
    if category not in PROTECTED:
        raise ValueError(f"category: expected one of {list(PROTECTED)}, got {category!r}")
    prot = isin(parse, PROTECTED[category])
    if category == "lower_body":
        return prot
    return prot & ~agnostic_region(parse, category)  # a longer garment may cover the top of the trousers


def trunk_mask(parse: np.ndarray, category: str = "upper_body") -> np.ndarray:
    """The body trunk mask m ([0121]-[0124]), bool [H, W] from a CIHP parse map int [H, W]: the person
    (every label but the background) outside :func:`agnostic_region`, i.e. face, hair, hat, hands, feet
    and the clothes that the try-on does not change. For upper garments and dresses the neck and torso
    skin are removed too, with a margin around the old garment and arms (departure: the method keeps the
    neck). For lower garments: everything but the background and the old garment."""
    parse = np.asarray(parse)
    if category not in CATEGORY_GARMENT:
        raise ValueError(f"category: expected one of {list(CATEGORY_GARMENT)}, got {category!r}")
    body = parse != CIHP.BACKGROUND
    if category == "lower_body":
        return body & ~isin(parse, CATEGORY_GARMENT[category])
    return body & ~agnostic_region(parse, category)
