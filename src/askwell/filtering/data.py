"""The filter's training data, read straight from Stack Exchange dump folders.

The ingested question dataset keeps questions only, so the filter reads the dumps
itself (streaming, one row at a time, with :mod:`askwell.data.dumpfiles`): questions
(positives), answers and comments (real text that is not a question), and PostHistory's
close events (which close reason a question got). Generated negatives are added by
:mod:`askwell.filtering.negatives`.

Every example carries its site and an *author key*; :func:`assign_splits` puts whole
sites and whole authors on one side, and a generated negative inherits the side of the
question it was made from, so nothing derived from a held-out question is trained on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from askwell.data import dumpfiles
from askwell.data.document import parse_body
from askwell.errors import AskwellError
from askwell.filtering.reasons import CLOSE_REASONS, QUESTION

Side = Literal["train", "valid", "test"]


class FilterDataError(AskwellError):
    """No usable dumps, or dumps without the rows the filter needs."""


@dataclass(frozen=True, slots=True)
class Example:
    """One training or evaluation input with its class."""

    title: str
    body: str
    site: str
    author: str  # site-qualified author key ("beer.stackexchange.com:123")
    label: str  # a class of reasons.CLASSES
    source: str  # "question", "answer", "comment", "closed" or "generated"
    ref: str  # where it comes from ("beer.stackexchange.com/q/12", ".../c/99")
    well_received: bool | None = None  # questions only (the 'grade' rule's good)
    side: Side = "train"
    tags: tuple[str, ...] = ()


@dataclass
class DumpRows:
    """What was read from the dump folders."""

    questions: list[Example]
    answers: list[Example]
    comments: list[Example]
    closed: list[Example]
    sites: list[str]


def default_dump_folders(settings: Any = None) -> list[Path]:
    """The shared dumps and, when present, the ``stackexchange-extra`` folder beside them
    (a settings object that lists its dump folders itself is followed instead)."""
    from askwell.config import Settings

    s = settings or Settings()
    return [Path(p) for p in s.dump_folders]


def dump_sites(folders: Sequence[Path]) -> list[Path]:
    """Every site dump folder directly inside the given folders (or the folders that
    are site dumps themselves), in a stable order."""
    out: list[Path] = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise FilterDataError(f"{folder}: no such dump folder")
        out.extend([folder] if dumpfiles.is_site_dump(folder) else dumpfiles.sites_in(folder))
    if not out:
        raise FilterDataError(f"no Stack Exchange site dumps in {', '.join(map(str, folders))}")
    return sorted(set(out), key=lambda p: p.name)


def read_dumps(folders: Sequence[Path], *, max_comment_chars: int = 600) -> DumpRows:
    """Read questions, answers, comments and close reasons of every site."""
    rows = DumpRows([], [], [], [], [])
    for folder in dump_sites(folders):
        source = dumpfiles.find_site(folder)
        rows.sites.append(source.site)
        closes = _close_reasons(source)
        titles = _read_posts(source, closes, rows)
        if "Comments.xml" in source.files:
            rows.comments.extend(_read_comments(source, max_comment_chars, titles))
    return rows


def _close_reasons(source: dumpfiles.SiteSource) -> dict[int, str]:
    """Post id -> close reason id of its last close event (reopened posts dropped)."""
    path = source.files.get("PostHistory.xml")
    if path is None:
        return {}
    last: dict[int, tuple[str, str | None]] = {}
    stats = dumpfiles.ReadStats()
    for attrs in dumpfiles.iter_rows(path, "posthistory", stats):
        kind = attrs.get("PostHistoryTypeId")
        if kind not in ("10", "11"):
            continue
        try:
            post = int(attrs.get("PostId", ""))
        except ValueError:
            continue
        date = attrs.get("CreationDate") or ""
        if post not in last or date >= last[post][0]:
            last[post] = (date, attrs.get("Comment") if kind == "10" else None)
    return {post: reason for post, (_, reason) in last.items() if reason}


def _author(site: str, owner: str | None, kind: str, post_id: str) -> str:
    return f"{site}:{owner}" if owner else f"{site}:anon-{kind}-{post_id}"


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _title_for(text: str, thread_title: str | None, ref: str) -> str:
    """A title for a non-question posted as a question: half the time (by a hash of its
    ref, so always the same) the title of the thread it came from, as a writer reposting
    in the wrong place would; otherwise its first words. With its thread's title, the
    text is the only tell: a model can't learn "title = first words of the body"."""
    if thread_title and _unit(ref, 0) < 0.5:
        return thread_title
    return _lead(text)


def _read_posts(source: dumpfiles.SiteSource, closes: dict[int, str],
                rows: DumpRows) -> dict[str, str]:
    """Append the site's questions, answers and closed questions; return the title of
    each post's thread (post id -> its question's title) for the comments."""
    site = source.site
    stats = dumpfiles.ReadStats()
    titles: dict[str, str] = {}
    answers: list[tuple[dict[str, str], str]] = []
    for attrs in dumpfiles.iter_rows(source.posts, "posts", stats):
        kind = attrs.get("PostTypeId")
        post_id = attrs.get("Id", "")
        if kind == "1":
            title = attrs.get("Title") or ""
            body = attrs.get("Body") or ""
            if not title.strip():
                continue
            titles[post_id] = title
            score = _int(attrs.get("Score"))
            closed = bool(attrs.get("ClosedDate"))
            reason = CLOSE_REASONS.get(closes.get(_int(post_id), "")) if closed else None
            good = (score > 0 or (score == 0 and _int(attrs.get("AnswerCount")) > 0)) and not closed
            tags = tuple(t for t in (attrs.get("Tags") or "").replace("<", "|").replace(
                ">", "|").split("|") if t)
            example = Example(
                title=title, body=body, site=site,
                author=_author(site, attrs.get("OwnerUserId"), "q", post_id),
                label=reason or QUESTION, source="closed" if reason else "question",
                ref=f"{site}/q/{post_id}", well_received=good, tags=tags)
            (rows.closed if reason else rows.questions).append(example)
        elif kind == "2":
            answers.append(({k: attrs.get(k) or "" for k in ("Id", "Body", "OwnerUserId")},
                            attrs.get("ParentId") or ""))
    for attrs, parent in answers:  # parents may come after their answers in a dump
        post_id, body = attrs["Id"], attrs["Body"]
        text = parse_body(body).text
        if parent in titles:
            titles[post_id] = titles[parent]
        if len(text.split()) < 4:
            continue
        ref = f"{site}/a/{post_id}"
        rows.answers.append(Example(
            title=_title_for(text, titles.get(parent), ref), body=body, site=site,
            author=_author(site, attrs["OwnerUserId"] or None, "a", post_id),
            label="answer_like", source="answer", ref=ref))
    return titles


def _read_comments(source: dumpfiles.SiteSource, max_chars: int,
                   titles: dict[str, str]) -> Iterator[Example]:
    site = source.site
    stats = dumpfiles.ReadStats()
    for attrs in dumpfiles.iter_rows(source.files["Comments.xml"], "comments", stats):
        text = (attrs.get("Text") or "").strip()
        if len(text.split()) < 3 or len(text) > max_chars:
            continue
        ref = f"{site}/c/{attrs.get('Id', '')}"
        yield Example(
            title=_title_for(text, titles.get(attrs.get("PostId", "")), ref),
            body=f"<p>{_escape(text)}</p>", site=site,
            author=_author(site, attrs.get("UserId"), "c", attrs.get("Id", "")),
            label="comment_like", source="comment", ref=ref)


def _lead(text: str, words: int = 9) -> str:
    """A title made of the first words of a text (how a pasted reply would be titled)."""
    return " ".join(text.split()[:words])[:150]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- splits
def _unit(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def held_out_sites(sites: Iterable[str], seed: int, share: float = 0.2) -> list[str]:
    """Whole sites held out for the test side: the ``share`` of sites ranked first by a
    seeded hash (at least one, never all)."""
    ranked = sorted(set(sites), key=lambda s: _unit(s, seed))
    n = min(max(1, round(share * len(ranked))), max(len(ranked) - 1, 0))
    return sorted(ranked[:n])


def side_of(site: str, author: str, test_sites: frozenset[str], seed: int,
            valid_share: float = 0.15, test_share: float = 0.15) -> Side:
    """Held-out sites are test; elsewhere an author's hash picks test, valid or train."""
    if site in test_sites:
        return "test"
    u = _unit(author, seed)
    if u < test_share:
        return "test"
    if u < test_share + valid_share:
        return "valid"
    return "train"


def assign_splits(examples: Iterable[Example], test_sites: frozenset[str],
                  seed: int) -> list[Example]:
    return [replace(e, side=side_of(e.site, e.author, test_sites, seed)) for e in examples]
