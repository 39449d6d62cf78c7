"""Turn whatever the caller hands us (path, bytes, binary stream) into one decoded text stream.

Ad platforms export UTF-8 (with or without BOM) or UTF-16 with a BOM; the encoding is sniffed from
the first bytes so that nothing has to be read twice and non-seekable uploads work too. The same
bytes reveal files that are not text at all (a workbook, an archive, a PDF), which are refused
with what they are rather than as "not valid UTF-8".
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import BinaryIO, TextIO

from optimizer.errors import InvalidInputError

__all__ = ["Source", "describe_decode_error", "open_text", "sniff_encoding"]

Source = str | os.PathLike[str] | bytes | BinaryIO

_SNIFF_BYTES = 4096
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive, probably an Excel workbook (.xlsx); save it as CSV UTF-8"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an Excel workbook in the old .xls format; save it as CSV UTF-8",
    ),
    (b"\x1f\x8b", "gzip-compressed; decompress it and upload the CSV inside"),
    (b"%PDF-", "a PDF document; download the report as CSV instead"),
)
# Text exports have no C0 controls besides tab and line ends; random binary has about 11%.
_BINARY_CONTROLS = bytes([*range(0, 9), 11, *range(14, 32)])
_BINARY_SHARE = 0.02


def sniff_encoding(head: bytes) -> str:
    """Codec for a file starting with `head`: BOM first, then the NUL pattern of BOM-less UTF-16."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[: len(head) - len(head) % 2]
    if len(sample) >= 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        if odd_nuls > 0.3 * half and even_nuls == 0:
            return "utf-16-le"
        if even_nuls > 0.3 * half and odd_nuls == 0:
            return "utf-16-be"
    return "utf-8"


def describe_decode_error(encoding: str) -> str:
    """The message for undecodable input, naming what we expected and how to fix the export."""
    label = "UTF-16" if encoding.startswith("utf-16") else "UTF-8"
    return (
        f"the file is not valid {label} text (it may be saved in a legacy encoding such as "
        "Windows-1252); export or save it again as UTF-8 CSV or as the platform's UTF-16 report"
    )


class _Prefixed(io.RawIOBase):
    """Bytes already read for sniffing, then the rest of the stream; never closes the stream."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        target = memoryview(buffer).cast("B")
        if self._prefix:
            size = min(len(target), len(self._prefix))
            target[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        data = self._rest.read(len(target))
        target[: len(data)] = data
        return len(data)


def _refuse_non_text(head: bytes, encoding: str) -> None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise InvalidInputError(f"the file is not CSV text: it is {what}")
    if encoding.startswith("utf-8"):
        controls = len(head) - len(head.translate(None, _BINARY_CONTROLS))
        if controls > _BINARY_SHARE * len(head):
            raise InvalidInputError(
                "the file is not CSV text: it looks like binary data; upload the report as "
                "exported (CSV or the platform's UTF-16 text)"
            )


def _read_head(stream: BinaryIO) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < _SNIFF_BYTES:
        data = stream.read(_SNIFF_BYTES - size)
        if not data:
            break
        parts.append(data)
        size += len(data)
    return b"".join(parts)


def _open_binary(source: Source, stack: ExitStack) -> BinaryIO:
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(source)
    if isinstance(source, str | os.PathLike):
        try:
            return stack.enter_context(open(source, "rb"))
        except OSError as exc:
            raise InvalidInputError(f"cannot open '{os.fspath(source)}': {exc.strerror}") from None
    return source


@contextmanager
def open_text(source: Source) -> Iterator[tuple[TextIO, str]]:
    """Yield a decoded text stream (universal newlines, BOM removed) and the codec it uses.

    Raises InvalidInputError for an empty source; undecodable bytes surface later, while reading,
    as UnicodeDecodeError, which the reader translates with `describe_decode_error`.
    """
    with ExitStack() as stack:
        binary = _open_binary(source, stack)
        head = _read_head(binary)
        if not head.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
            raise InvalidInputError("the file is empty")
        encoding = sniff_encoding(head)
        _refuse_non_text(head, encoding)
        buffered = io.BufferedReader(_Prefixed(head, binary))
        text = io.TextIOWrapper(buffered, encoding=encoding, errors="strict", newline=None)
        try:
            yield text, encoding
        finally:
            text.close()
