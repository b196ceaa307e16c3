"""Pack PNGs into a macOS .icns: render-icons.sh runs this.

Debian's png2icns stores the large sizes as JPEG 2000; current macOS and iconutil use PNG
in every slot, which is this format: a header, then (type, length, PNG bytes) records.

    python packaging/make_icns.py OUT.icns SIZE=PNG ...    e.g. 16=icon-16.png
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

# Pixel size -> the icns types that hold a PNG of that size (1x and the 2x of half the size).
TYPES_BY_SIZE = {
    16: [b"icp4"],
    32: [b"icp5", b"ic11"],
    64: [b"ic12"],
    128: [b"ic07"],
    256: [b"ic08", b"ic13"],
    512: [b"ic09", b"ic14"],
    1024: [b"ic10"],
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pack(pngs: dict[int, bytes]) -> bytes:
    records = b""
    for size, png in sorted(pngs.items()):
        if not png.startswith(PNG_SIGNATURE):
            raise ValueError(f"the {size} px image is not a PNG")
        width, height = struct.unpack(">II", png[16:24])
        if (width, height) != (size, size):
            raise ValueError(f"the {size} px image is {width}x{height}")
        for kind in TYPES_BY_SIZE[size]:
            records += kind + struct.pack(">I", 8 + len(png)) + png
    return b"icns" + struct.pack(">I", 8 + len(records)) + records


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    pngs = {}
    for pair in argv[1:]:
        size, _, path = pair.partition("=")
        if not size.isdigit() or int(size) not in TYPES_BY_SIZE:
            print(f"make_icns: sizes are {sorted(TYPES_BY_SIZE)}, not {size!r}", file=sys.stderr)
            return 2
        pngs[int(size)] = Path(path).read_bytes()
    Path(argv[0]).write_bytes(pack(pngs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
