"""Vocabulary: word choice, diversity, stop words and rough part-of-speech shares.

The part-of-speech shares come from closed word lists and suffixes
(:mod:`askwell.features.lexicon`), not from a tagger: they are cheap proportions of
pronouns, determiners, modals and so on, good enough to describe style.
"""

from __future__ import annotations

from collections.abc import Callable

from askwell.features import lexicon
from askwell.features.signals import TextAnalysis
from askwell.features.spec import FeatureSpec, feature


def vocabulary_diversity(a: TextAnalysis) -> float:
    """Distinct words / words (type-token ratio) of title and prose; 0 without words.

    The book divided the number of tokens by itself; this counts distinct words.
    """
    st = a.word_stats
    return st.distinct / st.words if st.words else 0.0


def stop_word_share(a: TextAnalysis) -> float:
    st = a.word_stats
    return st.stop_words / st.words if st.words else 0.0


def avg_word_length(a: TextAnalysis) -> float:
    st = a.word_stats
    return st.letters / st.words if st.words else 0.0


def action_verbs(a: TextAnalysis) -> float:
    return float(a.word_stats.action_verbs)


def _pos_share(cls: str) -> Callable[[TextAnalysis], float]:
    index = lexicon.POS_CLASSES.index(cls)

    def compute(a: TextAnalysis) -> float:
        st = a.word_stats
        return st.pos[index] / st.words if st.words else 0.0

    compute.__name__ = f"share_{cls}"
    return compute


_POS_DESCRIPTIONS = {
    "pronoun": ("Pronouns", "personal and indefinite pronouns (I, it, they, someone)"),
    "first_person": ("First person", "first-person pronouns (I, me, my, we, our)"),
    "determiner": ("Determiners", "articles and determiners (the, a, this, each, some)"),
    "adposition": ("Prepositions", "prepositions (of, in, to, with, from)"),
    "conjunction": ("Conjunctions", "conjunctions (and, but, because, if)"),
    "modal": ("Modal verbs", "modal verbs (can, should, would, must)"),
    "auxiliary": ("Auxiliary verbs", "forms of be, have and do"),
    "wh_word": ("Question words", "wh-words (what, why, how, which)"),
    "adverb_ly": ("-ly adverbs", "words ending in -ly (suffix heuristic)"),
    "gerund_ing": ("-ing forms", "words ending in -ing (suffix heuristic)"),
    "nominalization": ("Nominalisations", "nouns made from verbs/adjectives: -tion, -ment, "
                       "-ness, -ity... (suffix heuristic)"),
}

SPECS: tuple[FeatureSpec, ...] = (
    feature("vocabulary_diversity", "Vocabulary diversity", "vocabulary",
            "Distinct words divided by words, title and prose, lower case (type-token ratio; "
            "falls as texts grow longer).",
            vocabulary_diversity, kind="ratio"),
    feature("stop_word_share", "Stop words", "vocabulary",
            "Share of words that are English stop words (the, is, of, ...).",
            stop_word_share, kind="ratio"),
    feature("avg_word_length", "Word length", "vocabulary",
            "Average letters per word of title and prose.",
            avg_word_length, kind="score", unit="letters"),
    feature("action_verbs", "Task verbs", "vocabulary",
            "Verbs naming a concrete task (install, convert, calculate, brew, ...), from a "
            "fixed list: the book's action-verb idea.",
            action_verbs, unit="words"),
    *(
        feature(f"{cls}_share", display, "vocabulary",
                f"Share of words that are {text}; closed word lists and suffixes, not a tagger.",
                _pos_share(cls), kind="ratio")
        for cls, (display, text) in _POS_DESCRIPTIONS.items()
    ),
)
