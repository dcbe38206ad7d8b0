"""Locate and stream the rows of Stack Exchange dump files.

A dump is a folder of XML files (``Posts.xml`` and optional companions), a bare
``Posts.xml``, or a ``.7z`` archive as Stack Exchange publishes it. Rows are read one
``<row .../>`` at a time, so memory stays flat whatever the file size, and a malformed
row is skipped and counted instead of ending the whole file.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from askwell.errors import AskwellError

#: Dump files askwell reads, and the root element each must have.
DUMP_FILES: dict[str, str] = {
    "Posts.xml": "posts",
    "PostHistory.xml": "posthistory",
    "Users.xml": "users",
    "Votes.xml": "votes",
    "Comments.xml": "comments",
    "PostLinks.xml": "postlinks",
    "Tags.xml": "tags",
    "Badges.xml": "badges",
}
_BOM = b"\xef\xbb\xbf"
_ROOT = re.compile(rb"^\s*<([A-Za-z_][\w.-]*)(\s[^>]*)?>\s*$")
_MAX_ROW_BYTES = 64 * 1024 * 1024  # one row larger than this is not a dump row


class DumpError(AskwellError):
    """A dump that cannot be read at all; the message says what to do."""


@dataclass
class ReadStats:
    """What happened while reading one file."""

    rows: int = 0
    bytes: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    truncated: bool = False


@dataclass(frozen=True)
class SiteSource:
    """One site's dump as found on disk: its name and the XML files present."""

    site: str
    files: dict[str, Path]
    origin: Path

    @property
    def posts(self) -> Path:
        return self.files["Posts.xml"]


def site_name_from_path(path: Path) -> str:
    """``beer.stackexchange.com.7z`` or ``.../beer.stackexchange.com/`` -> site name."""
    if path.is_file() and path.name.lower() == "posts.xml":
        return path.parent.name or "site"
    name = path.name
    for suffix in (".7z", ".zip"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _case_insensitive_files(folder: Path) -> dict[str, Path]:
    by_lower = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    return {name: by_lower[name.lower()] for name in DUMP_FILES if name.lower() in by_lower}


def is_site_dump(path: Path) -> bool:
    """A folder holding a Posts.xml, or a ``.7z`` archive (judged further when opened)."""
    if path.is_dir():
        return "Posts.xml" in _case_insensitive_files(path)
    return path.is_file() and path.suffix.lower() == ".7z"


def sites_in(root: Path) -> list[Path]:
    """The site dumps directly inside ``root`` (like the shared data folder), sorted."""
    return sorted(p for p in root.iterdir() if is_site_dump(p))


def find_site(path: Path, site: str | None = None) -> SiteSource:
    """Resolve a folder or a bare Posts.xml into a :class:`SiteSource` (archives: see
    :func:`opened_site`)."""
    if not path.exists():
        raise DumpError(f"{path}: no such file or folder")
    name = site or site_name_from_path(path)
    if path.is_dir():
        files = _case_insensitive_files(path)
        if "Posts.xml" not in files:
            listed = ", ".join(sorted(p.name for p in path.iterdir())[:8]) or "it is empty"
            raise DumpError(
                f"{path}: no Posts.xml in this folder ({listed}); "
                "point at a Stack Exchange dump folder, a Posts.xml or a .7z archive"
            )
        return SiteSource(name, files, path)
    if path.suffix.lower() == ".xml":
        return SiteSource(name, {"Posts.xml": path}, path)
    raise DumpError(f"{path}: expected a dump folder, a Posts.xml or a .7z archive")


@contextmanager
def opened_site(path: Path, site: str | None, scratch: Path) -> Iterator[SiteSource]:
    """Yield a :class:`SiteSource`; a ``.7z`` archive is unpacked into ``scratch`` first
    and removed afterwards."""
    if path.is_file() and path.suffix.lower() == ".7z":
        import py7zr

        scratch.mkdir(parents=True, exist_ok=True)
        target = Path(tempfile.mkdtemp(prefix="unpack-", dir=scratch))
        try:
            try:
                with py7zr.SevenZipFile(path, mode="r") as archive:
                    wanted = [
                        n for n in archive.getnames() if Path(n).name.lower() in
                        {k.lower() for k in DUMP_FILES}
                    ]
                    if not wanted:
                        raise DumpError(f"{path}: the archive holds no Posts.xml")
                    archive.extract(path=target, targets=wanted)
            except DumpError:
                raise
            except Exception as exc:  # py7zr raises many types for damaged archives
                raise DumpError(f"{path}: not a readable 7z archive ({exc})") from exc
            posts = [p for p in target.rglob("*") if p.name.lower() == "posts.xml"]
            if not posts:
                raise DumpError(f"{path}: the archive holds no Posts.xml")
            found = find_site(posts[0].parent, site or site_name_from_path(path))
            yield SiteSource(found.site, found.files, path)
        finally:
            shutil.rmtree(target, ignore_errors=True)
    else:
        yield find_site(path, site)


def iter_rows(path: Path, expected_root: str, stats: ReadStats) -> Iterator[Mapping[str, str]]:
    """Yield each ``<row>``'s attributes (a read-only mapping), skipping and counting bad
    rows.

    Dumps hold one row per line; a row spread over several lines is joined. The file must
    open with the expected root element (``<posts>`` for Posts.xml), otherwise it is not
    a Stack Exchange dump file and a :class:`DumpError` says so. A file that ends before
    its closing tag is read as far as it goes and flagged ``truncated``.
    """
    with path.open("rb") as fh:
        root = _read_root(fh, path)
        if root != expected_root:
            raise DumpError(
                f"{path}: root element is <{root}>, expected <{expected_root}>; "
                f"this is not a Stack Exchange {path.name}"
            )
        closed = False
        pending = b""
        for raw in fh:
            stats.bytes += len(raw)
            line = raw.strip()
            if not line:
                continue
            if pending:
                line = pending + b" " + line
                pending = b""
            if line.startswith(b"<row"):
                if not line.endswith(b"/>"):
                    if len(line) > _MAX_ROW_BYTES:
                        stats.skipped["row too large"] += 1
                        continue
                    pending = line
                    continue
                try:
                    el = etree.fromstring(line)
                except etree.XMLSyntaxError:
                    stats.skipped["malformed row"] += 1
                    continue
                stats.rows += 1
                # The attributes themselves, converted to str only when read: most rows
                # (answers) never have their Body read, and decoding it is costly.
                yield el.attrib
            elif line.startswith(b"</"):
                closed = True
                break
            else:
                stats.skipped["unexpected line"] += 1
        if pending:
            stats.skipped["malformed row"] += 1
        if not closed:
            stats.truncated = True


def _read_root(fh: Iterable[bytes], path: Path) -> str:
    """Read past the XML declaration and return the root element's name."""
    for i, raw in enumerate(fh):
        line = raw.removeprefix(_BOM) if i == 0 else raw
        stripped = line.strip()
        if not stripped or stripped.startswith((b"<?", b"<!")):
            if i > 20:
                break
            continue
        match = _ROOT.match(stripped)
        if match:
            return match.group(1).decode("ascii", "replace").lower()
        snippet = stripped[:60].decode("utf-8", "replace")
        raise DumpError(
            f"{path}: does not start like a Stack Exchange dump file (found {snippet!r})"
        )
    raise DumpError(f"{path}: the file is empty")
