"""The Chinese font embedded in issued PDFs: Debian's Noto Serif CJK SC (fonts-noto-cjk).

Embedding a subset of the whole collection costs over a second per document (fontTools parses and
subsets 65,000 CFF glyphs), so the platform keeps, once, a smaller font cut from it: ASCII, CJK
punctuation, full-width forms and the 7,445 characters of GB 2312, with TrueType outlines
(``fonts_dir``/noto-serif-sc-gb2312.ttf, made by ``flask seal init`` or on first use, about a
minute).  A document with a character outside it is set in
the full collection instead (slower, still correct).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

#: Where Debian's fonts-noto-cjk puts the collection; the first that exists is used.
CANDIDATES = ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SC_INDEX = 2  # in the Noto CJK collections: JP, KR, SC, TC, HK
SUBSET_NAME = "noto-serif-sc-gb2312.ttf"
_lock = threading.Lock()


class FontMissing(RuntimeError):
    """No Noto CJK collection on this machine: the message says what to install."""


def collection() -> Path:
    """The Noto CJK collection file, or ``FontMissing`` saying what to install."""
    for candidate in CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    raise FontMissing("issued PDFs need Debian's Noto CJK fonts: none of " + ", ".join(CANDIDATES)
                      + " exists. Install them with `apt-get install fonts-noto-cjk` (make install and CI do).")


def _charset() -> set[int]:
    chars = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
    chars |= {0xB7, 0xD7, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2116, 0x2103, 0x25CB, 0x25CF, 0x2605}
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return chars


def subset_font(fonts_dir: str | Path) -> Path:
    """The GB 2312 cut of the collection, made once (atomically) in ``fonts_dir``."""
    target = Path(fonts_dir) / SUBSET_NAME
    if target.exists():
        return target
    with _lock:
        if target.exists():
            return target
        from fontTools import subset
        from fontTools.ttLib import TTFont
        font = TTFont(collection(), fontNumber=SC_INDEX)
        options = subset.Options()
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.layout_features = []
        options.hinting = False
        options.desubroutinize = True
        cutter = subset.Subsetter(options)
        cutter.populate(unicodes=_charset())
        cutter.subset(font)
        _to_truetype(font)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{os.getpid()}")
        font.save(temp)
        os.replace(temp, target)
    return target


def _to_truetype(font) -> None:
    """Cubic CFF outlines to quadratic ``glyf`` ones, in place (cu2qu, 1 unit of error).

    fpdf2 subsets the font again for every document; a TrueType font subsets in a fraction of
    the time a CFF one takes (no charstring interpretation, no bounding boxes to recompute).
    """
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, glyphs
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf.compile(font)
    metrics = font["hmtx"]
    for name, glyph in glyphs.items():
        if hasattr(glyph, "xMin"):
            metrics[name] = (metrics[name][0], glyph.xMin)
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attribute in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                      "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attribute, 0)
    maxp.maxZones = 1
    font["post"].formatType = 3.0
    font.sfntVersion = "\000\001\000\000"


@lru_cache(maxsize=4)
def covered(path: str) -> frozenset[int]:
    """The code points a font file has glyphs for."""
    from fontTools.ttLib import TTFont
    with TTFont(path, fontNumber=SC_INDEX if path.endswith(".ttc") else -1, lazy=True) as font:
        return frozenset(font.getBestCmap())


def font_for(texts: list[str], fonts_dir: str | Path) -> tuple[Path, int]:
    """The font file (and collection index) that can set every character of ``texts``."""
    small = subset_font(fonts_dir)
    needed = {ord(ch) for text in texts for ch in text if not ch.isspace()}
    if needed <= covered(str(small)):
        return small, 0
    return collection(), SC_INDEX
