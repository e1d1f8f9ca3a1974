"""Body-shape text: parsing, the bag-of-words vocabulary and the text code ([0111]-[0120]).

A body text names up to four fields in any order, separated by commas (or not):
``"height 165cm, weight 50kg, apple, well-proportioned"``. Accepted spellings:

- height: ``165cm``, ``165 cm``, ``1.65m``, ``5ft 5in``, ``5'5"``, ``65in``, ``height 165`` (a bare number
  after the label is cm, or metres below 3), ``身高165厘米`` / ``165公分`` / ``1.65米``;
- weight: ``50kg``, ``110lbs`` / ``110 lb`` / ``110 pounds``, ``100斤`` (jin, 0.5 kg), ``50公斤`` / ``50千克``,
  ``weight 50`` (kg);
- body type and build: the words of :mod:`tryon.vocab` (English and the patent's Chinese), optionally
  labelled ``body type:`` / ``build:`` / ``体型`` / ``身材``;
- ``height unknown`` / ``weight ?`` / ``未知``: explicitly unknown. A field that is absent is unknown too
  (NaN / None), never guessed.

Anything else (``height abc``, an unknown body type, two heights) raises :class:`BodyTextError` with a
one-line message listing what is accepted.

The **text code** (the method's "165 50 0001 1001") is: the two numeric fields normalised with the
training mean/std (0 when unknown) and a known-flag for each, then one one-hot block per category
(body type, build) over the words of the training vocabulary plus an ``unknown`` slot. One-hot blocks
are an injective code, like the patent's arbitrary binary codes, and :meth:`Vocabulary.decode` reads the
category words back. Units are converted before encoding, so unit variants give the same code.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tryon.vocab import BODY_TYPE_ALIASES, BODY_TYPES, BUILD_ALIASES, BUILDS

#: plausible ranges; values outside are almost surely a unit mistake
HEIGHT_RANGE_CM = (50.0, 250.0)
WEIGHT_RANGE_KG = (15.0, 350.0)

ACCEPTED = (
    "accepted: height (165cm, 165 cm, 1.65m, 5ft 5in, 5'5\", 身高165厘米), weight (50kg, 110lbs, 100斤, 50公斤), "
    f"body types ({', '.join(BODY_TYPES)}), builds ({', '.join(BUILDS)}), Chinese names of the patent, "
    "'unknown'; comma-separated, any order"
)


class BodyTextError(ValueError):
    """A body text that cannot be read (the message is one line and lists what is accepted)."""


@dataclass(frozen=True)
class BodyText:
    """Parsed fields; ``nan`` / ``None`` = unknown."""

    height_cm: float = math.nan
    weight_kg: float = math.nan
    body_type: str | None = None
    build: str | None = None

    def to_text(self) -> str:
        """Canonical spelling (unknown fields left out), e.g. ``height 165cm, weight 50kg, apple, thin``."""
        parts = []
        if not math.isnan(self.height_cm):
            parts.append(f"height {self.height_cm:g}cm")
        if not math.isnan(self.weight_kg):
            parts.append(f"weight {self.weight_kg:g}kg")
        parts += [w for w in (self.body_type, self.build) if w is not None]
        return ", ".join(parts)


# ------------------------------------------------------------------------------------------------
# Parsing
# ------------------------------------------------------------------------------------------------
_NUM = r"(\d+(?:\.\d+)?)"
_LABEL = r"(?:(?P<label>height|weight|身高|体重)\s*[:=]?\s*)?"
_UNKNOWN = r"(?:unknown|n/a|na|\?|未知)"
_LABEL_FIELD = {"height": "height", "身高": "height", "weight": "weight", "体重": "weight"}
# (regex, field, converter to cm/kg); ordered so longer forms win; all applied on lower-cased text;
# each may be preceded by a label, which must agree with the unit ("height 50kg" is an error)
_QUANTITIES: list[tuple[re.Pattern, str, object]] = [
    (_NUM + r"\s*(?:ft|feet|foot|')\s*(?:" + _NUM + r"\s*(?:in|inch|inches|\"|'')?)?(?![a-z])",
     "height", lambda a, b: 30.48 * float(a) + 2.54 * float(b or 0)),
    (_NUM + r"\s*(?:cm|厘米|公分)(?![a-z])", "height", lambda a: float(a)),
    (_NUM + r"\s*(?:m|米)(?![a-z])", "height", lambda a: 100.0 * float(a)),
    (_NUM + r"\s*(?:in|inch|inches|\")(?![a-z])", "height", lambda a: 2.54 * float(a)),
    (_NUM + r"\s*(?:kg|kgs|公斤|千克)(?![a-z])", "weight", lambda a: float(a)),
    (_NUM + r"\s*(?:lbs|lb|pounds|pound)(?![a-z])", "weight", lambda a: 0.45359237 * float(a)),
    (_NUM + r"\s*斤", "weight", lambda a: 0.5 * float(a)),
]  # fmt: skip
_QUANTITIES = [(re.compile(_LABEL + pat), key, conv) for pat, key, conv in _QUANTITIES]
# a bare number after a label: cm (metres below 3) for height, kg for weight
_LABELLED_BARE = re.compile(r"(?P<label>height|weight|身高|体重)\s*[:=]?\s*" + _NUM + r"(?![\d.])")
_LABELLED_UNKNOWN = re.compile(r"(?P<label>height|weight|身高|体重)\s*[:=]?\s*" + _UNKNOWN + r"(?![a-z])")
_CATEGORY_LABEL = re.compile(r"^(?:body\s*type|body\s*shape|shape|build|体型|身材)\s*[:=]?\s*")
_SEPARATORS = re.compile(r"[,，、;；\n]+")
# every alias, longest first, so "plump hourglass" wins over "hourglass" and "hourglass" over "h"
_ALIASES: list[tuple[str, str, str]] = sorted(
    [(a.lower(), "body_type", c) for a, c in BODY_TYPE_ALIASES.items()]
    + [(a.lower(), "build", c) for a, c in BUILD_ALIASES.items()],
    key=lambda t: -len(t[0]),
)


def _set(found: dict, key: str, value, text: str) -> None:
    if key in found:
        raise BodyTextError(f"body text {text!r}: {key.replace('_', ' ')} given twice; {ACCEPTED}")
    found[key] = value


def _match_words(segment: str, found: dict, text: str) -> None:
    """Consume category words from ``segment`` (greedy, longest alias first; works without spaces)."""
    rest = segment.strip(" .:=-")
    while rest:
        rest = _CATEGORY_LABEL.sub("", rest).strip(" .:=-")
        if not rest:
            break
        for alias, key, canon in _ALIASES:
            if rest.startswith(alias):
                after = rest[len(alias) :]
                # an ASCII word must end at a word boundary ("h" must not eat "hourglass")
                if (
                    alias[-1].isascii()
                    and alias[-1].isalnum()
                    and after[:1].isascii()
                    and after[:1].isalnum()
                ):
                    continue
                _set(found, key, canon, text)
                rest = after.strip(" .:=-")
                break
        else:
            word = rest.split()[0] if rest.split() else rest
            if re.fullmatch(r"(height|weight|身高|体重).*", word):
                raise BodyTextError(f"body text {text!r}: {word!r} has no readable value; {ACCEPTED}")
            raise BodyTextError(f"body text {text!r}: cannot read {rest!r}; {ACCEPTED}")


def parse_body_text(text: str) -> BodyText:
    """Parse a body-shape text into :class:`BodyText` (see the module docstring for what is accepted).

    Raises :class:`BodyTextError` (one line) on anything it cannot read, on a field given twice, and on
    implausible values (height outside 50-250 cm, weight outside 15-350 kg).
    """
    if not isinstance(text, str):
        raise BodyTextError(f"body text: expected a string, got {type(text).__name__}")
    s = text.strip().lower().replace("：", ":").replace("（", "(").replace("）", ")").replace("’", "'")
    s = s.replace("”", '"').replace("″", '"').replace("′", "'")
    found: dict = {}

    def take(pattern: re.Pattern, fn) -> None:
        nonlocal s
        while (m := pattern.search(s)) is not None:
            fn(m)
            s = s[: m.start()] + "," + s[m.end() :]

    def quantity(m: re.Match, key: str, value: float) -> None:
        label = m.group("label")
        if label is not None and _LABEL_FIELD[label] != key:
            raise BodyTextError(f"body text {text!r}: {m.group(0).strip()!r} is not a {label}; {ACCEPTED}")
        _set(found, key, value, text)

    for pat, key, conv in _QUANTITIES:
        take(pat, lambda m, key=key, conv=conv: quantity(m, key, conv(*m.groups()[1:])))
    take(_LABELLED_UNKNOWN, lambda m: _set(found, _LABEL_FIELD[m.group("label")], math.nan, text))

    def bare(m: re.Match) -> None:
        key, v = _LABEL_FIELD[m.group("label")], float(m.group(2))
        _set(found, key, (100.0 * v if v < 3 else v) if key == "height" else v, text)

    take(_LABELLED_BARE, bare)
    for seg in _SEPARATORS.split(s):
        seg = seg.strip()
        if not seg:
            continue
        if re.search(r"\d", seg):
            raise BodyTextError(
                f"body text {text!r}: cannot read {seg!r} (a number needs a unit); {ACCEPTED}"
            )
        _match_words(seg, found, text)
    h = float(found.get("height", math.nan))
    w = float(found.get("weight", math.nan))
    if not math.isnan(h) and not HEIGHT_RANGE_CM[0] <= h <= HEIGHT_RANGE_CM[1]:
        raise BodyTextError(f"body text {text!r}: height {h:.1f} cm outside {HEIGHT_RANGE_CM} cm; {ACCEPTED}")
    if not math.isnan(w) and not WEIGHT_RANGE_KG[0] <= w <= WEIGHT_RANGE_KG[1]:
        raise BodyTextError(f"body text {text!r}: weight {w:.1f} kg outside {WEIGHT_RANGE_KG} kg; {ACCEPTED}")
    return BodyText(round(h, 2), round(w, 2), found.get("body_type"), found.get("build"))


# ------------------------------------------------------------------------------------------------
# Vocabulary and codes
# ------------------------------------------------------------------------------------------------
UNKNOWN = "unknown"


@dataclass
class Vocabulary:
    """Bag-of-words dictionary over training body texts plus the numeric normalisation.

    Code layout (length :attr:`code_dim`): ``[height_z, height_known, weight_z, weight_known,
    one-hot(body_types + [unknown]), one-hot(builds + [unknown])]``; ``*_z`` = (value - mean) / std,
    0 when unknown.
    """

    body_types: list[str]
    builds: list[str]
    height_mean: float = 170.0
    height_std: float = 10.0
    weight_mean: float = 65.0
    weight_std: float = 12.0
    counts: dict[str, int] = field(default_factory=dict)

    # -- construction / IO ---------------------------------------------------------------------
    @classmethod
    def build(cls, texts: Iterable[str]) -> Vocabulary:
        """Build from training texts (parsing every one; a malformed text raises :class:`BodyTextError`).
        Category words are kept in the canonical order of :mod:`tryon.vocab`."""
        parsed = [parse_body_text(t) for t in texts]
        if not parsed:
            raise ValueError("Vocabulary.build: no training texts")
        counts = Counter()
        for p in parsed:
            counts.update(w for w in (p.body_type, p.build) if w is not None)
        hs = np.array([p.height_cm for p in parsed], dtype=np.float64)
        ws = np.array([p.weight_kg for p in parsed], dtype=np.float64)

        def stats(v: np.ndarray, default: tuple[float, float]) -> tuple[float, float]:
            v = v[~np.isnan(v)]
            if v.size < 2 or v.std() < 1e-6:
                return default if v.size == 0 else (float(v.mean()), default[1])
            return float(v.mean()), float(v.std())

        hm, hsd = stats(hs, (170.0, 10.0))
        wm, wsd = stats(ws, (65.0, 12.0))
        return cls(
            body_types=[b for b in BODY_TYPES if counts[b]],
            builds=[b for b in BUILDS if counts[b]],
            height_mean=hm, height_std=hsd, weight_mean=wm, weight_std=wsd,
            counts={k: int(counts[k]) for k in (*BODY_TYPES, *BUILDS) if counts[k]},
        )  # fmt: skip

    def to_dict(self) -> dict:
        return {
            "body_types": self.body_types, "builds": self.builds,
            "height_mean": self.height_mean, "height_std": self.height_std,
            "weight_mean": self.weight_mean, "weight_std": self.weight_std,
            "counts": self.counts, "layout": self.layout(),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> Vocabulary:
        """The inverse of :meth:`to_dict` (what checkpoints store)."""
        return cls(**{k: v for k, v in d.items() if k != "layout"})

    def save(self, path: str | Path) -> Path:
        """Write JSON atomically (temp file + rename)."""
        from tryon.config import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        path = Path(path)
        try:
            d = json.loads(path.read_text())
        except FileNotFoundError:
            raise ValueError(f"{path}: vocabulary file not found (run stage 02_encode)") from None
        except json.JSONDecodeError:
            raise ValueError(
                f"{path}: not valid JSON (expected a vocabulary written by stage 02_encode)"
            ) from None
        keys = ("body_types", "builds", "height_mean", "height_std", "weight_mean", "weight_std")
        missing = [k for k in keys if k not in d]
        if missing:
            raise ValueError(f"{path}: not a body-text vocabulary (missing {', '.join(missing)})")
        bad = [w for w in d["body_types"] if w not in BODY_TYPES] + [
            w for w in d["builds"] if w not in BUILDS
        ]
        if bad:
            raise ValueError(f"{path}: unknown category words {bad}")
        return cls(**{k: d[k] for k in keys}, counts=dict(d.get("counts", {})))

    # -- codes ---------------------------------------------------------------------------------
    @property
    def code_dim(self) -> int:
        return 4 + len(self.body_types) + 1 + len(self.builds) + 1

    def layout(self) -> list[str]:
        """Name of every code position (for the report's vocabulary table)."""
        return (
            ["height_z", "height_known", "weight_z", "weight_known"]
            + [f"body_type={b}" for b in self.body_types] + [f"body_type={UNKNOWN}"]
            + [f"build={b}" for b in self.builds] + [f"build={UNKNOWN}"]
        )  # fmt: skip

    def encode(self, text: str | BodyText, strict: bool = True) -> np.ndarray:
        """Text (or parsed fields) -> float32 code [code_dim].

        A category word absent from the training vocabulary raises :class:`BodyTextError` when
        ``strict``, else it is encoded as unknown.
        """
        p = parse_body_text(text) if isinstance(text, str) else text
        code = np.zeros(self.code_dim, dtype=np.float32)
        if not math.isnan(p.height_cm):
            code[0:2] = ((p.height_cm - self.height_mean) / self.height_std, 1.0)
        if not math.isnan(p.weight_kg):
            code[2:4] = ((p.weight_kg - self.weight_mean) / self.weight_std, 1.0)
        off = 4
        for word, words, what in (
            (p.body_type, self.body_types, "body type"),
            (p.build, self.builds, "build"),
        ):
            if word is None:
                idx = len(words)
            elif word in words:
                idx = words.index(word)
            elif strict:
                raise BodyTextError(
                    f"{what} {word!r} is not in the training vocabulary (known: {', '.join(words)})"
                )
            else:
                idx = len(words)
            code[off + idx] = 1.0
            off += len(words) + 1
        return code

    def encode_batch(self, texts: Iterable[str | BodyText], strict: bool = True) -> np.ndarray:
        """[N] texts -> float32 codes [N, code_dim]."""
        rows = [self.encode(t, strict) for t in texts]
        return np.stack(rows) if rows else np.zeros((0, self.code_dim), np.float32)

    def decode(self, code: np.ndarray) -> BodyText:
        """Code [code_dim] -> fields (numeric values de-normalised, rounded to 0.01; categories by argmax)."""
        code = np.asarray(code, dtype=np.float64).reshape(-1)
        if code.shape[0] != self.code_dim:
            raise ValueError(f"decode: expected a code of length {self.code_dim}, got {code.shape[0]}")
        h = round(code[0] * self.height_std + self.height_mean, 2) if code[1] > 0.5 else math.nan
        w = round(code[2] * self.weight_std + self.weight_mean, 2) if code[3] > 0.5 else math.nan
        nb = len(self.body_types)
        bt = int(np.argmax(code[4 : 5 + nb]))
        bd = int(np.argmax(code[5 + nb :]))
        return BodyText(
            h, w, self.body_types[bt] if bt < nb else None, self.builds[bd] if bd < len(self.builds) else None
        )

    def round_trip_ok(self, text: str) -> bool:
        """True when ``decode(encode(text))`` gives back the parsed category words and numbers (±0.05)."""
        p = parse_body_text(text)
        q = self.decode(self.encode(p))

        def same(a: float, b: float) -> bool:
            return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 0.05

        return (
            (p.body_type, p.build) == (q.body_type, q.build)
            and same(p.height_cm, q.height_cm)
            and same(p.weight_kg, q.weight_kg)
        )
