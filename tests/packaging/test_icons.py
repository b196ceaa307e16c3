"""The rendered icons are what their names say: real PNG, ICO and ICNS files at each size."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest

from tests.packaging.files import ICON_SIZES, ICONS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_RGBA = 6


def png_header(data: bytes) -> tuple[int, int, int]:
    """Width, height and colour type from the IHDR chunk, which the format puts first."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


def test_master_is_a_square_svg() -> None:
    root = ET.parse(ICONS / "supalink.svg").getroot()  # noqa: S314 (our own committed file)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == root.get("height")


@pytest.mark.parametrize("size", ICON_SIZES)
def test_hicolor_png_has_its_size_and_transparency(size: int) -> None:
    data = (ICONS / "hicolor" / f"{size}x{size}" / "apps" / "supalink.png").read_bytes()
    assert png_header(data) == (size, size, PNG_RGBA)


def test_windows_ico_holds_the_list_and_large_view_sizes() -> None:
    data = (ICONS / "supalink.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = set()
    for index in range(count):
        width, height, *_rest, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * index : 22 + 16 * index]
        )
        assert offset + length <= len(data)
        sizes.add((width or 256, height or 256))  # 0 means 256 in an ICO directory
    assert {(s, s) for s in (16, 24, 32, 48, 256)} <= sizes
    # The 256 entry is stored as PNG, the others as bitmaps: both must decode as our sizes.
    png = data.index(PNG_SIGNATURE)
    assert png_header(data[png:])[:2] == (256, 256)


def test_macos_icns_holds_a_png_in_every_slot_from_16_to_1024() -> None:
    data = (ICONS / "supalink.icns").read_bytes()
    magic, total = struct.unpack(">4sI", data[:8])
    assert (magic, total) == (b"icns", len(data))
    sizes = {}
    offset = 8
    while offset < len(data):
        kind, length = struct.unpack(">4sI", data[offset : offset + 8])
        sizes[kind] = png_header(data[offset + 8 : offset + length])[:2]
        offset += length
    assert offset == len(data)
    # What iconutil writes: 1x slots and the 2x (Retina) slots, which hold twice the pixels.
    expected = {
        b"icp4": 16, b"icp5": 32, b"ic07": 128, b"ic08": 256, b"ic09": 512,
        b"ic11": 32, b"ic12": 64, b"ic13": 256, b"ic14": 512, b"ic10": 1024,
    }  # fmt: skip
    assert sizes == {kind: (size, size) for kind, size in expected.items()}
