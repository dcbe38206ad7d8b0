"""Write small synthetic Stack Exchange dumps for tests.

The files look like the real ones: an XML declaration, one ``<row .../>`` per line with
every attribute escaped the way Stack Exchange escapes it (newlines as ``&#xA;``),
optionally a UTF-8 BOM, CRLF line ends and a DOCTYPE line, and either the old schema
(no ``ContentLicense``, tags as ``<a><b>``) or the new one (``ContentLicense``, tags as
``|a|b|``).

Rows are plain dicts built by :func:`question`, :func:`answer`, :func:`revision`,
:func:`user` and :func:`link` (any extra keyword becomes an attribute; ``None`` leaves an
attribute out)::

    folder = write_site(
        tmp_path / "beer.stackexchange.com",
        questions=[question(1, owner=7), question(3, closed="2020-02-01T00:00:00.000")],
        answers=[answer(2, parent=1)],
        history=initial_revisions([question(1), question(3)]),
        users=[user(7)],
    )
    archive = write_7z(folder, tmp_path / "beer.stackexchange.com.7z")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

Schema = Literal["new", "old"]
Row = dict[str, Any]

#: Default CreationDate of post ``n`` is ``EPOCH + n hours``, so ids and dates agree.
EPOCH = datetime(2020, 1, 1)
LICENSE = "CC BY-SA 4.0"

_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "\n": "&#xA;",
    "\r": "&#xD;",
    "\t": "&#x9;",
}
_ESCAPE_TABLE = str.maketrans(_ESCAPES)


def stamp(hours: float = 0, *, days: float = 0) -> str:
    """An ISO timestamp as the dumps write it (milliseconds, no zone): EPOCH + offset."""
    return (EPOCH + timedelta(hours=hours, days=days)).isoformat(timespec="milliseconds")


# ---------------------------------------------------------------- rows
def question(
    id: int,
    *,
    title: str | None = None,
    body: str = "<p>My keg loses pressure after two days.</p>",
    tags: Sequence[str] = ("kegs",),
    owner: int | None = 1,
    created: str | None = None,
    score: int = 0,
    views: int = 10,
    answers: int = 0,
    comments: int = 0,
    accepted: int | None = None,
    closed: str | None = None,
    **extra: Any,
) -> Row:
    """A question row (PostTypeId=1); ``created`` defaults to :func:`stamp` ``(id)``."""
    return {
        "Id": id,
        "PostTypeId": 1,
        "AcceptedAnswerId": accepted,
        "CreationDate": created or stamp(id),
        "Score": score,
        "ViewCount": views,
        "Body": body,
        "OwnerUserId": owner,
        "Title": f"Question number {id}?" if title is None else title,
        "Tags": list(tags),
        "AnswerCount": answers,
        "CommentCount": comments,
        "ClosedDate": closed,
        **extra,
    }


def answer(
    id: int,
    *,
    parent: int,
    body: str = "<p>Check the seals.</p>",
    owner: int | None = 2,
    created: str | None = None,
    score: int = 0,
    **extra: Any,
) -> Row:
    """An answer row (PostTypeId=2) to question ``parent``."""
    return {
        "Id": id,
        "PostTypeId": 2,
        "ParentId": parent,
        "CreationDate": created or stamp(id),
        "Score": score,
        "Body": body,
        "OwnerUserId": owner,
        "CommentCount": 0,
        **extra,
    }


def revision(
    post_id: int,
    type: int,
    *,
    created: str | None = None,
    text: str | None = None,
    comment: str | None = None,
    user_id: int | None = 1,
    **extra: Any,
) -> Row:
    """A PostHistory row. Types: 1/2/3 initial title/body/tags, 4/5/6 edits, 10 close
    (``comment`` = close reason id, '1' or '101' for duplicate), 11 reopen. The row id
    is assigned when written."""
    return {
        "PostHistoryTypeId": type,
        "PostId": post_id,
        "CreationDate": created or stamp(post_id),
        "UserId": user_id,
        "Comment": comment,
        "Text": text,
        **extra,
    }


def initial_revisions(questions: Iterable[Row]) -> list[Row]:
    """The first title, body and tags revisions (types 1, 2, 3) of each question."""
    rows: list[Row] = []
    for q in questions:
        created = q["CreationDate"]
        rows.append(revision(q["Id"], 2, created=created, text=q["Body"]))
        rows.append(revision(q["Id"], 1, created=created, text=q["Title"]))
        rows.append(revision(q["Id"], 3, created=created, text=q["Tags"]))
    return rows


def user(id: int, *, created: str | None = None, name: str | None = None, **extra: Any) -> Row:
    """A Users row; ``created`` defaults to the epoch (2020-01-01)."""
    return {
        "Id": id,
        "Reputation": 1,
        "CreationDate": created or stamp(0),
        "DisplayName": name or f"user{id}",
        "LastAccessDate": created or stamp(0),
        **extra,
    }


def link(post_id: int, related: int, *, link_type: int = 3, created: str | None = None) -> Row:
    """A PostLinks row; LinkTypeId 3 marks ``post_id`` as a duplicate of ``related``."""
    return {
        "CreationDate": created or stamp(post_id),
        "PostId": post_id,
        "RelatedPostId": related,
        "LinkTypeId": link_type,
    }


# ---------------------------------------------------------------- writing
def escape(value: str) -> str:
    """Escape an attribute value the way the dumps do."""
    return value.translate(_ESCAPE_TABLE)


def format_tags(tags: Sequence[str], schema: Schema) -> str:
    if not tags:
        return ""
    if schema == "new":
        return "|" + "|".join(tags) + "|"
    return "".join(f"<{t}>" for t in tags)


def row_line(row: Mapping[str, Any], *, schema: Schema = "new") -> str:
    """One ``<row .../>`` line (without line end); ``None`` attributes are left out and
    list values (tags) are written in the schema's tag format."""
    attrs = []
    for key, value in row.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = format_tags(value, schema)
        attrs.append(f'{key}="{escape(str(value))}"')
    return "  <row " + " ".join(attrs) + " />"


def write_xml(
    path: Path,
    root: str,
    rows: Iterable[Mapping[str, Any]] = (),
    *,
    schema: Schema = "new",
    bom: bool = True,
    crlf: bool = True,
    doctype: bool = False,
    raw_lines: Sequence[str] = (),
    truncated: bool = False,
    license: bool | None = None,
) -> Path:
    """Write one dump file: declaration, ``<root>``, one row per line, ``</root>``.

    ``raw_lines`` are written verbatim after the rows (e.g. a malformed row).
    ``truncated`` cuts the file in the middle of its last line, with no closing tag.
    ``license`` adds ``ContentLicense`` to each row (default: when ``schema='new'`` and
    the file is Posts or PostHistory).
    """
    if license is None:
        license = schema == "new" and root in ("posts", "posthistory")
    lines = ['<?xml version="1.0" encoding="utf-8"?>']
    if doctype:
        lines.append(f"<!DOCTYPE {root} SYSTEM '{root}.dtd'>")
    lines.append(f"<{root}>")
    for row in rows:
        row = dict(row)
        if license and "ContentLicense" not in row:
            row["ContentLicense"] = LICENSE
        lines.append(row_line(row, schema=schema))
    lines.extend(raw_lines)
    if truncated:
        last = lines.pop()
        lines.append(last[: max(len(last) // 2, 1)])
    else:
        lines.append(f"</{root}>")
    end = "\r\n" if crlf else "\n"
    data = end.join(lines) + ("" if truncated else end)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return path


def _numbered(rows: Iterable[Row]) -> list[Row]:
    """Give rows without an ``Id`` one (first attribute, as in the dumps)."""
    out = []
    for i, row in enumerate(rows, start=1):
        out.append(row if "Id" in row else {"Id": i, **row})
    return out


def _id_order(row: Row) -> tuple[int, int]:
    """Sort key: numeric ids in order, anything else (a deliberately bad id) last."""
    try:
        return (0, int(row["Id"]))
    except (KeyError, TypeError, ValueError):
        return (1, 0)


def write_site(
    folder: Path,
    questions: Iterable[Row] = (),
    answers: Iterable[Row] = (),
    *,
    history: Iterable[Row] | None = None,
    users: Iterable[Row] | None = None,
    links: Iterable[Row] | None = None,
    schema: Schema = "new",
    bom: bool = True,
    crlf: bool = True,
    doctype: bool = False,
    raw_post_lines: Sequence[str] = (),
    truncated: bool = False,
) -> Path:
    """Write a site dump folder and return it.

    Posts.xml holds the questions and answers sorted by id (as the dumps are);
    PostHistory.xml, Users.xml and PostLinks.xml are written only when given (an empty
    list writes a file with no rows). ``raw_post_lines`` and ``truncated`` apply to
    Posts.xml (see :func:`write_xml`).
    """
    fmt = {"schema": schema, "bom": bom, "crlf": crlf, "doctype": doctype}
    posts = sorted([*questions, *answers], key=_id_order)
    write_xml(
        folder / "Posts.xml", "posts", posts, raw_lines=raw_post_lines, truncated=truncated, **fmt
    )
    if history is not None:
        write_xml(folder / "PostHistory.xml", "posthistory", _numbered(history), **fmt)
    if users is not None:
        write_xml(folder / "Users.xml", "users", users, **fmt)
    if links is not None:
        write_xml(folder / "PostLinks.xml", "postlinks", _numbered(links), **fmt)
    return folder


def write_7z(folder: Path, archive: Path, *, subfolder: str | None = None) -> Path:
    """Pack a site folder's files into a ``.7z`` archive, flat as Stack Exchange ships
    them (or under ``subfolder`` inside the archive)."""
    import py7zr

    archive.parent.mkdir(parents=True, exist_ok=True)
    with py7zr.SevenZipFile(archive, mode="w") as out:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                out.write(path, f"{subfolder}/{path.name}" if subfolder else path.name)
    return archive


def simple_site(folder: Path, n_questions: int = 3, **options: Any) -> Path:
    """A minimal valid site: ``n_questions`` questions (ids 1, 3, 5, ...) each with one
    answer, PostHistory with their first revisions, and their two users."""
    qs = [question(2 * i + 1, answers=1) for i in range(n_questions)]
    ans = [answer(2 * i + 2, parent=2 * i + 1) for i in range(n_questions)]
    options.setdefault("history", initial_revisions(qs))
    options.setdefault("users", [user(1), user(2)])
    return write_site(folder, qs, ans, **options)
