"""What ticket words mean, in the ten languages customers write to us in (SPEC §4, issue #16).

Plain keyword lexicons, one per signal and language, compiled to regular expressions: no
model and no network, deterministic, and a reviewer can read why a word counted. A model
(even a small one shipped in the wheel) was not chosen: the cues are a few hundred stems
and phrases, the corpus in `tests/data/tickets/` measures them, and a wrong cue is fixed
by editing one line, where a model would need retraining and could not say why.

The cues live in one module per language (`en.py`, `de.py`, ...): `CUES` maps each signal
of `SIGNALS` to its entries, `NEGATION` is the pattern that turns an ask around.

Conventions:
- Latin-script entries are stems matched at the start of a word (`rembours` matches
  "remboursement", "remboursez"); add `\\b` where a whole word is meant.
- Japanese and Chinese have no spaces: entries are plain substrings.
- `_` in an entry stands for "up to four words in between" (Latin) or "up to eight
  characters" (CJK), for phrases customers split ("update my old card").
- Text is NFKC-normalised and curly quotes are straightened before matching.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from billingops.core.lexicon import de, en, es, fr, it, ja, nl, pl, pt, zh

_MODULES: Mapping[str, ModuleType] = {
    "en": en, "de": de, "fr": fr, "es": es, "pt": pt,
    "it": it, "nl": nl, "pl": pl, "ja": ja, "zh": zh,
}  # fmt: skip
LANGUAGES = tuple(_MODULES)
CJK = frozenset({"ja", "zh"})

# What a ticket can *say*; classify decides what each is worth against the billing
# evidence. Order matters only for the order of hits.
SIGNALS: Mapping[str, str] = {
    "refund": "asks for money back",
    "cancel": "asks to stop the subscription (or says it was stopped: see after_cancel)",
    "after_cancel": "says they already cancelled",
    "charged": "says money was taken (with after_cancel: a charge after cancelling)",
    "surprise": "a charge or renewal the customer did not expect",
    "broken": "the product broke or did not deliver",
    "duplicate": "the same thing bought or charged more than once",
    "invoices": "wants invoices, receipts, tax documents",
    "card": "wants to change the card or payment method",
    "seats": "wants seats, licences or another plan (naming seats claims nothing)",
    "team": "claims the extra subscription or seats are for other people, on purpose",
    "others": "mentions other people (who helped, an accountant, users): never a claim",
    "confused": "does not understand an amount",
}


def _load() -> tuple[
    dict[str, dict[str, tuple[str, ...]]], dict[str, str], dict[str, tuple[str, ...]]
]:
    lexicon: dict[str, dict[str, tuple[str, ...]]] = {signal: {} for signal in SIGNALS}
    negations: dict[str, str] = {}
    own_affairs: dict[str, tuple[str, ...]] = {}
    for lang in LANGUAGES:
        module = _MODULES[lang]
        cues: Mapping[str, tuple[str, ...]] = module.CUES
        unknown = set(cues) - set(SIGNALS)
        if unknown:
            raise ValueError(f"lexicon {lang}: unknown signals {sorted(unknown)}")
        for signal, entries in cues.items():
            if entries:
                lexicon[signal][lang] = tuple(entries)
        if module.NEGATION is not None:
            negations[lang] = module.NEGATION
        own_affairs[lang] = tuple(module.OWN_AFFAIRS)
    return lexicon, negations, own_affairs


# signal -> language -> entries; language -> negation pattern; language -> the customer's
# own business, project or plans.
LEXICON, NEGATIONS, OWN_AFFAIRS = _load()
NEGATED_SIGNALS = frozenset({"refund", "cancel"})
# Japanese and Chinese negate after the word or with 不/没 just before it.
_CJK_NEG_AFTER = re.compile(r".{0,3}(?:不要|不需要|しない|しません|いらない|不用|なし)")
_CJK_NEG_BEFORE = re.compile(r"(?:不要|不需要|不用|不想|没有|無需|无需)$")

_GAP_LATIN = r"(?:\W+[^\W_]+){0,4}?\W+"
_GAP_CJK = r".{0,8}?"
_WORD_START = r"(?<![^\W\d_])"


def _alternatives(entries: tuple[str, ...], cjk: bool) -> str:
    gap = _GAP_CJK if cjk else _GAP_LATIN
    return "|".join(f"(?:{entry.replace(' _ ', gap)})" for entry in entries)


def _compile(by_lang: Mapping[str, tuple[str, ...]], cjk: bool) -> re.Pattern[str] | None:
    """One pattern per signal and script, a named group per language: one scan of the
    text per signal instead of one per language. Matched on lower-cased text."""
    groups = [
        f"(?P<{lang}>{_alternatives(entries, cjk)})"
        for lang, entries in by_lang.items()
        if (lang in CJK) == cjk
    ]
    if not groups:
        return None
    body = "|".join(groups)
    return re.compile(body if cjk else f"{_WORD_START}(?:{body})")


@cache
def _compiled() -> dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None]]:
    """Compiled on first use (about 0.15 s), so importing the core stays cheap."""
    return {
        signal: (_compile(by_lang, cjk=False), _compile(by_lang, cjk=True))
        for signal, by_lang in LEXICON.items()
    }


_NEGATIONS = {lang: re.compile(p, re.IGNORECASE) for lang, p in NEGATIONS.items()}
# Signals whose words can be about the customer's own affairs rather than the product.
OWN_AFFAIRS_SIGNALS = frozenset({"broken"})
# Words that point at the product: a failure word after one of them is about the product
# even when the customer's business was named first ("our project page is broken").
_PRODUCT_WORDS = (
    r"your|yours|app|apps|tool|software|platform|product|service|dashboard|page|view|"
    r"screen|button|feature|export|import|login|site|api|integration|sync|editor|report|"
    r"ihr|ihre|eure|euer|votre|vos|su|sus|seu|sua|vostro|vostra|jullie|uw|wasz|wasza|"
    r"aplikacj\w*|aplicaci\w*|aplicativo|applicazione|appli|logiciel|herramienta|"
    r"ferramenta|strumento|narzędzi\w*|plattform|seite|página|pagina|strona"
)
_PRODUCT = re.compile(rf"(?<![^\W\d_])(?:{_PRODUCT_WORDS})(?![^\W\d_])")
# A failure word that says the customer cannot use or reach something ("can't log in") is
# about the product whoever the subject is ("our company can't log in").
_ACCESS = re.compile(
    r"\buse|log|access|open|sign|nutz|zugr|anmeld|öffn|utilis|accéd|acced|connect|ouvr|usar|"
    r"entrar|abrir|acess|usare|aprire|gebruik|openen|korzyst|używ|zalog|dostęp|otw|"
    r"使用|用|登录|登入|访问|打开|ログイン|使え|使用|開け|開か|アクセス"
)
_CJK_PRODUCT = re.compile(
    r"アプリ|ツール|サービス|システム|画面|機能|你们|應用|应用|软件|系统|功能|页面|平台"
)


@cache
def _own_affairs() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The customer's business or project, then at most three words (Latin) or eight
    characters (CJK) up to where a failure word starts, within one clause."""
    latin = "|".join(e for lang, es in OWN_AFFAIRS.items() if lang not in CJK for e in es)
    cjk = "|".join(e for lang, es in OWN_AFFAIRS.items() if lang in CJK for e in es)
    return (
        re.compile(rf"{_WORD_START}(?:{latin})[^\W_]*(?:\W+[^\W_]+){{0,3}}?\W+$"),
        re.compile(rf"(?:{cjk}).{{0,8}}$"),
    )


def _about_own_affairs(text: str, start: int, words: str, lang: str) -> bool:
    """Is the failure word at `start` about the customer's own business or project ("my
    startup is broken", "unser Launch ist gescheitert") rather than the product?"""
    if _ACCESS.search(words):
        return False
    latin, cjk = _own_affairs()
    head = re.split(r"[.!?;,\n。！？、，]", text[max(0, start - 60) : start])[-1]
    if lang in CJK:
        m = cjk.search(head[-16:])
        return m is not None and not _CJK_PRODUCT.search(m.group())
    m = latin.search(head)
    return m is not None and not _PRODUCT.search(m.group())


_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
MAX_CUE_CHARS = 20_000

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_QUOTES)


@dataclass(frozen=True, slots=True)
class Hit:
    """One cue found in the ticket: which signal, in which language, and the words."""

    signal: str
    lang: str
    words: str
    negated: bool = False
    # A failure word about the customer's own business or project, not the product.
    own_affairs: bool = False


def _negated(text: str, start: int, end: int, lang: str) -> bool:
    if lang in CJK:
        before = text[max(0, start - 4) : start]
        return bool(_CJK_NEG_AFTER.match(text, end) or _CJK_NEG_BEFORE.search(before))
    rx = _NEGATIONS.get(lang)
    if rx is None:
        return False
    # Only within the clause: a negation in the previous sentence or clause does not count.
    head = re.split(r"[.!?;,\n]", text[max(0, start - 60) : start])[-1]
    return bool(rx.search(head))


def find_cues(text: str) -> list[Hit]:
    """Every cue in `text`: per signal and language the first match that is not negated
    or about the customer's own affairs (and those before it), in a fixed order. Only the
    first `MAX_CUE_CHARS` characters are read: a ticket says what it wants long before
    that."""
    text = normalise(text[:MAX_CUE_CHARS]).lower()
    has_cjk = _CJK_CHAR.search(text) is not None
    hits: list[Hit] = []
    for signal, (latin, cjk) in _compiled().items():
        done: set[str] = set()
        for rx in (latin, cjk if has_cjk else None):
            if rx is None:
                continue
            for m in rx.finditer(text):
                lang = m.lastgroup or ""
                if lang in done:
                    continue
                negated = signal in NEGATED_SIGNALS and _negated(text, m.start(), m.end(), lang)
                own = signal in OWN_AFFAIRS_SIGNALS and _about_own_affairs(
                    text, m.start(), m.group(), lang
                )
                hits.append(Hit(signal, lang, _clip(m.group()), negated, own))
                if not (negated or own):
                    done.add(lang)
    order = {lang: i for i, lang in enumerate(LANGUAGES)}
    signals = list(LEXICON)
    return sorted(hits, key=lambda h: (signals.index(h.signal), order[h.lang]))


def _clip(words: str) -> str:
    """The matched words as shown in the DECISION: short, one line, no addresses."""
    words = " ".join(w if "@" not in w else "…" for w in words.split())
    return words if len(words) <= 40 else words[:39] + "…"
