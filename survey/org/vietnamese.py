"""Vietnamese text keys, standard library only: a folded form for accent- and
case-insensitive search, and a sort key in dictionary order.

Both are stored on the row (``Unit.name_folded``, ``Unit.name_sort``), so that search and
order are the same on SQLite and PostgreSQL whatever the database's collation: the fold
is plain ASCII, the sort key only decimal digits (every collation orders digit strings
as bytes).

Dictionary order: letters first, in the Vietnamese alphabet (a ă â b c d đ e ê g h i k l
m n o ô ơ p q r s t u ư v x y, with f j w z where foreign names need them), ignoring
case; then, between names with the same letters, the tones in the conventional order
ngang, huyền, hỏi, ngã, sắc, nặng ("Ba" < "Bà" < "Bá"). A space sorts before any letter
("Tân An" < "Tân Biên" < "Tânh…"), a shorter name before its own continuations.
"""

from __future__ import annotations

import unicodedata

# Combining marks of the five tones, in dictionary order (ngang = no mark = 0).
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
# Marks that make a letter of its own (ă â ê ô ơ ư); đ is a letter of its own in Unicode.
_LETTER_MARKS = {"\u0306": "\u0306", "\u0302": "\u0302", "\u031b": "\u031b"}
_ALPHABET = [
    "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m",
    "n", "o", "ô", "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z",
]
# Two decimal digits a character: 10 a separator (space, punctuation), 11-20 the digits,
# 21… the letters. The end of the letters is 00, below every code.
_CODES = {ch: f"{21 + i:02d}" for i, ch in enumerate(_ALPHABET)}
_CODES.update({str(d): f"{11 + d:02d}" for d in range(10)})
_OTHER = "99"  # a letter of another script: after every Vietnamese letter
_SEPARATOR = "10"


def fold(text: str) -> str:
    """Lower case without diacritics, đ → d, runs of spaces as one: ``"TÂN  Ninh"`` →
    ``"tan ninh"``; what search compares on both sides."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


def _letters(text: str) -> list[tuple[str, int]]:
    """Each base letter (with its letter-making mark) and its tone."""
    out: list[tuple[str, int]] = []
    for ch in unicodedata.normalize("NFD", " ".join(text.lower().split())):
        if unicodedata.combining(ch):
            if out and ch in _TONES:
                out[-1] = (out[-1][0], _TONES[ch])
            elif out and ch in _LETTER_MARKS:
                out[-1] = (unicodedata.normalize("NFC", out[-1][0] + ch), out[-1][1])
            continue
        out.append((ch, 0))
    return out


def sort_key(text: str) -> str:
    """A string of digits whose byte order is Vietnamese dictionary order of ``text``."""
    letters = _letters(text)
    primary = "".join(_CODES.get(ch, _SEPARATOR if not ch.isalnum() else _OTHER)
                      for ch, _tone in letters)
    tones = "".join(str(tone) for _ch, tone in letters)
    return f"{primary}00{tones}"
