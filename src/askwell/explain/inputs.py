"""Reading a question from the command line: flags, a Markdown file, or JSON on stdin.

A Markdown file is the question as a person would draft it::

    # How do I keep my beer from going flat?
    Tags: carbonation, bottling

    The body, in Markdown...

The first ``# `` heading is the title, an optional ``Tags:`` line gives the tags, the rest
is the body.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from askwell.errors import AskwellError
from askwell.question import Question, TagError, clean_tags

MAX_FILE_BYTES = 1_000_000
#: The fields a JSON question may have: the API's request fields (``AnalyzeRequest``, which
#: forbids others too; a test keeps the two the same). Anything else is a typo to report,
#: not something to drop silently.
JSON_FIELDS = ("title", "body", "tags", "site")
_TAGS_LINE = re.compile(r"^\s*tags\s*:\s*(.*)$", re.I)


class InputError(AskwellError):
    """The question given cannot be read; the message says how to give it."""


def split_tags(raw: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The one tag rule (:func:`askwell.question.clean_tags`), as an input error."""
    try:
        return clean_tags(raw)
    except TagError as exc:
        raise InputError(f"tags: {exc}") from exc


def from_markdown(text: str) -> Question:
    lines = text.splitlines()
    title = ""
    tags: tuple[str, ...] = ()
    body_start = 0
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if line.lstrip().startswith("# "):
            title = line.lstrip()[2:].strip()
            body_start = i + 1
        break
    rest = lines[body_start:]
    for j, line in enumerate(rest):
        if not line.strip():
            continue
        match = _TAGS_LINE.match(line)
        if match:
            tags = split_tags(match.group(1))
            rest = rest[:j] + rest[j + 1:]
        break
    return Question(title=title, body="\n".join(rest).strip("\n"), tags=tags)


def from_json(payload: Any) -> Question:
    if not isinstance(payload, dict):
        raise InputError('JSON input must be an object like {"title": "...", "body": "...", "tags": [...]}')
    unknown = sorted(str(k) for k in payload if k not in JSON_FIELDS)
    if unknown:
        raise InputError(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                         f"in the JSON question; the fields are {', '.join(JSON_FIELDS)}")
    for key in ("title", "body"):
        if key in payload and not isinstance(payload[key], str):
            raise InputError(f'"{key}" must be a string, got {type(payload[key]).__name__}')
    tags = payload.get("tags")
    if tags is not None and not isinstance(tags, list | str):
        raise InputError('"tags" must be a list of strings or a comma-separated string')
    site = payload.get("site")
    if site is not None and not isinstance(site, str):
        raise InputError('"site" must be a string')
    return Question(
        title=payload.get("title") or "", body=payload.get("body") or "",
        tags=split_tags(tags), site=site,
    )


def read_question(
    *, title: str | None, body: str | None, tags: str | None, site: str | None,
    file: Path | None, stdin_text: str | None,
) -> Question:
    """Build the question from whichever source was given (exactly one)."""
    if file is not None:
        if file.is_dir():
            raise InputError(f"{file} is a directory; --file takes one question's file "
                             "(a .md file, or .json)")
        if not file.is_file():
            raise InputError(f"{file}: no such file")
        if file.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{file}: larger than {MAX_FILE_BYTES:,} bytes; that is not one question")
        raw = file.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        q = from_json(_parse_json(text)) if file.suffix.lower() == ".json" else from_markdown(text)
    elif stdin_text is not None and title is None and body is None:
        if len(stdin_text) > MAX_FILE_BYTES:
            raise InputError(f"stdin: larger than {MAX_FILE_BYTES:,} bytes; that is not one question")
        q = from_json(_parse_stdin(stdin_text))
    else:
        if title is None and body is None:
            raise InputError("give a question: --title and --body, --file q.md, or JSON on stdin")
        q = Question(title=title or "", body=body or "", tags=split_tags(tags), site=site)
    if tags is not None and file is not None:
        q = replace(q, tags=split_tags(tags), site=site or q.site)
    elif site and not q.site:
        q = replace(q, site=site)
    return q


def _parse_stdin(text: str) -> Any:
    """Stdin takes JSON; Markdown there is a common slip, so say how to give it."""
    try:
        return _parse_json(text)
    except InputError as exc:
        if not text.strip():
            raise InputError("stdin is empty; give a question: --title and --body, --file q.md, "
                             "or JSON on stdin") from exc
        if text.lstrip()[:1] not in "{[":
            raise InputError(f"stdin is not JSON ({exc}); stdin takes a JSON question like "
                             '{"title": "...", "body": "..."}; for a Markdown file use --file q.md') from exc
        raise


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"input is not valid JSON ({exc.msg.removesuffix(' at')}, line {exc.lineno} "
                         f"column {exc.colno})") from exc
