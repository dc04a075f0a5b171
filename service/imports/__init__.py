"""Moving comments in and out: importers for Disqus, WordPress (WXR), Isso, Remark42 and our own
JSON lines (parsers that yield plain records; loader.py writes them), and the streamed exports
(export.py). `flask imports run` and `flask export ...` are the commands (cli.py)."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .records import ImportFormatError, SourceComment

FORMATS = ("disqus", "wordpress", "isso", "remark42", "jsonl")


class CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read from it: the progress of a streaming parser."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.position = 0

    def readinto(self, buffer) -> int:
        count = self.raw.readinto(buffer)
        self.position += count or 0
        return count

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()
        super().close()


class Source:
    """One file to import: its comments as a stream, and how far through it the reading is
    (`done` out of `total`: bytes of the file, or rows of an Isso database)."""

    def __init__(self, format: str, path: Path | str, *, base_url: str = ""):
        if format not in FORMATS:
            raise ImportFormatError(f"unknown format {format!r}: one of {', '.join(FORMATS)}")
        self.format = format
        self.path = Path(path)
        self.base_url = base_url
        self._reader: CountingReader | None = None
        self._database = None
        self._rows = 0
        if format == "isso":
            from .isso import IssoDatabase

            self._database = IssoDatabase(self.path, base_url)
            self.total = self._database.total
        else:
            self.total = self.path.stat().st_size

    @property
    def done(self) -> int:
        return self._reader.position if self._reader else self._rows

    def comments(self) -> Iterator[SourceComment]:
        if self._database is not None:
            for comment in self._database.comments():
                self._rows += 1
                yield comment
            return
        self._reader = CountingReader(self.path.open("rb"))
        stream = io.BufferedReader(self._reader, 1 << 16)
        if stream.peek(2)[:2] == b"\x1f\x8b":  # gzipped, as Disqus and Remark42 send them
            stream = gzip.GzipFile(fileobj=stream)
        try:
            yield from self._parse(stream)
        except (OSError, EOFError) as error:
            raise ImportFormatError(f"cannot read the file: {error}") from None
        finally:
            self._reader.close()

    def _parse(self, stream) -> Iterator[SourceComment]:
        if self.format == "disqus":
            from .disqus import parse
        elif self.format == "wordpress":
            from .wordpress import parse
        elif self.format == "remark42":
            from .remark42 import parse
        else:
            from .jsonl import parse
        return parse(stream)

    def close(self) -> None:
        if self._database is not None:
            self._database.close()


__all__ = ["FORMATS", "ImportFormatError", "Source"]
