"""The body-shape vocabulary of the method ([0104], [0112]), with the Chinese originals as aliases.

Canonical names are lower-case ASCII; ``BODY_TYPE_ALIASES`` / ``BUILD_ALIASES`` map every accepted
spelling (English variants and the patent's Chinese words) to the canonical name.
"""

from __future__ import annotations

#: body types named in the patent [0104], canonical spelling
BODY_TYPES: tuple[str, ...] = (
    "apple",
    "H",
    "pear",
    "hourglass",
    "rectangle",
    "V",
    "round",
    "plump hourglass",
    "fifty-fifty",
    "petite",
    "extra-tall",
)
#: builds named in the patent [0112]
BUILDS: tuple[str, ...] = ("thin", "slightly fat", "fat", "well-proportioned")

BODY_TYPE_ALIASES: dict[str, str] = {
    **{b.lower(): b for b in BODY_TYPES},
    "h-shape": "H",
    "h shape": "H",
    "h-type": "H",
    "h type": "H",
    "v-shape": "V",
    "v shape": "V",
    "v-type": "V",
    "v type": "V",
    "inverted triangle": "V",
    "plump-hourglass": "plump hourglass",
    "fifty fifty": "fifty-fifty",
    "balanced": "fifty-fifty",
    "extra tall": "extra-tall",
    "tall": "extra-tall",
    "苹果型": "apple",
    "H型": "H",
    "h型": "H",
    "梨型": "pear",
    "沙漏型": "hourglass",
    "长方形": "rectangle",
    "V型": "V",
    "v型": "V",
    "圆型": "round",
    "胖沙漏型": "plump hourglass",
    "五五型": "fifty-fifty",
    "瘦小型": "petite",
    "超高型": "extra-tall",
}
BUILD_ALIASES: dict[str, str] = {
    **{b: b for b in BUILDS},
    "slightly-fat": "slightly fat",
    "chubby": "slightly fat",
    "well proportioned": "well-proportioned",
    "proportioned": "well-proportioned",
    "slim": "thin",
    "瘦": "thin",
    "微胖": "slightly fat",
    "胖": "fat",
    "匀称": "well-proportioned",
}
