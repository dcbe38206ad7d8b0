"""The moderator queue from a batch output: per-site distributions, the questions most in
need of help with their top suggestion, and a CSV export.

DuckDB reads the partition files the manifest lists (column by column, streamed), so the
report's memory does not grow with the output's size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from askwell.batch.output import part_files, read_manifest
from askwell.errors import AskwellError

#: Verdicts that put a question in the queue (``not_ready``: the filtering model sent it
#: back; it has no score and comes first).
NEEDS_HELP = ("not_ready", "likely_closed", "at_risk")


def _connect(out: Path) -> tuple[Any, dict[str, Any]]:
    import duckdb

    manifest = read_manifest(out)
    files = [p.as_posix() for p in part_files(out, manifest)]
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise AskwellError(f"{out}: {len(missing)} partition files the manifest lists are missing "
                           f"(first {missing[0]}); run the batch job again")
    con = duckdb.connect()
    if files:
        listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        con.execute(f"CREATE VIEW scored AS SELECT * FROM read_parquet([{listing}])")
    else:
        con.execute("CREATE VIEW scored AS SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS site, "
                    "NULL::VARCHAR AS title, NULL::DOUBLE AS score, NULL::VARCHAR AS verdict, "
                    "NULL::BOOLEAN AS abstained, NULL::VARCHAR AS top_suggestion, "
                    "NULL::VARCHAR AS top_suggestion_message, NULL::DOUBLE AS top_gain WHERE false")
    return con, manifest


_QUEUE = """
    SELECT id, site, title, score, verdict, top_suggestion, top_suggestion_message, top_gain
    FROM scored
    WHERE verdict IN ({needs}) AND NOT abstained {site}
    ORDER BY score ASC NULLS FIRST, id ASC
"""


def build_report(out: Path, *, top: int = 20, site: str | None = None,
                 csv: Path | None = None) -> dict[str, Any]:
    """The report as plain data (the CLI prints it or emits it as JSON)."""
    con, manifest = _connect(Path(out))
    try:
        where = "AND site = $site" if site else ""
        params = {"site": site} if site else {}
        sites = con.execute(f"""
            SELECT coalesce(site, '(none)') AS site, count(*) AS questions,
                   avg(score) AS mean_score, quantile_cont(score, 0.1) AS p10,
                   quantile_cont(score, 0.5) AS median,
                   count(*) FILTER (WHERE verdict = 'strong') AS strong,
                   count(*) FILTER (WHERE verdict = 'fine') AS fine,
                   count(*) FILTER (WHERE verdict = 'at_risk') AS at_risk,
                   count(*) FILTER (WHERE verdict = 'likely_closed') AS likely_closed,
                   count(*) FILTER (WHERE abstained) AS abstained
            FROM scored WHERE true {where}
            GROUP BY 1 ORDER BY questions DESC, site""", params).df()
        queue_sql = _QUEUE.format(site=where, needs=", ".join(f"'{v}'" for v in NEEDS_HELP))
        queue = con.execute(queue_sql + " LIMIT $top", {**params, "top": int(top)}).df()
        queued = con.execute(f"SELECT count(*) FROM ({queue_sql})", params).fetchone()[0]
        exported = None
        if csv is not None:
            exported = _export(con, queue_sql, params, Path(csv))
    finally:
        con.close()
    return {
        "output": str(out), "model": manifest.get("model"), "dataset_id": manifest.get("dataset_id"),
        "rows": manifest.get("rows"), "rejects": manifest.get("rejects"),
        "suggestions": bool((manifest.get("job") or {}).get("suggestions")),
        "sites": _records(sites), "queue_size": int(queued), "queue": _records(queue),
        "csv": exported,
    }


def _export(con: Any, sql: str, params: dict[str, Any], target: Path) -> dict[str, Any]:
    """The whole queue, worst first, as CSV (DuckDB streams it; written then renamed)."""
    import os
    import uuid

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        con.execute(f"COPY ({sql}) TO '{tmp.as_posix().replace(chr(39), chr(39) * 2)}' "
                    "(HEADER, DELIMITER ',')", params)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    rows = con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]
    return {"path": str(target), "rows": int(rows)}


def _records(frame: Any) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and v != v else
                        int(v) if hasattr(v, "dtype") and "int" in str(v.dtype) else v)
                    for k, v in row.items()})
    return out
