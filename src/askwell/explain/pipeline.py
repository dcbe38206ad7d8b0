"""One question, one pass: checks -> features -> filter -> model -> engine -> abstention.

The CLI, the service and batch scoring all analyse a question with
:meth:`AnalysisPipeline.analyze`, so they give the same answer for the same input. The
text is analysed once (by the checks) and that analysis feeds the filtering model, the
feature row, the outlier score and the recommendation engine.

Control flow (the book's chapter 10):

1. **Checks** (:func:`~askwell.explain.checks.check_question`): input that can't be read
   is declined (:class:`Declined`); input Stack Exchange itself would refuse (empty, a
   title under 15 characters, no body, no words, not English) is ``not_ready``.
2. **Filter** (:mod:`askwell.filtering`): a fast model that asks "is this a real,
   answerable question?". ``reject`` -> ``not_ready`` with its reason and advice and no
   score; ``unsure`` -> scored, with a warning and ``low_confidence``.
3. **Model + engine**: the calibrated probability, the verdict band, exact contributions
   and re-scored suggestions. The score is put next to the site's base rate and its
   percentile among the site's questions (:mod:`askwell.models.sites`).
4. **Abstention**: far from the training data, or too close to the threshold to call ->
   no verdict to act on; the statistics and the sure-fire fixes remain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from askwell.explain.checks import (
    MIN_BODY_CHARS,
    MIN_TITLE_CHARS,
    CheckedInput,
    Finding,
    OutlierReference,
    check_question,
)
from askwell.explain.engine import Analyzer
from askwell.explain.schema import Analysis, FilterResult, Notice, SiteInfo, Suggestion
from askwell.features.signals import TextAnalysis
from askwell.question import Question

#: Abstain below this confidence unless settings or the model say otherwise.
DEFAULT_ABSTAIN_BELOW = 0.05
#: Abstain when more than this share of the text features is far outside training.
DEFAULT_OOD_THRESHOLD = 0.06

ABSTAIN_MESSAGE = ("The model is not confident either way (confidence {confidence:.0%}), so it "
                   "gives no verdict; the writing statistics and sure-fire fixes still apply.")
UNSURE_MESSAGE = "This may not read as a question yet: {message}"


class Declined(Exception):
    """The input can't be analysed at all; ``message`` tells the writer what to do."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class FilterOutcomeLike(Protocol):
    """What the pipeline reads of a filtering model's outcome (:mod:`askwell.filtering`)."""

    @property
    def outcome(self) -> str: ...
    @property
    def p_question(self) -> float: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def message(self) -> str | None: ...
    @property
    def advice(self) -> str | None: ...
    @property
    def model(self) -> str: ...


class QuestionFilterLike(Protocol):
    """A filtering model: one outcome per question, from the request's text analysis."""

    def assess(self, question: Question, text: TextAnalysis) -> FilterOutcomeLike: ...


class SiteLookup(Protocol):
    """Site base rates and score distributions kept with the model (:mod:`askwell.models.sites`)."""

    def context(self, site: str | None) -> Any: ...

    def percentile(self, site: str | None, p: float) -> float | None: ...

    def sites(self) -> list[Any]: ...


def resolve_filter(spec: str | None) -> QuestionFilterLike | None:
    """The filtering model a setting names: ``default`` (packaged), ``off``, or a folder."""
    from pathlib import Path

    from askwell.filtering import default_filter, load_filter

    choice = (spec or "default").strip()
    if choice.lower() == "default":
        return default_filter()
    if choice.lower() in ("off", "none"):
        return None
    return load_filter(Path(choice))


def filter_identity(question_filter: QuestionFilterLike | None) -> str:
    """What names the filter in model keys: its name and version ("askwell-filter v1a2b..."),
    or "off". An answer depends on the filter as much as on the model, so a precomputed or
    cached answer made behind another filter must not match."""
    if question_filter is None:
        return "off"
    return str(getattr(question_filter, "name", type(question_filter).__name__))


def abstain_below(settings_value: float | None, model_meta: Mapping[str, Any] | None) -> float:
    """The confidence below which the service abstains: settings, else the model, else 0.05."""
    if settings_value is not None:
        return float(settings_value)
    serving = (model_meta or {}).get("serving") or {}
    got = serving.get("abstain_below")
    return float(got) if isinstance(got, int | float) else DEFAULT_ABSTAIN_BELOW


def high_certainty(suggestions: Sequence[Suggestion]) -> list[Suggestion]:
    """Suggestions worth showing even without a verdict: mechanical, medium gain or more."""
    return [s for s in suggestions if s.mechanical and s.severity in ("high", "medium")]


def apply_abstention(analysis: Analysis, reasons: Sequence[str],
                     threshold: float) -> tuple[Analysis, list[str]]:
    """Abstain when asked to (``reasons``) or when confidence is below ``threshold``; returns
    the analysis to show and every reason it abstained for (empty: it did not)."""
    reasons = list(reasons)
    findings = list(analysis.findings)
    warnings = list(analysis.warnings)
    if analysis.confidence is not None and analysis.confidence < threshold:
        reasons.append("low_confidence")
        message = ABSTAIN_MESSAGE.format(confidence=analysis.confidence)
        warnings.append(message)
        findings.append(Notice("low_confidence", "abstain", message))
    if not reasons:
        return analysis, []
    return dataclasses.replace(analysis, abstained=True, low_confidence=True, warnings=warnings,
                               findings=findings,
                               suggestions=high_certainty(analysis.suggestions)), reasons


PASTED_CODE_MESSAGE = ("Part of the body looks like code pasted without a code block, so the "
                       "text is hard to read.")
PASTED_CODE_ADVICE = "Put the code in a code block, then say in words what goes wrong."


def _pasted_code_is_not_gibberish(result: FilterResult, text: TextAnalysis) -> FilterResult:
    """A "does not read as sentences" rejection of a body with code pasted outside a code
    block becomes ``unsure``: the filter's gibberish examples are shuffled prose, never
    pasted code, and code lines the features' detector misses (``import x``) read to it as
    gibberish. Scored with a warning, the writer gets the code-block suggestion that fixes
    it (measured: the issue's pandas example, gibberish 0.93 unfenced, a pass fenced)."""
    if result.outcome != "reject" or result.reason != "gibberish" or not any(
            s.kind == "code_outside_block" for s in text.pasted):
        return result
    return dataclasses.replace(result, outcome="unsure", reason="pasted_code",
                               message=PASTED_CODE_MESSAGE, advice=PASTED_CODE_ADVICE)


def _keeps_postable(s: Suggestion, q: Question, text: TextAnalysis) -> bool:
    """An edit never takes the question under Stack Exchange's length rules (it would turn a
    scored question into a ``not_ready`` one): a shortening edit of a title or body near
    the limit is not offered."""
    if s.replacement is None or s.length is None:
        return True
    shrink = s.length - len(s.replacement)
    if shrink <= 0:
        return True
    if s.field == "title":
        return len(q.title.strip()) - shrink >= MIN_TITLE_CHARS
    if s.field == "body":
        return len(text.body.strip()) - shrink >= MIN_BODY_CHARS
    return True


def _notice(f: Finding) -> Notice:
    return Notice(f.code, f.action, f.message, f.advice)


@dataclass
class AnalysisPipeline:
    """Analyses questions with one model (and its filter). Build once; thread-safe."""

    analyzer: Analyzer
    question_filter: QuestionFilterLike | None = None
    outliers: OutlierReference | None = None
    sites: SiteLookup | None = None
    abstain_below: float = DEFAULT_ABSTAIN_BELOW
    ood_threshold: float = DEFAULT_OOD_THRESHOLD

    @classmethod
    def for_analyzer(cls, analyzer: Analyzer, *, question_filter: QuestionFilterLike | None = None,
                     settings_abstain: float | None = None,
                     ood_threshold: float = DEFAULT_OOD_THRESHOLD) -> AnalysisPipeline:
        """The pipeline for ``analyzer``'s model, with what its meta carries (outlier
        reference, site statistics, abstention threshold)."""
        meta: Mapping[str, Any] = getattr(analyzer.model, "meta", None) or {}
        return cls(analyzer, question_filter=question_filter,
                   outliers=OutlierReference.from_meta(meta), sites=_site_table(meta),
                   abstain_below=abstain_below(settings_abstain, meta), ood_threshold=ood_threshold)

    @property
    def model_ref(self) -> Any:
        return self.analyzer.model_ref

    # -- the pass ---------------------------------------------------------------------
    def analyze(self, question: Question, *, suggestions: bool = True) -> Analysis:
        """The whole analysis of one question; raises :class:`Declined` for unreadable input.
        ``suggestions=False`` scores only (batch scoring), on the same path."""
        checked = check_question(question)
        return self.analyze_checked(checked, suggestions=suggestions)

    def analyze_checked(self, checked: CheckedInput, *, suggestions: bool = True) -> Analysis:
        action = checked.action
        if action == "decline":
            f = checked.findings[0]
            raise Declined(f.code, f.message + (" " + f.advice if f.advice else ""),
                           413 if f.code == "too_large" else 422)
        q, text = checked.question, checked.text
        if action == "not_ready" or text is None:
            first = checked.first("not_ready") or Finding("empty", "The question is empty.")
            return self._not_ready(checked, FilterResult("reject", 0.0, first.code, first.message,
                                                         first.advice, "rules"))
        findings = list(checked.findings)
        result: FilterResult | None = None
        if self.question_filter is not None:
            outcome = self.question_filter.assess(q, text)
            result = FilterResult(outcome.outcome, float(outcome.p_question), outcome.reason,  # type: ignore[arg-type]
                                  outcome.message, outcome.advice, outcome.model)
            result = _pasted_code_is_not_gibberish(result, text)
            if result.outcome == "reject":
                return self._not_ready(checked, result)
            if result.outcome == "unsure":
                findings.append(Finding("filter_unsure",
                                        UNSURE_MESSAGE.format(message=result.message or "it is unclear "
                                                              "what is being asked."), result.advice))
        x = self.analyzer.matrix(q, text)
        if x is not None and self.outliers is not None:
            names = self.analyzer.feature_names
            ood = self.outliers.finding(dict(zip(names, x[0].tolist(), strict=True)), self.ood_threshold)
            if ood is not None:
                findings.append(ood)
        warnings = [f.message for f in findings if f.action in ("warn", "abstain")]
        analysis = self.analyzer.analyze(q, warnings, text=text, x=x, suggestions=suggestions)
        analysis = dataclasses.replace(
            analysis, filter=result, findings=[_notice(f) for f in findings],
            suggestions=[s for s in analysis.suggestions if _keeps_postable(s, q, text)],
            site=self._site(q.site), percentile=self._percentile(q.site, analysis.score))
        abstain = [f.code for f in findings if f.action == "abstain"]
        analysis, _ = apply_abstention(analysis, abstain, self.abstain_below)
        return analysis

    # -- pieces -----------------------------------------------------------------------
    def _site(self, site: str | None) -> SiteInfo:
        if self.sites is None:
            return SiteInfo(site, False, None, None, 0)
        c = self.sites.context(site)
        return SiteInfo(c.name, bool(c.known), c.kind, c.base_rate, int(c.questions))

    def _percentile(self, site: str | None, score: float | None) -> float | None:
        if self.sites is None or score is None:
            return None
        return self.sites.percentile(site, score)

    def _not_ready(self, checked: CheckedInput, result: FilterResult) -> Analysis:
        """No score: the reason, what to do, and the writing statistics."""
        from askwell.features import writing_stats

        q, text = checked.question, checked.text
        findings = [_notice(f) for f in checked.findings]
        if result.model != "rules":
            findings.insert(0, Notice("filter_reject", "not_ready", result.message or
                                      "This does not read as a question yet.", result.advice))
        stats = writing_stats(text) if text is not None else {}
        message = result.message or "This is not a question the model can score yet."
        return Analysis(
            score=None, verdict="not_ready", confidence=None,
            threshold=float(getattr(self.analyzer.model, "threshold", 0.5)),
            stats=stats, suggestions=[], model=self.analyzer.model_ref,
            warnings=[message], low_confidence=True, site=self._site(q.site),
            filter=result, findings=findings,
        )


def _site_table(meta: Mapping[str, Any]) -> SiteLookup | None:
    from askwell.models.sites import SiteTable

    return SiteTable.from_meta(meta)
