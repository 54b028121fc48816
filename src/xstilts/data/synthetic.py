"""Synthetic stand-ins for every source of the catalogue (``xstilts data fetch --source
synthetic``).

THIS DATA IS SYNTHETIC. None of it comes from the real benchmarks; every sentence is made up
by the generator below. It exists so that the whole pipeline (fetch, conversion, training,
evaluation, scoring) can be run and tested offline, quickly and reproducibly, on machines
with no network access and no licensed data (CCGbank). Scores measured on it say nothing
about the real benchmarks.

``SyntheticSource`` is a drop-in replacement for ``xstilts.data.hub.SourceReader``:
``load(source)`` returns, for a ``HubSource``, a ``datasets.Dataset`` in the real hub schema
of that dataset, config and split (the same feature names, ClassLabel names and order,
string-vs-integer labels, and the known quirks: SNLI rows labelled -1, HellaSwag string
labels, Social IQa labels '1'..'3', XNLI's single config with a ``language`` column, TyDiQA's
single config with ids prefixed by the language name, Tatoeba sentences ending in a newline,
XQuAD without a title), already restricted by the source's ``select`` exactly as the real
reader does; for a ``DownloadSource`` or ``UserFilesSource``, a temporary folder holding the
original files in their original format (BUCC 2018 corpora and gold files, LASER Tatoeba
files, Mewsli-X JSONL files, CCG in jiant's TSV layout).

How the text is made: a shared concept lexicon (people, places, organisations, nouns, verbs,
adjectives, function words, ...) is rendered in every catalogue language: real English
words for ``en`` and, for every other language, deterministic pseudo-words in that
language's script (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Bengali, Tamil,
Telugu, Malayalam, Gujarati, Gurmukhi, Thai, Georgian, Myanmar, Hangul, CJK ideographs,
Japanese kanji/kana). A sentence is a sequence of concepts; its translation is the same
sequence rendered in another language, so bitext and cross-lingual pairs are true
translations. Labels are made to mean what the real labels mean (entailment restates the
premise, contradictions negate it, paraphrase adversaries swap roles, NER spans are the
entity names, UPOS tags come from the lexicon categories, QA answers are exact spans, ...)
so that models can learn them.

Everything is deterministic: each split is generated from a random generator seeded with a
SHA-256 hash of (seed, dataset, config-or-family, split), so every run writes byte-identical
data, and a split does not depend on which other splits were generated before it.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import tempfile
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xstilts.data.hub import select_rows
from xstilts.errors import UserError
from xstilts.tasks.catalogue import NER_TAGS, NLI_LABELS, UPOS_TAGS
from xstilts.tasks.languages import (
    TASK2LANGS,
    TATOEBA_ISO3,
    TYDIQA_ID_PREFIX,
    UDPOS_CONFIG_NAMES,
)
from xstilts.tasks.sources import DownloadSource, HubSource, Source, UserFilesSource

SYNTHETIC_VERSION = "v1"

__all__ = ["SCRIPT_OF", "SYNTHETIC_VERSION", "SyntheticSource", "concept_ids", "render"]


# =============================================================================== randomness

def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()


def _rng(*parts: object) -> random.Random:
    """A private random generator seeded from a stable hash of ``parts``."""
    return random.Random(int.from_bytes(_digest(*parts)[:16], "big"))


def _hex(n: int, *parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:n]


# =============================================================================== scripts

_LATIN_C = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
_LATIN_V = ("a", "e", "i", "o", "u")
_LATIN_EXTRA: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "de": (("sch", "ch", "w", "z", "h"), ("ä", "ö", "ü", "ei", "au")),
    "fr": (("ch", "qu", "v", "j"), ("é", "è", "ou", "ai", "eau")),
    "es": (("ñ", "ll", "c", "j"), ("á", "é", "í", "ó", "ue")),
    "it": (("gl", "zz", "c", "sc"), ("ia", "io", "è")),
    "pt": (("lh", "nh", "ç", "x"), ("ão", "õe", "á", "ê")),
    "nl": (("sch", "w", "j", "g"), ("aa", "oo", "ee", "ui", "ij")),
    "af": (("w", "g", "j"), ("ê", "ie", "oe", "ë")),
    "tr": (("ş", "ç", "ğ", "c", "y"), ("ı", "ö", "ü")),
    "az": (("ş", "ç", "ğ", "x", "q"), ("ə", "ı", "ö", "ü")),
    "fi": (("kk", "tt", "h", "j"), ("ä", "ö", "y", "aa")),
    "et": (("h", "j", "kk"), ("ä", "õ", "ö", "ü")),
    "hu": (("sz", "gy", "cs", "zs"), ("á", "é", "ő", "ű", "ö")),
    "pl": (("sz", "cz", "rz", "ł", "w"), ("ą", "ę", "ó", "y")),
    "lt": (("š", "ž", "č", "j"), ("ą", "ė", "ų", "y")),
    "ro": (("ș", "ț", "c"), ("ă", "â", "î")),
    "vi": (("ng", "nh", "th", "đ", "tr", "h"), ("ă", "â", "ê", "ô", "ơ", "ư", "ạ", "ế",
                                              "ồ", "ữ")),
    "id": (("ng", "ny", "c", "h"), ("ai", "au")),
    "ms": (("ng", "ny", "kh", "h"), ("ai", "au")),
    "jv": (("ng", "ny", "dh", "w"), ("é", "è")),
    "tl": (("ng", "h", "y"), ("ay", "aw")),
    "sw": (("ng", "mb", "nd", "ch", "w"), ("ai",)),
    "yo": (("gb", "ṣ", "j", "w"), ("ẹ", "ọ", "à", "é")),
    "eu": (("tx", "tz", "rr", "x"), ("ai", "ei")),
    "ht": (("ch", "w", "y"), ("è", "ò", "an", "on")),
    "qu": (("ch", "ll", "q", "w", "y"), ("ay", "uy")),
    "wo": (("ñ", "mb", "nd", "x", "j"), ("ë", "é", "à")),
    "en": ((), ()),
}
_CYRILLIC_C = tuple("бвгджзклмнпрстфхцчшщ")
_CYRILLIC_V = tuple("аеиоуяю")
_CYRILLIC_EXTRA = {"ru": ("ы", "э", "ё"), "bg": ("ъ", "ю"), "uk": ("і", "ї", "є"),
                   "kk": ("ә", "ө", "ұ", "ү", "і")}
_CYRILLIC_C_EXTRA = {"uk": ("ґ",), "kk": ("ғ", "қ", "ң", "һ")}


@dataclass(frozen=True)
class _Script:
    kind: str  # alpha | abugida | thai | hangul | han | japanese
    cons: tuple[str, ...] = ()
    vows: tuple[str, ...] = ()
    finals: tuple[str, ...] = ()
    cased: bool = False


def _abugida(cons: str, signs: str, finals: str = "") -> _Script:
    return _Script("abugida", tuple(cons), ("",) + tuple(signs.split()), tuple(finals.split()))


_SCRIPTS: dict[str, _Script] = {
    "grek": _Script("alpha", tuple("βγδζθκλμνξπρστφχ"), tuple("αεηιουωάέήίόύώ"), (), True),
    "geor": _Script("alpha", tuple("ბგდვზთკლმნპჟრსტფქღყშჩცძწჭხჯჰ"), tuple("აეიოუ")),
    "arab": _Script("alpha", tuple("بتثجحخدذرزسشصضطظعغفقكلمنهوي"), ("", "", "ا", "و", "ي")),
    "fa": _Script("alpha", tuple("بپتجچخدرزژسشفقکگلمنهوی"), ("", "", "ا", "و", "ی")),
    "ur": _Script("alpha", tuple("بپتٹجچدڈرڑزسشفقکگلمنہوی"), ("", "ا", "و", "ی", "ے")),
    "hebr": _Script("alpha", tuple("בגדהזחטכלמנסעפצקרשת"), ("", "", "ו", "י", "א")),
    "deva": _abugida("कखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह", "ा ि ी ु ू े ै ो ौ", "ं"),
    "beng": _abugida("কখগঘচছজঝটঠডঢণতথদধনপফবভমযরলশষসহ", "া ি ী ু ূ ে ৈ ো ৌ", "ং"),
    "taml": _abugida("கஙசஞடணதநபமயரலவழளறன", "ா ி ீ ு ூ ெ ே ை ொ ோ", "ன் ம் ல்"),
    "telu": _abugida("కఖగఘచఛజఝటఠడఢణతథదధనపఫబభమయరలవశషసహ", "ా ి ీ ు ూ ె ే ై ొ ో", "ం"),
    "mlym": _abugida("കഖഗഘങചഛജഝഞടഠഡഢണതഥദധനപഫബഭമയരലവശഷസഹളഴറ", "ാ ി ീ ു ൂ െ േ ൈ ൊ ോ", "ം"),
    "gujr": _abugida("કખગઘચછજઝટઠડઢણતથદધનપફબભમયરલવશષસહ", "ા િ ી ુ ૂ ે ૈ ો ૌ", "ં"),
    "guru": _abugida("ਕਖਗਘਚਛਜਝਟਠਡਢਣਤਥਦਧਨਪਫਬਭਮਯਰਲਵਸਹ", "ਾ ਿ ੀ ੁ ੂ ੇ ੈ ੋ ੌ", "ੰ"),
    "mymr": _abugida("ကခဂဃငစဆဇညတထဒဓနပဖဗဘမယရလဝသဟအ", "ာ ိ ီ ု ူ ေ ဲ", "ံ"),
    "thai": _Script("thai", tuple("กขคงจฉชซญดตถทธนบปผพฟมยรลวศสหอฮ"),
                    tuple("ะ า ิ ี ึ ื ุ ู".split()), tuple("กงนมย")),
    "hang": _Script("hangul"),
    "hani": _Script("han"),
    "jpan": _Script("japanese"),
}

SCRIPT_OF: dict[str, str] = {
    **{lang: "latn" for lang in _LATIN_EXTRA},
    "ru": "cyrl", "bg": "cyrl", "uk": "cyrl", "kk": "cyrl", "el": "grek",
    "ar": "arab", "fa": "arab", "ur": "arab", "he": "hebr", "hi": "deva", "mr": "deva",
    "bn": "beng", "ta": "taml", "te": "telu", "ml": "mlym", "gu": "gujr", "pa": "guru",
    "th": "thai", "ka": "geor", "my": "mymr", "ko": "hang", "zh": "hani", "ja": "jpan",
}
_CASED_SCRIPTS = {"latn", "cyrl", "grek"}
_NO_SPACE = {"zh", "ja", "th", "my"}  # no spaces between words
_PARAGRAPH_SEP = {"zh": "", "ja": ""}  # no spaces between sentences either
_ISOLATING = {"zh", "vi", "th", "my", "yo"}
_PUNCT: dict[str, dict[str, str]] = {
    "period": {"zh": "。", "ja": "。", "hi": "।", "bn": "।", "pa": "।", "my": "။", "ur": "۔"},
    "comma": {"zh": "，", "ja": "、", "ar": "،", "fa": "،", "ur": "،"},
    "question": {"zh": "？", "ja": "？", "ar": "؟", "fa": "؟", "ur": "؟", "el": ";"},
    "colon": {"zh": "：", "ja": "："},
    "lparen": {},
    "rparen": {},
}
_PUNCT_DEFAULT = {"period": ".", "comma": ",", "question": "?", "colon": ":", "lparen": "(",
                  "rparen": ")"}
_KATAKANA = tuple("アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨ"
                  "ラリルレロワン")
_HIRAGANA = tuple("あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよ"
                  "らりるれろわ")
_HAN_NAME = tuple("阿巴卡达尔斯特森克里娜安莉亚伯夫格汉伊杰拉马纳诺帕奇罗萨塔乌维沃扎德勒米"
                  "索蒂菲朗贝科")


def _script_spec(lang: str) -> _Script:
    script = SCRIPT_OF.get(lang, "latn")
    if script == "latn":
        cons, vows = _LATIN_EXTRA.get(lang, ((), ()))
        return _Script("alpha", _LATIN_C + cons, _LATIN_V + vows, (), True)
    if script == "cyrl":
        return _Script("alpha", _CYRILLIC_C + _CYRILLIC_C_EXTRA.get(lang, ()),
                       _CYRILLIC_V + _CYRILLIC_EXTRA.get(lang, ()), (), True)
    if script == "arab":
        return _SCRIPTS[lang] if lang in _SCRIPTS else _SCRIPTS["arab"]
    return _SCRIPTS[script]


def _syllable(spec: _Script, r: random.Random, kind: str = "") -> str:
    if spec.kind == "alpha":
        return r.choice(spec.cons) + r.choice(spec.vows)
    if spec.kind == "abugida":
        return r.choice(spec.cons) + r.choice(spec.vows)
    if spec.kind == "thai":
        if r.random() < 0.3:
            return r.choice(("เ", "แ", "โ", "ไ")) + r.choice(spec.cons)
        return r.choice(spec.cons) + r.choice(spec.vows)
    if spec.kind == "hangul":
        tail = r.choice((0, 0, 0, 4, 8, 16, 21))
        return chr(0xAC00 + (r.randrange(19) * 21 + r.randrange(21)) * 28 + tail)
    if spec.kind == "han":
        return chr(r.randint(0x4E00, 0x9FA5))
    # Japanese: kanji for content, hiragana for function words, katakana for names.
    if kind == "kana":
        return r.choice(_HIRAGANA)
    if kind == "kata":
        return r.choice(_KATAKANA)
    return chr(r.randint(0x4E00, 0x9FA5))


def _pseudo_word(lang: str, spec: _Script, r: random.Random, n: int, kind: str = "") -> str:
    word = "".join(_syllable(spec, r, kind) for _ in range(n))
    if spec.kind == "alpha" and r.random() < 0.35 and spec.cons:
        word += r.choice(spec.cons[:14] if len(spec.cons) > 14 else spec.cons)
    elif spec.kind in ("abugida", "thai") and spec.finals and r.random() < 0.3:
        word += r.choice(spec.finals)
    return word


def _capitalise(word: str) -> str:
    head = word[:1].upper()
    return head + word[1:] if len(head) == 1 else word


# =============================================================================== lexicon

@dataclass(frozen=True)
class Tok:
    """One token of an abstract (language-independent) sentence."""

    key: str  # "VERB:buy", "name:Anna", "num:1990", "punct:period"
    form: str = ""  # sg/pl for nouns; base/past/pres/part for verbs
    upos: str = "X"
    ner: str = "O"


@dataclass(frozen=True)
class _Entry:
    key: str
    upos: str
    forms: dict[str, str]  # form -> English surface


def _plural(noun: str) -> str:
    irregular = {"child": "children", "man": "men", "woman": "women", "person": "people",
                 "clothes": "clothes", "police": "police", "money": "money", "news": "news"}
    if noun in irregular:
        return irregular[noun]
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "sh", "ch", "x")):
        return noun + "es"
    return noun + "s"


def _third(verb: str) -> str:
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    if verb.endswith(("s", "sh", "ch", "x", "o", "z")):
        return verb + "es"
    return verb + "s"


_FUNCTION_WORDS: tuple[tuple[str, str], ...] = (
    ("DET", "the a this that every some another which no"),
    ("PRON", "he she it they someone nobody who what i you we something everyone"),
    ("ADP", "in from with at to of by for on after before about near during into as"),
    ("AUX", "was were did will has had is are would could can"),
    ("CCONJ", "and but or"),
    ("SCONJ", "because when while although that if"),
    ("PART", "not to"),
    ("INTJ", "oh yes well wow"),
    ("SYM", "% $ +"),
    ("X", "etc ibid"),
    ("ADV", "yesterday today tomorrow recently often again also later never together then "
            "early late soon outside home where when how why very too well"),
    ("ADJ", "first many"),
    ("NUM", "two three four five ten"),
)
PROFESSIONS = tuple("doctor teacher engineer writer painter farmer pilot lawyer singer architect "
                    "scientist nurse journalist baker soldier student musician actor chef "
                    "judge".split())
THINGS = tuple("book car house letter bridge painting song film ship garden machine report "
               "computer photograph contract statue boat novel poem camera bicycle piano lamp "
               "table window map train key wallet sandwich phone clock chair coat "
               "radio story".split())
VENUES = tuple("museum hospital library school market factory station church castle farm "
               "stadium theatre hotel airport harbour university".split())
_OTHER_NOUNS = tuple("glass door street tree exam money medal lesson village battery noise bed "
                     "race leg river ice milk wind sun rain room music shop friend child mother "
                     "father neighbour company prize time day week year night city country "
                     "clothes fuel police sale price dinner kitchen pan stove knife bread water "
                     "plate ball field team game goal reason people man woman meeting "
                     "business history science art nature food mountain island "
                     "region capital leader member president government tower".split())
_VERBS: tuple[tuple[str, str, str], ...] = tuple(
    (v.split("/") + [""])[:3] for v in (  # type: ignore[misc]
        "buy/bought purchase/purchased build/built construct/constructed find/found "
        "discover/discovered start/started begin/began/begun help/helped assist/assisted "
        "repair/repaired fix/fixed visit/visited watch/watched observe/observed "
        "write/wrote/written sell/sold choose/chose/chosen select/selected "
        "receive/received get/got paint/painted open/opened close/closed meet/met "
        "encounter/encountered call/called phone/phoned like/liked enjoy/enjoyed "
        "destroy/destroyed carry/carried clean/cleaned borrow/borrowed design/designed "
        "study/studied examine/examined teach/taught follow/followed praise/praised "
        "commend/commended hire/hired employ/employed establish/established move/moved "
        "bear/bore/born work/worked drop/dropped break/broke/broken eat/ate/eaten go/went/gone "
        "forget/forgot/forgotten pass/passed stop/stopped tell/told laugh/laughed "
        "melt/melted lose/lost fall/fell/fallen miss/missed arrive/arrived win/won "
        "turn/turned complain/complained smell/smelled ring/rang/rung answer/answered "
        "give/gave/given feel/felt cancel/cancelled save/saved hear/heard look/looked "
        "flood/flooded evacuate/evacuated practise/practised play/played run/ran/run "
        "rain/rained say/said want/wanted pay/paid grow/grew/grown rise/rose/risen "
        "read/read see/saw/seen make/made take/took/taken put/put cook/cooked "
        "wash/washed cut/cut leave/left sleep/slept thank/thanked interview/interviewed "
        "travel/travelled sign/signed announce/announced invite/invited support/supported "
        "lead/led score/scored publish/published produce/produced sing/sang/sung "
        "live/lived die/died join/joined return/returned "
        "speak/spoke/spoken become/became/become").split())
ADJECTIVES = tuple("big large small little old ancient new modern famous renowned quiet silent "
                   "fast quick beautiful pretty happy glad angry furious rich wealthy strange "
                   "odd red blue green wooden heavy bright dark cheap expensive tall young "
                   "hungry tired sick cold hot wet strong loud empty good bad ill poor sad "
                   "short busy last local national".split())
THING_ADJ = tuple("big large small little old ancient new modern famous renowned beautiful pretty "
                  "strange odd red blue green wooden heavy bright dark cheap expensive".split())
VENUE_ADJ = tuple("big large small little old ancient new modern famous renowned quiet silent "
                  "beautiful pretty".split())
BUILDINGS = ("bridge", "tower", "house", "ship", "machine", "museum", "hospital", "school",
             "station", "factory", "stadium", "theatre", "hotel")
VERB_SYNONYMS = (("buy", "purchase"), ("build", "construct"), ("find", "discover"),
                 ("start", "begin"), ("help", "assist"), ("repair", "fix"),
                 ("watch", "observe"), ("choose", "select"), ("receive", "get"),
                 ("meet", "encounter"), ("call", "phone"), ("like", "enjoy"),
                 ("study", "examine"), ("praise", "commend"), ("hire", "employ"))
ADJ_SYNONYMS = (("big", "large"), ("small", "little"), ("old", "ancient"), ("new", "modern"),
                ("famous", "renowned"), ("quiet", "silent"), ("fast", "quick"),
                ("beautiful", "pretty"), ("happy", "glad"), ("angry", "furious"),
                ("rich", "wealthy"), ("strange", "odd"))
_SYN: dict[str, str] = {}
for _a, _b in (*VERB_SYNONYMS, *ADJ_SYNONYMS):
    _SYN[_a], _SYN[_b] = _b, _a
PERSON_ADJ_ANTONYMS = {"young": "old", "rich": "poor", "happy": "sad", "tall": "short",
                       "busy": "quiet", "poor": "rich", "sad": "happy", "short": "tall"}
THING_VERBS = ("buy", "purchase", "build", "construct", "find", "discover", "repair", "fix",
               "sell", "choose", "select", "receive", "get", "paint", "open", "close", "like",
               "enjoy", "destroy", "carry", "clean", "borrow", "design", "study", "examine",
               "sign", "publish", "produce", "watch", "observe")
PERSON_VERBS = ("meet", "encounter", "help", "assist", "call", "phone", "hire", "employ",
                "praise", "commend", "visit", "follow", "thank", "interview", "invite",
                "support", "watch", "observe")

FEMALE = tuple("Anna Clara Elena Greta Irene Karla Maria Olga Rosa Tanja Wanda Zora Bianca Dora "
               "Fatima Hana Julia Lena Nora Petra Amina Sofia Yara Ingrid".split())
MALE = tuple("Boris David Felix Hugo Jonas Leon Nils Pavel Simon Viktor Yusuf Amir Carlos Emil "
             "Goran Igor Kenji Marco Omar Rafael Tomas Ivan Luca Mehmet".split())
SURNAMES = tuple("Berg Costa Dahl Eriksen Ferrante Gruber Haddad Ivanova Jansen Kowalski "
                 "Lindqvist Moreau Novak Okafor Petrov Quintero Rossi Sato Tanaka Urbano Vidal "
                 "Weber Yilmaz Zeller Almeida Brandt Castillo Dubois Esposito Fischer Horvat "
                 "Kaplan Larsen Mendes Nakamura Olsen".split())
PLACES = tuple(p.replace("_", " ") for p in (
    "Northport Eastvale Riverton Lakeside Westbrook Stonebridge Greenfield Ashford Millbrook "
    "Brightwater Oakhaven Redcliff Silverton Fairmont Kingsbury Marlow Dunmore Elmstead "
    "Harrowgate Ironwood Port_Elsa San_Marelo New_Riverton Lake_Ortan Upper_Vale Santa_Lira "
    "Mount_Kerra Glenrock Westmarsh Cobalt_Bay").split())
ORGANISATIONS = tuple(o.replace("_", " ") for o in (
    "Northwind_Bank Atlas_Motors Blue_River_Press Helios_Energy Orion_Telecom Summit_Airlines "
    "Crescent_Foods Nimbus_Software Granite_Steel Meridian_Insurance Polaris_Shipping "
    "Evergreen_Pharma Vertex_Media Harbor_Union Aurora_Records Cobalt_Mining Falcon_Rail "
    "Lumen_Institute Sterling_Hotels Zenith_Textiles Apex_Robotics Keystone_Council "
    "Redwood_Bank Tidewater_Group Beacon_Foundation").split())


def _build_lexicon() -> tuple[list[_Entry], dict[str, list[tuple[str, str]]]]:
    entries: list[_Entry] = []
    seen: set[str] = set()

    def add(upos: str, lemma: str, forms: dict[str, str]) -> None:
        key = f"{upos}:{lemma}"
        if key not in seen:
            seen.add(key)
            entries.append(_Entry(key, upos, forms))

    for upos, words in _FUNCTION_WORDS:
        for w in words.split():
            add(upos, w, {"": w})
    for noun in (*PROFESSIONS, *THINGS, *VENUES, *_OTHER_NOUNS):
        noun = noun.replace("_", " ")
        if " " in noun:
            continue
        add("NOUN", noun, {"sg": noun, "pl": _plural(noun)})
    for base, past, part in _VERBS:
        add("VERB", base, {"base": base, "past": past, "pres": _third(base),
                           "part": part or past})
    for adj in ADJECTIVES:
        add("ADJ", adj, {"": adj})
    index: dict[str, list[tuple[str, str]]] = {}
    for entry in entries:
        for form, surface in entry.forms.items():
            index.setdefault(surface, []).append((entry.key, form))
    return entries, index


LEXICON, _EN_INDEX = _build_lexicon()
_ENTRY = {e.key: e for e in LEXICON}
_FUNCTION_UPOS = {"DET", "PRON", "ADP", "AUX", "CCONJ", "SCONJ", "PART", "INTJ"}


class _Language:
    """The rendering of the lexicon in one language (pseudo-words, affixes, names)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.script = SCRIPT_OF.get(lang, "latn")
        self.spec = _script_spec(lang)
        self.cased = self.script in _CASED_SCRIPTS
        self.stems: dict[str, str] = {}
        self.affixes: dict[tuple[str, str], str] = {}
        self._names: dict[str, str] = {}
        if lang == "en":
            return
        used: set[str] = set()
        for entry in LEXICON:
            if entry.upos == "SYM":  # %, $, + are written the same everywhere
                self.stems[entry.key] = entry.key.split(":", 1)[1]
                continue
            r = _rng("lexicon", lang, entry.key)
            n = 1 if entry.upos in _FUNCTION_UPOS else (2 if r.random() < 0.6 else 3)
            kind = self._kind(entry.upos)
            if self.spec.kind in ("han", "japanese") and entry.upos not in _FUNCTION_UPOS:
                n = 2 if kind != "kana" else 3
            word = ""
            for attempt in range(50):
                word = _pseudo_word(lang, self.spec, r, n + attempt // 8, kind)
                if word not in used:
                    break
            used.add(word)
            self.stems[entry.key] = word

    def _kind(self, upos: str) -> str:
        if self.spec.kind != "japanese":
            return ""
        if upos in _FUNCTION_UPOS or upos in ("ADV", "X"):
            return "kana"
        if upos == "PROPN":
            return "kata"
        return "kanji"

    def affix(self, upos: str, form: str) -> str:
        if form in ("", "sg", "base") or upos not in ("NOUN", "VERB"):
            return ""
        key = (upos, form)
        if key in self.affixes:
            return self.affixes[key]
        lang = self.lang
        if lang == "zh":
            value = "了" if (upos, form) in (("VERB", "past"), ("VERB", "part")) else ""
        elif lang == "ja":
            value = {"past": "した", "pres": "する", "part": "された"}.get(form, "") \
                if upos == "VERB" else ""
        elif lang == "ko":
            value = {"past": "었다", "pres": "는다", "part": "된", "pl": "들"}.get(form, "")
        elif lang in _ISOLATING:
            value = ""
        else:
            r = _rng("affix", lang, upos, form)
            value = _pseudo_word(lang, self.spec, r, 1)
            if self.spec.kind == "alpha" and r.random() < 0.5:
                value = value[:-1] if len(value) > 1 else value
        self.affixes[key] = value
        return value

    def name(self, name: str) -> str:
        """A proper name: unchanged in Latin script, transliterated (per script) otherwise."""
        if self.script == "latn":
            return name
        if name in self._names:
            return self._names[name]
        chunks = re.findall(r"[^aeiouy]*[aeiouy]+|[^aeiouy]+$", name.lower())
        out = []
        for chunk in chunks:
            r = _rng("translit", self.script, chunk)
            if self.spec.kind == "han":
                out.append(r.choice(_HAN_NAME))
            elif self.spec.kind == "japanese":
                out.append(r.choice(_KATAKANA))
            else:
                out.append(_syllable(self.spec, r))
        word = "".join(out)
        if self.cased:
            word = _capitalise(word)
        self._names[name] = word
        return word

    def word(self, tok: Tok) -> str:
        kind, _, value = tok.key.partition(":")
        if kind == "num":
            return value
        if kind == "name":
            return self.name(value)
        if kind == "punct":
            return _PUNCT[value].get(self.lang, _PUNCT_DEFAULT[value])
        if self.lang == "en":
            return _ENTRY[tok.key].forms[tok.form]
        return self.stems[tok.key] + self.affix(tok.upos, tok.form)


_LANGUAGES: dict[str, _Language] = {}


def _language(lang: str) -> _Language:
    if lang not in _LANGUAGES:
        _LANGUAGES[lang] = _Language(lang)
    return _LANGUAGES[lang]


@dataclass
class Rendered:
    """A sentence rendered in one language: its text, words and their character spans."""

    text: str
    words: list[str]
    spans: list[tuple[int, int]]


_ATTACHED = {"punct:period", "punct:comma", "punct:question", "punct:colon", "punct:rparen"}


def render(lang: str, toks: Sequence[Tok]) -> Rendered:
    """Render an abstract sentence in ``lang``."""
    language = _language(lang)
    words = [language.word(t) for t in toks]
    if lang == "en":
        for i, t in enumerate(toks[:-1]):
            if t.key == "DET:a" and words[i + 1][:1].lower() in "aeiou":
                words[i] = "an"
    if language.cased and words:
        words[0] = _capitalise(words[0])
    sep = "" if lang in _NO_SPACE else " "
    text, spans = "", []
    for i, (word, tok) in enumerate(zip(words, toks)):
        if i and tok.key not in _ATTACHED and toks[i - 1].key != "punct:lparen":
            text += sep
        spans.append((len(text), len(text) + len(word)))
        text += word
    return Rendered(text, words, spans)


def _paragraph(lang: str, sentences: Sequence[Sequence[Tok]]
               ) -> tuple[str, list[list[tuple[int, int]]], list[tuple[int, int]]]:
    """Render sentences as one text; return it, each sentence's word spans and its span."""
    sep = _PARAGRAPH_SEP.get(lang, " ")
    text, word_spans, sentence_spans = "", [], []
    for i, toks in enumerate(sentences):
        if i:
            text += sep
        r = render(lang, toks)
        offset = len(text)
        word_spans.append([(s + offset, e + offset) for s, e in r.spans])
        sentence_spans.append((offset, offset + len(r.text)))
        text += r.text
    return text, word_spans, sentence_spans


_REVERSE: dict[str, dict[str, frozenset[str]]] = {}


def _reverse_lexicon(lang: str) -> dict[str, frozenset[str]]:
    """Word of ``lang`` -> the concepts it can render (homographs give several)."""
    if lang in _REVERSE:
        return _REVERSE[lang]
    language = _language(lang)
    reverse: dict[str, set[str]] = {}

    def add(word: str, concept: str) -> None:
        reverse.setdefault(word, set()).add(concept)
        if language.cased:  # sentence-initial capital
            reverse.setdefault(_capitalise(word), set()).add(concept)

    for entry in LEXICON:
        for form in entry.forms:
            add(language.word(Tok(entry.key, form, entry.upos)), entry.key)
    if lang == "en":
        add("an", "DET:a")
    for name in _ALL_NAME_PARTS:
        add(language.name(name), f"name:{name}")
    _REVERSE[lang] = {word: frozenset(concepts) for word, concepts in reverse.items()}
    return _REVERSE[lang]


def concept_ids(lang: str, text: str) -> list[set[str]]:
    """The possible concepts of each word of a synthetic sentence of ``lang`` (for checks:
    a sentence and its translation have the same concept sequence). Only for languages that
    separate words with spaces."""
    if lang in _NO_SPACE:
        raise ValueError(f"concept_ids needs a language with spaces between words, not {lang}")
    reverse = _reverse_lexicon(lang)
    punct_chars = {_PUNCT[k].get(lang, _PUNCT_DEFAULT[k]): f"punct:{k}" for k in _PUNCT}
    out: list[set[str]] = []
    for raw in text.split(" "):
        leading, trailing = [], []
        while len(raw) > 1 and raw[0] in punct_chars:
            leading.append({punct_chars[raw[0]]})
            raw = raw[1:]
        while len(raw) > 1 and raw[-1] in punct_chars:
            trailing.insert(0, {punct_chars[raw[-1]]})
            raw = raw[:-1]
        out.extend(leading)
        if raw in punct_chars:
            out.append({punct_chars[raw]})
        elif raw.isdigit():
            out.append({f"num:{raw}"})
        else:
            out.append(set(reverse.get(raw, ())))
        out.extend(trailing)
    return out


# =============================================================================== sentence DSL

@dataclass(frozen=True)
class Entity:
    type: str  # PER | ORG | LOC
    parts: tuple[str, ...]
    female: bool = False

    def toks(self) -> list[Tok]:
        return [Tok(f"name:{p}", "", "PROPN", ("B-" if i == 0 else "I-") + self.type)
                for i, p in enumerate(self.parts)]

    @property
    def text(self) -> str:
        return " ".join(self.parts)


_ALL_NAME_PARTS: tuple[str, ...] = tuple(dict.fromkeys(
    [*FEMALE, *MALE, *SURNAMES, *(w for p in (*PLACES, *ORGANISATIONS) for w in p.split())]))
_PUNCT_WORDS = {".": "period", ",": "comma", "?": "question", ":": "colon", "(": "lparen",
                ")": "rparen"}


def _word_tok(word: str) -> Tok:
    if word in _PUNCT_WORDS:
        return Tok(f"punct:{_PUNCT_WORDS[word]}", "", "PUNCT")
    if word.isdigit():
        return Tok(f"num:{word}", "", "NUM")
    surface, _, want = word.partition("|")
    options = _EN_INDEX.get(surface)
    if not options:
        raise KeyError(f"synthetic lexicon has no word {surface!r}")
    for key, form in options:
        upos = _ENTRY[key].upos
        if not want or want in (upos, form, f"{upos}.{form}"):
            return Tok(key, form, upos)
    raise KeyError(f"synthetic lexicon has no {word!r}")


Slot = Any  # Entity | list[Tok] | Tok | int | str (template)


def _as_toks(value: Slot) -> list[Tok]:
    if isinstance(value, Entity):
        return value.toks()
    if isinstance(value, Tok):
        return [value]
    if isinstance(value, int):
        return [Tok(f"num:{value}", "", "NUM")]
    if isinstance(value, str):
        return _t(value)
    return list(value)


def _tt(template: str, **slots: Slot) -> tuple[list[Tok], dict[str, tuple[int, int]]]:
    """Tokens of an English template ('{P} was born in {L} .') and each slot's token range."""
    out: list[Tok] = []
    where: dict[str, tuple[int, int]] = {}
    for word in template.split():
        if word.startswith("{") and word.endswith("}"):
            name = word[1:-1]
            start = len(out)
            out.extend(_as_toks(slots[name]))
            where[name] = (start, len(out))
        else:
            out.append(_word_tok(word))
    return out, where


def _t(template: str, **slots: Slot) -> list[Tok]:
    return _tt(template, **slots)[0]


def _n(noun: str, plural: bool = False) -> Tok:
    return Tok(f"NOUN:{noun}", "pl" if plural else "sg", "NOUN")


def _v(verb: str, form: str = "past") -> Tok:
    return Tok(f"VERB:{verb}", form, "VERB")


def _a(adj: str) -> Tok:
    return Tok(f"ADJ:{adj}", "", "ADJ")


class _World:
    """Random entities and facts drawn from one generator."""

    def __init__(self, r: random.Random) -> None:
        self.r = r

    def person(self, avoid: Sequence[Entity] = ()) -> Entity:
        while True:
            female = self.r.random() < 0.5
            first = self.r.choice(FEMALE if female else MALE)
            e = Entity("PER", (first, self.r.choice(SURNAMES)), female)
            if all(e.parts[0] != a.parts[0] and e.parts[-1] != a.parts[-1] for a in avoid):
                return e

    def place(self, avoid: Sequence[Entity] = ()) -> Entity:
        while True:
            e = Entity("LOC", tuple(self.r.choice(PLACES).split()))
            if e not in avoid:
                return e

    def org(self, avoid: Sequence[Entity] = ()) -> Entity:
        while True:
            e = Entity("ORG", tuple(self.r.choice(ORGANISATIONS).split()))
            if e not in avoid:
                return e

    def pron(self, e: Entity) -> Tok:
        if e.type != "PER":
            return _word_tok("it")
        return _word_tok("she" if e.female else "he")

    def year(self) -> int:
        return self.r.randint(1900, 2020)


# =============================================================================== generators

# --- natural language inference ------------------------------------------------

def _nli_item(r: random.Random, label: int) -> tuple[list[Tok], list[Tok]]:
    w = _World(r)
    verb = r.choice(THING_VERBS)
    noun, noun2 = r.sample(THINGS, 2)
    obj_adj = r.choice(THING_ADJ)
    prof = r.choice(PROFESSIONS)
    person = w.person()
    kind = r.randrange(3)
    person_adj = r.choice(tuple(PERSON_ADJ_ANTONYMS))
    if kind == 0:
        s_full = s_core = person.toks()
        pron = w.pron(person)
    elif kind == 1:
        s_full, s_core = _t("the {A} {N}", A=_a(person_adj), N=_n(prof)), _t("the {N}", N=_n(prof))
        pron = _word_tok(r.choice(("he", "she")))
    else:
        s_full = _t("the {N} from {L}", N=_n(prof), L=w.place())
        s_core = _t("the {N}", N=_n(prof))
        pron = _word_tok(r.choice(("he", "she")))
    obj_full = _t("a {A} {N}", A=_a(obj_adj), N=_n(noun))
    obj_core = _t("a {N}", N=_n(noun))
    place = _t("in {L}", L=w.place()) if r.random() < 0.7 else []
    time = _t("in {Y}", Y=w.year()) if r.random() < 0.5 else []
    premise = [*s_full, _v(verb), *obj_full, *place, *time, *_t(".")]
    v = r.random()
    if label == 0:  # entailment: restates (part of) the premise
        if v < 0.3:
            hyp = [*s_core, _v(verb), *obj_core, *_t(".")]
        elif v < 0.55 and verb in _SYN:
            hyp = [*s_core, _v(_SYN[verb]), *obj_full, *_t(".")]
        elif v < 0.8:
            hyp = [*_t("someone"), _v(verb), *obj_core, *place, *_t(".")]
        else:
            hyp = [*s_full, _v(verb), *obj_core, *time, *_t(".")]
    elif label == 1:  # neutral: adds information the premise does not support
        if v < 0.3:
            state = r.choice(("happy", "tired", "rich", "angry", "busy", "hungry"))
            hyp = [*s_core, _v(verb), *obj_core, *_t("because {P} was {A} .", P=pron,
                                                      A=_a(state))]
        elif v < 0.55:
            hyp = [*s_core, _v(verb), *obj_core, *_t("for the first time .")]
        elif v < 0.8:
            hyp = [*s_core, *_t("also"), _v(r.choice(THING_VERBS)), *_t("a {N} .", N=_n(noun2))]
        else:
            hyp = [*s_core, _v(verb), *obj_core, *_t("with {P} .", P=w.person([person]))]
    else:  # contradiction: negates the premise
        if v < 0.4:
            hyp = [*s_core, *_t("did not"), _v(verb, "base"), *obj_core, *_t(".")]
        elif v < 0.6:
            hyp = [*_t("nobody"), _v(verb), *obj_core, *place, *_t(".")]
        elif v < 0.85 or kind != 1:
            hyp = [*s_core, *_t("never"), _v(verb), *obj_core, *_t(".")]
        else:
            hyp = [*_t("the {A} {N}", A=_a(PERSON_ADJ_ANTONYMS[person_adj]), N=_n(prof)),
                   _v(verb), *obj_core, *_t(".")]
    return premise, hyp


def _nli_items(r: random.Random, n: int) -> list[tuple[list[Tok], list[Tok], int]]:
    out = []
    for i in range(n):
        label = i % 3
        premise, hyp = _nli_item(r, label)
        out.append((premise, hyp, label))
    r.shuffle(out)
    return out


# --- paraphrase (PAWS-X, QQP) ----------------------------------------------------

def _paws_item(r: random.Random, positive: bool, question: bool = False
               ) -> tuple[list[Tok], list[Tok]]:
    w = _World(r)
    e1 = w.person()
    e2 = w.person([e1]) if r.random() < 0.75 else w.org()
    verb = r.choice(PERSON_VERBS)
    adj = r.choice(VENUE_ADJ)
    venue = r.choice(VENUES)
    loc, year = w.place(), w.year()
    wh = r.choice(("why", "when", "how"))

    def sentence(a: Entity, b: Entity, verb: str, adj: str, front: bool = False,
                 wh: str = wh, reason: bool = False) -> list[Tok]:
        if question:
            head = _t("for what reason") if reason else _t(wh)
            return [*head, *_t("did {A}", A=a), _v(verb, "base"),
                    *_t("{B} at the {J} {N} in {L} ?", B=b, J=_a(adj), N=_n(venue), L=loc)]
        core = [*a.toks(), _v(verb), *_t("{B} at the {J} {N} in {L}", B=b, J=_a(adj),
                                          N=_n(venue), L=loc)]
        if front:
            return [*_t("in {Y} ,", Y=year), *core, *_t(".")]
        return [*core, *_t("in {Y} .", Y=year)]

    a = sentence(e1, e2, verb, adj)
    v = r.random()
    syn_verb = _SYN.get(verb, verb)
    syn_adj = _SYN[adj]
    which = r.random()
    if verb not in _SYN:  # paraphrase through the adjective
        sv, sa = verb, syn_adj
    else:
        sv, sa = (syn_verb, adj) if which < 0.5 else (verb, syn_adj) if which < 0.8 else (
            syn_verb, syn_adj)
    if positive:
        if v < 0.7:
            b = sentence(e1, e2, sv, sa)
        elif question:
            b = sentence(e1, e2, verb, adj, reason=True) if wh == "why" else \
                sentence(e1, e2, sv, sa)
        else:
            b = sentence(e1, e2, verb, adj, front=True)
    else:
        if v < 0.65:
            b = sentence(e2, e1, verb, adj)
        elif question and v < 0.85:
            other = r.choice([x for x in ("why", "when", "how") if x != wh])
            b = sentence(e1, e2, verb, adj, wh=other)
        else:
            b = sentence(e2, e1, sv, sa)
    if r.random() < 0.5:
        a, b = b, a
    return a, b


# --- tagging ----------------------------------------------------------------------

def _np(w: _World, r: random.Random, things: Sequence[str] = THINGS, adj_p: float = 0.4,
        plural: bool = False) -> list[Tok]:
    det = r.choice(("the", "a", "this", "every", "some", "another")) if not plural else \
        r.choice(("the", "some"))
    if plural and det == "a":
        det = "the"
    toks = [_word_tok("that|DET" if det == "that" else det)]
    if r.random() < adj_p:
        toks.append(_a(r.choice(THING_ADJ if things is THINGS else ADJECTIVES)))
    toks.append(_n(r.choice(things), plural))
    return toks


def _subject(w: _World, r: random.Random) -> tuple[list[Tok], Tok]:
    v = r.random()
    if v < 0.45:
        p = w.person()
        return p.toks(), w.pron(p)
    if v < 0.75:
        return _t("the {N}", N=_n(r.choice(PROFESSIONS))), _word_tok(r.choice(("he", "she")))
    pron = _word_tok(r.choice(("he", "she", "they", "we", "i", "you", "someone")))
    return [pron], pron


def _clause(w: _World, r: random.Random, subj: list[Tok] | None = None) -> list[Tok]:
    if subj is None:
        subj = _subject(w, r)[0]
    verb = r.choice(THING_VERBS + PERSON_VERBS)
    obj = _np(w, r) if verb in THING_VERBS else (
        w.person().toks() if r.random() < 0.6 else _t("the {N}", N=_n(r.choice(PROFESSIONS))))
    v = r.random()
    if v < 0.15:
        core = [*subj, *_t("did not"), _v(verb, "base"), *obj]
    elif v < 0.25:
        core = [*subj, *_t("will"), _v(verb, "base"), *obj]
    elif v < 0.32:
        core = [*subj, *_t("never"), _v(verb), *obj]
    else:
        core = [*subj, _v(verb), *obj]
    extra = r.random()
    if extra < 0.3:
        core += _t("in {L}", L=w.place())
    elif extra < 0.45:
        core += _t("at the {N}", N=_n(r.choice(VENUES)))
    elif extra < 0.55:
        core += _t("with {P}", P=w.person())
    if r.random() < 0.25:
        core += _t("in {Y}", Y=w.year()) if r.random() < 0.5 else \
            [_word_tok(r.choice(("yesterday", "today", "recently", "again", "later")))]
    return core


def _pos_sentence(w: _World, r: random.Random) -> list[Tok]:
    v = r.random()
    if v < 0.35:
        return [*_clause(w, r), *_t(".")]
    if v < 0.47:
        subj, pron = _subject(w, r)
        conj = r.choice(("and", "but"))
        return [*_clause(w, r, subj), *_t(","), *_t(conj), *_clause(w, r, [pron]), *_t(".")]
    if v < 0.57:
        sconj = r.choice(("because", "when|SCONJ", "while", "although", "if"))
        return [*_clause(w, r), *_t(sconj), *_clause(w, r), *_t(".")]
    if v < 0.62:
        return [*_t(r.choice(("oh", "yes", "well|INTJ", "wow"))), *_t(","), *_clause(w, r),
                *_t(".")]
    if v < 0.68:
        subj = _subject(w, r)[0]
        return [*subj, *_t("paid {K} $ for the {N} .", K=r.randint(2, 900),
                           N=_n(r.choice(THINGS)))]
    if v < 0.73:
        return _t("the {N} grew by {K} % in {Y} .", N=_n("price", True),
                  K=r.randint(2, 60), Y=w.year())
    if v < 0.8:
        wh = r.choice(("where", "when|ADV", "why", "how"))
        p = w.person()
        return [*_t(wh), *_t("did {P}", P=p), _v(r.choice(THING_VERBS), "base"),
                *_t("the {N} ?", N=_n(r.choice(THINGS)))]
    if v < 0.84:
        p = w.person()
        n1, n2, n3 = r.sample(THINGS, 3)
        return _t("{P} bought {A} , {B} , {C} etc .", P=p, A=_n(n1, True), B=_n(n2, True),
                  C=_n(n3, True))
    if v < 0.9:
        subj = _subject(w, r)[0]
        return [*subj, _v("want"),
                *_t("to|PART"), _v(r.choice(THING_VERBS), "base"), *_np(w, r), *_t(".")]
    if v < 0.95:
        subj = _subject(w, r)[0]
        return [*subj, *_t("said that|SCONJ {P} was very {A} .", P=w.person(),
                           A=_a(r.choice(ADJECTIVES)))]
    p = w.person()
    return _t("{P} bought {K} {N} from the {M} .", P=p, K=_word_tok(r.choice(
        ("two", "three", "four", "five", "ten"))), N=_n(r.choice(THINGS), True),
        M=_n(r.choice(VENUES)))


def _ner_sentence(w: _World, r: random.Random) -> list[Tok]:
    v = r.random()
    p, l1, o = w.person(), w.place(), w.org()
    l2 = w.place([l1])
    if v < 0.16:
        return _t("{P} ( born|part {Y} ) is a {N} from {L} .", P=p, Y=w.year(),
                  N=_n(r.choice(PROFESSIONS)), L=l1)
    if v < 0.3:
        return _t("{O} is a company from {L} .", O=o, L=l1)
    if v < 0.44:
        return _t("{P} worked for {O} in {L} .", P=p, O=o, L=l1)
    if v < 0.56:
        return _t("{L} is a city in {M} .", L=l1, M=l2)
    if v < 0.66:
        return _t("{P} met {Q} at the {N} in {L} .", P=p, Q=w.person([p]),
                  N=_n(r.choice(VENUES)), L=l1)
    if v < 0.74:
        return _t("{O} , {L}", O=o, L=l1)
    if v < 0.8:
        return p.toks()
    if v < 0.88:
        return _t("in {Y} , {O} opened a {N} in {L} .", Y=w.year(), O=o,
                  N=_n(r.choice(VENUES)), L=l1)
    if v < 0.94:
        return [*_clause(w, r), *_t(".")]
    return _t("the {N} of {L} is {P} .", N=_n("president"), L=l1, P=p)


# --- reading comprehension -----------------------------------------------------------

@dataclass
class _Fact:
    toks: list[Tok]
    slots: dict[str, tuple[int, int]]
    questions: list[tuple[list[Tok], tuple[str, str]]]  # (question, (first slot, last slot))


@dataclass
class _QAContext:
    title: Entity
    sentences: list[list[Tok]]
    # (question tokens, answer as (sentence index, first token, end token) or None)
    questions: list[tuple[list[Tok], tuple[int, int, int] | None]] = field(default_factory=list)


def _qa_facts(r: random.Random) -> tuple[Entity, _Fact, list[_Fact]]:
    """A person, the fact of their birth, and other facts about them (with questions)."""
    w = _World(r)
    p = w.person()
    p2 = w.person([p])
    l1 = w.place()
    l2 = w.place([l1])
    l3 = w.place([l1, l2])
    o1 = w.org()
    o2 = w.org([o1])
    o3 = w.org([o1, o2])
    y1, y2, y3, y4 = sorted(r.sample(range(1890, 2021), 4))
    topic = r.choice(THINGS)
    slots: dict[str, Slot] = {
        "P": p, "P2": p2, "PR": w.pron(p), "L1": l1, "L2": l2, "L3": l3, "O1": o1, "O2": o2,
        "O3": o3, "Y1": y1, "Y2": y2, "Y3": y3, "Y4": y4, "K": r.randint(2, 40),
        "PROF": _n(r.choice(PROFESSIONS)), "J": _a(r.choice(THING_ADJ)),
        "N": _n(r.choice(BUILDINGS)), "T": _n(topic), "B": _n("book", True), "PZ": _n("prize")}

    def fact(template: str, questions: list[tuple[str, tuple[str, str]]]) -> _Fact:
        toks, where = _tt(template, **slots)
        return _Fact(toks, where, [(_t(q, **slots), a) for q, a in questions])

    born = fact("{P} was born|part in {L1} in {Y1} .",
                [("where was {P} born|part ?", ("L1", "L1")),
                 ("when|ADV was {P} born|part ?", ("Y1", "Y1"))])
    others = [
        fact("{PR} worked as a {PROF} for {O1} .",
             [("which company did {P} work for ?", ("O1", "O1")),
              ("what did {P} work as ?", ("PROF", "PROF"))]),
        fact("in {Y2} , {PR} established {O2} together with {P2} .",
             [("what did {P} establish in {Y2} ?", ("O2", "O2")),
              ("who established {O2} with {P} ?", ("P2", "P2")),
              ("when|ADV was {O2} established|part ?", ("Y2", "Y2"))]),
        fact("{O2} built a {J} {N} in {L2} .",
             [("where did {O2} build a {N} ?", ("L2", "L2")),
              ("what did {O2} build in {L2} ?", ("J", "N"))]),
        fact("{PR} moved to {L3} in {Y3} .",
             [("where did {P} move in {Y3} ?", ("L3", "L3")),
              ("when|ADV did {P} move to {L3} ?", ("Y3", "Y3"))]),
        fact("{P} wrote {K} {B} about the {T} .",
             [("how many {B} did {P} write|base ?", ("K", "K")),
              ("what did {P} write|base {B} about ?", ("T", "T"))]),
        fact("in {Y4} , {PR} received the {O3} {PZ} .",
             [("when|ADV did {P} receive the {O3} {PZ} ?", ("Y4", "Y4")),
              ("which {PZ} did {P} receive in {Y4} ?", ("O3", "PZ"))]),
    ]
    return p, born, others


def _qa_context(r: random.Random, n_facts: int, n_questions: int, unanswerable: float = 0.0
                ) -> _QAContext:
    p, born, others = _qa_facts(r)
    r.shuffle(others)
    used = [born, *others[:n_facts]]
    unused = others[n_facts:]
    ctx = _QAContext(p, [f.toks for f in used])
    candidates: list[tuple[list[Tok], tuple[int, int, int] | None]] = []
    for i, f in enumerate(used):
        for q, (first, last) in f.questions:
            candidates.append((q, (i, f.slots[first][0], f.slots[last][1])))
    r.shuffle(candidates)
    chosen = candidates[:n_questions]
    if unanswerable and unused:
        n_un = sum(1 for _ in range(len(chosen)) if r.random() < unanswerable)
        pool = [(q, None) for f in unused for q, _ in f.questions]
        r.shuffle(pool)
        chosen = chosen[:len(chosen) - n_un] + pool[:n_un]
        r.shuffle(chosen)
    ctx.questions = chosen
    return ctx


def _qa_rows(lang: str, ctx: _QAContext) -> tuple[str, list[tuple[str, dict]], str]:
    """(context, [(question, answers)], title) of one context rendered in ``lang``."""
    text, word_spans, _ = _paragraph(lang, ctx.sentences)
    rows = []
    for q, ans in ctx.questions:
        question = render(lang, q).text
        if ans is None:
            rows.append((question, {"text": [], "answer_start": []}))
            continue
        sent, first, end = ans
        start, stop = word_spans[sent][first][0], word_spans[sent][end - 1][1]
        rows.append((question, {"text": [text[start:stop]], "answer_start": [start]}))
    title = " ".join(_language(lang).name(part) for part in ctx.title.parts)
    return text, rows, title


# --- causal commonsense (COPA / XCOPA) -------------------------------------------------

_CAUSAL_PAIRS: tuple[tuple[str, str], ...] = (  # (cause, effect)
    ("{P} dropped the glass .", "the glass broke ."),
    ("it rained for three days .", "the street was wet ."),
    ("{P} was hungry .", "{R} ate a sandwich ."),
    ("{P} was tired .", "{R} went home early ."),
    ("{P} forgot the key .", "{R} could not open the door ."),
    ("the child was sick .", "the mother called the doctor ."),
    ("{P} studied every night .", "{R} passed the exam ."),
    ("the car had no fuel .", "the car stopped on the street ."),
    ("{P} told a strange story .", "the friends laughed ."),
    ("the sun was hot .", "the ice melted ."),
    ("{P} lost the wallet .", "{R} had no money ."),
    ("the wind was strong .", "the tree fell ."),
    ("{P} missed the train .", "{R} arrived late ."),
    ("{P} won the race .", "{R} received a medal ."),
    ("the room was dark .", "{P} turned on the lamp ."),
    ("the music was loud .", "the neighbour complained ."),
    ("{P} broke a leg .", "{R} went to the hospital ."),
    ("the shop was closed|part .", "{P} went home ."),
    ("{P} practised the piano every day .", "{R} played the song well|ADV ."),
    ("the milk was old .", "the milk smelled bad ."),
    ("{P} was cold .", "{R} closed the window ."),
    ("the phone rang .", "{P} answered the phone ."),
    ("{P} found a wallet on the street .", "{R} gave the wallet to the police ."),
    ("the river flooded .", "the village was evacuated|part ."),
    ("{P} ate three sandwiches .", "{R} felt sick ."),
    ("the teacher was ill .", "the lesson was cancelled|part ."),
    ("{P} saved money for ten years .", "{R} bought a house ."),
    ("the battery was empty .", "the camera did not work ."),
    ("{P} heard a strange noise .", "{R} looked outside ."),
    ("{P} joined a team .", "{R} played a game every week ."),
    ("{P} cooked dinner for the friends .", "the friends thanked {P} ."),
    ("the bridge was closed|part .", "the train stopped at the station ."),
    ("the price was good .", "{P} bought the coat ."),
    ("the company hired a new leader .", "the company grew ."),
)


def _fill(template: str, w: _World, p: Entity) -> list[Tok]:
    return _t(template, P=p, R=w.pron(p))


_CopaItem = tuple[list[Tok], list[Tok], list[Tok], str, int]  # premise, c1, c2, question, label


def _copa_items(r: random.Random, n: int) -> list[_CopaItem]:
    w = _World(r)
    items = []
    pairs = list(range(len(_CAUSAL_PAIRS)))
    for i in range(n):
        a, b = r.sample(pairs, 2)
        p = w.person()
        question = "cause" if i % 2 == 0 else "effect"
        cause, effect = _CAUSAL_PAIRS[a]
        other_cause, other_effect = _CAUSAL_PAIRS[b]
        if question == "cause":
            premise, right, wrong = effect, cause, other_cause
        else:
            premise, right, wrong = cause, effect, other_effect
        label = r.randrange(2)
        choices = [_fill(wrong, w, p), _fill(right, w, p)] if label else \
            [_fill(right, w, p), _fill(wrong, w, p)]
        items.append((_fill(premise, w, p), choices[0], choices[1], question, label))
    return items


# =============================================================================== features

def _features(spec: dict[str, Any]) -> Any:
    import datasets

    return datasets.Features(spec)


def _string() -> Any:
    import datasets

    return datasets.Value("string")


def _value(dtype: str) -> Any:
    import datasets

    return datasets.Value(dtype)


def _list(feature: Any) -> Any:
    import datasets

    return datasets.List(feature)


def _class(names: Sequence[str]) -> Any:
    import datasets

    return datasets.ClassLabel(names=list(names))


def _answers_feature(text_first: bool) -> dict[str, Any]:
    if text_first:
        return {"text": _list(_string()), "answer_start": _list(_value("int32"))}
    return {"answer_start": _list(_value("int32")), "text": _list(_string())}


# =============================================================================== the source

_UDPOS_LANG = {name: code for code, name in UDPOS_CONFIG_NAMES.items()}
_ISO3_LANG = {iso3: code for code, iso3 in TATOEBA_ISO3.items()}
_MEWSLI_DESCRIPTION_LANGS = ("en", "en", "en", "en", "de", "es", "fr", "ja", "ar", "ru", "pl",
                             "tr", "uk", "fa", "ta", "ro", "it", "pt", "zh")

Columns = dict[str, list]


class SyntheticSource:
    """Drop-in replacement for ``SourceReader`` that makes up every source (see module doc).

    ``load(source)`` returns ``(datasets.Dataset, revision)`` for hub sources (restricted by
    ``source.select`` like the real reader) and ``(folder, revision)`` for original files,
    written into a temporary folder that ``close()`` removes.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.revision = f"synthetic-{SYNTHETIC_VERSION}-seed{seed}"
        self._cache: dict[tuple[str, str | None, str], Any] = {}
        self._family: dict[tuple, Any] = {}
        self._tmp: Path | None = None
        self._written: set[tuple[str, str]] = set()
        self._finalizer: Any = None

    # ------------------------------------------------------------------ public API

    def __enter__(self) -> SyntheticSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary folder of generated original files (if any)."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._tmp = None
        self._written.clear()

    def load(self, source: Source) -> tuple[Any, str]:
        """The source's synthetic data (a Dataset, or a folder of files) and the revision."""
        if isinstance(source, HubSource):
            key = (source.dataset, source.config, source.split)
            if key not in self._cache:
                self._cache[key] = self._build_hub(source)
            data = self._cache[key]
            if source.select:
                data = select_rows(source, data)
            return data, self.revision
        if isinstance(source, (DownloadSource, UserFilesSource)):
            return self._build_files(source), self.revision
        raise TypeError(f"unknown source type {type(source).__name__}")

    def gold_pairs(self, source: Source) -> list[tuple[str, str, list[Tok]]]:
        """For a Tatoeba or BUCC source: (non-English text, English text, concepts) of each
        gold pair, as generated (for checks)."""
        if isinstance(source, HubSource) and source.config and \
                source.config.startswith("tatoeba."):
            lang = _ISO3_LANG[source.config.split(".", 1)[1]]
        elif isinstance(source, DownloadSource) and source.name == "tatoeba":
            lang = _ISO3_LANG[source.files[0].split(".")[1].split("-")[0]]
        elif isinstance(source, DownloadSource) and source.name == "bucc2018":
            lang, part = source.files[0].split("/")[0].split("-")[0], \
                source.files[0].split(".")[1]
            pairs = self._bucc(lang, part)[2]
            return [(render(lang, toks).text, render("en", toks).text, toks) for toks in pairs]
        else:
            raise ValueError(f"{source.label()} has no gold pairs")
        return [(render(lang, t).text, render("en", t).text, t) for t in self._tatoeba(lang)]

    # ------------------------------------------------------------------ helpers

    def _rng(self, *parts: object) -> random.Random:
        return _rng(self.seed, *parts)

    def _dataset(self, columns: Columns, features: dict[str, Any]) -> Any:
        import datasets

        datasets.disable_progress_bars()
        return datasets.Dataset.from_dict(columns, features=_features(features))

    def _cached(self, key: tuple, make: Callable[[], Any]) -> Any:
        if key not in self._family:
            self._family[key] = make()
        return self._family[key]

    # ------------------------------------------------------------------ hub datasets

    def _build_hub(self, source: HubSource) -> Any:
        dataset, config, split = source.dataset, source.config or "", source.split
        builders: dict[str, Callable[[str, str], tuple[Columns, dict[str, Any]]]] = {
            "google/xtreme": self._xtreme,
            "izhx/xtreme-r-udpos": lambda c, s: self._udpos(c, s, dataset),
            "unimelb-nlp/wikiann": lambda c, s: self._panx(c, s, dataset, wikiann=True),
            "google/xquad": lambda c, s: self._xquad(c.split(".", 1)[1], s, title=False),
            "nyu-mll/glue": self._glue,
            "facebook/anli": self._anli,
            "stanfordnlp/snli": self._snli,
            "rajpurkar/squad": lambda c, s: self._squad(s, v2=False),
            "rajpurkar/squad_v2": lambda c, s: self._squad(s, v2=True),
            "Rowan/hellaswag": self._hellaswag,
            "allenai/cosmos_qa": self._cosmos,
            "tau/commonsense_qa": self._commonsense_qa,
            "allenai/social_i_qa": self._siqa,
            "aps/super_glue": self._copa,
            "cambridgeltl/xcopa": self._xcopa,
            "google-research-datasets/xquad_r": self._xquad_r,
        }
        if dataset not in builders:
            raise UserError(f"the synthetic source has no generator for {source.label()}")
        columns, features = builders[dataset](config, split)
        return self._dataset(columns, features)

    def _xtreme(self, config: str, split: str) -> tuple[Columns, dict[str, Any]]:
        if config == "XNLI":
            return self._xnli(split)
        if config == "tydiqa":
            return self._tydiqa(split)
        prefix, _, rest = config.partition(".")
        if prefix == "PAWS-X":
            return self._pawsx(rest, split)
        if prefix == "udpos":
            return self._udpos(_UDPOS_LANG[rest], split, "google/xtreme")
        if prefix == "PAN-X":
            return self._panx(rest, split, "google/xtreme")
        if prefix == "XQuAD":
            return self._xquad(rest, split, title=False)
        if prefix == "MLQA":
            return self._mlqa(rest, split)
        if prefix == "tatoeba":
            return self._tatoeba_hub(_ISO3_LANG[rest])
        raise UserError(f"the synthetic source has no generator for google/xtreme:{config}")

    # --- NLI

    def _nli_columns(self, dataset: str, split: str, n: int, unlabelled: int = 0
                     ) -> tuple[list[str], list[str], list[int]]:
        r = self._rng(dataset, split)
        items = _nli_items(r, n)
        premises = [render("en", p).text for p, _, _ in items]
        hyps = [render("en", h).text for _, h, _ in items]
        labels = [lab for _, _, lab in items]
        for i in r.sample(range(n), unlabelled):
            labels[i] = -1
        return premises, hyps, labels

    def _glue(self, config: str, split: str) -> tuple[Columns, dict[str, Any]]:
        n = 480 if split == "train" else 100
        if config == "mnli":
            p, h, labels = self._nli_columns("glue-mnli", split, n)
            return ({"premise": p, "hypothesis": h, "label": labels, "idx": list(range(n))},
                    {"premise": _string(), "hypothesis": _string(),
                     "label": _class(NLI_LABELS), "idx": _value("int32")})
        if config == "qqp":
            r = self._rng("glue-qqp", split)
            q1, q2, labels = [], [], []
            for i in range(n):
                label = int(r.random() < 0.4)  # QQP: about 37% duplicates
                a, b = _paws_item(r, bool(label), question=True)
                q1.append(render("en", a).text)
                q2.append(render("en", b).text)
                labels.append(label)
            return ({"question1": q1, "question2": q2, "label": labels,
                     "idx": list(range(n))},
                    {"question1": _string(), "question2": _string(),
                     "label": _class(("not_duplicate", "duplicate")), "idx": _value("int32")})
        raise UserError(f"the synthetic source has no generator for nyu-mll/glue:{config}")

    def _snli(self, config: str, split: str) -> tuple[Columns, dict[str, Any]]:
        n = 360 if split == "train" else 100
        p, h, labels = self._nli_columns("snli", split, n, unlabelled=max(2, n // 60))
        return ({"premise": p, "hypothesis": h, "label": labels},
                {"premise": _string(), "hypothesis": _string(), "label": _class(NLI_LABELS)})

    def _anli(self, config: str, split: str) -> tuple[Columns, dict[str, Any]]:
        n = 150 if split.startswith("train") else 40
        p, h, labels = self._nli_columns("anli", split, n)
        reasons = ["" if i % 3 else ["The statement follows from the context.",
                                     "The context does not say this.",
                                     "The context says the opposite."][labels[i]]
                   for i in range(n)]
        uids = [str(_hex(8, self.seed, "anli", split, i)) + "-" + _hex(4, i) for i in range(n)]
        return ({"uid": uids, "premise": p, "hypothesis": h, "label": labels,
                 "reason": reasons},
                {"uid": _string(), "premise": _string(), "hypothesis": _string(),
                 "label": _class(NLI_LABELS), "reason": _string()})

    def _xnli(self, split: str) -> tuple[Columns, dict[str, Any]]:
        langs = TASK2LANGS["xtreme"]["xnli"]
        items = _nli_items(self._rng("xnli", split), 60)
        cols: Columns = {"language": [], "sentence1": [], "sentence2": [], "gold_label": []}
        for lang in langs:
            for premise, hyp, label in items:
                cols["language"].append(lang)
                cols["sentence1"].append(render(lang, premise).text)
                cols["sentence2"].append(render(lang, hyp).text)
                cols["gold_label"].append(NLI_LABELS[label])
        return cols, {k: _string() for k in cols}

    # --- paraphrase

    def _pawsx(self, lang: str, split: str) -> tuple[Columns, dict[str, Any]]:
        if split == "train":  # English train (other languages' train is not fetched)
            r, n, family = self._rng("pawsx", lang, split), 500, None
        else:  # dev/test: the same examples translated into every language
            r, n, family = self._rng("pawsx", split), 80, split

        def make() -> list[tuple[list[Tok], list[Tok], int]]:
            out = []
            for i in range(n):
                label = int(r.random() < 0.45)
                a, b = _paws_item(r, bool(label))
                out.append((a, b, label))
            return out

        items = self._cached(("pawsx", family), make) if family else make()
        return ({"sentence1": [render(lang, a).text for a, _, _ in items],
                 "sentence2": [render(lang, b).text for _, b, _ in items],
                 "label": [str(lab) for _, _, lab in items]},
                {"sentence1": _string(), "sentence2": _string(), "label": _string()})

    # --- tagging

    def _udpos(self, lang: str, split: str, dataset: str) -> tuple[Columns, dict[str, Any]]:
        n = 400 if split == "train" else (100 if lang == "en" else 60)
        r = self._rng(dataset, "udpos", lang, split)
        w = _World(r)
        tokens, tags = [], []
        for _ in range(n):
            toks = _pos_sentence(w, r)
            tokens.append(render(lang, toks).words)
            tags.append([UPOS_TAGS.index(t.upos) for t in toks])
        return ({"tokens": tokens, "pos_tags": tags},
                {"tokens": _list(_string()), "pos_tags": _list(_class(UPOS_TAGS))})

    def _panx(self, lang: str, split: str, dataset: str, wikiann: bool = False
              ) -> tuple[Columns, dict[str, Any]]:
        n = 400 if split == "train" else (100 if lang == "en" else 60)
        r = self._rng(dataset, "panx", lang, split)
        w = _World(r)
        cols: Columns = {"tokens": [], "ner_tags": [], "langs": []}
        if wikiann:
            cols["spans"] = []
        for _ in range(n):
            toks = _ner_sentence(w, r)
            words = render(lang, toks).words
            cols["tokens"].append(words)
            cols["ner_tags"].append([NER_TAGS.index(t.ner) for t in toks])
            cols["langs"].append([lang] * len(words))
            if wikiann:
                spans, current = [], None
                for word, t in zip(words, toks):
                    if t.ner.startswith("B-"):
                        current = [t.ner[2:], word]
                        spans.append(current)
                    elif t.ner.startswith("I-") and current is not None:
                        current.append(word)
                    else:
                        current = None
                cols["spans"].append([f"{s[0]}: {' '.join(s[1:])}" for s in spans])
        features = {"tokens": _list(_string()), "ner_tags": _list(_class(NER_TAGS)),
                    "langs": _list(_string())}
        if wikiann:
            features["spans"] = _list(_string())
        return cols, features

    # --- extractive QA

    def _squad(self, split: str, v2: bool) -> tuple[Columns, dict[str, Any]]:
        name = "squad_v2" if v2 else "squad"
        r = self._rng(name, split)
        n_ctx = 120 if split == "train" else 25
        cols: Columns = {"id": [], "title": [], "context": [], "question": [], "answers": []}
        for c in range(n_ctx):
            ctx = _qa_context(r, r.randint(3, 5), 4, unanswerable=0.35 if v2 else 0.0)
            text, rows, _ = _qa_rows("en", ctx)
            title = "_".join(ctx.title.parts)
            for q, (question, answers) in enumerate(rows):
                if split != "train" and answers["text"]:
                    k = r.choice((2, 3))
                    answers = {"text": answers["text"] * k,
                               "answer_start": answers["answer_start"] * k}
                cols["id"].append(_hex(24, self.seed, name, split, c, q))
                cols["title"].append(title)
                cols["context"].append(text)
                cols["question"].append(question)
                cols["answers"].append(answers)
        return cols, {"id": _string(), "title": _string(), "context": _string(),
                      "question": _string(), "answers": _answers_feature(True)}

    def _parallel_contexts(self, family: str, split: str, n_ctx: int, n_facts: int,
                           n_questions: int) -> list[_QAContext]:
        def make() -> list[_QAContext]:
            r = self._rng(family, split)
            return [_qa_context(r, n_facts, n_questions) for _ in range(n_ctx)]
        return self._cached((family, split), make)

    def _xquad(self, lang: str, split: str, title: bool) -> tuple[Columns, dict[str, Any]]:
        contexts = self._parallel_contexts("xquad", split, 16, 4, 5)
        cols: Columns = {"id": [], "context": [], "question": [], "answers": []}
        for c, ctx in enumerate(contexts):
            text, rows, _ = _qa_rows(lang, ctx)
            for q, (question, answers) in enumerate(rows):
                cols["id"].append(_hex(24, self.seed, "xquad", split, c, q))
                cols["context"].append(text)
                cols["question"].append(question)
                cols["answers"].append(answers)
        return cols, {"id": _string(), "context": _string(), "question": _string(),
                      "answers": _answers_feature(False)}

    def _mlqa(self, config: str, split: str) -> tuple[Columns, dict[str, Any]]:
        lang = config.split(".")[0]
        r = self._rng("mlqa", config, split)
        n_ctx = 12 if split == "validation" else 20
        cols: Columns = {"id": [], "title": [], "context": [], "question": [], "answers": []}
        for c in range(n_ctx):
            ctx = _qa_context(r, r.randint(3, 5), 4)
            text, rows, title = _qa_rows(lang, ctx)
            for q, (question, answers) in enumerate(rows):
                cols["id"].append(_hex(40, self.seed, "mlqa", config, split, c, q))
                cols["title"].append(title)
                cols["context"].append(text)
                cols["question"].append(question)
                cols["answers"].append(answers)
        return cols, {"id": _string(), "title": _string(), "context": _string(),
                      "question": _string(), "answers": _answers_feature(False)}

    def _tydiqa(self, split: str) -> tuple[Columns, dict[str, Any]]:
        langs = TASK2LANGS["xtreme"]["tydiqa"]
        cols: Columns = {"id": [], "title": [], "context": [], "question": [], "answers": []}
        per_lang = []
        for lang in langs:
            if split == "train":
                n = 100 if lang == "en" else 6
            else:
                n = 15
            r = self._rng("tydiqa", lang, split)
            for c in range(n):
                ctx = _qa_context(r, r.randint(2, 4), 4)
                text, rows, title = _qa_rows(lang, ctx)
                doc = r.randrange(10**18, 10**19)
                for q, (question, answers) in enumerate(rows):
                    per_lang.append((f"{TYDIQA_ID_PREFIX[lang]}-{doc}-{q}", title, text,
                                     question, answers))
        # The hub split mixes languages; interleave them deterministically.
        order = self._rng("tydiqa-order", split)
        order.shuffle(per_lang)
        for row in per_lang:
            for k, v in zip(("id", "title", "context", "question", "answers"), row):
                cols[k].append(v)
        return cols, {"id": _string(), "title": _string(), "context": _string(),
                      "question": _string(), "answers": _answers_feature(False)}

    def _xquad_r(self, lang: str, split: str) -> tuple[Columns, dict[str, Any]]:
        contexts = self._parallel_contexts("xquad_r", split, 15, 4, 4)
        cols: Columns = {"id": [], "context": [], "question": [], "answers": []}
        for c, ctx in enumerate(contexts):
            text, rows, _ = _qa_rows(lang, ctx)
            for q, (question, answers) in enumerate(rows):
                cols["id"].append(_hex(24, self.seed, "xquad_r", split, c, q))
                cols["context"].append(text)
                cols["question"].append(question)
                cols["answers"].append(answers)
        return cols, {"id": _string(), "context": _string(), "question": _string(),
                      "answers": _answers_feature(True)}

    # --- bitext

    def _tatoeba(self, lang: str) -> list[list[Tok]]:
        def make() -> list[list[Tok]]:
            r = self._rng("tatoeba", lang)
            w = _World(r)
            seen: set[str] = set()
            out: list[list[Tok]] = []
            while len(out) < 100:
                v = r.random()
                if v < 0.4:
                    toks = [*_clause(w, r), *_t(".")]
                elif v < 0.6:
                    subj, _ = _subject(w, r)
                    toks = [*subj, *_t("was very {A} .", A=_a(r.choice(ADJECTIVES)))]
                elif v < 0.8:
                    toks = _t("i {V} {K} {N} .", V=_v(r.choice(THING_VERBS)),
                              K=r.randint(2, 99), N=_n(r.choice(THINGS), True))
                else:
                    toks = [*_pos_sentence(w, r)]
                text = render("en", toks).text
                if text not in seen:
                    seen.add(text)
                    out.append(toks)
            return out
        return self._cached(("tatoeba", lang), make)

    def _tatoeba_hub(self, lang: str) -> tuple[Columns, dict[str, Any]]:
        pairs = self._tatoeba(lang)
        iso3 = TATOEBA_ISO3[lang]
        return ({"source_sentence": [render(lang, t).text + "\n" for t in pairs],
                 "target_sentence": [render("en", t).text + "\n" for t in pairs],
                 "source_lang": [iso3] * len(pairs), "target_lang": ["eng"] * len(pairs)},
                {"source_sentence": _string(), "target_sentence": _string(),
                 "source_lang": _string(), "target_lang": _string()})

    def _bucc(self, lang: str, part: str
              ) -> tuple[list[tuple[str, list[Tok]]], list[tuple[str, list[Tok]]],
                         list[list[Tok]], list[tuple[str, str]]]:
        def make() -> Any:
            r = self._rng("bucc2018", lang, part)
            w = _World(r)
            seen: set[str] = set()

            def sentence() -> list[Tok]:
                while True:
                    v = r.random()
                    if v < 0.3:
                        toks = _t("in {Y} , {O} {V} {K} {N} in {L} .", Y=w.year(), O=w.org(),
                                  V=_v(r.choice(("sell", "buy", "build", "produce"))),
                                  K=r.randint(2, 5000), N=_n(r.choice(THINGS), True),
                                  L=w.place())
                    elif v < 0.55:
                        toks = _t("{P} , a {N} from {L} , {V} the {J} {M} in {Y} .",
                                  P=w.person(), N=_n(r.choice(PROFESSIONS)), L=w.place(),
                                  V=_v(r.choice(("visit", "build", "open", "design", "close",
                                                 "paint", "clean", "buy", "sell"))),
                                  J=_a(r.choice(ADJECTIVES)), M=_n(r.choice(VENUES)),
                                  Y=w.year())
                    elif v < 0.8:
                        toks = _t("the {N} of {L} grew by {K} % in {Y} .",
                                  N=_n(r.choice(("price", "sale")), True),
                                  L=w.place(), K=r.randint(2, 90), Y=w.year())
                    else:
                        toks = _clause(w, r)
                        if not any(t.key.startswith("num:") for t in toks):
                            toks += _t("in {Y}", Y=w.year())
                        toks += _t(".")
                    text = render("en", toks).text
                    if text not in seen:
                        seen.add(text)
                        return toks

            gold = [sentence() for _ in range(50)]
            src_only = [sentence() for _ in range(100)]
            tgt_only = [sentence() for _ in range(100)]
            src = [(i, t) for i, t in enumerate(gold)] + [(None, t) for t in src_only]
            tgt = [(i, t) for i, t in enumerate(gold)] + [(None, t) for t in tgt_only]
            r.shuffle(src)
            r.shuffle(tgt)
            src_ids = [f"{lang}-{k + 1:09d}" for k in range(len(src))]
            tgt_ids = [f"en-{k + 1:09d}" for k in range(len(tgt))]
            src_of = {g: sid for sid, (g, _) in zip(src_ids, src) if g is not None}
            tgt_of = {g: tid for tid, (g, _) in zip(tgt_ids, tgt) if g is not None}
            links = sorted((src_of[g], tgt_of[g]) for g in range(len(gold)))
            return ([(sid, t) for sid, (_, t) in zip(src_ids, src)],
                    [(tid, t) for tid, (_, t) in zip(tgt_ids, tgt)], gold, links)
        return self._cached(("bucc", lang, part), make)

    # --- multiple choice (English)

    def _hellaswag(self, config: str, split: str) -> tuple[Columns, dict[str, Any]]:
        r = self._rng("hellaswag", split)
        n = 400 if split == "train" else 100
        cols: Columns = {k: [] for k in ("ind", "activity_label", "ctx_a", "ctx_b", "ctx",
                                         "endings", "source_id", "split", "split_type",
                                         "label")}
        for i in range(n):
            act = r.randrange(len(_ACTIVITIES))
            label_, place, tools, steps = _ACTIVITIES[act]
            person = r.choice(("A man", "A woman", "A boy", "A girl", "A chef", "People"))
            tool = r.choice(tools)
            article = "an" if tool[0] in "aeiou" else "a"
            ctx_a = f"{person} {'are' if person == 'People' else 'is'} at the {place} with " \
                    f"{article} {tool}."
            ctx_b = "they" if person == "People" else r.choice(("he", "she", "the person"))
            right = r.choice(steps).format(tool=tool, place=place)
            others = [a for a in range(len(_ACTIVITIES)) if a != act]
            wrong = []
            for o in r.sample(others, 3):
                _, oplace, otools, osteps = _ACTIVITIES[o]
                wrong.append(r.choice(osteps).format(tool=r.choice(otools), place=oplace))
            label = r.randrange(4)
            endings = wrong[:label] + [right] + wrong[label:]
            cols["ind"].append(i)
            cols["activity_label"].append(label_)
            cols["ctx_a"].append(ctx_a)
            cols["ctx_b"].append(ctx_b)
            cols["ctx"].append(f"{ctx_a} {ctx_b}")
            cols["endings"].append(endings)
            cols["source_id"].append(f"activitynet~v_{_hex(11, self.seed, 'hs', split, i)}")
            cols["split"].append("train" if split == "train" else "val")
            cols["split_type"].append("indomain" if i % 2 == 0 else "zeroshot")
            cols["label"].append(str(label))
        features = {k: _string() for k in cols}
        features["ind"] = _value("int32")
        features["endings"] = _list(_string())
        return cols, features

    def _cosmos(self, config: str, split: str) -> tuple[Columns, dict[str, Any]]:
        r = self._rng("cosmos_qa", split)
        w = _World(r)
        n = 400 if split == "train" else 100
        cols: Columns = {k: [] for k in ("id", "context", "question", "answer0", "answer1",
                                         "answer2", "answer3", "label")}
        for i in range(n):
            p = w.person()
            a, *rest = r.sample(range(len(_CAUSAL_PAIRS)), 4)
            cause, effect = (render("en", _fill(t, w, p)).text for t in _CAUSAL_PAIRS[a])
            intro = render("en", [*_clause(w, r, p.toks()), *_t(".")]).text
            if r.random() < 0.5:
                context = f"{intro} Later that day, {cause[0].lower()}{cause[1:]}"
                question = "What may happen next?"
                right = effect
                wrong = [render("en", _fill(_CAUSAL_PAIRS[b][1], w, p)).text for b in rest]
            else:
                context = f"{intro} In the evening, {effect[0].lower()}{effect[1:]}"
                question = "Why may this have happened?"
                right = cause
                wrong = [render("en", _fill(_CAUSAL_PAIRS[b][0], w, p)).text for b in rest]
            if r.random() < 0.3:
                wrong[2] = "None of the above choices ."
            label = r.randrange(4)
            answers = wrong[:label] + [right] + wrong[label:3]
            cols["id"].append(f"3{_hex(29, self.seed, 'cosmos', split, i).upper()}##"
                              f"{_hex(30, self.seed, 'cosmos-q', split, i).upper()}")
            cols["context"].append(context)
            cols["question"].append(question)
            for k in range(4):
                cols[f"answer{k}"].append(answers[k])
            cols["label"].append(label)
        features = {k: _string() for k in cols}
        features["label"] = _value("int32")
        return cols, features

    def _commonsense_qa(self, config: str, split: str) -> tuple[Columns, dict[str, Any]]:
        r = self._rng("commonsense_qa", split)
        n = 400 if split == "train" else 100
        cols: Columns = {k: [] for k in ("id", "question", "question_concept", "choices",
                                         "answerKey")}
        places = sorted({p for _, p, _ in _OBJECT_FACTS})
        uses = sorted({u for _, _, u in _OBJECT_FACTS})
        for i in range(n):
            obj, place, use = r.choice(_OBJECT_FACTS)
            if r.random() < 0.6:
                question = r.choice(("Where would you most likely find a {o}?",
                                     "Where is a {o} usually kept?",
                                     "If you need a {o}, where should you go?")).format(o=obj)
                right, pool = place, [p for p in places if p != place]
            else:
                question = r.choice(("What do people use a {o} for?",
                                     "Why would someone buy a {o}?")).format(o=obj)
                right, pool = use, [u for u in uses if u != use]
            label = r.randrange(5)
            wrong = r.sample(pool, 4)
            texts = wrong[:label] + [right] + wrong[label:]
            cols["id"].append(_hex(32, self.seed, "csqa", split, i))
            cols["question"].append(question)
            cols["question_concept"].append(obj)
            cols["choices"].append({"label": list("ABCDE"), "text": texts})
            cols["answerKey"].append("ABCDE"[label])
        return cols, {"id": _string(), "question": _string(), "question_concept": _string(),
                      "choices": {"label": _list(_string()), "text": _list(_string())},
                      "answerKey": _string()}

    def _siqa(self, config: str, split: str) -> tuple[Columns, dict[str, Any]]:
        r = self._rng("social_i_qa", split)
        w = _World(r)
        n = 400 if split == "train" else 100
        cols: Columns = {k: [] for k in ("context", "question", "answerA", "answerB",
                                         "answerC", "label")}
        for _ in range(n):
            s = r.randrange(len(_SOCIAL))
            context, qa = _SOCIAL[s]
            p = w.person()
            q = w.person([p])
            names = {"P": p.parts[0], "Q": q.parts[0],
                     "pr": "she" if p.female else "he", "qr": "her" if q.female else "him"}
            kind = r.randrange(len(qa))
            question, right = qa[kind]
            right_words = set(right.split()) - {"the", "a", "to", "{P}", "{Q}", "{pr}"}
            pool = [other[1][kind][1] for j, other in enumerate(_SOCIAL)
                    if j != s and not right_words & set(other[1][kind][1].split())]
            wrong = r.sample(pool, 2)
            label = r.randrange(3)
            answers = wrong[:label] + [right] + wrong[label:]
            cols["context"].append(context.format(**names))
            cols["question"].append(question.format(**names))
            for k, letter in enumerate("ABC"):
                cols[f"answer{letter}"].append(answers[k].format(**names))
            cols["label"].append(str(label + 1))
        return cols, {k: _string() for k in cols}

    def _copa(self, config: str, split: str) -> tuple[Columns, dict[str, Any]]:
        n = 300 if split == "train" else 100
        items = _copa_items(self._rng("super_glue-copa", split), n)
        return ({"premise": [render("en", p).text for p, *_ in items],
                 "choice1": [render("en", c1).text for _, c1, _, _, _ in items],
                 "choice2": [render("en", c2).text for _, _, c2, _, _ in items],
                 "question": [q for *_, q, _ in items], "idx": list(range(n)),
                 "label": [lab for *_, lab in items]},
                {"premise": _string(), "choice1": _string(), "choice2": _string(),
                 "question": _string(), "idx": _value("int32"),
                 "label": _class(("choice1", "choice2"))})

    def _xcopa(self, lang: str, split: str) -> tuple[Columns, dict[str, Any]]:
        n = 60 if split == "validation" else 100
        items = self._cached(("xcopa", split),
                             lambda: _copa_items(self._rng("xcopa", split), n))
        changed = self._rng("xcopa-changed", lang, split)
        return ({"premise": [render(lang, p).text for p, *_ in items],
                 "choice1": [render(lang, c1).text for _, c1, _, _, _ in items],
                 "choice2": [render(lang, c2).text for _, _, c2, _, _ in items],
                 "question": [q for *_, q, _ in items],
                 "label": [lab for *_, lab in items], "idx": list(range(n)),
                 "changed": [changed.random() < 0.1 for _ in items]},
                {"premise": _string(), "choice1": _string(), "choice2": _string(),
                 "question": _string(), "label": _value("int32"), "idx": _value("int32"),
                 "changed": _value("bool")})

    # ------------------------------------------------------------------ original files

    def _root(self) -> Path:
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="xstilts-synthetic-"))
            self._finalizer = weakref.finalize(self, shutil.rmtree, str(self._tmp), True)
        return self._tmp

    def _build_files(self, source: DownloadSource | UserFilesSource) -> Path:
        folder = self._root() / source.name
        for relpath in source.files:
            if (source.name, relpath) in self._written:
                continue
            for path, content in self._make_files(source.name, relpath).items():
                target = folder / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8", newline="\n")
                self._written.add((source.name, path))
        return folder

    def _make_files(self, name: str, relpath: str) -> dict[str, str]:
        """The files (relative path -> text) that hold ``relpath`` of original source
        ``name``; some files are made together (a BUCC corpus and its gold file)."""
        if name == "bucc2018":
            pair, filename = relpath.split("/")
            lang = pair.split("-")[0]
            part = filename.split(".")[1]
            src, tgt, _, links = self._bucc(lang, part)
            base = f"{pair}/{pair}.{part}"
            return {
                f"{base}.{lang}": "".join(f"{i}\t{render(lang, t).text}\n" for i, t in src),
                f"{base}.en": "".join(f"{i}\t{render('en', t).text}\n" for i, t in tgt),
                f"{base}.gold": "".join(f"{s}\t{t}\n" for s, t in links),
            }
        if name == "tatoeba":
            iso3 = relpath.split(".")[1].split("-")[0]
            lang = _ISO3_LANG[iso3]
            pairs = self._tatoeba(lang)
            return {
                f"tatoeba.{iso3}-eng.{iso3}": "".join(render(lang, t).text + "\n"
                                                      for t in pairs),
                f"tatoeba.{iso3}-eng.eng": "".join(render("en", t).text + "\n" for t in pairs),
            }
        if name == "mewslix":
            return {relpath: self._mewslix_file(relpath)}
        if name == "ccg":
            return {relpath: self._ccg_file(relpath)}
        raise UserError(f"the synthetic source has no generator for {name}/{relpath}")

    # --- CCG

    def _ccg_file(self, relpath: str) -> str:
        split = "train" if relpath.startswith("train") else "dev"
        r = self._rng("ccg", split)
        w = _World(r)
        lines = []
        for _ in range(400 if split == "train" else 100):
            toks = _pos_sentence(w, r)
            words = render("en", toks).words
            lines.append(" ".join(words) + "\t" + " ".join(_supertags(toks)))
        return "\n".join(lines) + "\n"

    # --- Mewsli-X

    def _mewslix_entities(self, pool: str, n: int) -> list[dict[str, Any]]:
        def make() -> list[dict[str, Any]]:
            r = self._rng("mewslix-entities", pool)
            w = _World(r)
            seen: set[tuple[str, ...]] = set()
            low = 1000 if pool == "candidates" else 5_000_000  # disjoint QID ranges
            qids = r.sample(range(low, low + 4_999_000), n)
            out = []
            while len(out) < n:
                v = r.random()
                if v < 0.6:
                    e = w.person()
                    facts = {"kind": "PER", "prof": r.choice(PROFESSIONS), "loc": w.place()}
                    template = "{E} is a {N} from {L} ."
                elif v < 0.85:
                    e = w.org()
                    facts = {"kind": "ORG", "prof": r.choice(VENUES), "loc": w.place()}
                    template = "{E} is a company from {L} ."
                else:
                    e = w.place()
                    facts = {"kind": "LOC", "prof": "city", "loc": w.place([e])}
                    template = "{E} is a city in {L} ."
                if e.parts in seen:
                    continue
                seen.add(e.parts)
                lang = _MEWSLI_DESCRIPTION_LANGS[len(out) % len(_MEWSLI_DESCRIPTION_LANGS)]
                toks = _t(template, E=e, N=_n(facts["prof"]), L=facts["loc"])
                description = render(lang, toks).text
                title = " ".join(_language(lang).name(x) for x in e.parts)
                out.append({
                    "entity_id": f"Q{qids[len(out)]}", "title": title,
                    "description": description,
                    "description_url": f"https://{lang}.wikipedia.org/wiki/"
                                       f"{title.replace(' ', '_')}",
                    "description_language": lang,
                    "sentence_spans": [[0, len(description)]],
                    "_entity": e, "_facts": facts,
                })
            return out
        return self._cached(("mewslix-entities", pool), make)

    @staticmethod
    def _public(entity: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in entity.items() if not k.startswith("_")}

    def _mention_sentences(self, r: random.Random, w: _World, entity: dict[str, Any]
                           ) -> list[tuple[list[Tok], str | None]]:
        """A sentence mentioning ``entity`` (consistent with its description) and a filler."""
        e, facts = entity["_entity"], entity["_facts"]
        name = e.toks()
        if facts["kind"] == "PER":
            main = _t("the {N} {E} from {L} visited {M} in {Y} .", N=_n(facts["prof"]), E=name,
                      L=facts["loc"], M=w.place(), Y=w.year())
        elif facts["kind"] == "ORG":
            main = _t("{E} , a company from {L} , opened a {N} in {M} .", E=name,
                      L=facts["loc"], N=_n(facts["prof"]), M=w.place())
        else:
            main = _t("{P} moved to {E} , a city in {L} , in {Y} .", P=w.person(), E=name,
                      L=facts["loc"], Y=w.year())
        filler = [*_clause(w, r), *_t(".")]
        return [(filler, None), (main, entity["entity_id"])] if r.random() < 0.5 else \
            [(main, entity["entity_id"]), (filler, None)]

    def _mewslix_file(self, relpath: str) -> str:
        candidates = self._mewslix_entities("candidates", 200)
        if relpath == "candidate_set_entities.jsonl":
            return "".join(json.dumps(self._public(e), ensure_ascii=False) + "\n"
                           for e in candidates)
        if relpath == "wikipedia_pairs-train.jsonl":
            entities = self._mewslix_entities("train", 150)
            r = self._rng("mewslix", "train")
            w = _World(r)
            lines = []
            for i in range(400):
                entity = entities[r.randrange(len(entities))]
                doc = self._mewslix_doc(r, w, "en", [entity], f"train-{i}", wiki=True)
                context, mention = doc["context"], doc["mentions"][0]
                lines.append(json.dumps({
                    "contextual_mention": {"context": context, "mention": mention},
                    "entity": self._public(entity)}, ensure_ascii=False))
            return "\n".join(lines) + "\n"
        split = "dev" if "dev" in relpath else "test"
        r = self._rng("mewslix", split)
        w = _World(r)
        lines = []
        for lang in TASK2LANGS["xtreme-r"]["mewslix"]:
            for d in range(20):
                k = r.choice((2, 3))
                chosen = [candidates[i] for i in r.sample(range(len(candidates)), k)]
                doc = self._mewslix_doc(r, w, lang, chosen, f"{split}-{lang}-{d}")
                lines.append(json.dumps(doc, ensure_ascii=False))
        return "\n".join(lines) + "\n"

    def _mewslix_doc(self, r: random.Random, w: _World, lang: str,
                     entities: list[dict[str, Any]], doc_key: str, wiki: bool = False
                     ) -> dict[str, Any]:
        sentences: list[tuple[list[Tok], str | None]] = []
        for entity in entities:
            sentences.extend(self._mention_sentences(r, w, entity))
        text, word_spans, sentence_spans = _paragraph(lang, [s for s, _ in sentences])
        mentions = []
        for (toks, qid), spans in zip(sentences, word_spans):
            if qid is None:
                continue
            idx = [i for i, t in enumerate(toks) if t.ner != "O" and t.key.startswith("name:")]
            # the mention is the first entity name in the sentence that belongs to qid
            entity = next(e for e in entities if e["entity_id"] == qid)
            n = len(entity["_entity"].parts)
            first = next(i for i in idx if tuple(t.key[5:] for t in toks[i:i + n])
                         == entity["_entity"].parts)
            start, end = spans[first][0], spans[first + n - 1][1]
            mentions.append({
                "example_id": f"{doc_key}-{len(mentions)}-{_hex(12, self.seed, doc_key, qid)}",
                "entity_id": qid,
                "mention_span": {"text": text[start:end], "start": start, "end": end}})
        doc_id = _hex(16, self.seed, "doc", doc_key)
        title = render(lang, _t("{E}", E=entities[0]["_entity"])).text
        site = "wikipedia" if wiki else "wikinews"
        context = {"document_id": doc_id,
                   "document_url": f"https://{lang}.{site}.org/wiki/{doc_id}",
                   "document_title": title, "section_title": "", "language": lang,
                   "text": text, "sentence_spans": [list(s) for s in sentence_spans]}
        return {"context": context, "mentions": mentions}


# =============================================================================== English-only
# data for multiple choice tasks and CCG supertags.

_ACTIVITIES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Cooking", "kitchen", ("pan", "knife", "pot"),
     ("puts the {tool} on the stove in the {place}.", "washes the {tool} and cooks dinner.",
      "heats the {tool} and adds vegetables.")),
    ("Washing a car", "driveway", ("sponge", "hose", "bucket"),
     ("sprays the car with the {tool} in the {place}.", "scrubs the car with the {tool}.",
      "rinses the car and dries it with a towel.")),
    ("Playing guitar", "living room", ("guitar", "pick", "capo"),
     ("strums the {tool} and sings a song.", "tunes the {tool} in the {place}.",
      "plays a few chords with the {tool}.")),
    ("Mowing the lawn", "garden", ("mower", "rake", "trimmer"),
     ("pushes the {tool} across the grass in the {place}.",
      "starts the {tool} and cuts the grass.", "empties the grass from the {tool}.")),
    ("Painting a wall", "hallway", ("brush", "roller", "ladder"),
     ("dips the {tool} in paint and covers the wall.", "climbs the {tool} in the {place}.",
      "rolls paint on the wall with the {tool}.")),
    ("Skiing", "slope", ("ski", "pole", "helmet"),
     ("slides down the {place} on the {tool}.", "puts on the {tool} and skis down the {place}.",
      "stops at the bottom of the {place}.")),
    ("Baking cookies", "bakery", ("oven", "tray", "bowl"),
     ("mixes flour in the {tool} in the {place}.", "puts the {tool} into the oven.",
      "takes the cookies out of the {tool}.")),
    ("Swimming", "pool", ("swim cap", "towel", "float"),
     ("dives into the {place} wearing the {tool}.", "swims across the {place}.",
      "dries off with the {tool} next to the {place}.")),
    ("Fixing a bike", "garage", ("wrench", "pump", "tire"),
     ("tightens the bolts with the {tool} in the {place}.",
      "inflates the tire with the {tool}.", "replaces the chain and tests the bike.")),
    ("Brushing teeth", "bathroom", ("toothbrush", "tube of toothpaste", "cup"),
     ("puts toothpaste on the {tool} in the {place}.", "brushes the teeth with the {tool}.",
      "rinses the mouth with water from the {tool}.")),
    ("Knitting", "armchair", ("needle", "ball of yarn", "scarf"),
     ("loops the {tool} around the needles.", "knits a row of the {tool} in the {place}.",
      "holds up the finished {tool}.")),
    ("Shoveling snow", "sidewalk", ("shovel", "bag of salt", "broom"),
     ("clears the {place} with the {tool}.", "throws snow off the {place} with the {tool}.",
      "spreads salt on the icy {place}.")),
    ("Ironing clothes", "laundry room", ("iron", "shirt", "ironing board"),
     ("presses the {tool} flat in the {place}.", "moves the {tool} over the shirt.",
      "folds the ironed {tool} in the {place}.")),
    ("Playing tennis", "court", ("racket", "ball", "net"),
     ("hits the {tool} across the {place}.", "serves the ball with the {tool}.",
      "runs to the {tool} on the {place}.")),
)

_OBJECT_FACTS: tuple[tuple[str, str, str], ...] = (
    ("book", "library", "reading"), ("car", "garage", "driving"),
    ("fish", "river", "eating"), ("bed", "bedroom", "sleeping"),
    ("stove", "kitchen", "cooking"), ("painting", "museum", "decorating"),
    ("towel", "bathroom", "drying"), ("ticket", "train station", "travelling"),
    ("violin", "orchestra", "making music"), ("shovel", "shed", "digging"),
    ("medicine", "pharmacy", "healing"), ("blackboard", "classroom", "teaching"),
    ("umbrella", "closet", "staying dry"), ("tent", "campsite", "camping"),
    ("cash register", "supermarket", "paying"), ("telescope", "observatory", "stargazing"),
    ("anchor", "harbour", "mooring"), ("saddle", "stable", "riding"),
    ("microscope", "laboratory", "research"), ("pillow", "sofa", "resting"),
    ("ball", "playground", "playing"), ("letter", "post office", "communicating"),
    ("knife", "drawer", "cutting"), ("plant", "garden", "growing food"),
    ("hammer", "toolbox", "building"), ("coffee", "cafe", "waking up"),
)

_SOCIAL: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("{P} gave {Q} a book about history for a birthday.",
     (("What will {Q} want to do next?", "read the book"),
      ("How would {P} feel afterwards?", "generous"),
      ("Why did {P} do this?", "to celebrate {Q}'s birthday"))),
    ("{P} helped {Q} carry the heavy boxes up the stairs.",
     (("What will {Q} want to do next?", "thank {P} for carrying the boxes"),
      ("How would {P} feel afterwards?", "tired but helpful"),
      ("Why did {P} do this?", "to make the move easier for {Q}"))),
    ("{P} forgot {Q}'s name at the party.",
     (("What will {Q} want to do next?", "say the name again"),
      ("How would {P} feel afterwards?", "embarrassed"),
      ("Why did {P} do this?", "{pr} had met too many people at the party"))),
    ("{P} cooked a big dinner for {Q} and the family.",
     (("What will {Q} want to do next?", "eat the dinner"),
      ("How would {P} feel afterwards?", "proud of the dinner"),
      ("Why did {P} do this?", "to feed the family"))),
    ("{P} lent {Q} money to pay the rent.",
     (("What will {Q} want to do next?", "pay the rent and return the money"),
      ("How would {P} feel afterwards?", "kind"),
      ("Why did {P} do this?", "to help {Q} keep the apartment"))),
    ("{P} won the chess tournament against {Q}.",
     (("What will {Q} want to do next?", "ask for a rematch at chess"),
      ("How would {P} feel afterwards?", "victorious"),
      ("Why did {P} do this?", "to become the chess champion"))),
    ("{P} yelled at {Q} in front of the whole class.",
     (("What will {Q} want to do next?", "leave the class"),
      ("How would {P} feel afterwards?", "angry"),
      ("Why did {P} do this?", "{pr} was upset with {Q}"))),
    ("{P} taught {Q} how to swim in the lake.",
     (("What will {Q} want to do next?", "practice swimming in the lake"),
      ("How would {P} feel afterwards?", "patient"),
      ("Why did {P} do this?", "to keep {Q} safe in the water"))),
    ("{P} painted {Q}'s fence on a sunny weekend.",
     (("What will {Q} want to do next?", "admire the painted fence"),
      ("How would {P} feel afterwards?", "satisfied with the fence"),
      ("Why did {P} do this?", "to make the fence look new"))),
    ("{P} drove {Q} to the airport early in the morning.",
     (("What will {Q} want to do next?", "catch the flight at the airport"),
      ("How would {P} feel afterwards?", "sleepy"),
      ("Why did {P} do this?", "so {Q} would not miss the flight"))),
    ("{P} broke {Q}'s favourite vase by accident.",
     (("What will {Q} want to do next?", "clean up the broken vase"),
      ("How would {P} feel afterwards?", "guilty"),
      ("Why did {P} do this?", "{pr} was not careful near the vase"))),
    ("{P} invited {Q} to the wedding next summer.",
     (("What will {Q} want to do next?", "buy a gift for the wedding"),
      ("How would {P} feel afterwards?", "excited"),
      ("Why did {P} do this?", "to share the wedding day with {Q}"))),
    ("{P} studied with {Q} for the math exam all night.",
     (("What will {Q} want to do next?", "take the math exam"),
      ("How would {P} feel afterwards?", "prepared"),
      ("Why did {P} do this?", "to pass the math exam"))),
    ("{P} planted tomatoes in {Q}'s garden.",
     (("What will {Q} want to do next?", "water the tomatoes in the garden"),
      ("How would {P} feel afterwards?", "helpful"),
      ("Why did {P} do this?", "to grow food in the garden"))),
    ("{P} told {Q} a secret about the surprise party.",
     (("What will {Q} want to do next?", "keep the party a secret"),
      ("How would {P} feel afterwards?", "trusting"),
      ("Why did {P} do this?", "to plan the surprise party with {Q}"))),
    ("{P} fixed {Q}'s broken bicycle in the garage.",
     (("What will {Q} want to do next?", "ride the bicycle"),
      ("How would {P} feel afterwards?", "handy"),
      ("Why did {P} do this?", "so {Q} could ride the bicycle again"))),
)


def _supertags(toks: Sequence[Tok]) -> list[str]:
    """A small, deterministic CCG supertag set derived from the sentence structure."""
    tags = []
    for i, t in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        prev = toks[i - 1] if i else None
        u = t.upos
        if u == "DET":
            tag = "NP[nb]/N"
        elif u == "ADJ":
            tag = "S[adj]\\NP" if prev is not None and prev.upos == "AUX" or (
                prev is not None and prev.key == "ADV:very") else "N/N"
        elif u in ("NOUN",):
            tag = "N/N" if nxt is not None and nxt.upos == "NOUN" else "N"
        elif u == "PROPN":
            tag = "N/N" if nxt is not None and nxt.upos == "PROPN" else "N"
        elif u == "PRON":
            tag = "NP"
        elif u == "NUM":
            tag = "N/N" if nxt is not None and nxt.upos in ("NOUN", "SYM") else "N"
        elif u == "VERB":
            takes_object = nxt is not None and nxt.upos in ("DET", "PROPN", "NUM", "PRON",
                                                           "NOUN")
            if t.form == "base":
                tag = "(S[b]\\NP)/NP" if takes_object else "S[b]\\NP"
            elif t.form == "part":
                tag = "S[pss]\\NP"
            else:
                tag = "(S[dcl]\\NP)/NP" if takes_object else "S[dcl]\\NP"
        elif u == "AUX":
            tag = "(S[dcl]\\NP)/(S[b]\\NP)" if nxt is not None and nxt.upos in (
                "VERB", "PART") else "(S[dcl]\\NP)/(S[adj]\\NP)"
        elif u == "PART":
            tag = "(S[to]\\NP)/(S[b]\\NP)" if t.key == "PART:to" else "(S\\NP)\\(S\\NP)"
        elif u == "ADP":
            tag = "((S\\NP)\\(S\\NP))/NP"
        elif u == "ADV":
            tag = "(S\\NP)/(S\\NP)" if nxt is not None and nxt.upos in ("ADJ", "VERB") \
                else "(S\\NP)\\(S\\NP)"
        elif u == "CCONJ":
            tag = "conj"
        elif u == "SCONJ":
            tag = "((S\\NP)\\(S\\NP))/S[dcl]"
        elif u == "PUNCT":
            tag = {"punct:period": ".", "punct:comma": ",", "punct:question": ".",
                   "punct:colon": ":", "punct:lparen": "LRB", "punct:rparen": "RRB"}[t.key]
        elif u == "INTJ":
            tag = "S/S"
        elif u == "SYM":
            tag = "N\\N"
        else:
            tag = "N"
        tags.append(tag)
    return tags
