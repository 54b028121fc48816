"""Language lists exactly as the official leaderboard scorer (google-research/xtreme
``evaluate.py``) uses them, plus the names hub configs use for languages.

The order of each list is the scorer's own order: per-language scores and averages are
reported in that order.
"""

from __future__ import annotations


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


# XTREME (xtreme_version "xtreme").
XTREME_TASK2LANGS: dict[str, tuple[str, ...]] = {
    "pawsx": _split("de,en,es,fr,ja,ko,zh"),
    "xnli": _split("ar,bg,de,el,en,es,fr,hi,ru,sw,th,tr,ur,vi,zh"),
    "panx": _split(
        "ar,he,vi,id,jv,ms,tl,eu,ml,ta,te,af,nl,en,de,el,bn,hi,mr,ur,fa,fr,"
        "it,pt,es,bg,ru,ja,ka,ko,th,sw,yo,my,zh,kk,tr,et,fi,hu"
    ),
    "udpos": _split(
        "af,ar,bg,de,el,en,es,et,eu,fa,fi,fr,he,hi,hu,id,it,ja,kk,ko,mr,"
        "nl,pt,ru,ta,te,th,tl,tr,ur,vi,yo,zh"
    ),
    "bucc2018": _split("de,fr,ru,zh"),
    "tatoeba": _split(
        "ar,he,vi,id,jv,tl,eu,ml,ta,te,af,nl,de,el,bn,hi,mr,ur,fa,fr,it,"
        "pt,es,bg,ru,ja,ka,ko,th,sw,zh,kk,tr,et,fi,hu"
    ),
    "xquad": _split("en,es,de,el,ru,tr,ar,vi,th,zh,hi"),
    "mlqa": _split("en,es,de,ar,hi,vi,zh"),
    "tydiqa": _split("en,ar,bn,fi,id,ko,ru,sw,te"),
}

# XTREME-R (xtreme_version "xtreme-r"), in the scorer's order. The scorer's list for
# lareqa is empty: evaluate.py at google-research/xtreme@838c13b does not score LAReQA.
XTREME_R_TASK2LANGS: dict[str, tuple[str, ...]] = {
    "xnli": XTREME_TASK2LANGS["xnli"],
    "panx": XTREME_TASK2LANGS["panx"] + _split("qu,pl,uk,az,lt,pa,gu,ro"),
    "udpos": XTREME_TASK2LANGS["udpos"] + _split("lt,pl,uk,wo,ro"),
    "tatoeba": XTREME_TASK2LANGS["tatoeba"] + _split("az,lt,pl,uk,ro"),
    "xcopa": _split("et,ht,id,it,qu,sw,ta,th,tr,vi,zh"),
    "lareqa": (),
    "mewslix": _split("ar,de,en,es,fa,ja,pl,ro,ta,tr,uk"),
    "xquad": XTREME_TASK2LANGS["xquad"] + ("ro",),
    "mlqa": XTREME_TASK2LANGS["mlqa"],
    "tydiqa": XTREME_TASK2LANGS["tydiqa"],
}

# LAReQA (XQuAD-R) languages. The official scorer does not score LAReQA; xstilts scores it
# over these languages (see xstilts.evaluation.leaderboard).
LAREQA_LANGUAGES: tuple[str, ...] = _split("ar,de,el,en,es,hi,ru,th,tr,vi,zh")

TASK2LANGS: dict[str, dict[str, tuple[str, ...]]] = {
    "xtreme": XTREME_TASK2LANGS,
    "xtreme-r": XTREME_R_TASK2LANGS,
}

# Scorer task groups; the overall score is the mean of the tasks' avg_metric.
GROUP2TASK: dict[str, dict[str, tuple[str, ...]]] = {
    "xtreme": {
        "classification": ("pawsx", "xnli"),
        "tagging": ("udpos", "panx"),
        "qa": ("xquad", "mlqa", "tydiqa"),
        "retrieval": ("bucc2018", "tatoeba"),
    },
    "xtreme-r": {
        "classification": ("xnli", "xcopa"),
        "tagging": ("udpos", "panx"),
        "qa": ("xquad", "mlqa", "tydiqa"),
        "retrieval": ("tatoeba", "mewslix"),
        "multi_choice": ("xcopa",),
    },
}

# google/xtreme names its udpos configs by English language name ("udpos.Afrikaans").
UDPOS_CONFIG_NAMES: dict[str, str] = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "kk": "Kazakh", "ko": "Korean",
    "mr": "Marathi", "nl": "Dutch", "pt": "Portuguese", "ru": "Russian", "ta": "Tamil",
    "te": "Telugu", "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "ur": "Urdu",
    "vi": "Vietnamese", "yo": "Yoruba", "zh": "Chinese",
    "lt": "Lithuanian", "pl": "Polish", "ro": "Romanian", "uk": "Ukrainian", "wo": "Wolof",
}

# google/xtreme and LASER name Tatoeba by ISO 639-3 code ("tatoeba.afr").
TATOEBA_ISO3: dict[str, str] = {
    "af": "afr", "ar": "ara", "bn": "ben", "bg": "bul", "zh": "cmn", "de": "deu",
    "el": "ell", "et": "est", "eu": "eus", "fi": "fin", "fr": "fra", "he": "heb",
    "hi": "hin", "hu": "hun", "id": "ind", "it": "ita", "jv": "jav", "ja": "jpn",
    "ka": "kat", "kk": "kaz", "ko": "kor", "ml": "mal", "mr": "mar", "nl": "nld",
    "fa": "pes", "pt": "por", "ru": "rus", "es": "spa", "sw": "swh", "ta": "tam",
    "te": "tel", "tl": "tgl", "th": "tha", "tr": "tur", "ur": "urd", "vi": "vie",
    "az": "aze", "lt": "lit", "pl": "pol", "ro": "ron", "uk": "ukr",
}

# TyDiQA ids start with the language's English name ("english-...").
TYDIQA_ID_PREFIX: dict[str, str] = {
    "en": "english", "ar": "arabic", "bn": "bengali", "fi": "finnish", "id": "indonesian",
    "ko": "korean", "ru": "russian", "sw": "swahili", "te": "telugu",
}
