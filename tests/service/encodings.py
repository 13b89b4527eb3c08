"""The encodings a client may send JSON in: the service reads UTF-8 (a BOM dropped), refuses the rest."""

from __future__ import annotations

import codecs
from collections.abc import Callable


def bom(mark: bytes, codec: str) -> Callable[[str], bytes]:
    return lambda text: mark + text.encode(codec)


ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf-8": bom(b"", "utf-8"),
    "utf-8-bom": bom(codecs.BOM_UTF8, "utf-8"),
    "utf-16-le": bom(b"", "utf-16-le"),
    "utf-16-be": bom(b"", "utf-16-be"),
    "utf-16-le-bom": bom(codecs.BOM_UTF16_LE, "utf-16-le"),
    "utf-16-be-bom": bom(codecs.BOM_UTF16_BE, "utf-16-be"),
    "utf-32-le": bom(b"", "utf-32-le"),
    "utf-32-be": bom(b"", "utf-32-be"),
    "utf-32-le-bom": bom(codecs.BOM_UTF32_LE, "utf-32-le"),
    "utf-32-be-bom": bom(codecs.BOM_UTF32_BE, "utf-32-be"),
}
UTF8 = ("utf-8", "utf-8-bom")


def expected_name(encoding: str) -> str:
    """json.detect_encoding's name: the byte order is known only without a mark."""
    return encoding.removesuffix("-le-bom").removesuffix("-be-bom").upper()
