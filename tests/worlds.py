"""Small synthetic question worlds for model tests: good and bad questions that differ
in the ways real ones do (structure, tone, effort), with some noise so models must learn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from askwell.question import Question

_TOPICS = ["hops", "yeast", "kegs", "lager", "stout", "bottles", "malt", "cider", "barrels", "wort"]


#: A weak question with every mechanical fault the engine fixes (urgency, greeting,
#: pleading, a run of "!", shouting, thanks): the suggestion tests' shared example.
WEAK = Question(
    title="URGENT beer problem",
    body="Hi all,\n\npls help my kegs lose fizz!!! I NEED IT FIXED NOW.\n\nThanks in advance",
    tags=("kegs",),
    site="beer.stackexchange.com",
)


def make_questions(n: int = 300, seed: int = 0, noise: float = 0.1) -> pd.DataFrame:
    """A frame shaped like a dataset: title, body_html, tags, site, owner, dates, score..."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        good = bool(rng.random() < 0.5)
        topic = _TOPICS[int(rng.integers(len(_TOPICS)))]
        if good:
            title = f"How do I keep {topic} from going flat after two weeks?"
            body = (
                f"<p>I brew {topic} at home and store it at 12C. After about two weeks it "
                f"loses carbonation.</p><p>What I tried: sealing the caps again and adding "
                f"priming sugar.</p><pre><code>gravity: 1.012\ntemp: 12C</code></pre>"
                f"<p>I expected it to stay fizzy for a month. What am I missing?</p>"
            )
        else:
            title = f"{topic} problem URGENT"
            body = f"<p>pls help me with {topic} asap!!! thanks in advance</p>"
        label_good = good if rng.random() > noise else not good
        rows.append(
            {
                "site": "beer.stackexchange.com" if i % 3 else "beer.meta.stackexchange.com",
                "site_kind": "main" if i % 3 else "meta",
                "post_id": i + 1,
                "question_id": f"beer:{i + 1}",
                "title": title,
                "body_html": body,
                "tags": [topic],
                "owner_user_id": float(i % 97),
                "creation_date": pd.Timestamp("2015-01-01") + pd.Timedelta(days=i),
                "score": 3 if label_good else -2,
                "answer_count": 1 if label_good else 0,
                "closed_date": pd.NaT,
                "close_reason": None,
                "author_prior_questions": float(i % 5),
                "author_prior_answers": float(i % 7),
                "author_account_age_days": float(i % 400),
                "label": float(label_good),
            }
        )
    return pd.DataFrame(rows)
