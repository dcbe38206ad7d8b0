"""Request and response bodies of the HTTP API (docs/api.md): one pydantic definition gives
validation, the OpenAPI schema and the docs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from askwell.explain.schema import Action, Category, FieldName, FilterOutcomeName, Severity, Verdict
from askwell.question import MAX_TAG_CHARS, MAX_TAGS, TagError, clean_tags

#: Fields that are stored (prediction log, feedback) hold no control characters: PostgreSQL
#: refuses NUL in text, and an identifier with control characters is no identifier.
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
#: Free text that is stored: line breaks and tabs are fine, other control characters are not.
TEXT_LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
#: A request id, as the service makes them (and as a client may send in X-Request-ID).
REQUEST_ID = r"^[A-Za-z0-9._-]{1,64}$"


TagList = Annotated[list[Annotated[str, StringConstraints(max_length=MAX_TAG_CHARS)]],
                    Field(max_length=MAX_TAGS)]
#: The same limits for the comma-separated form: at most 10 parts of at most 64 characters.
TagString = Annotated[str, StringConstraints(
    pattern=rf"^[^,;]{{0,{MAX_TAG_CHARS}}}([,;][^,;]{{0,{MAX_TAG_CHARS}}}){{0,{MAX_TAGS - 1}}}$")]


class AnalyzeRequest(BaseModel):
    """One question as the writer typed it. Offsets in the answer index these strings."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "title": "How do I keep my homebrew from going flat?",
        "body": "I bottled it two weeks ago with priming sugar...",
        "tags": ["carbonation"], "site": "beer.stackexchange.com"}]})

    title: str = Field(default="", description="The title, as typed.")
    body: str = Field(default="", description="The body (Markdown or HTML), as typed.")
    tags: TagList | TagString = Field(
        default_factory=list,
        description=f"Tags: a list, or one comma-separated string; at most {MAX_TAGS} tags of "
                    f"at most {MAX_TAG_CHARS} characters.")
    site: str | None = Field(default=None, max_length=200, pattern=NO_CONTROL,
                             description="e.g. stackoverflow.com")

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str] | str) -> list[str]:
        # The schema bounds the list as sent; how many tags a string or an item splits into
        # ("a b, c") only the rule can count, so that refusal is about content ("tags").
        try:
            return list(clean_tags(v))
        except TagError as exc:
            raise PydanticCustomError("tags", str(exc)) from exc


class SuggestionOut(BaseModel):
    id: str
    feature: str
    message: str
    category: Category
    severity: Severity
    gain: float = Field(description="Rise in score when the edit is made (re-scored).")
    mechanical: bool
    field: FieldName | None = None
    start: int | None = Field(
        default=None,
        description="Python str index into `field` as sent; apply one suggestion, then re-analyse.")
    length: int | None = None
    replacement: str | None = None
    detail: str | None = None


class ModelOut(BaseModel):
    family: str
    name: str
    version: str
    dataset_id: str | None = None


class FilterOut(BaseModel):
    """The filter in front of the model: is this a real, answerable question?"""

    outcome: FilterOutcomeName = Field(
        description="pass: scored. unsure: scored, with a warning and low_confidence. "
                    "reject: verdict not_ready, no score.")
    p_question: float = Field(description="The filtering model's calibrated probability that "
                                          "this is a real, answerable question (0 when a "
                                          "posting rule decided).")
    reason: str | None = Field(default=None, description="Why, as a code: empty, no_body, "
                               "title_too_short, not_english, greeting, answer_like, spam, ...")
    message: str | None = Field(default=None, description="What is wrong, for the writer.")
    advice: str | None = Field(default=None, description="What to do about it.")
    model: str = Field(description="'rules' (Stack Exchange's posting rules) or the filtering "
                                   "model's name and version.")


class SiteOut(BaseModel):
    name: str | None = Field(description="The site the score is relative to (null: other).")
    known: bool = Field(description="Whether the model saw questions of this site in training.")
    kind: str | None = Field(default=None, description="main | meta")
    base_rate: float | None = Field(
        default=None, description="Share of the site's training questions that were well "
                                  "received (the site kind's, or all sites', when unknown).")
    questions: int = Field(default=0, description="Training questions from this site.")


class NoticeOut(BaseModel):
    code: str = Field(description="Stable code of the input check, e.g. too_short, truncated, "
                                  "not_english, out_of_distribution, filter_unsure.")
    action: Action = Field(description="What it led to: not_ready, abstain or warn.")
    message: str
    advice: str | None = None


class AnalyzeResponse(BaseModel):
    request_id: str
    score: float | None = Field(
        description="Calibrated probability (0-1) that the question is well received; null "
                    "when the verdict is not_ready.")
    verdict: Verdict = Field(description="strong / fine / at_risk / likely_closed, relative to "
                                         "the model's threshold; not_ready when the filter "
                                         "found no question to score (see `filter`).")
    confidence: float | None = Field(
        description="How far the score is from the model's decision threshold, relative to "
                    "the room on that side (0: at the threshold, 1: at 0 or 1); null when "
                    "not_ready.")
    threshold: float
    stats: dict[str, float]
    suggestions: list[SuggestionOut]
    model: ModelOut
    warnings: list[str] = Field(default_factory=list)
    low_confidence: bool = False
    fallback: bool = Field(default=False, description="The rule-based fallback model answered.")
    abstained: bool = Field(default=False, description="No verdict: only statistics and sure fixes.")
    site: SiteOut | None = None
    percentile: float | None = Field(
        default=None, description="Share (0-100) of the site's questions that scored lower, "
                                  "among those the model was not fit on (its calibration and "
                                  "held-out sides; ties count half): 'better received than 70% "
                                  "of questions on ...' (below 1: 'in the bottom 1%', from 99: "
                                  "'in the top 1%').")
    filter: FilterOut | None = Field(default=None, description="The filter's outcome (null when "
                                     "no filter ran).")
    findings: list[NoticeOut] = Field(default_factory=list,
                                      description="Every input-check finding, with its code.")
    cached: bool = False
    source: Literal["precomputed", "computed"] = Field(
        default="computed", description="precomputed: a batch job's answer for this model and "
                                        "input (askwell batch score); computed: on the spot.")
    latency_ms: float


class SitesResponse(BaseModel):
    sites: list[SiteOut] = Field(description="Sites the served model knows, most questions first.")
    model: ModelOut


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable: invalid_request, empty, binary, not_text, "
                                  "too_large, rate_limited, unauthorized, forbidden, not_found, "
                                  "not_ready, internal, ...")
    message: str = Field(description="What to do, in plain words.")
    request_id: str | None = None
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[AnalyzeRequest] = Field(min_length=1)


class BatchResponse(BaseModel):
    results: list[AnalyzeResponse | ErrorResponse] = Field(
        description="One per question, in order: an analysis, or an error for that question.")


FeedbackKind = Literal["helpful", "not_helpful", "verdict_wrong", "applied", "reanalyzed", "time_to_next"]


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(pattern=REQUEST_ID, description="The request_id an analysis returned.")
    kind: FeedbackKind
    suggestion_id: str | None = Field(default=None, max_length=100, pattern=NO_CONTROL)
    value: float | None = Field(default=None, allow_inf_nan=False, strict=True,
                                description="A JSON number (not a string or a boolean).")
    comment: str | None = Field(default=None, max_length=2000, pattern=TEXT_LINES)


class FeedbackResponse(BaseModel):
    ok: bool = True


class ServedModel(BaseModel):
    role: str = Field(description="champion | previous | fallback")
    model: ModelOut
    source: str
    loaded_at: str | None = None
    threshold: float | None = None
    abstain_below: float | None = None
    card: dict[str, Any] = Field(default_factory=dict)


class ModelsResponse(BaseModel):
    champion: ServedModel | None
    previous: ServedModel | None = None
    challenger: ServedModel | None = None
    fallback: ServedModel
    error: str | None = Field(default=None, description="Why no model is loaded, if none is.")


class PrecomputedLoad(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=4096, pattern=NO_CONTROL,
                      description="A finished `askwell batch score --suggestions` output folder "
                                  "on the service's machine.")


class PrecomputedLoaded(BaseModel):
    path: str
    model_key: str
    loaded: int = Field(description="Answers loaded (inserted or replaced).")
    entries: int = Field(description="Precomputed answers stored for that model now.")
    skipped_author_context: int = Field(description="Rows scored with the author's history "
                                                    "(the service never sees it): not loaded.")
    serving: bool | None = Field(description="Whether that model is the one serving now (its "
                                             "answers are used only while it serves).")


class AdminResponse(BaseModel):
    status: str = Field(description="swapped | unchanged | started | rolled_back")
    from_model: ModelOut | None = None
    to_model: ModelOut | None = None
    detail: str | None = None


class HealthResponse(BaseModel):
    status: str
    model: ModelOut | None = None
    detail: str | None = None


class EventOut(BaseModel):
    id: int
    created_at: datetime | None = None
    kind: str = Field(description="load | swap | rollback | reload_failed | load_failed")
    actor: str | None = None
    from_name: str | None = None
    from_version: str | None = None
    to_name: str | None = None
    to_version: str | None = None
    to_source: str | None = None
    detail: str | None = None


class EventsResponse(BaseModel):
    events: list[EventOut] = Field(description="Newest first.")
