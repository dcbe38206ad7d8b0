"""The filter's features: cheap measurements of a :class:`TextAnalysis`.

The request's one analysis (``askwell.features.analyze_text``) is reused: the body is
not parsed again. The filter reads what the main model's features have already
computed (words, signal counts, word statistics, structure counts), plus a few regex
counts over a bounded prefix of the text, so the cost stays flat for a 30,000-character
input. The one learnt part is :class:`Vocabulary`: the commonest words and word pairs
of training questions, whose share in a text tells sentences from shuffled words,
keyboard mash and other scripts.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice, pairwise

from askwell.features.signals import TextAnalysis

#: Characters of title + prose read by the character-level counts (the rest is skipped:
#: the share of capitals or of other scripts is clear from a prefix).
SAMPLE_CHARS = 4000
#: Words read for the vocabulary shares.
SAMPLE_WORDS = 300

_UPPER = re.compile(r"[A-ZÀ-ÖØ-Þ]")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ɏ]")
_URL = re.compile(r"https?://|www\.", re.I)
_DIGIT = re.compile(r"\d")

_Q_START = frozenset(["how", "what", "why", "which", "where", "when", "who", "whom", "whose", "is", "are", "am", "can", "could", "should", "would", "does", "do", "did", "will", "has", "have", "any", "was", "were", "shall", "may", "might"])
_Q_CUES = frozenset(["how", "what", "why", "which", "where", "when", "who", "whose", "possible", "way", "wondering", "anyone", "anybody", "somebody", "someone", "question", "know", "understand", "explain", "help"])
_ANSWER_CUES = frozenset(["you", "your", "you're", "yours", "should", "try", "instead", "answer", "recommend", "suggest", "yes", "simply", "solution", "use", "using", "need'll", "you'll", "you've"])
_COMMENT_CUES = frozenset(["thanks", "thank", "same", "me", "too", "agree", "comment", "edit", "sorry", "update", "bump", "lol", "nice", "great"])
_SPAM_CUES = frozenset(["buy", "cheap", "discount", "free", "offer", "price", "prices", "order", "visit", "click", "call", "whatsapp", "sale", "best", "quality", "service", "services", "deal", "deals", "shipping", "contact", "website", "casino", "loan", "loans", "seo", "followers", "guaranteed", "affordable", "trusted", "coupon", "lowest", "online", "today", "provider", "company"])
_FIRST_PERSON = frozenset(["i", "i'm", "i've", "i'd", "my", "me", "we", "our", "myself", "mine"])
_OPINION_CUES = frozenset(["favourite", "favorite", "favourites", "favorites", "best", "worst", "opinion", "opinions", "think", "thoughts", "prefer", "vote", "poll", "overrated", "everyone", "everybody", "guys", "yours", "better"])
_EMOTION_CUES = frozenset(["hate", "hated", "sick", "tired", "fed", "furious", "angry", "annoyed", "annoying", "ridiculous", "stupid", "idiot", "idiots", "useless", "awful", "terrible", "horrible", "pathetic", "disgusting", "crap", "damn", "ugh", "vent", "ashamed", "worst", "waste", "rant", "joke"])

FEATURE_NAMES: tuple[str, ...] = (
    "title_chars", "title_words", "title_qmark", "title_starts_q", "title_caps",
    "title_vocab", "title_spam_cues",
    "body_chars", "prose_chars", "prose_words", "body_qmarks", "sentences",
    "words_per_sentence", "code_share", "code_blocks", "inline_code", "links", "images",
    "lists", "pasted_code", "error_lines", "urls", "digit_share", "letter_share",
    "caps_share", "non_latin_share", "distinct_ratio", "top_word_share", "max_word_len",
    "vocab_share", "bigram_share", "stop_share", "q_cues", "answer_cues", "comment_cues",
    "spam_cues", "first_person", "opinion_cues", "emotion_cues", "title_in_body",
    "body_in_title",
    "greeting", "thanks", "urgency", "begging", "tried", "expected_actual", "goal",
    "not_working", "exclamation_run", "caps_words", "lowercase_start",
)
_SIGNALS = ("greeting", "thanks", "urgency", "begging", "tried", "expected_actual", "goal",
            "not_working", "exclamation_run", "all_caps", "lowercase_start")


@dataclass(frozen=True)
class Vocabulary:
    """The commonest words and adjacent word pairs of the training questions."""

    words: frozenset[str]
    bigrams: frozenset[tuple[str, str]]

    @classmethod
    def learn(cls, word_lists: Iterable[Sequence[str]], n_words: int = 3000,
              n_bigrams: int = 5000) -> Vocabulary:
        """Count each text's first :data:`SAMPLE_WORDS` words (as features read them)."""
        uni: Counter[str] = Counter()
        bi: Counter[tuple[str, str]] = Counter()
        for words in word_lists:
            head = list(islice(words, SAMPLE_WORDS))
            uni.update(set(head))
            bi.update(set(pairwise(head)))
        # ties broken by the text itself, so the same data always gives the same table
        top_words = sorted(uni.items(), key=lambda kv: (-kv[1], kv[0]))[:n_words]
        top_pairs = sorted(bi.items(), key=lambda kv: (-kv[1], kv[0]))[:n_bigrams]
        return cls(frozenset(w for w, _ in top_words), frozenset(p for p, _ in top_pairs))

    def to_json(self) -> dict[str, list]:
        return {"words": sorted(self.words), "bigrams": [list(p) for p in sorted(self.bigrams)]}

    @classmethod
    def from_json(cls, payload: dict[str, list]) -> Vocabulary:
        return cls(frozenset(payload["words"]),
                   frozenset((str(a), str(b)) for a, b in payload["bigrams"]))


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _count(words: Sequence[str], cues: frozenset[str]) -> int:
    return sum(1 for w in words if w in cues)


def filter_features(a: TextAnalysis, vocab: Vocabulary) -> list[float]:
    """One row of :data:`FEATURE_NAMES` for an analysed question."""
    title, prose, body = a.title, a.prose, a.body
    title_words, body_words = a.title_words, a.body_words
    words = a.words
    n_words = len(words)
    sample = (title + "\n" + prose)[:SAMPLE_CHARS]
    letters = len(_LETTER.findall(sample))
    non_space = len(sample) - sample.count(" ") - sample.count("\n")
    title_letters = len(_LETTER.findall(title[:SAMPLE_CHARS]))
    head = words[:SAMPLE_WORDS]
    pairs = list(pairwise(head))
    counts = a.word_counts
    spans = a.span_counts
    signals = a.signal_counts
    stats = a.word_stats
    title_set = set(title_words)
    body_set = set(body_words[:SAMPLE_WORDS])
    n_sent = a.sentence_count
    return [
        math.log1p(len(title)),
        float(len(title_words)),
        float("?" in title),
        float(bool(title_words) and title_words[0] in _Q_START),
        _share(len(_UPPER.findall(title[:SAMPLE_CHARS])), title_letters),
        _share(_count(title_words, vocab.words), len(title_words)),
        float(_count(title_words, _SPAM_CUES)),
        math.log1p(len(body)),
        math.log1p(a.prose_chars),
        math.log1p(len(body_words)),
        float(min(prose.count("?"), 50)),
        float(n_sent),
        _share(n_words, n_sent),
        _share(a.document.code_chars, len(body)),
        float(spans["code_block"]),
        float(spans["inline_code"]),
        float(spans["link"]),
        float(spans["image"]),
        float(spans["list"]),
        float(signals["code_outside_block"]),
        float(signals["error_outside_code"]),
        float(len(_URL.findall(sample))),
        _share(len(_DIGIT.findall(sample)), non_space),
        _share(letters, non_space),
        _share(len(_UPPER.findall(sample)), letters),
        _share(letters - len(_LATIN.findall(sample)), letters),
        _share(len(counts), n_words),
        _share(max(counts.values(), default=0), n_words),
        float(min(max((len(w) for w in head), default=0), 60)),
        _share(_count(head, vocab.words), len(head)),
        _share(sum(1 for p in pairs if p in vocab.bigrams), len(pairs)),
        _share(stats.stop_words, n_words),
        _share(_count(head, _Q_CUES), len(head)),
        _share(_count(head, _ANSWER_CUES), len(head)),
        _share(_count(head, _COMMENT_CUES), len(head)),
        _share(_count(head, _SPAM_CUES), len(head)),
        _share(_count(head, _FIRST_PERSON), len(head)),
        _share(_count(head, _OPINION_CUES), len(head)),
        _share(_count(head, _EMOTION_CUES), len(head)),
        _share(len(title_set & body_set), len(title_set)),
        _share(len(body_set - title_set), len(body_set)) if body_set else -1.0,
        *(float(signals[k]) for k in _SIGNALS),
    ]
