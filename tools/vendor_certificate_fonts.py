"""Build the certificate fonts shipped in the package (run once; the output is committed).

Takes Noto Sans and Noto Serif (OFL-1.1, variable fonts from the ``fontpkg-noto-*`` PyPI
packages), cuts static instances (Typst picks weights from static files reliably) and keeps
only Latin, Latin Extended, Greek and Cyrillic, so the wheel stays small and every machine
renders the same glyphs. Run:

    uv run --no-project --with fonttools --with fontpkg-noto-sans --with fontpkg-noto-serif \
        python tools/vendor_certificate_fonts.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

import fontpkg_noto_sans
import fontpkg_noto_serif
from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

OUT = Path(__file__).parent.parent / "src/cpd/adapters/documents/certificate_assets/fonts"
RANGES = [
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B
    (0x0250, 0x02FF),  # IPA extensions, spacing modifier letters
    (0x0300, 0x036F),  # combining diacritical marks
    (0x0370, 0x03FF),  # Greek and Coptic
    (0x0400, 0x052F),  # Cyrillic and Cyrillic Supplement
    (0x1E00, 0x1FFF),  # Latin Extended Additional, Greek Extended
    (0x2000, 0x206F),  # general punctuation (dashes, quotes, ellipsis)
    (0x20A0, 0x20CF),  # currency symbols
    (0x2100, 0x214F),  # letterlike symbols (numero sign)
    (0x2190, 0x21FF),  # arrows
]
# (family package, source file, output name, weight, italic)
FACES = [
    (fontpkg_noto_sans, "NotoSans[wdth,wght].ttf", "NotoSans-Regular.ttf", 400),
    (fontpkg_noto_sans, "NotoSans[wdth,wght].ttf", "NotoSans-Bold.ttf", 700),
    (fontpkg_noto_sans, "NotoSans-Italic[wdth,wght].ttf", "NotoSans-Italic.ttf", 400),
    (fontpkg_noto_serif, "NotoSerif[wdth,wght].ttf", "NotoSerif-Regular.ttf", 400),
    (fontpkg_noto_serif, "NotoSerif[wdth,wght].ttf", "NotoSerif-Bold.ttf", 700),
    (fontpkg_noto_serif, "NotoSerif-Italic[wdth,wght].ttf", "NotoSerif-Italic.ttf", 400),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    unicodes = [cp for start, end in RANGES for cp in range(start, end + 1)]
    options = subset.Options()
    options.layout_features = ["*"]  # kerning, ligatures, mark positioning, locl, ...
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False  # PDFs are not rasterised at small sizes by us; halves the files
    for package, source, name, weight in FACES:
        folder = Path(package.__file__).parent / "files"
        font = TTFont(folder / source)
        static = instancer.instantiateVariableFont(
            font, {"wght": weight, "wdth": 100}, updateFontNames=True
        )
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(static)
        static.save(OUT / name)
        print(name, (OUT / name).stat().st_size // 1024, "KiB")
    shutil.copy(Path(fontpkg_noto_sans.__file__).parent / "LICENSE", OUT / "OFL.txt")


if __name__ == "__main__":
    main()
