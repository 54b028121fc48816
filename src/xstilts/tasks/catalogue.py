"""The task catalogue: every intermediate and target task of the study.

Target names are the official scorer's task keys. Each task names its type, metric, label
set, the English corpora it trains on (in order), the languages each benchmark scores, and
the canonical data units it needs (see ``xstilts.tasks.sources``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from xstilts.errors import UserError
from xstilts.tasks.languages import (
    LAREQA_LANGUAGES,
    TASK2LANGS,
    TATOEBA_ISO3,
    TYDIQA_ID_PREFIX,
    UDPOS_CONFIG_NAMES,
)
from xstilts.tasks.sources import DownloadSource, HubSource, Source, Unit, UserFilesSource

BENCHMARKS: tuple[str, ...] = ("xtreme", "xtreme-r")

Role = Literal["intermediate", "target"]
TaskType = Literal[
    "pair_classification",
    "tagging",
    "span_qa",
    "multiple_choice",
    "bitext_retrieval",
    "entity_retrieval",
    "answer_retrieval",
    "mixture",
]

NLI_LABELS = ("entailment", "neutral", "contradiction")
BINARY_LABELS = ("0", "1")
UPOS_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)
NER_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")


class Task(BaseModel):
    """One task of the study grid."""

    model_config = ConfigDict(frozen=True)

    name: str
    role: Role
    type: TaskType
    metric: str
    description: str
    labels: tuple[str, ...] | None = None  # None: spans, retrieval, or data-defined (CCG)
    num_choices: int | None = None
    # English corpora trained on, in order (empty: evaluated without target training).
    train_corpora: tuple[str, ...] = ()
    # Corpus whose English validation split is used for model selection.
    dev_corpus: str | None = None
    languages: dict[str, tuple[str, ...]] = {}
    # Languages evaluated beyond the scorer's lists (LAReQA: the scorer's list is empty).
    extra_languages: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # mixtures: intermediate tasks trained together
    notes: tuple[str, ...] = ()

    def all_languages(self) -> tuple[str, ...]:
        """Every language any benchmark scores for this task, first-seen order."""
        seen: dict[str, None] = {}
        for langs in self.languages.values():
            seen.update(dict.fromkeys(langs))
        seen.update(dict.fromkeys(self.extra_languages))
        return tuple(seen)


# --------------------------------------------------------------------------- sources

XTREME = "google/xtreme"
PARQUET_CONVERSION = "refs/convert/parquet"


def _hub(dataset: str, config: str | None, split: str, revision: str = "main",
         **select: str) -> HubSource:
    return HubSource(dataset=dataset, config=config, split=split, revision=revision,
                     select=select or None)


BUCC_URL = "https://comparable.limsi.fr/bucc2018/bucc2018-{lang}-en.{part}-gold.tar.bz2"
LASER_TATOEBA_URL = (
    "https://raw.githubusercontent.com/facebookresearch/LASER/main/data/tatoeba/v1/"
    "tatoeba.{iso3}-eng.{side}"
)
MEWSLIX_INSTRUCTIONS = (
    "Mewsli-X is distributed by google-research/google-research "
    "(dense_representations_for_entity_retrieval/mel/get-mewsli-x.sh). Run that script and "
    "copy its output files into RAW/mewslix/."
)
CCG_INSTRUCTIONS = (
    "CCG supertagging needs CCGbank (LDC2005T13, licensed). Convert it to jiant's layout "
    "(one sentence per line: space-separated tokens, a tab, space-separated supertags) and "
    "place train.tsv and dev.tsv in RAW/ccg/."
)


def _bucc(lang: str, part: str) -> DownloadSource:
    folder = f"{lang}-en"
    return DownloadSource(
        name="bucc2018",
        urls=(BUCC_URL.format(lang=lang, part=part),),
        files=tuple(f"{folder}/{lang}-en.{part}.{ext}" for ext in (lang, "en", "gold")),
        instructions=(
            "BUCC 2018 mining corpora are only in the original release "
            "(the hub copy bucc18.* holds gold pairs only). Download and unpack "
            f"{BUCC_URL.format(lang=lang, part=part)} and move its {lang}-en folder into "
            "RAW/bucc2018/."
        ),
    )


def _laser_tatoeba(lang: str) -> DownloadSource:
    iso3 = TATOEBA_ISO3[lang]
    return DownloadSource(
        name="tatoeba",
        urls=tuple(LASER_TATOEBA_URL.format(iso3=iso3, side=s) for s in (iso3, "eng")),
        files=(f"tatoeba.{iso3}-eng.{iso3}", f"tatoeba.{iso3}-eng.eng"),
        instructions=(
            f"Tatoeba {lang} is not in google/xtreme; it comes from LASER data/tatoeba/v1."
        ),
    )


def _mewslix(files: tuple[str, ...]) -> DownloadSource:
    return DownloadSource(name="mewslix", urls=(), files=files,
                          instructions=MEWSLIX_INSTRUCTIONS)


def _units(corpus: str, reader: str, table: dict[tuple[str, str], Iterable[Source]]
           ) -> list[Unit]:
    return [Unit(corpus=corpus, language=lang, split=split, reader=reader,
                 sources=tuple(sources))
            for (lang, split), sources in table.items()]


def _build_units() -> dict[str, list[Unit]]:
    """All canonical data units, grouped by corpus."""
    units: dict[str, list[Unit]] = {}
    r_langs = TASK2LANGS["xtreme-r"]
    x_langs = TASK2LANGS["xtreme"]

    def langs_of(task: str) -> list[str]:
        return list(dict.fromkeys([*x_langs.get(task, ()), *r_langs.get(task, ())]))

    # Intermediate and auxiliary English corpora.
    glue = "nyu-mll/glue"
    units["mnli"] = _units("mnli", "glue_nli", {
        ("en", "train"): [_hub(glue, "mnli", "train")],
        ("en", "validation"): [_hub(glue, "mnli", "validation_matched")],
    })
    units["qqp"] = _units("qqp", "qqp", {
        ("en", "train"): [_hub(glue, "qqp", "train")],
        ("en", "validation"): [_hub(glue, "qqp", "validation")],
    })
    anli = "facebook/anli"
    units["anli_plus"] = _units("anli_plus", "glue_nli", {
        ("en", "train"): [_hub(anli, "plain_text", f"train_r{r}") for r in (1, 2, 3)]
        + [_hub(glue, "mnli", "train"), _hub("stanfordnlp/snli", "plain_text", "train")],
        ("en", "validation"): [_hub(anli, "plain_text", f"dev_r{r}") for r in (1, 2, 3)]
        + [_hub(glue, "mnli", "validation_matched"),
           _hub("stanfordnlp/snli", "plain_text", "validation")],
    })
    units["squad_v1"] = _units("squad_v1", "squad", {
        ("en", "train"): [_hub("rajpurkar/squad", "plain_text", "train")],
        ("en", "validation"): [_hub("rajpurkar/squad", "plain_text", "validation")],
    })
    units["squad_v2"] = _units("squad_v2", "squad", {
        ("en", "train"): [_hub("rajpurkar/squad_v2", "squad_v2", "train")],
        ("en", "validation"): [_hub("rajpurkar/squad_v2", "squad_v2", "validation")],
    })
    units["hellaswag"] = _units("hellaswag", "hellaswag", {
        ("en", s): [_hub("Rowan/hellaswag", "default", s, PARQUET_CONVERSION)]
        for s in ("train", "validation")
    })
    units["cosmos_qa"] = _units("cosmos_qa", "cosmos_qa", {
        ("en", s): [_hub("allenai/cosmos_qa", "default", s, PARQUET_CONVERSION)]
        for s in ("train", "validation")
    })
    units["commonsense_qa"] = _units("commonsense_qa", "commonsense_qa", {
        ("en", s): [_hub("tau/commonsense_qa", "default", s)] for s in ("train", "validation")
    })
    units["ccg"] = _units("ccg", "ccg_tsv", {
        ("en", split): [UserFilesSource(name="ccg", files=(f"{fname}.tsv",),
                                        instructions=CCG_INSTRUCTIONS)]
        for split, fname in (("train", "train"), ("validation", "dev"))
    })
    units["siqa"] = _units("siqa", "siqa", {
        ("en", s): [_hub("allenai/social_i_qa", "default", s, PARQUET_CONVERSION)]
        for s in ("train", "validation")
    })
    units["copa"] = _units("copa", "copa", {
        ("en", s): [_hub("aps/super_glue", "copa", s)] for s in ("train", "validation")
    })

    # Targets.
    units["xnli"] = _units("xnli", "xnli", {
        (lang, split): [_hub(XTREME, "XNLI", split, language=lang)]
        for lang in langs_of("xnli") for split in ("validation", "test")
    })
    pawsx: dict[tuple[str, str], list[Source]] = {
        ("en", "train"): [_hub(XTREME, "PAWS-X.en", "train")]
    }
    for lang in langs_of("pawsx"):
        for split in ("validation", "test"):
            pawsx[(lang, split)] = [_hub(XTREME, f"PAWS-X.{lang}", split)]
    units["pawsx"] = _units("pawsx", "pawsx", pawsx)

    udpos: dict[tuple[str, str], list[Source]] = {
        ("en", "train"): [_hub(XTREME, "udpos.English", "train")],
    }
    no_validation = {"kk", "tl", "th", "yo"}
    for lang in langs_of("udpos"):
        if lang in x_langs["udpos"]:
            config = f"udpos.{UDPOS_CONFIG_NAMES[lang]}"
            dataset = XTREME
        else:  # XTREME-R additions come from UD 2.7
            config, dataset = lang, "izhx/xtreme-r-udpos"
        if lang not in no_validation and lang in x_langs["udpos"]:
            udpos[(lang, "validation")] = [_hub(dataset, config, "validation")]
        udpos[(lang, "test")] = [_hub(dataset, config, "test")]
    units["udpos"] = _units("udpos", "udpos", udpos)

    panx: dict[tuple[str, str], list[Source]] = {
        ("en", "train"): [_hub(XTREME, "PAN-X.en", "train")]
    }
    for lang in langs_of("panx"):
        dataset, config = (XTREME, f"PAN-X.{lang}") if lang in x_langs["panx"] else (
            "unimelb-nlp/wikiann", lang)
        for split in ("validation", "test"):
            panx[(lang, split)] = [_hub(dataset, config, split)]
    units["panx"] = _units("panx", "panx", panx)

    units["xquad"] = _units("xquad", "squad", {
        (lang, "test"): [_hub(XTREME, f"XQuAD.{lang}", "validation") if lang in x_langs["xquad"]
                         else _hub("google/xquad", f"xquad.{lang}", "validation")]
        for lang in langs_of("xquad")
    })
    units["mlqa"] = _units("mlqa", "squad", {
        (lang, split): [_hub(XTREME, f"MLQA.{lang}.{lang}", split)]
        for lang in langs_of("mlqa") for split in ("validation", "test")
    })
    tydiqa: dict[tuple[str, str], list[Source]] = {
        ("en", "train"): [_hub(XTREME, "tydiqa", "train", id_prefix="english-")]
    }
    for lang in langs_of("tydiqa"):
        tydiqa[(lang, "test")] = [
            _hub(XTREME, "tydiqa", "validation", id_prefix=f"{TYDIQA_ID_PREFIX[lang]}-")]
    units["tydiqa"] = _units("tydiqa", "squad", tydiqa)

    units["bucc2018"] = _units("bucc2018", "bucc_original", {
        (lang, split): [_bucc(lang, part)]
        for lang in langs_of("bucc2018")
        for split, part in (("validation", "sample"), ("test", "training"))
    })
    units["tatoeba"] = _units("tatoeba", "tatoeba", {
        (lang, "test"): [_hub(XTREME, f"tatoeba.{TATOEBA_ISO3[lang]}", "validation")
                         if lang in x_langs["tatoeba"] else _laser_tatoeba(lang)]
        for lang in langs_of("tatoeba")
    })
    units["xcopa"] = _units("xcopa", "xcopa", {
        (lang, split): [_hub("cambridgeltl/xcopa", lang, split)]
        for lang in langs_of("xcopa") for split in ("validation", "test")
    })
    mewslix: dict[tuple[str, str], list[Source]] = {
        ("en", "train"): [_mewslix(("wikipedia_pairs-train.jsonl",))],
        ("all", "candidates"): [_mewslix(("candidate_set_entities.jsonl",))],
        # The entities the English training mentions link to (not in the evaluation pool).
        ("all", "train_candidates"): [_mewslix(("wikipedia_pairs-train.jsonl",))],
    }
    for lang in langs_of("mewslix"):
        mewslix[(lang, "validation")] = [_mewslix(("wikinews_mentions-dev.jsonl",))]
        mewslix[(lang, "test")] = [_mewslix(("wikinews_mentions-test.jsonl",))]
    units["mewslix"] = _units("mewslix", "mewslix", mewslix)

    xquad_r = "google-research-datasets/xquad_r"
    lareqa_langs = list(LAREQA_LANGUAGES)
    lareqa: dict[tuple[str, str], list[Source]] = {
        ("all", "candidates"): [_hub(xquad_r, lang, "validation") for lang in lareqa_langs]
    }
    for lang in lareqa_langs:  # gold answers lie in every language: all sources needed
        lareqa[(lang, "test")] = lareqa[("all", "candidates")]
    units["lareqa"] = _units("lareqa", "lareqa", lareqa)
    return units


# --------------------------------------------------------------------------- tasks

def _langs(task: str) -> dict[str, tuple[str, ...]]:
    return {b: TASK2LANGS[b][task] for b in BENCHMARKS if task in TASK2LANGS[b]}


def _build_tasks() -> dict[str, Task]:
    t: list[Task] = [
        # Intermediate tasks (Phang et al. 2020, v2: nine tasks).
        Task(name="anli_plus", role="intermediate", type="pair_classification",
             metric="accuracy", labels=NLI_LABELS, train_corpora=("anli_plus",),
             dev_corpus="anli_plus",
             description="ANLI rounds 1-3 + MNLI + SNLI through one shared NLI head",
             notes=("SNLI rows with label -1 (no gold label) are dropped.",
                    "Members are concatenated; the 'member' column keeps the source.")),
        Task(name="mnli", role="intermediate", type="pair_classification", metric="accuracy",
             labels=NLI_LABELS, train_corpora=("mnli",), dev_corpus="mnli",
             description="MultiNLI (GLUE), validated on the matched dev set"),
        Task(name="qqp", role="intermediate", type="pair_classification", metric="accuracy",
             labels=BINARY_LABELS, train_corpora=("qqp",), dev_corpus="qqp",
             description="Quora Question Pairs (GLUE), 1 = duplicate"),
        Task(name="squad_v1", role="intermediate", type="span_qa", metric="exact_match/f1",
             train_corpora=("squad_v1",), dev_corpus="squad_v1",
             description="SQuAD v1.1 extractive QA"),
        Task(name="squad_v2", role="intermediate", type="span_qa", metric="exact_match/f1",
             train_corpora=("squad_v2",), dev_corpus="squad_v2",
             description="SQuAD v2.0 extractive QA with unanswerable questions",
             notes=("Unanswerable questions have an empty answer list.",)),
        Task(name="hellaswag", role="intermediate", type="multiple_choice", metric="accuracy",
             num_choices=4, labels=("0", "1", "2", "3"), train_corpora=("hellaswag",),
             dev_corpus="hellaswag",
             description="HellaSwag sentence completion, 4 endings",
             notes=("The hub repo holds a loading script; its parquet conversion "
                    "(refs/convert/parquet) is read instead.",)),
        Task(name="cosmos_qa", role="intermediate", type="multiple_choice", metric="accuracy",
             num_choices=4, labels=("0", "1", "2", "3"), train_corpora=("cosmos_qa",),
             dev_corpus="cosmos_qa",
             description="Cosmos QA commonsense reading comprehension, 4 answers",
             notes=("HF split sizes (25,262 / 2,985) differ from the original release.",
                    "Read from the parquet conversion (refs/convert/parquet).")),
        Task(name="commonsense_qa", role="intermediate", type="multiple_choice",
             metric="accuracy", num_choices=5, labels=("A", "B", "C", "D", "E"),
             train_corpora=("commonsense_qa",), dev_corpus="commonsense_qa",
             description="CommonsenseQA, 5 answers",
             notes=("The test split has no labels and is not fetched.",)),
        Task(name="ccg", role="intermediate", type="tagging", metric="accuracy",
             train_corpora=("ccg",), dev_corpus="ccg",
             description="CCG supertagging on CCGbank (licensed, user-supplied files)",
             notes=(CCG_INSTRUCTIONS, "The supertag set is read from the training data.")),
        # Mixtures.
        Task(name="all", role="intermediate", type="mixture", metric="mean",
             members=("anli_plus", "mnli", "qqp", "squad_v1", "squad_v2", "hellaswag",
                      "cosmos_qa", "commonsense_qa", "ccg"),
             description="All nine intermediate tasks, one shared encoder, one head per task"),
        Task(name="all_free", role="intermediate", type="mixture", metric="mean",
             members=("anli_plus", "mnli", "qqp", "squad_v1", "squad_v2", "hellaswag",
                      "cosmos_qa", "commonsense_qa"),
             description="The eight freely available intermediate tasks (all but CCG)"),
        # Targets (names are the official scorer's task keys).
        Task(name="xnli", role="target", type="pair_classification", metric="accuracy",
             labels=NLI_LABELS, train_corpora=("mnli",), dev_corpus="xnli",
             languages=_langs("xnli"),
             description="Cross-lingual NLI",
             notes=("Trains on MNLI: XNLI has no training split.",
                    "google/xtreme XNLI mixes all languages in one config; rows are "
                    "selected by the 'language' column.")),
        Task(name="pawsx", role="target", type="pair_classification", metric="accuracy",
             labels=BINARY_LABELS, train_corpora=("pawsx",), dev_corpus="pawsx",
             languages=_langs("pawsx"),
             description="Cross-lingual paraphrase adversaries (PAWS-X)",
             notes=("Trains on the English train split only (other languages' train splits "
                    "are machine-translated).", "Hub labels are strings '0'/'1'.")),
        Task(name="udpos", role="target", type="tagging", metric="f1", labels=UPOS_TAGS,
             train_corpora=("udpos",), dev_corpus="udpos", languages=_langs("udpos"),
             description="Universal Dependencies part-of-speech tagging (UD 2.5; 2.7 for "
                         "XTREME-R additions)",
             notes=("Scored with seqeval F1 on raw UPOS tags, like the official scorer.",
                    "kk, th, tl, yo have no validation split; hub configs are named by "
                    "language name (udpos.English).")),
        Task(name="panx", role="target", type="tagging", metric="f1", labels=NER_TAGS,
             train_corpora=("panx",), dev_corpus="panx", languages=_langs("panx"),
             description="WikiANN / PAN-X named entity recognition (IOB2)",
             notes=("XTREME-R calls this task WikiANN-NER; its added languages come from "
                    "unimelb-nlp/wikiann.",)),
        Task(name="xquad", role="target", type="span_qa", metric="exact_match/f1",
             train_corpora=("squad_v1",), dev_corpus="squad_v1", languages=_langs("xquad"),
             description="XQuAD: SQuAD v1.1 dev translated into 11 (12) languages",
             notes=("Trains on SQuAD v1.1.", "The hub 'validation' split is the test set.",
                    "Task score is (EM + F1) / 2.")),
        Task(name="mlqa", role="target", type="span_qa", metric="exact_match/f1",
             train_corpora=("squad_v1",), dev_corpus="squad_v1", languages=_langs("mlqa"),
             description="MLQA, question and context in the same language",
             notes=("Trains on SQuAD v1.1.",
                    "Scored with MLQA's language-specific answer normalisation.")),
        Task(name="tydiqa", role="target", type="span_qa", metric="exact_match/f1",
             train_corpora=("tydiqa",), dev_corpus="tydiqa", languages=_langs("tydiqa"),
             description="TyDiQA-GoldP",
             notes=("Trains on the English part of the train split (ids 'english-...').",
                    "The validation split, divided by id prefix, is the test set.")),
        Task(name="bucc2018", role="target", type="bitext_retrieval", metric="f1",
             languages=_langs("bucc2018"),
             description="BUCC 2018 parallel sentence mining (xx-en)",
             notes=("No target training: the intermediate (or pretrained) encoder is "
                    "evaluated directly.",
                    "Margin-based mining; the threshold is tuned on the 'sample' (validation) "
                    "split and applied to the 'training' (test) split.",
                    "Mining corpora come from the original release.")),
        Task(name="tatoeba", role="target", type="bitext_retrieval", metric="accuracy",
             languages=_langs("tatoeba"),
             description="Tatoeba sentence retrieval (1,000 pairs per language)",
             notes=("No target training: the intermediate (or pretrained) encoder is "
                    "evaluated directly.", "Gold = the aligned row; en-to-xx top-1 accuracy.")),
        Task(name="xcopa", role="target", type="multiple_choice", metric="accuracy",
             num_choices=2, labels=("0", "1"), train_corpora=("siqa", "copa"),
             dev_corpus="copa", languages=_langs("xcopa"),
             description="XCOPA causal commonsense reasoning",
             notes=("Trains on Social IQa, then on English COPA.",)),
        Task(name="mewslix", role="target", type="entity_retrieval", metric="map@20",
             train_corpora=("mewslix",), dev_corpus="mewslix", languages=_langs("mewslix"),
             description="Mewsli-X language-agnostic entity retrieval",
             notes=(MEWSLIX_INSTRUCTIONS,
                    "The released data was re-sampled after the XTREME-R paper; scores are "
                    "not comparable with the paper's.",
                    "One gold entity per mention, so mAP@20 equals MRR@20.")),
        Task(name="lareqa", role="target", type="answer_retrieval", metric="map@20",
             train_corpora=("squad_v1",), dev_corpus="squad_v1", languages=_langs("lareqa"),
             extra_languages=LAREQA_LANGUAGES,
             description="LAReQA language-agnostic answer retrieval over XQuAD-R",
             notes=("Trains a dual encoder on SQuAD v1.1.",
                    "The official scorer's language list for lareqa is empty (it does not "
                    "score LAReQA); xstilts evaluates the 11 XQuAD-R languages.",
                    "Candidates are the sentences of every XQuAD-R context; hub rows carry "
                    "no sentence breaks, so contexts are split on sentence-final "
                    "punctuation (. ! ? and their CJK / Devanagari forms). Thai text has "
                    "no sentence punctuation, so a Thai context is one candidate; this "
                    "differs from the original XQuAD-R sentence breaks.",
                    "Each question has one gold answer sentence per language; the candidate "
                    "pool is every sentence of every language.")),
    ]
    return {task.name: task for task in t}


CATALOGUE: dict[str, Task] = _build_tasks()
UNITS: dict[str, list[Unit]] = _build_units()


def get_task(name: str) -> Task:
    """Look up a task; unknown names raise a UserError listing the known ones."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UserError(
            f"unknown task '{name}'; known tasks: {', '.join(CATALOGUE)}") from None


def list_tasks(benchmark: str | None = None, role: str | None = None) -> list[Task]:
    """Catalogue tasks, optionally restricted to one benchmark's targets or one role."""
    if benchmark is not None and benchmark not in BENCHMARKS:
        raise UserError(f"unknown benchmark '{benchmark}'; choose one of: "
                        f"{', '.join(BENCHMARKS)}")
    if role is not None and role not in ("intermediate", "target"):
        raise UserError(f"unknown role '{role}'; choose intermediate or target")
    tasks = list(CATALOGUE.values())
    if role is not None:
        tasks = [t for t in tasks if t.role == role]
    if benchmark is not None:
        tasks = [t for t in tasks if t.role == "intermediate" or benchmark in t.languages]
    return tasks


def corpora_for(task: Task) -> list[str]:
    """Corpora whose data a task needs: its own evaluation data and its training corpora."""
    if task.type == "mixture":
        names: list[str] = []
        for member in task.members:
            names.extend(corpora_for(get_task(member)))
        return list(dict.fromkeys(names))
    names = list(task.train_corpora)
    if task.role == "target":
        names.insert(0, task.name)
    return list(dict.fromkeys(names))


def resolve_tasks(names: Iterable[str] | None) -> list[Task]:
    """Tasks named by the user (all when None), in catalogue order."""
    if names is None:
        return list(CATALOGUE.values())
    wanted = [get_task(n) for n in names]
    return [t for t in CATALOGUE.values() if t in wanted]
