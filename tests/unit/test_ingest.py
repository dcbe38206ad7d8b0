"""Ingest on small dumps written by the tests: what lands in the dataset, and what happens
when the input is odd or broken."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import askwell.data.ingest as ingest_mod
from askwell.data.dumpfiles import DumpError, ReadStats, iter_rows
from askwell.data.ingest import IngestResult, dataset_id, ingest, parse_tags
from askwell.data.store import DatasetStore
from tests.dumps import (
    answer,
    initial_revisions,
    link,
    question,
    revision,
    row_line,
    simple_site,
    stamp,
    user,
    write_7z,
    write_site,
    write_xml,
)

SITE = "beer.stackexchange.com"
ASKWELL = Path(sys.executable).with_name("askwell")


# ---------------------------------------------------------------- the world
# Users 7, 8, 9 (99 has no Users row). Post n is created at stamp(n) = 2020-01-01 + n hours
# unless said otherwise. Post 3 has a low id but is created much later: it must never count
# as history for questions created before it.
def world_posts() -> tuple[list[dict], list[dict]]:
    qs = [
        question(
            1, owner=7, score=5, views=100, answers=3, comments=2, accepted=2, FavoriteCount=4,
            title="How long do hops keep?", tags=["hops", "storage"],
            body='<p>My <a href="https://x.org">hops</a> smell off.</p>'
                 "<pre><code>temp = 4C\n</code></pre><p>Use <code>vacuum</code>?</p>",
        ),
        question(5, owner=7, closed=stamp(50)),                     # duplicate (history '101')
        question(6, owner=8, closed=stamp(60), score=-2),           # other (history '102')
        question(7, owner=9, closed=stamp(70)),                     # duplicate (PostLinks only)
        question(8, owner=7, closed=stamp(80)),                     # duplicate (old id '1')
        question(9, owner=9, closed=stamp(40)),                     # dup, reopened, closed: other
        question(10, owner=8, title="Improved title", body="<p>second draft, more detail</p>"),
        question(11, owner=None, OwnerDisplayName="anon"),          # anonymous
        question(12, owner=99),                                     # no Users row
        question(13, owner=7, closed=stamp(130)),                   # closed, no close event
        question(15, owner=7, created=stamp(2000), score=-3),       # much later question
        question(16, owner=9, closed=None),                         # closed then reopened
    ]
    ans = [
        answer(2, parent=1, owner=8),
        answer(3, parent=1, owner=7, created=stamp(1000)),          # low id, late date
        answer(4, parent=1, owner=7),
    ]
    return qs, ans


def world_history(qs: list[dict]) -> list[dict]:
    q10 = next(q for q in qs if q["Id"] == 10)
    rest = [q for q in qs if q["Id"] != 10]
    return [
        *initial_revisions(rest),
        revision(10, 2, created=stamp(10), text="<p>first draft</p>"),
        revision(10, 1, created=stamp(10), text="Original title"),
        revision(10, 3, created=stamp(10), text=q10["Tags"]),
        revision(10, 4, created=stamp(11), text="Improved title"),
        revision(10, 5, created=stamp(12), text=q10["Body"]),
        revision(10, 6, created=stamp(13), text="|kegs|"),
        revision(5, 10, created=stamp(50), comment="101", text='{"OriginalQuestionIds":[1]}'),
        revision(6, 10, created=stamp(60), comment="102"),
        revision(8, 10, created=stamp(80), comment="1"),
        revision(9, 10, created=stamp(20), comment="101"),
        revision(9, 11, created=stamp(30)),
        revision(9, 10, created=stamp(40), comment="102"),
        revision(16, 10, created=stamp(20), comment="102"),
        revision(16, 11, created=stamp(21)),
        revision(1, 16, created=stamp(1)),  # a type askwell does not keep
    ]


def world_users() -> list[dict]:
    return [
        user(7, created=stamp(days=-1)),
        user(8, created=stamp(0)),
        user(9, created=stamp(days=-10)),
    ]


def world_links() -> list[dict]:
    return [link(7, 1), link(6, 1, link_type=1)]  # 6 only *links* to 1: not a duplicate


def write_world(folder: Path, **options) -> Path:
    qs, ans = world_posts()
    options.setdefault("history", world_history(qs))
    options.setdefault("users", world_users())
    options.setdefault("links", world_links())
    return write_site(folder, qs, ans, **options)


def run(paths: list[Path], store_root: Path, **kwargs) -> IngestResult:
    return ingest([Path(p) for p in paths], DatasetStore(store_root), **kwargs)


def frame(result: IngestResult) -> pd.DataFrame:
    return result.dataset.to_pandas().set_index("post_id", drop=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> IngestResult:
    root = tmp_path_factory.mktemp("world")
    return run([write_world(root / SITE)], root / "store")


@pytest.fixture(scope="module")
def df(world: IngestResult) -> pd.DataFrame:
    return frame(world)


def q(df: pd.DataFrame, post_id: int) -> pd.Series:
    return df.loc[post_id]


# ---------------------------------------------------------------- counts and columns
def test_counts_questions_and_rows(world, df):
    assert sorted(df.post_id) == [1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16]
    assert world.dataset.meta["rows"] == 12
    (report,) = world.sites
    assert (report.rows_read, report.questions) == (15, 12)
    assert world.rejected == {}
    assert report.warnings == []
    assert not world.reused


def test_identity_columns(df):
    row = q(df, 1)
    assert row.site == SITE
    assert row.site_kind == "main"
    assert row.question_id == f"{SITE}:1"
    assert df.question_id.is_unique
    assert list(df.post_id) == sorted(df.post_id)  # ordered by site, post id


def test_outcome_columns_copied_from_posts(df):
    row = q(df, 1)
    assert (row.score, row.view_count, row.answer_count, row.comment_count) == (5, 100, 3, 2)
    assert (row.favorite_count, row.accepted_answer_id) == (4, 2)
    assert row.creation_date == pd.Timestamp("2020-01-01 01:00:00")
    assert pd.isna(row.closed_date)
    assert q(df, 6).score == -2
    assert q(df, 5).closed_date == pd.Timestamp(stamp(50))
    assert pd.isna(q(df, 5).favorite_count) and pd.isna(q(df, 5).accepted_answer_id)


def test_text_structure_and_tags(df):
    row = q(df, 1)
    assert row.title == "How long do hops keep?"
    assert list(row.tags) == ["hops", "storage"]
    assert row.body_text == "My hops smell off.\ntemp = 4C\nUse vacuum?"
    assert row.body_html.startswith('<p>My <a href="https://x.org">hops</a>')
    assert (row.n_code_blocks, row.n_inline_code, row.n_links) == (1, 1, 1)
    assert row.code_chars == len("temp = 4C") + len("vacuum")
    spans = json.loads(row.structure)
    assert ["link", 3, 7] in spans
    for kind, start, end in spans:
        assert row.body_text[start:end] in {"hops", "temp = 4C", "vacuum"}, kind
    assert row.content_license == "CC BY-SA 4.0"


@pytest.mark.parametrize(
    ("post_id", "reason"),
    [
        (1, None),            # open
        (5, "duplicate"),     # PostHistory type 10, Comment '101'
        (8, "duplicate"),     # PostHistory type 10, Comment '1' (old numbering)
        (7, "duplicate"),     # no close event, but PostLinks LinkTypeId=3
        (6, "other"),         # Comment '102'; its LinkTypeId=1 link is not a duplicate link
        (9, "other"),         # closed as dup, reopened, closed again as '102': the last counts
        (13, "other"),        # closed, history present but no close event
        (16, None),           # closed then reopened: open now
    ],
)
def test_close_reason(df, post_id, reason):
    got = q(df, post_id).close_reason
    assert (None if pd.isna(got) else got) == reason


def test_reopen_and_edit_counts(df):
    assert q(df, 9).reopen_count == 1
    assert q(df, 16).reopen_count == 1
    assert q(df, 1).reopen_count == 0
    assert q(df, 10).edit_count == 3  # title, body and tags edits (types 4, 5, 6)
    assert q(df, 1).edit_count == 0  # type 16 and the initial revisions are not edits
    assert df.has_history.all()


def test_first_revision_title_and_body(df):
    row = q(df, 10)
    assert row.title == "Improved title"
    assert row.first_title == "Original title"
    assert row.first_body_html == "<p>first draft</p>"
    assert row.body_html == "<p>second draft, more detail</p>"
    assert q(df, 1).first_title == q(df, 1).title


@pytest.mark.parametrize(
    ("post_id", "prior_q", "prior_a"),
    [
        (1, 0, 0),   # user 7's first post
        (5, 1, 1),   # Q1 and A4 before it; A3 (id 3, created at hour 1000) is later
        (8, 2, 1),   # Q1, Q5; A4
        (13, 3, 1),  # Q1, Q5, Q8; A4
        (15, 4, 2),  # created at hour 2000: now A3 counts too
        (6, 0, 1),   # user 8: A2 before it
        (10, 1, 1),  # user 8: Q6, A2
        (7, 0, 0),   # user 9's first post
        (16, 2, 0),  # user 9: Q7, Q9
        (12, 0, 0),  # user 99, unknown to Users.xml, still has a (empty) history
    ],
)
def test_author_history_counts_only_earlier_posts(df, post_id, prior_q, prior_a):
    row = q(df, post_id)
    assert (row.author_prior_questions, row.author_prior_answers) == (prior_q, prior_a)


def test_anonymous_author_has_no_history(df):
    row = q(df, 11)
    assert pd.isna(row.owner_user_id)
    assert pd.isna(row.author_prior_questions) and pd.isna(row.author_prior_answers)
    assert pd.isna(row.author_account_age_days)


def test_account_age_in_days_at_question_time(df):
    assert q(df, 1).author_account_age_days == pytest.approx(1 + 1 / 24)
    assert q(df, 6).author_account_age_days == pytest.approx(6 / 24)
    assert q(df, 7).author_account_age_days == pytest.approx(10 + 7 / 24)
    assert q(df, 15).author_account_age_days == pytest.approx(1 + 2000 / 24)
    assert pd.isna(q(df, 12).author_account_age_days)  # user 99 is not in Users.xml


def test_meta_describes_sites_files_and_license(world):
    meta = world.dataset.meta
    assert meta["id"] == world.dataset.id
    (site,) = meta["sites"]
    assert site["site"] == SITE and site["kind"] == "main"
    assert sorted(site["files"]) == ["PostHistory.xml", "PostLinks.xml", "Posts.xml", "Users.xml"]
    assert all(len(sha) == 64 for sha in site["files"].values())
    assert (site["rows_read"], site["questions"], site["rejected"]) == (15, 12, {})
    assert "CC BY-SA" in meta["license"]


def test_meta_site_kind():
    from askwell.data.ingest import site_kind

    assert site_kind("beer.meta.stackexchange.com") == "meta"
    assert site_kind("meta.mathoverflow.net") == "meta"
    assert site_kind("metal.stackexchange.com") == "main"


def test_the_meta_rule_is_the_same_in_sql_python_and_the_feature():
    import duckdb

    from askwell.data.sitekind import site_kind, site_kind_sql
    from askwell.features import features_for
    from askwell.question import Question

    names = ["beer.meta.stackexchange.com", "meta.mathoverflow.net", "metal.stackexchange.com",
             "Beer.META.StackExchange.com", "meta", "metameta.net", "beer.stackexchange.com"]
    con = duckdb.connect()
    sql = [r[0] for r in con.execute(
        f"SELECT {site_kind_sql('s')} FROM unnest($names) AS t(s)", {"names": names}).fetchall()]
    python = [site_kind(n) for n in names]
    assert sql == python == ["meta", "meta", "main", "meta", "meta", "main", "main"]
    feature = [features_for(Question("t", "b", site=n), names=["site_is_meta"])["site_is_meta"]
               for n in names]
    assert feature == [1.0 if k == "meta" else 0.0 for k in python]


@pytest.mark.parametrize(
    ("raw", "tags"),
    [("<a><b-c><c#>", ["a", "b-c", "c#"]), ("|a|b-c|c#|", ["a", "b-c", "c#"]), ("", []),
     (None, [])],
)
def test_parse_tags_both_formats(raw, tags):
    assert parse_tags(raw) == tags


# ---------------------------------------------------------------- file formats
@pytest.mark.parametrize(
    ("bom", "crlf", "doctype"),
    [(False, False, False), (True, False, False), (False, True, False), (True, True, True)],
)
def test_bom_line_ends_and_doctype_do_not_change_the_data(tmp_path, df, bom, crlf, doctype):
    folder = write_world(tmp_path / SITE, bom=bom, crlf=crlf, doctype=doctype)
    raw = (folder / "Posts.xml").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == bom
    assert (b"\r\n" in raw) == crlf
    result = run([folder], tmp_path / "store")
    assert result.rejected == {}
    pd.testing.assert_frame_equal(frame(result), df)


def test_old_and_new_schema_give_the_same_questions(tmp_path):
    old = run([write_world(tmp_path / "old" / SITE, schema="old")], tmp_path / "s1")
    new = run([write_world(tmp_path / "new" / SITE, schema="new")], tmp_path / "s2")
    raw_old = (tmp_path / "old" / SITE / "Posts.xml").read_text("utf-8-sig")
    assert 'Tags="&lt;hops&gt;&lt;storage&gt;"' in raw_old and "ContentLicense" not in raw_old
    assert 'Tags="|hops|storage|"' in (tmp_path / "new" / SITE / "Posts.xml").read_text()
    a, b = frame(old), frame(new)
    assert a.content_license.isna().all()
    assert (b.content_license == "CC BY-SA 4.0").all()
    assert [list(t) for t in a.tags] == [list(t) for t in b.tags]
    cols = [c for c in a.columns if c not in ("content_license", "tags")]
    pd.testing.assert_frame_equal(a[cols], b[cols])


def test_row_spread_over_two_lines_is_joined(tmp_path):
    line = row_line(answer(20, parent=1, owner=1, created=stamp(0.5)))
    cut = line.index(" CreationDate=")
    folder = write_site(
        tmp_path / SITE, [question(1), question(30, owner=1)],
        raw_post_lines=[line[:cut], "      " + line[cut:]],
    )
    result = run([folder], tmp_path / "store")
    assert result.rejected == {}
    assert result.rows_read == 3
    assert frame(result).loc[30].author_prior_answers == 1


def test_small_batches_give_the_same_dataset(tmp_path, df):
    result = run([write_world(tmp_path / SITE)], tmp_path / "store", batch_rows=2)
    pd.testing.assert_frame_equal(frame(result), df)


def test_progress_reports_every_row_and_the_bytes_read(tmp_path):
    folder = simple_site(tmp_path / SITE, n_questions=3)
    calls = []
    result = run([folder], tmp_path / "store", progress=lambda *a: calls.append(a))
    assert {c[0] for c in calls} == {SITE}
    assert sum(c[2] for c in calls) == result.rows_read == 6
    size = (folder / "Posts.xml").stat().st_size
    assert 0.8 * size < sum(c[1] for c in calls) <= size


# ---------------------------------------------------------------- optional files
def test_posts_only_folder(tmp_path):
    qs, ans = world_posts()
    result = run([write_site(tmp_path / SITE, qs, ans)], tmp_path / "store")
    d = frame(result)
    assert result.dataset.meta["sites"][0]["files"].keys() == {"Posts.xml"}
    assert len(d) == 12 and result.rejected == {}
    assert not d.has_history.any()
    assert d.edit_count.isna().all() and d.reopen_count.isna().all()
    assert d.first_title.isna().all()
    assert d.author_account_age_days.isna().all()
    closed = d[d.closed_date.notna()]
    assert set(closed.close_reason) == {"unknown"}
    # author history needs only Posts.xml
    assert (d.loc[5].author_prior_questions, d.loc[5].author_prior_answers) == (1, 1)


def test_postlinks_alone_still_mark_duplicates(tmp_path):
    qs, ans = world_posts()
    result = run([write_site(tmp_path / SITE, qs, ans, links=world_links())], tmp_path / "store")
    d = frame(result)
    assert d.loc[7].close_reason == "duplicate"
    assert d.loc[5].close_reason == "unknown"  # its '101' lives in the absent PostHistory


def test_empty_companion_files_are_fine(tmp_path):
    qs, ans = world_posts()
    folder = write_site(tmp_path / SITE, qs, ans, history=[], users=[], links=[])
    d = frame(run([folder], tmp_path / "store"))
    assert len(d) == 12
    assert d.author_account_age_days.isna().all()


def test_file_names_are_matched_case_insensitively(tmp_path):
    folder = simple_site(tmp_path / SITE)
    (folder / "Posts.xml").rename(folder / "posts.XML")
    (folder / "Users.xml").rename(folder / "users.xml")
    result = run([folder], tmp_path / "store")
    assert result.dataset.meta["rows"] == 3
    assert frame(result).author_account_age_days.notna().all()


# ---------------------------------------------------------------- several inputs
def test_several_sites_in_one_call_keep_their_histories_apart(tmp_path):
    a = write_site(tmp_path / "a.stackexchange.com", [question(1, owner=7), question(3, owner=7)])
    b = write_site(
        tmp_path / "a.meta.stackexchange.com",
        [question(2, owner=7), question(5, owner=7), question(9, owner=7)],
    )
    result = run([a, b], tmp_path / "store")
    d = result.dataset.to_pandas()
    assert result.dataset.sites == ["a.stackexchange.com", "a.meta.stackexchange.com"]
    assert [(s.site, s.questions) for s in result.sites] == [
        ("a.stackexchange.com", 2),
        ("a.meta.stackexchange.com", 3),
    ]
    assert d.question_id.is_unique and len(d) == 5
    by_site = d.groupby("site").author_prior_questions.apply(sorted).to_dict()
    assert by_site == {"a.stackexchange.com": [0, 1], "a.meta.stackexchange.com": [0, 1, 2]}
    assert dict(zip(d.site, d.site_kind, strict=True)) == {
        "a.stackexchange.com": "main", "a.meta.stackexchange.com": "meta"}


def test_a_site_without_questions_is_warned_about(tmp_path):
    a = simple_site(tmp_path / "a.stackexchange.com")
    b = write_site(tmp_path / "b.stackexchange.com", [], [answer(2, parent=1)])
    result = run([a, b], tmp_path / "store")
    warnings = {s.site: s.warnings for s in result.sites}
    assert warnings["a.stackexchange.com"] == []
    assert any("no questions" in w for w in warnings["b.stackexchange.com"])
    assert result.dataset.meta["rows"] == 3


def test_same_site_twice_is_refused(tmp_path):
    folder = simple_site(tmp_path / SITE)
    with pytest.raises(DumpError, match="site given twice"):
        run([folder, folder / "Posts.xml"], tmp_path / "store")


def test_site_option_takes_one_input_only(tmp_path):
    a, b = simple_site(tmp_path / "a"), simple_site(tmp_path / "b")
    with pytest.raises(DumpError, match="one input"):
        run([a, b], tmp_path / "store", site="x.stackexchange.com")


def test_bare_posts_xml_is_named_after_its_folder(tmp_path):
    folder = simple_site(tmp_path / SITE)
    result = run([folder / "Posts.xml"], tmp_path / "store")
    assert result.dataset.sites == [SITE]
    assert result.dataset.meta["sites"][0]["files"].keys() == {"Posts.xml"}
    d = frame(result)
    assert len(d) == 3 and not d.has_history.any()  # only the file given is read


def test_site_option_names_the_site(tmp_path):
    folder = simple_site(tmp_path / "dump")
    result = run([folder / "Posts.xml"], tmp_path / "store", site="cooking.stackexchange.com")
    assert set(frame(result).question_id) == {f"cooking.stackexchange.com:{i}" for i in (1, 3, 5)}


@pytest.mark.parametrize("subfolder", [None, SITE])
def test_7z_archive_gives_the_same_dataset_as_its_folder(tmp_path, df, subfolder):
    folder = write_world(tmp_path / "src" / SITE)
    archive = write_7z(folder, tmp_path / f"{SITE}.7z", subfolder=subfolder)
    store = tmp_path / "store"
    result = run([archive], store)
    assert result.dataset.sites == [SITE]
    assert result.dataset.meta["sites"][0]["origin"] == str(archive)
    pd.testing.assert_frame_equal(frame(result), df)
    assert [p.name for p in store.iterdir()] == [result.dataset.id]  # nothing unpacked left


# ---------------------------------------------------------------- idempotency
def test_same_inputs_same_id_and_second_run_is_reused(tmp_path):
    folder = write_world(tmp_path / SITE)
    first = run([folder], tmp_path / "store")
    parquet = first.dataset.questions_path
    written = parquet.stat().st_mtime_ns
    second = run([folder], tmp_path / "store")
    assert second.dataset.id == first.dataset.id
    assert second.reused and not first.reused
    assert second.sites == []  # nothing was read again
    assert second.seconds < first.seconds
    assert parquet.stat().st_mtime_ns == written
    assert [p.name for p in (tmp_path / "store").iterdir()] == [first.dataset.id]


def test_id_depends_on_content_not_on_where_the_files_are(tmp_path):
    a = run([write_world(tmp_path / "one" / SITE)], tmp_path / "s1")
    b = run([write_world(tmp_path / "two" / SITE)], tmp_path / "s2")
    assert a.dataset.id == b.dataset.id


def test_changed_input_gives_a_new_dataset(tmp_path):
    folder = write_world(tmp_path / SITE)
    first = run([folder], tmp_path / "store")
    posts = folder / "Posts.xml"
    posts.write_bytes(posts.read_bytes().replace(b'Score="5"', b'Score="6"', 1))
    second = run([folder], tmp_path / "store")
    assert second.dataset.id != first.dataset.id and not second.reused
    assert frame(second).loc[1].score == 6
    assert frame(first).loc[1].score == 5  # the old dataset is still there, unchanged
    assert {d.id for d in DatasetStore(tmp_path / "store").list()} == {
        first.dataset.id, second.dataset.id}


def test_changed_companion_file_gives_a_new_dataset(tmp_path):
    folder = write_world(tmp_path / SITE)
    first = run([folder], tmp_path / "store")
    write_xml(folder / "Users.xml", "users", world_users()[:1])
    second = run([folder], tmp_path / "store")
    assert second.dataset.id != first.dataset.id
    assert frame(second).author_account_age_days.notna().sum() < frame(
        first).author_account_age_days.notna().sum()


def test_site_name_is_part_of_the_id(tmp_path):
    folder = simple_site(tmp_path / SITE)
    a = run([folder / "Posts.xml"], tmp_path / "store")
    b = run([folder / "Posts.xml"], tmp_path / "store", site="other.stackexchange.com")
    assert a.dataset.id != b.dataset.id
    assert dataset_id([("x", {"Posts.xml": "00"})]) != dataset_id([("y", {"Posts.xml": "00"})])


def test_force_rebuilds_under_the_same_id(tmp_path):
    folder = simple_site(tmp_path / SITE)
    first = run([folder], tmp_path / "store")
    again = run([folder], tmp_path / "store", force=True)
    assert again.dataset.id == first.dataset.id and not again.reused
    assert again.sites[0].questions == 3
    assert [p.name for p in (tmp_path / "store").iterdir()] == [first.dataset.id]


# ---------------------------------------------------------------- bad rows
def test_malformed_row_is_skipped_and_counted(tmp_path):
    qs = [question(1), question(3)]
    folder = write_site(
        tmp_path / SITE, qs,
        raw_post_lines=['  <row Id="2" PostTypeId="1" Title="x" Body="<p>raw</p>" />'],
    )
    result = run([folder], tmp_path / "store")
    assert result.rejected == {"malformed row": 1}
    assert sorted(frame(result).post_id) == [1, 3]
    assert result.dataset.meta["sites"][0]["rejected"] == {"malformed row": 1}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (question(2, created="yesterday"), "bad date"),
        (question(2, closed="2020-13-45T00:00:00"), "bad date"),
        (question(2, Id="two"), "bad number"),
        (question(2, score="99999999999999999999"), "bad number"),
        (question(2, PostTypeId="99999999999"), "bad number"),
        (question(2, title="  "), "question without a title"),
        (question(2, PostTypeId=None), "missing PostTypeId"),
        (question(2, created=None, CreationDate=None), "post without a CreationDate"),
    ],
)
def test_bad_values_reject_the_row_with_a_reason(tmp_path, bad, reason):
    folder = write_site(tmp_path / SITE, [question(1), bad, question(3)])
    result = run([folder], tmp_path / "store")
    assert result.rejected == {reason: 1}
    assert sorted(frame(result).post_id) == [1, 3]


def test_rejected_question_is_not_counted_as_author_history(tmp_path):
    folder = write_site(
        tmp_path / SITE,
        [question(1, owner=7), question(2, owner=7, closed="never"), question(3, owner=7)],
    )
    result = run([folder], tmp_path / "store")
    assert result.rejected == {"bad date": 1}
    assert frame(result).loc[3].author_prior_questions == 1  # Q1 only, not the rejected Q2


def test_adjacent_duplicate_id_is_rejected_and_the_first_kept(tmp_path):
    folder = write_site(
        tmp_path / SITE,
        [question(1, title="first"), question(1, title="second"), question(3)],
    )
    result = run([folder], tmp_path / "store")
    assert result.rejected == {"duplicate Id": 1}
    d = frame(result)
    assert list(d.post_id) == [1, 3] and d.loc[1].title == "first"


def test_posts_out_of_id_order_give_the_same_dataset(tmp_path, df):
    """Newer dumps are not always sorted by Id (datascience.meta is not)."""
    qs, ans = world_posts()
    posts = [*qs, *ans]
    shuffled = [posts[i] for i in (7, 2, 14, 0, 9, 4, 12, 1, 11, 3, 13, 6, 10, 5, 8)]
    folder = tmp_path / SITE
    write_world(folder)
    write_xml(folder / "Posts.xml", "posts", shuffled)
    result = run([folder], tmp_path / "store")
    assert result.rejected == {}
    pd.testing.assert_frame_equal(frame(result), df)


def test_duplicate_ids_out_of_order_keep_the_first_in_file_order(tmp_path):
    folder = tmp_path / SITE
    write_xml(
        folder / "Posts.xml",
        "posts",
        [question(5, title="five"), question(2, title="two"), question(5, title="again"),
         answer(2, parent=5), question(9)],
    )
    result = run([folder], tmp_path / "store")
    assert result.rejected == {"duplicate Id": 2}
    assert result.sites[0].questions == 3
    d = frame(result)
    assert list(d.post_id) == [2, 5, 9]
    assert (d.loc[2].title, d.loc[5].title) == ("two", "five")


def test_sort_staged_works_bucket_by_bucket(tmp_path):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    ids = rng.integers(0, 300, size=2000)  # many duplicates, no order
    path = tmp_path / "posts-x.parquet"
    pq.write_table(
        pa.table({"post_id": ids, "row": np.arange(len(ids)), "text": [f"t{i}" * 50 for i in ids]}),
        path, row_group_size=128,
    )
    dropped = ingest_mod._sort_staged(path, bucket_bytes=4096)  # dozens of buckets
    out = pq.read_table(path).to_pandas()
    first = pd.DataFrame({"post_id": ids, "row": np.arange(len(ids))}).groupby("post_id").row.min()
    assert dropped == len(ids) - ids.size + len(ids) - len(np.unique(ids))
    assert list(out.post_id) == sorted(np.unique(ids))
    assert list(out.row) == list(first.loc[out.post_id])  # the first in file order is kept
    assert (out.text == [f"t{i}" * 50 for i in out.post_id]).all()
    assert list(tmp_path.iterdir()) == [path]  # its scratch folder is gone


def test_question_text_never_has_to_fit_in_duckdb_memory(tmp_path):
    """Bodies stream past DuckDB: 60 MB of text joins under a 32 MB DuckDB limit."""
    body = "<p>" + "word " * 100_000 + "</p>"  # 500 kB of HTML, as much text again
    qs = [question(i, body=body, owner=i % 3 + 1) for i in range(1, 61)]
    result = run([write_site(tmp_path / SITE, qs)], tmp_path / "store", memory_limit="32MB")
    d = result.dataset.to_pandas(columns=["post_id", "body_text", "author_prior_questions"])
    assert list(d.post_id) == list(range(1, 61))
    assert (d.body_text.str.len() == len("word " * 100_000) - 1).all()
    assert list(d.author_prior_questions[:6]) == [0, 0, 0, 1, 1, 1]


@pytest.mark.parametrize(
    ("created", "stored"),
    [
        ("2020-01-01T01:00:00.000", "2020-01-01 01:00:00"),
        ("2020-01-01T01:00:00", "2020-01-01 01:00:00"),
        ("2020-01-01T01:00:00Z", "2020-01-01 01:00:00"),
        ("2020-01-01T03:00:00+02:00", "2020-01-01 01:00:00"),
        ("20200101T010000", "2020-01-01 01:00:00"),
    ],
)
def test_iso_date_variants_are_normalised_not_fatal(tmp_path, created, stored):
    folder = write_site(tmp_path / SITE, [question(1, created=created)])
    result = run([folder], tmp_path / "store")
    assert result.rejected == {}
    assert frame(result).loc[1].creation_date == pd.Timestamp(stored)


def test_bad_companion_rows_are_counted_per_file(tmp_path):
    folder = simple_site(
        tmp_path / SITE,
        users=[user(1), user(2, Id="x"), user(3, created="not a date")],
        history=[revision(1, 10, comment="101"), {"PostHistoryTypeId": 10}],
    )
    result = run([folder], tmp_path / "store")
    assert result.rejected == {"Users.xml: malformed row": 2, "PostHistory.xml: malformed row": 1}
    assert result.dataset.meta["rows"] == 3


def test_truncated_file_keeps_rows_and_warns(tmp_path):
    qs = [question(i) for i in (1, 2, 3, 4)]
    folder = write_site(tmp_path / SITE, qs, truncated=True, users=[user(1)])
    result = run([folder], tmp_path / "store")
    assert sorted(frame(result).post_id) == [1, 2, 3]
    (report,) = result.sites
    assert report.rejected == {"malformed row": 1}  # the half row at the end
    assert len(report.warnings) == 1 and "truncated" in report.warnings[0]
    assert result.dataset.meta["sites"][0]["warnings"] == report.warnings


def test_truncated_companion_file_warns(tmp_path):
    folder = simple_site(tmp_path / SITE)
    users = folder / "Users.xml"
    users.write_bytes(users.read_bytes()[: -len(b"</users>\r\n")])
    result = run([folder], tmp_path / "store")
    assert result.sites[0].warnings == ["Users.xml is truncated; kept the rows before the break"]
    assert frame(result).author_account_age_days.notna().all()


def test_iter_rows_reads_rows_and_counts_bytes(tmp_path):
    path = write_xml(tmp_path / "Posts.xml", "posts", [question(1), question(2)], crlf=False)
    stats = ReadStats()
    rows = list(iter_rows(path, "posts", stats))
    assert [r["Id"] for r in rows] == ["1", "2"]
    assert rows[0]["Body"] == "<p>My keg loses pressure after two days.</p>"
    assert (stats.rows, stats.truncated, dict(stats.skipped)) == (2, False, {})
    header = len(b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>\n<posts>\n')
    assert stats.bytes == path.stat().st_size - header


def test_escaped_newlines_survive_in_bodies(tmp_path):
    body = "<pre><code>line 1\nline 2\r\n\tindented\n</code></pre>"
    folder = write_site(tmp_path / SITE, [question(1, body=body, title="Ça & <ça> \"q\"?")])
    row = frame(run([folder], tmp_path / "store")).loc[1]
    assert row.body_html == body
    assert row.title == 'Ça & <ça> "q"?'
    assert row.body_text == "line 1\nline 2\n\tindented"  # the HTML parser folds CRLF


# ---------------------------------------------------------------- unreadable inputs
def write_raw(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>\n<body>hi</body>\n</html>\n", "root element is <html>, expected <posts>"),
        (b"Id,Title\n1,hello\n", "does not start like a Stack Exchange dump file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "does not start like a Stack Exchange dump file"),
        (b"", "the file is empty"),
        (b'<?xml version="1.0"?>\n\n', "the file is empty"),
        (b'<?xml version="1.0"?>\n<users>\n<row Id="1" />\n</users>\n', "expected <posts>"),
    ],
)
def test_file_that_is_not_a_dump_is_a_clear_error(tmp_path, content, message):
    posts = write_raw(tmp_path / SITE / "Posts.xml", content)
    with pytest.raises(DumpError, match=message) as err:
        run([posts.parent], tmp_path / "store")
    assert str(posts) in str(err.value)
    assert list((tmp_path / "store").iterdir()) == []


def test_empty_folder_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DumpError, match=r"no Posts\.xml in this folder \(it is empty\)"):
        run([tmp_path / "empty"], tmp_path / "store")


def test_folder_of_other_files_lists_them(tmp_path):
    write_raw(tmp_path / "x" / "notes.txt", b"hi")
    with pytest.raises(DumpError, match=r"no Posts.xml in this folder \(notes.txt\)"):
        run([tmp_path / "x"], tmp_path / "store")


def test_missing_path_and_wrong_kind_of_file(tmp_path):
    with pytest.raises(DumpError, match="no such file or folder"):
        run([tmp_path / "nope"], tmp_path / "store")
    with pytest.raises(DumpError, match=r"expected a dump folder, a Posts\.xml or a \.7z"):
        run([write_raw(tmp_path / "dump.csv", b"a,b\n")], tmp_path / "store")
    with pytest.raises(DumpError, match="no dump given"):
        run([], tmp_path / "store")


def test_answers_only_is_an_error_with_nothing_written(tmp_path):
    folder = write_site(tmp_path / SITE, [], [answer(2, parent=1)])
    with pytest.raises(DumpError, match="no questions found"):
        run([folder], tmp_path / "store")
    assert list((tmp_path / "store").iterdir()) == []


@pytest.mark.parametrize("damage", ["garbage", "truncated", "no posts"])
def test_corrupt_or_wrong_7z_is_a_clear_error(tmp_path, damage):
    folder = simple_site(tmp_path / "src" / SITE)
    archive = tmp_path / f"{SITE}.7z"
    if damage == "garbage":
        write_raw(archive, b"this is not a 7z archive at all" * 10)
    elif damage == "truncated":
        data = write_7z(folder, archive).read_bytes()
        archive.write_bytes(data[: len(data) // 2])
    else:
        (folder / "Posts.xml").unlink()
        write_7z(folder, archive)
    with pytest.raises(DumpError, match="holds no Posts.xml" if damage == "no posts"
                       else "not a readable 7z archive") as err:
        run([archive], tmp_path / "store")
    assert str(archive) in str(err.value)
    assert list((tmp_path / "store").iterdir()) == []


# ---------------------------------------------------------------- failures leave nothing
def test_failed_join_leaves_no_dataset_and_no_temp_dirs(tmp_path, monkeypatch):
    folder = write_world(tmp_path / SITE)
    store = tmp_path / "store"

    def broken_join(staging: Path, out_file: Path, memory_limit: str) -> int:
        out_file.write_bytes(b"half a parquet file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest_mod, "_join", broken_join)
    with pytest.raises(RuntimeError, match="disk full"):
        run([folder], store)
    assert list(store.iterdir()) == []
    assert DatasetStore(store).list() == []
    monkeypatch.undo()
    result = run([folder], store)  # and the next run builds it normally
    assert not result.reused and result.dataset.meta["rows"] == 12


def test_failure_while_staging_an_archive_leaves_nothing(tmp_path, monkeypatch):
    archive = write_7z(write_world(tmp_path / "src" / SITE), tmp_path / f"{SITE}.7z")
    store = tmp_path / "store"

    def broken(attrs):
        raise OSError("read error")

    monkeypatch.setattr(ingest_mod, "_user_row", broken)
    with pytest.raises(OSError, match="read error"):
        run([archive], store)
    assert list(store.iterdir()) == []


def test_failed_forced_rebuild_keeps_the_old_dataset(tmp_path, monkeypatch):
    folder = simple_site(tmp_path / SITE)
    first = run([folder], tmp_path / "store")
    monkeypatch.setattr(ingest_mod, "_join", lambda *a: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        run([folder], tmp_path / "store", force=True)
    kept = DatasetStore(tmp_path / "store").get(first.dataset.id)
    assert kept is not None and len(kept.to_pandas()) == 3
    assert [p.name for p in (tmp_path / "store").iterdir()] == [first.dataset.id]


# ---------------------------------------------------------------- CLI
def askwell(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASKWELL_HOME": str(home), "ASKWELL_SHARED_DATA": str(home / "none")}
    return subprocess.run(
        [str(ASKWELL), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.fixture()
def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "empty").mkdir()
    return {
        "empty folder": tmp_path / "empty",
        "not a dump": write_raw(tmp_path / "x" / "Posts.xml", b"<html>\n<p>hi</p>\n</html>\n"),
        "corrupt 7z": write_raw(tmp_path / "site.7z", b"not 7z" * 50),
    }


@pytest.mark.parametrize("case", ["empty folder", "not a dump", "corrupt 7z"])
def test_cli_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path, bad_inputs, case):
    proc = askwell("ingest", str(bad_inputs[case]), home=tmp_path / "home")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and str(bad_inputs[case]) in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""


def test_cli_without_inputs_or_shared_data_says_what_to_do(tmp_path):
    proc = askwell("ingest", home=tmp_path / "home")
    assert proc.returncode == 2
    assert "ASKWELL_SHARED_DATA" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_debug_shows_the_traceback(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = askwell("--debug", "ingest", str(tmp_path / "empty"), home=tmp_path / "home")
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "DumpError" in proc.stderr


def test_cli_json_output_is_parseable_and_reports_reuse(tmp_path):
    folder = write_world(tmp_path / SITE)
    first = askwell("ingest", str(folder), "--json", home=tmp_path / "home")
    assert first.returncode == 0, first.stderr
    payload = json.loads(first.stdout)
    assert payload["questions"] == 12 and payload["rows_read"] == 15
    assert payload["reused"] is False and payload["rejected"] == {}
    assert payload["path"] == str(tmp_path / "home" / "datasets" / payload["dataset_id"])
    assert [s["site"] for s in payload["sites"]] == [SITE]
    second = json.loads(askwell("ingest", str(folder), "--json", home=tmp_path / "home").stdout)
    assert second["reused"] is True and second["dataset_id"] == payload["dataset_id"]


def test_cli_table_output_names_the_dataset(tmp_path):
    from typer.testing import CliRunner

    from askwell.cli import app

    folder = simple_site(tmp_path / SITE)
    env = {"ASKWELL_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["ingest", str(folder)], env=env)
    assert result.exit_code == 0, result.output
    (ds,) = DatasetStore(tmp_path / "home" / "datasets").list()
    assert f"dataset {ds.id} written: 3 questions from 6 rows, 0 rejected" in result.output
    again = CliRunner().invoke(app, ["ingest", str(folder)], env=env)
    assert "reused (inputs unchanged)" in again.output


def test_cli_a_folder_of_site_dumps_ingests_every_site_in_it(tmp_path):
    parent = tmp_path / "dumps"
    write_world(parent / SITE)
    simple_site(parent / "cooking.stackexchange.com")
    (parent / "notes").mkdir()  # not a dump: ignored, like the MANIFEST beside real dumps
    proc = askwell("ingest", str(parent), "--json", home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert sorted(s["site"] for s in payload["sites"]) == [SITE, "cooking.stackexchange.com"]
    assert payload["questions"] == 12 + 3
