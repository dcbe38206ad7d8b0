"""Generated negatives: degradations of real questions, and spam from templates.

The dumps hold the questions that survived; the worst inputs a writer can type were
deleted before any dump was made (representation bias). So the filter also learns from
inputs made here: a real question with its body emptied, reduced to a greeting or to
"same problem here", its words shuffled, written in capitals, replaced by a link or by
its code alone, transliterated into another script; and from templates filled with the
question's tags, advertisements, opinion polls and rants (the last two join the
closed-question classes ``opinion`` and ``off_topic``, which only ever warn).

Each generated example keeps the site, author and split side of the question it came
from, so nothing made from a held-out question is ever trained on.

Bias, said plainly: the degradations are mechanical and in English; the spam is a small
template set (products, services, phone numbers, links) written for this project, and
the polls and rants are a few dozen phrasings, so the filter knows these shapes of
junk and not others (SEO spam hidden in plausible text,
scams written as questions, machine-written filler). Figures on generated junk measure
how well it learnt these shapes, not how it fares on the world's junk.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from askwell.data.document import parse_body
from askwell.filtering.data import Example

_PRE = re.compile(r"<pre[^>]*>.*?</pre>", re.S | re.I)
_TEXT_RUN = re.compile(r"(^|>)([^<]+)")
_ENTITY = re.compile(r"&([A-Za-z]+|#x?[0-9A-Fa-f]+);")

GREETINGS = ("Hi all,", "Hello everyone!", "Hi,", "Hey guys", "Good morning,", "Hello",
             "Dear experts,", "Hi there!", "Greetings,", "Hey!")
THANKS = ("Thanks in advance!", "Any help is appreciated.", "Thank you so much.",
          "Please help.", "Cheers", "Thanks!!", "Thank you for your time.",
          "Help would be great, thanks", "Regards", "TIA")
SAME = ("Same problem here.", "I have the same issue, any update?", "+1, same here",
        "Me too.", "Did you ever find a solution?", "Any news on this?", "bump",
        "This is still happening for me.", "Same for me, did anyone fix it?",
        "I'm facing the exact same thing", "same", "Any solution yet??")
DOMAINS = ("imgur.com", "pastebin.com", "github.com", "dropbox.com", "bit.ly", "youtu.be",
           "drive.google.com", "example.org", "docs.example.net", "tinyurl.com")

#: Spam slots and templates (see the module docstring for their bias).
_PRODUCTS = ("cheap flights", "weight loss pills", "SEO services", "replica watches",
             "CBD oil", "essay writing", "web design", "car rental", "crypto trading bot",
             "packers and movers", "instagram followers", "escort service", "VPN deals",
             "keto gummies", "personal loans", "online casino")
_CITIES = ("Delhi", "Dubai", "London", "New York", "Lagos", "Mumbai", "Toronto", "Sydney")
_SPAM_TITLES = (
    "Best {p} in {c}", "{P} - 50% OFF today only", "Buy {p} online cheap",
    "Top quality {p} call {phone}", "{p} {c} | trusted and affordable",
    "Get {p} now!!!", "Looking for {p}? Visit {url}", "#1 {p} provider in {c}",
    "{P} at lowest price", "Whatsapp {phone} for {p}",
)
_SPAM_BODIES = (
    "We offer the best {p} in {c} at the lowest price. Call us at {phone} or visit {url}.",
    "Are you looking for {p}? Our experts provide 100% guaranteed results. Order now: {url}",
    "Get {p} with free shipping worldwide. Limited offer! Contact {phone}.",
    "{P} available 24/7. Fast, safe and discreet. Click here: {url}",
    "Hello friends, I found this amazing {p} website {url} , check it out and save money!!",
    "Trusted {p} company in {c}. Affordable rates, professional team. Whatsapp {phone}",
    "Best deal on {p}: {url} . Use coupon SAVE50 for a discount.",
    "<p>Buy {p}</p><p><a href=\"{url}\">{url}</a></p><p>Call {phone}</p>",
    "Visit {url} for {p}. We also provide {p2} and {p3}. Contact us today!",
    "I recommend {url} for anyone who needs {p}, they are the best in {c}.",
)


def _plain(example: Example) -> str:
    return parse_body(example.body).text


def _title_variant(title: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return title
    if roll < 0.85:
        return " ".join(title.split()[: rng.randint(1, 3)])
    return rng.choice(("x", "help", "question", "?", "problem", "Help me", "pls"))


def empty_body(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    body = rng.choice(("", " ", "\n\n", "<p></p>", "<p>&nbsp;</p>", "<br>", ".", "<p> </p>",
                       "?", "..."))
    return _title_variant(q.title, rng), body


def title_only(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    body = rng.choice((q.title, q.title + "?", "As in the title.", "See title.",
                       "Title says it all.", f"<p>{q.title}</p><p>Thanks</p>",
                       f"{q.title} {q.title}", "The question is in the title."))
    return q.title, body


def greeting(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    parts = [rng.choice(GREETINGS)] if rng.random() < 0.8 else []
    parts += [rng.choice(THANKS)] if not parts or rng.random() < 0.7 else []
    title = q.title if rng.random() < 0.6 else rng.choice(("Hello", "Hi", "Question", "Help",
                                                          "Hi everyone", "Quick question"))
    return title, " ".join(parts)


def comment_like(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    roll = rng.random()
    title = q.title if roll < 0.5 else (f"Re: {q.title}" if roll < 0.7 else rng.choice(SAME))
    return title, rng.choice(SAME)


def gibberish(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.6:  # the question's own words, shuffled
        words = (q.title + " " + _plain(q)).split()
        rng.shuffle(words)
        cut = max(1, min(len(words) // 5, 12))
        return " ".join(words[:cut]), " ".join(words[cut:])
    if roll < 0.8:  # keyboard mash
        letters = "asdfghjklqwertyuiopzxcvbnm"
        mash = " ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 12)))
                        for _ in range(rng.randint(3, 80)))
        return mash[: rng.randint(5, 40)], mash
    word = rng.choice(q.title.split() or ["test"])  # one word, over and over
    repeat = rng.choice((20, 200, 2000, 6000))
    return rng.choice((word, q.title)), " ".join([word] * repeat)


def _upper_html(html: str) -> str:
    up = _TEXT_RUN.sub(lambda m: m.group(1) + m.group(2).upper(), html)
    return _ENTITY.sub(lambda m: m.group(0).lower(), up)


def all_caps(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    return q.title.upper(), _upper_html(q.body) if rng.random() < 0.7 else q.body


def _url(q: Example, rng: random.Random) -> str:
    slug = "-".join(w.lower() for w in re.findall(r"[A-Za-z0-9]+", q.title)[:6]) or "page"
    return rng.choice((f"https://{rng.choice(DOMAINS)}/{slug}",
                       f"http://{rng.choice(DOMAINS)}/{rng.randrange(10**6, 10**8):x}",
                       f"https://www.{rng.choice(DOMAINS)}/?q={slug}"))


def url_only(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    url = _url(q, rng)
    body = rng.choice((url, f"<p>{url}</p>", f'<p><a href="{url}">{url}</a></p>',
                       f"see {url}", f"{url}\n{_url(q, rng)}", f"[link]({url})"))
    return _title_variant(q.title, rng), body


def code_only(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    blocks = _PRE.findall(q.body) or ([rng.choice(pool)] if pool else [])
    if not blocks:
        blocks = ["<pre><code>x = foo(bar)\nprint(x)\n</code></pre>"]
    return _title_variant(q.title, rng), "\n".join(blocks[: rng.randint(1, 2)])


_SCRIPTS = (
    dict(zip("abcdefghijklmnopqrstuvwxyz", "абцдефгхийклмнопярстуввхыз", strict=True)),
    dict(zip("abcdefghijklmnopqrstuvwxyz", "αβψδεφγηιξκλμνοπθρστυωςχυζ", strict=True)),
)
_CJK = "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话"


def other_script(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    text = q.title + "\n" + _plain(q)
    if rng.random() < 0.35:  # CJK: characters, few spaces
        out = "".join(rng.choice(_CJK) if c.isalpha() else c for c in text if not c.isspace()
                      or rng.random() < 0.1)
    else:
        table = rng.choice(_SCRIPTS)
        out = "".join(table.get(c.lower(), c) for c in text)
    title, _, body = out.partition("\n")
    return title or out[:30], body


def spam(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    p, p2, p3 = rng.sample(_PRODUCTS, 3)
    slots = {"p": p, "P": p.title(), "p2": p2, "p3": p3, "c": rng.choice(_CITIES),
             "phone": f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
             "url": f"https://www.{p.split()[0].lower()}-{rng.choice(('best', 'top', 'deal', 'pro'))}"
                    f".{rng.choice(('com', 'net', 'in', 'xyz'))}"}
    return rng.choice(_SPAM_TITLES).format(**slots), rng.choice(_SPAM_BODIES).format(**slots)


def _topic(q: Example, rng: random.Random) -> str:
    if q.tags:
        return rng.choice(q.tags).replace("-", " ")
    words = [w for w in re.findall(r"[A-Za-z]{4,}", q.title)]
    return rng.choice(words).lower() if words else "this"


_POLL_TITLES = ("What is your favourite {x}?", "Which {x} is the best?", "Poll: {x} or {y}?",
                "What do you all think about {x}?", "Best {x} ever?", "Who else loves {x}?",
                "{X}: overrated or not?", "Your top 5 {x}", "Is {x} better than {y}?")
_POLL_BODIES = ("Just curious what everyone thinks.", "Let's discuss! Post yours below.",
                "I want to hear your opinions.", "Vote for your favourite and say why.",
                "I think {x} is overrated, what about you?", "Share your thoughts!",
                "Personally I prefer {y}. Opinions?", "Everyone has a favourite, what's yours?",
                "")
_RANT_TITLES = ("{X} is a joke", "Why is everything about {x} so bad", "I am done with {x}",
                "{X} ruined my weekend", "So fed up with {x}", "Nobody cares about {x} anymore",
                "Ugh, {x} again", "{X} makes me furious")
_RANT_SENTENCES = ("I'm so tired of this.", "Nobody ever listens.", "It's ridiculous!!!",
                   "Every single time it breaks and nobody cares.",
                   "This is the most frustrating thing I have ever dealt with.",
                   "Whoever designed {x} should be ashamed.", "Just needed to vent.",
                   "I hate how people keep defending {x}.", "What a waste of money and time.",
                   "Honestly the people here are useless.", "Never again.",
                   "My neighbour thinks {x} is fine, he is an idiot.",
                   "Thanks for nothing.", "I give up.")


def opinion_poll(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    x, y = _topic(q, rng), _topic(q, rng)
    slots = {"x": x, "X": x.capitalize(), "y": y if y != x else "the alternatives"}
    return rng.choice(_POLL_TITLES).format(**slots), rng.choice(_POLL_BODIES).format(**slots)


def rant(q: Example, rng: random.Random, pool: Sequence[str]) -> tuple[str, str]:
    x = _topic(q, rng)
    slots = {"x": x, "X": x.capitalize()}
    body = " ".join(rng.sample(_RANT_SENTENCES, rng.randint(2, 5))).format(**slots)
    return rng.choice(_RANT_TITLES).format(**slots), body


Maker = Callable[[Example, random.Random, Sequence[str]], tuple[str, str]]
#: Generated class -> how to make one from a real question.
MAKERS: dict[str, Maker] = {
    "empty_body": empty_body, "title_only": title_only, "greeting": greeting,
    "comment_like": comment_like, "gibberish": gibberish, "all_caps": all_caps,
    "url_only": url_only, "code_only": code_only, "other_script": other_script,
    "spam": spam, "opinion": opinion_poll, "off_topic": rant,
}


def generate(questions: Sequence[Example], seed: int) -> list[Example]:
    """One generated negative per real question, the kinds dealt round-robin over a
    seeded shuffle of the questions (so each kind gets about the same number, from every
    site), each on the side of its source question. Code-only bodies of questions
    without code borrow a code block from another question of the same side."""
    rng = random.Random(seed)
    pools: dict[str, list[str]] = {}
    for q in questions:
        blocks = _PRE.findall(q.body)
        if blocks:
            pools.setdefault(q.side, []).append(blocks[0][:2000])
    kinds = list(MAKERS)
    order = list(questions)
    rng.shuffle(order)
    out: list[Example] = []
    for i, q in enumerate(order):
        kind = kinds[i % len(kinds)]
        title, body = MAKERS[kind](q, rng, pools.get(q.side, ()))
        out.append(replace(q, title=title, body=body, label=kind, source="generated",
                           ref=f"{q.ref}#{kind}", well_received=None))
    return out
