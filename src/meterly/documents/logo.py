"""A seller's logo, from a `data:` URL or a local file — never fetched from the network.

The logo is seller-controlled text that makes the server read bytes and put them in a document
another party downloads. So only real images are accepted (checked by their magic bytes, not by
the name or the declared type) and only up to MAX_BYTES: a logo path pointing at any other file
yields no logo rather than that file's content.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 2 * 1024 * 1024

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass(frozen=True, slots=True)
class Logo:
    mime: str
    data: bytes

    @property
    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode()}"


def _sniff(data: bytes) -> Logo | None:
    if len(data) > MAX_BYTES:
        return None
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return Logo(mime, data)
    return None


def _from_data_url(url: str) -> bytes | None:
    header, sep, payload = url[5:].partition(",")
    if not sep or len(payload) > MAX_BYTES * 2:
        return None
    if header.endswith(";base64"):
        try:
            return base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError):
            return None
    return urllib.parse.unquote_to_bytes(payload)


def load_logo(url: str | None) -> Logo | None:
    """The logo, or None when unset, remote, unreadable, too large or not a PNG/JPEG/GIF."""
    if not url:
        return None
    url = url.strip()
    if url.startswith("data:"):
        data = _from_data_url(url)
        return _sniff(data) if data is not None else None
    if "://" in url and not url.startswith("file://"):
        return None  # http(s) and the like: documents never reach out to the network
    path = Path(urllib.parse.unquote(url[7:]) if url.startswith("file://") else url)
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        return _sniff(path.read_bytes())
    except OSError:
        return None
