"""Family, script and resource level of every XTREME and XTREME-R language, so per-language
gains can be read against them.

Sources:

* Language family and genus: the language tables of the XTREME paper (Hu et al. 2020,
  arXiv 2003.11080, appendix table of languages) and of the XTREME-R paper (Ruder et al.
  2021, arXiv 2104.07412), cross-checked with Glottolog 4 (https://glottolog.org) for the
  genus names. Top-level families follow Glottolog (e.g. "Atlantic-Congo" for Swahili,
  Wolof and Yoruba, which older sources call Niger-Congo).
* Script: the script the benchmark data is written in (ISO 15924 names; "Han" for Chinese
  characters, "Japanese" for Kanji with Kana). Javanese is written in Latin script in the
  WikiANN and Tatoeba data, although its traditional script is Brahmic.
* Resource level: the class (0-5) of Joshi et al. 2020, "The State and Fate of Linguistic
  Diversity and Inclusion in the NLP World" (ACL 2020), from its published taxonomy file
  (https://microsoft.github.io/linguisticdiversity/assets/lang2tax.txt). The classes here
  were checked against a secondary copy of that file's class lists; Haitian Creole is the
  one disagreement (the copy's language names put it in class 2, its code list in class 1),
  noted in its ``note``.

English is the training language of every target: analyses of zero-shot transfer leave it
out, and the table still lists it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

JOSHI_CLASS_NAMES: dict[int, str] = {
    0: "The Left-Behinds", 1: "The Scraping-Bys", 2: "The Hopefuls", 3: "The Rising Stars",
    4: "The Underdogs", 5: "The Winners",
}


@dataclass(frozen=True)
class Language:
    """What the report groups a language's gains by."""

    code: str
    name: str
    family: str
    genus: str
    script: str
    joshi_class: int
    note: str = ""

    @property
    def resource(self) -> str:
        """Coarse resource level from the Joshi class: high (4-5), mid (3), low (0-2)."""
        return "high" if self.joshi_class >= 4 else "mid" if self.joshi_class == 3 else "low"


def _table(rows: list[tuple]) -> dict[str, Language]:
    return {row[0]: Language(*row) for row in rows}


IE = "Indo-European"
LANGUAGES: dict[str, Language] = _table([
    ("af", "Afrikaans", IE, "Germanic", "Latin", 3),
    ("ar", "Arabic", "Afro-Asiatic", "Semitic", "Arabic", 5),
    ("az", "Azerbaijani", "Turkic", "Oghuz", "Latin", 1),
    ("bg", "Bulgarian", IE, "Slavic", "Cyrillic", 3),
    ("bn", "Bengali", IE, "Indo-Aryan", "Bengali", 3),
    ("de", "German", IE, "Germanic", "Latin", 5),
    ("el", "Greek", IE, "Greek", "Greek", 3),
    ("en", "English", IE, "Germanic", "Latin", 5),
    ("es", "Spanish", IE, "Romance", "Latin", 5),
    ("et", "Estonian", "Uralic", "Finnic", "Latin", 3),
    ("eu", "Basque", "Basque (isolate)", "Basque", "Latin", 4),
    ("fa", "Persian", IE, "Iranian", "Arabic", 4),
    ("fi", "Finnish", "Uralic", "Finnic", "Latin", 4),
    ("fr", "French", IE, "Romance", "Latin", 5),
    ("gu", "Gujarati", IE, "Indo-Aryan", "Gujarati", 1),
    ("he", "Hebrew", "Afro-Asiatic", "Semitic", "Hebrew", 3),
    ("hi", "Hindi", IE, "Indo-Aryan", "Devanagari", 4),
    ("ht", "Haitian Creole", "Creole", "French-based creole", "Latin", 2,
     "Joshi class: 2 by the taxonomy's name list; one secondary copy's code list has 1"),
    ("hu", "Hungarian", "Uralic", "Ugric", "Latin", 4),
    ("id", "Indonesian", "Austronesian", "Malayo-Polynesian", "Latin", 3),
    ("it", "Italian", IE, "Romance", "Latin", 4),
    ("ja", "Japanese", "Japonic", "Japanese", "Japanese", 5),
    ("jv", "Javanese", "Austronesian", "Malayo-Polynesian", "Latin", 1),
    ("ka", "Georgian", "Kartvelian", "Karto-Zan", "Georgian", 3),
    ("kk", "Kazakh", "Turkic", "Kipchak", "Cyrillic", 3),
    ("ko", "Korean", "Koreanic", "Korean", "Hangul", 4),
    ("lt", "Lithuanian", IE, "Baltic", "Latin", 3),
    ("ml", "Malayalam", "Dravidian", "Southern Dravidian", "Malayalam", 1),
    ("mr", "Marathi", IE, "Indo-Aryan", "Devanagari", 2),
    ("ms", "Malay", "Austronesian", "Malayo-Polynesian", "Latin", 3),
    ("my", "Burmese", "Sino-Tibetan", "Burmish", "Myanmar", 1),
    ("nl", "Dutch", IE, "Germanic", "Latin", 4),
    ("pa", "Punjabi", IE, "Indo-Aryan", "Gurmukhi", 2),
    ("pl", "Polish", IE, "Slavic", "Latin", 4),
    ("pt", "Portuguese", IE, "Romance", "Latin", 4),
    ("qu", "Quechua", "Quechuan", "Quechua", "Latin", 1),
    ("ro", "Romanian", IE, "Romance", "Latin", 3),
    ("ru", "Russian", IE, "Slavic", "Cyrillic", 4),
    ("sw", "Swahili", "Atlantic-Congo", "Bantu", "Latin", 2),
    ("ta", "Tamil", "Dravidian", "Southern Dravidian", "Tamil", 3),
    ("te", "Telugu", "Dravidian", "South-Central Dravidian", "Telugu", 1),
    ("th", "Thai", "Kra-Dai", "Tai", "Thai", 3),
    ("tl", "Tagalog", "Austronesian", "Malayo-Polynesian", "Latin", 3),
    ("tr", "Turkish", "Turkic", "Oghuz", "Latin", 4),
    ("uk", "Ukrainian", IE, "Slavic", "Cyrillic", 3),
    ("ur", "Urdu", IE, "Indo-Aryan", "Arabic", 3),
    ("vi", "Vietnamese", "Austroasiatic", "Vietic", "Latin", 4),
    ("wo", "Wolof", "Atlantic-Congo", "North Atlantic", "Latin", 2),
    ("yo", "Yoruba", "Atlantic-Congo", "Volta-Niger", "Latin", 2),
    ("zh", "Chinese", "Sino-Tibetan", "Sinitic", "Han", 5),
])

FEATURES: tuple[str, ...] = ("family", "script", "joshi_class")  # what gains are grouped by


def language_frame() -> pd.DataFrame:
    """The table, one row per language, sorted by code, with the Joshi class's name and the
    coarse resource level."""
    rows = [{**asdict(lang), "joshi_name": JOSHI_CLASS_NAMES[lang.joshi_class],
             "resource": lang.resource} for lang in LANGUAGES.values()]
    columns = ["code", "name", "family", "genus", "script", "joshi_class", "joshi_name",
               "resource", "note"]
    return pd.DataFrame(rows, columns=columns).sort_values("code").reset_index(drop=True)
