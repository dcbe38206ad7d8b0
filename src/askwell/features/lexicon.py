"""Small closed word lists behind the vocabulary and part-of-speech-share features.

This is deliberately *not* a part-of-speech tagger. English closed-class words
(pronouns, determiners, adpositions, conjunctions, modals, auxiliaries, wh-words) are
listed here and looked up per distinct word; open classes are approximated by suffixes
(``-ly`` adverbs, ``-ing`` forms, ``-tion``/``-ment``/... nominalisations). An ambiguous
word such as "that" or "since" is put in one class whatever its use ("I" counts as a
pronoun and as first person), so the shares are rough proportions, cheap enough (one
cached look-up per distinct word) for the interactive path. Non-English text simply
scores low on every share. No tagger is used: even these cheap shares mostly did not earn
their place (8 of 11 were dropped, see ``askwell.features.registry.DROPPED``), so a real
tagger (spaCy, milliseconds a question) is not worth its latency here.
"""

from __future__ import annotations


def word_set(text: str) -> frozenset[str]:
    """A set of words typed as one white-space separated string."""
    return frozenset(text.split())


#: English stop words (the classic 179-word list used by NLTK/Snowball, plus the
#: apostrophe-less contractions our tokeniser produces), typed out so nothing is downloaded.
STOP_WORDS: frozenset[str] = word_set("""
    i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
    yourselves he him his himself she she's her hers herself it it's its itself they them
    their theirs themselves what which who whom this that that'll these those am is are was
    were be been being have has had having do does did doing a an the and but if or because
    as until while of at by for with about against between into through during before after
    above below to from up down in out on off over under again further then once here there
    when where why how all any both each few more most other some such no nor not only own
    same so than too very s t can will just don don't should should've now d ll m o re ve y
    ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven
    haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn
    shouldn't wasn wasn't weren weren't won won't wouldn wouldn't i'm i've i'd i'll
    """)

PRONOUNS = word_set("""
    i me my mine myself we us our ours ourselves you your yours yourself yourselves he him
    his himself she her hers herself it its itself they them their theirs themselves i'm
    i've i'd i'll we're we've you're you've you'll he's she's it's they're they've someone
    anyone everyone something anything everything nothing nobody somebody anybody
    everybody
    """)
FIRST_PERSON = word_set("i me my mine myself we us our ours ourselves i'm i've i'd i'll we're we've")
DETERMINERS = word_set("""
    a an the this that these those each every some any no all both either neither another
    such many much few several
    """)
ADPOSITIONS = word_set("""
    about above across after against along among around at before behind below beneath
    beside besides between beyond by despite down during except for from in inside into
    like near of off on onto out outside over past per through throughout till to toward
    towards under underneath upon via with within without
    """)
CONJUNCTIONS = word_set("and or but nor so yet because although though while whereas if unless since than")
MODALS = word_set("""
    can could may might must shall should will would ought cannot can't couldn't won't
    wouldn't shouldn't mustn't mightn't shan't
    """)
AUXILIARIES = word_set("""
    am is are was were be been being have has had having do does did isn't aren't wasn't
    weren't haven't hasn't hadn't don't doesn't didn't
    """)
WH_WORDS = word_set("what which who whom whose when where why how whether")

#: Verbs that name a concrete task ("convert", "install", "brew"): the book's "action
#: verb" idea, done as a word list instead of its three-word string test.
ACTION_VERBS = word_set("""
    add adjust apply avoid build calculate change check choose clean compare compile
    compute configure connect convert copy create debug decide define delete deploy design
    detect determine disable display download enable estimate evaluate export extract filter
    find fix format generate get handle identify implement import improve increase install
    integrate keep load make measure merge migrate modify move open optimize optimise parse
    plot prevent print process prove read reduce remove rename render replace reset resolve
    restore run save scale select send set setup show solve sort split start stop store
    test train transform translate update upgrade upload use validate verify write brew
    ferment roast grind print calibrate level mount tune
    """)

#: Part-of-speech classes reported as shares, in feature order.
POS_CLASSES: tuple[str, ...] = (
    "pronoun",
    "first_person",
    "determiner",
    "adposition",
    "conjunction",
    "modal",
    "auxiliary",
    "wh_word",
    "adverb_ly",
    "gerund_ing",
    "nominalization",
)

NOMINAL_SUFFIXES = ("tion", "sion", "ment", "ness", "ity", "ance", "ence", "ism")
_NOT_ADVERB_LY = word_set("only reply apply supply family early fly july italy ugly holy")
_NOT_GERUND = word_set("thing something anything nothing everything string during spring king ring")


def _closed_class_map() -> dict[str, tuple[int, ...]]:
    sets = {
        "pronoun": PRONOUNS,
        "first_person": FIRST_PERSON,
        "determiner": DETERMINERS,
        "adposition": ADPOSITIONS,
        "conjunction": CONJUNCTIONS,
        "modal": MODALS,
        "auxiliary": AUXILIARIES,
        "wh_word": WH_WORDS,
    }
    out: dict[str, list[int]] = {}
    for index, cls in enumerate(POS_CLASSES):
        for word in sets.get(cls, ()):
            out.setdefault(word, []).append(index)
    return {w: tuple(ix) for w, ix in out.items()}


#: word -> indices into :data:`POS_CLASSES` (a first-person pronoun is also a pronoun).
CLOSED_CLASS_INDEX: dict[str, tuple[int, ...]] = _closed_class_map()
_ADVERB = POS_CLASSES.index("adverb_ly")
_GERUND = POS_CLASSES.index("gerund_ing")
_NOMINAL = POS_CLASSES.index("nominalization")


def word_classes(word: str) -> tuple[int, ...]:
    """Indices into :data:`POS_CLASSES` for one lower-case word (closed list, then suffix)."""
    found = CLOSED_CLASS_INDEX.get(word)
    if found is not None:
        return found
    if len(word) > 4:
        if word.endswith("ly") and word not in _NOT_ADVERB_LY:
            return (_ADVERB,)
        if word.endswith("ing") and word not in _NOT_GERUND:
            return (_GERUND,)
        if word.endswith(NOMINAL_SUFFIXES):
            return (_NOMINAL,)
    return ()
