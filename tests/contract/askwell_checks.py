"""schemathesis hooks for askwell (SCHEMATHESIS_HOOKS=tests.contract.askwell_checks)."""

from __future__ import annotations

import json
from typing import Any

import schemathesis

#: The codes a schema-valid request may be declined with: about its content, not its shape.
CONTENT_DECLINES = frozenset({"empty", "binary", "not_text", "too_many", "tags",
                              "precomputed_refused"})


@schemathesis.check
def declined_only_for_content(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 422 on schema-valid data must be a content decline, never a schema gap."""
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        code = json.loads(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    if code not in CONTENT_DECLINES:
        raise AssertionError(f"schema-valid request refused with 422 {code!r}: the OpenAPI "
                             "schema lets through what the validation refuses")
    return None
