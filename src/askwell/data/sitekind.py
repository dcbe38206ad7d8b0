"""The one meta-site rule: a site is a meta site when one label of its host name is
``meta`` (``beer.meta.stackexchange.com``, ``meta.mathoverflow.net``; not
``metal.stackexchange.com``). Ingest applies it in DuckDB (:func:`site_kind_sql`) and in
Python (:func:`site_kind`), the ``site_is_meta`` feature through :func:`is_meta_site`;
a unit test checks the two forms agree."""

from __future__ import annotations

from typing import Literal

SiteKind = Literal["main", "meta"]


def is_meta_site(site: str) -> bool:
    return "meta" in site.lower().split(".")


def site_kind(site: str) -> SiteKind:
    """``meta`` for a site's meta site, else ``main``."""
    return "meta" if is_meta_site(site) else "main"


def site_kind_sql(column: str) -> str:
    """The same rule as a DuckDB expression over a site-name column."""
    return f"CASE WHEN list_contains(string_split(lower({column}), '.'), 'meta') THEN 'meta' ELSE 'main' END"
