"""The synthetic source (``xstilts.data.synthetic``): deterministic, complete, in the real hub
schemas, meaningful (answers, translations, gold links) and learnable."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from xstilts.data.fetch import MANIFEST, fetch, read_manifest, units_for
from xstilts.data.synthetic import SCRIPT_OF, SyntheticSource, concept_ids
from xstilts.tasks.catalogue import CATALOGUE, NER_TAGS, NLI_LABELS, UNITS, UPOS_TAGS
from xstilts.tasks.languages import LAREQA_LANGUAGES, TYDIQA_ID_PREFIX
from xstilts.tasks.sources import DownloadSource, HubSource



@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory):
    """No network, and Hugging Face caches in a throwaway folder."""
    cache = tmp_path_factory.mktemp("hf-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("HF_HUB_OFFLINE", "1")
    patch.setenv("HF_DATASETS_OFFLINE", "1")
    patch.setenv("HF_HOME", str(cache))
    patch.setenv("HF_DATASETS_CACHE", str(cache / "datasets"))
    yield
    patch.undo()


def _fetch_all(out: Path) -> dict:
    with SyntheticSource() as source:
        return fetch(units_for(None), source, out, synthetic=True, origin="synthetic")


@pytest.fixture(scope="module")
def fetched(offline, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synthetic-a")
    return out, _fetch_all(out)


def table(out: Path, corpus: str, language: str, split: str) -> list[dict]:
    return pq.read_table(out / corpus / language / f"{split}.parquet").to_pylist()


def units_of(manifest: dict, corpus: str) -> list[dict]:
    return [u for u in manifest["units"] if u["corpus"] == corpus]


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


# ----------------------------------------------------------------------------- determinism

def test_full_fetch_twice_is_byte_identical(fetched, tmp_path: Path) -> None:
    out_a, manifest_a = fetched
    out_b = tmp_path / "synthetic-b"
    manifest_b = _fetch_all(out_b)

    files_a = sorted(p.relative_to(out_a) for p in out_a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(out_b) for p in out_b.rglob("*") if p.is_file())
    assert files_a == files_b
    assert Path(MANIFEST) in files_a
    assert len(files_a) == len(units_for(None)) + 1
    for rel in files_a:
        assert (out_a / rel).read_bytes() == (out_b / rel).read_bytes(), rel

    assert manifest_a == manifest_b
    manifest = read_manifest(out_a)
    assert manifest["synthetic"] is True
    assert manifest["origin"] == "synthetic"
    for unit in manifest["units"]:
        assert all(s["revision_read"] == "synthetic-v1-seed0" for s in unit["sources"])
    meta = pq.read_schema(out_a / "mnli/en/train.parquet").metadata
    assert meta[b"xstilts.synthetic"] == b"true"


def test_a_split_does_not_depend_on_what_was_generated_before(offline) -> None:
    xquad_de = HubSource(dataset="google/xtreme", config="XQuAD.de", split="validation")
    xquad_en = HubSource(dataset="google/xtreme", config="XQuAD.en", split="validation")
    fresh = SyntheticSource().load(xquad_de)[0].to_dict()
    warm = SyntheticSource()
    warm.load(xquad_en)
    assert warm.load(xquad_de)[0].to_dict() == fresh
    other_seed = SyntheticSource(seed=1).load(xquad_de)[0].to_dict()
    assert other_seed["context"] != fresh["context"]
    assert SyntheticSource(seed=1).load(xquad_de)[1] == "synthetic-v1-seed1"


def test_select_behaves_like_the_real_reader(offline) -> None:
    source = SyntheticSource()
    whole, _ = source.load(HubSource(dataset="google/xtreme", config="XNLI", split="test"))
    german, _ = source.load(HubSource(dataset="google/xtreme", config="XNLI", split="test",
                                      select={"language": "de"}))
    assert set(whole["language"]) == set(CATALOGUE["xnli"].all_languages())
    assert german.num_rows == whole["language"].count("de") > 0
    assert set(german["language"]) == {"de"}
    tydi, _ = source.load(HubSource(dataset="google/xtreme", config="tydiqa",
                                    split="validation", select={"id_prefix": "korean-"}))
    assert tydi.num_rows > 0 and all(i.startswith("korean-") for i in tydi["id"])


def test_hub_schemas_and_quirks(offline) -> None:
    source = SyntheticSource()

    def load(dataset: str, config: str | None, split: str):
        return source.load(HubSource(dataset=dataset, config=config, split=split))[0]

    mnli = load("nyu-mll/glue", "mnli", "train")
    assert list(mnli.features) == ["premise", "hypothesis", "label", "idx"]
    assert mnli.features["label"].names == list(NLI_LABELS)
    snli = load("stanfordnlp/snli", "plain_text", "train")
    assert -1 in snli["label"]
    qqp = load("nyu-mll/glue", "qqp", "validation")
    assert qqp.features["label"].names == ["not_duplicate", "duplicate"]
    assert set(load("google/xtreme", "PAWS-X.en", "train")["label"]) == {"0", "1"}
    udpos = load("google/xtreme", "udpos.English", "train")
    assert udpos.features["pos_tags"].feature.names == list(UPOS_TAGS)
    panx = load("google/xtreme", "PAN-X.de", "validation")
    assert panx.features["ner_tags"].feature.names == list(NER_TAGS)
    assert list(panx.features) == ["tokens", "ner_tags", "langs"]
    assert "title" not in load("google/xtreme", "XQuAD.en", "validation").column_names
    assert "title" in load("google/xtreme", "MLQA.de.de", "test").column_names
    tatoeba = load("google/xtreme", "tatoeba.deu", "validation")
    sentences = list(tatoeba["source_sentence"]) + list(tatoeba["target_sentence"])
    assert all(s.endswith("\n") for s in sentences)
    assert set(load("Rowan/hellaswag", "default", "train")["label"]) == {"0", "1", "2", "3"}
    assert set(load("allenai/social_i_qa", "default", "train")["label"]) == {"1", "2", "3"}
    copa = load("aps/super_glue", "copa", "train")
    assert copa.features["label"].names == ["choice1", "choice2"]
    xcopa = load("cambridgeltl/xcopa", "et", "test")
    assert list(xcopa.features) == ["premise", "choice1", "choice2", "question", "label", "idx",
                                    "changed"]
    csqa = load("tau/commonsense_qa", "default", "validation")
    assert set(csqa["answerKey"]) <= set("ABCDE")
    tydi = load("google/xtreme", "tydiqa", "train")
    prefixes = {i.split("-")[0] for i in tydi["id"]}
    assert prefixes == set(TYDIQA_ID_PREFIX.values())


def test_original_files_live_in_a_temporary_folder_removed_by_close(offline) -> None:
    unit = next(u for u in UNITS["bucc2018"] if u.language == "de" and u.split == "test")
    (source,) = unit.sources
    assert isinstance(source, DownloadSource)
    synthetic = SyntheticSource()
    folder, revision = synthetic.load(source)
    assert folder.name == "bucc2018" and revision == "synthetic-v1-seed0"
    for name in source.files:
        assert (folder / name).is_file()
    first = (folder / "de-en/de-en.training.de").read_text(encoding="utf-8").splitlines()[0]
    assert re.fullmatch(r"de-\d{9}\t.+", first)
    synthetic.close()
    assert not folder.exists()


# ----------------------------------------------------------------------------- completeness

def test_every_unit_has_rows_and_labels_in_the_catalogue_label_sets(fetched) -> None:
    out, manifest = fetched
    keys = {u["key"] for u in manifest["units"]}
    assert keys == {u.key for u in units_for(None)}
    choices = {"hellaswag": 4, "cosmos_qa": 4, "commonsense_qa": 5, "siqa": 3, "copa": 2,
               "xcopa": 2}
    for unit in manifest["units"]:
        assert unit["rows"] > 0, unit["key"]
        rows = table(out, unit["corpus"], unit["language"], unit["split"])
        assert len(rows) == unit["rows"]
        corpus = unit["corpus"]
        if corpus in ("mnli", "qqp", "anli_plus", "xnli", "pawsx"):
            labels = Counter(r["label"] for r in rows)
            assert set(labels) == set(CATALOGUE[corpus].labels), unit["key"]
            assert min(labels.values()) >= 0.2 * len(rows) / len(labels), unit["key"]
        elif corpus in ("udpos", "panx"):
            allowed = set(CATALOGUE[corpus].labels)
            for r in rows:
                assert len(r["tokens"]) == len(r["tags"]) > 0
                assert set(r["tags"]) <= allowed, unit["key"]
        elif corpus == "ccg":
            tags = {t for r in rows for t in r["tags"]}
            assert 5 <= len(tags) <= 40
        elif corpus in choices:
            for r in rows:
                assert len(r["choices"]) == choices[corpus], unit["key"]
                assert 0 <= r["label"] < choices[corpus]
            assert len({r["label"] for r in rows}) == choices[corpus], unit["key"]
    all_tags = {t for u in units_of(manifest, "udpos")
                for r in table(out, "udpos", u["language"], u["split"]) for t in r["tags"]}
    assert all_tags == set(UPOS_TAGS)


def test_sizes_are_small_but_useful(fetched) -> None:
    _, manifest = fetched
    rows = {u["key"]: u["rows"] for u in manifest["units"]}
    for corpus in ("mnli", "qqp", "squad_v1", "hellaswag", "udpos", "panx", "pawsx"):
        assert 300 <= rows[f"{corpus}/en/train"] <= 600, corpus
    assert 90 <= rows["mnli/en/validation"] <= 150
    for unit in manifest["units"]:
        if unit["split"] in ("validation", "test") and unit["language"] != "en":
            assert 40 <= unit["rows"] <= 320, unit["key"]


def test_every_language_is_written_in_its_script(fetched) -> None:
    out, manifest = fetched
    langs = {u.language for corpus in UNITS.values() for u in corpus} - {"all"}
    assert langs <= set(SCRIPT_OF)
    ranges = {
        "latn": [(0x41, 0x2AF), (0x1E00, 0x1EFF)], "cyrl": [(0x400, 0x4FF)],
        "grek": [(0x370, 0x3FF)], "arab": [(0x600, 0x6FF)], "hebr": [(0x590, 0x5FF)],
        "deva": [(0x900, 0x97F)], "beng": [(0x980, 0x9FF)], "taml": [(0xB80, 0xBFF)],
        "telu": [(0xC00, 0xC7F)], "mlym": [(0xD00, 0xD7F)], "gujr": [(0xA80, 0xAFF)],
        "guru": [(0xA00, 0xA7F)], "thai": [(0xE00, 0xE7F)], "geor": [(0x10A0, 0x10FF)],
        "mymr": [(0x1000, 0x109F)], "hang": [(0xAC00, 0xD7A3)], "hani": [(0x4E00, 0x9FA5)],
        "jpan": [(0x3040, 0x30FF), (0x4E00, 0x9FA5)],
    }
    for unit in units_of(manifest, "panx"):
        lang = unit["language"]
        letters = [c for r in table(out, "panx", lang, unit["split"]) for tok in r["tokens"]
                   for c in tok if c.isalpha()]
        spans = ranges[SCRIPT_OF[lang]]
        inside = sum(any(lo <= ord(c) <= hi for lo, hi in spans) for c in letters)
        assert inside == len(letters) > 0, (lang, inside, len(letters))
    english = " ".join(r["text_a"] for r in table(out, "mnli", "en", "validation"))
    assert {"the", "a", "in"} <= set(words(english))
    japanese = "".join(r["text"] for r in table(out, "tatoeba", "ja", "test"))
    assert re.search("[\u3040-\u309f]", japanese) and re.search("[\u4e00-\u9fa5]", japanese)


# ----------------------------------------------------------------------------- semantics

def test_qa_answers_are_spans_of_their_contexts(fetched) -> None:
    out, manifest = fetched
    for corpus in ("squad_v1", "squad_v2", "xquad", "mlqa", "tydiqa"):
        unanswerable = 0
        for unit in units_of(manifest, corpus):
            for r in table(out, corpus, unit["language"], unit["split"]):
                answers = r["answers"]
                assert len(answers["text"]) == len(answers["answer_start"])
                unanswerable += not answers["text"]
                for text, start in zip(answers["text"], answers["answer_start"]):
                    assert text and r["context"][start:start + len(text)] == text
        if corpus == "squad_v2":
            assert unanswerable > 0
        else:
            assert unanswerable == 0, corpus
    tydi = {u["language"]: table(out, "tydiqa", u["language"], u["split"])
            for u in units_of(manifest, "tydiqa") if u["split"] == "test"}
    for lang, rows in tydi.items():
        assert all(r["id"].startswith(TYDIQA_ID_PREFIX[lang] + "-") for r in rows)
    xquad_ids = {u["language"]: [r["id"] for r in table(out, "xquad", u["language"], "test")]
                 for u in units_of(manifest, "xquad")}
    assert len({tuple(ids) for ids in xquad_ids.values()}) == 1


def _gold_pairs(out: Path, corpus: str, lang: str, split: str) -> list[tuple[str, str]]:
    rows = table(out, corpus, lang, split)
    text = {r["id"]: r["text"] for r in rows}
    return [(r["text"], text[r["gold_id"]]) for r in rows
            if r["side"] == "source" and r["gold_id"] is not None]


def test_bitext_gold_pairs_are_translations(fetched) -> None:
    out, manifest = fetched
    synthetic = SyntheticSource()
    for corpus in ("tatoeba", "bucc2018"):
        for unit in units_of(manifest, corpus):
            lang, split = unit["language"], unit["split"]
            pairs = _gold_pairs(out, corpus, lang, split)
            rows = table(out, corpus, lang, split)
            sides = Counter(r["side"] for r in rows)
            if corpus == "bucc2018":
                assert len(pairs) == 50 and sides == {"source": 150, "target": 150}
                assert all(re.fullmatch(rf"({lang}|en)-\d{{9}}", r["id"]) for r in rows)
            else:
                assert len(pairs) == sides["source"] == sides["target"] == 100
            for src, tgt in pairs:
                assert src != tgt or lang == "en"
                # the same numbers on both sides
                assert Counter(re.findall(r"\d+", src)) == Counter(re.findall(r"\d+", tgt))
                # the same concept, word by word (languages that space their words)
                if lang not in ("zh", "ja", "th", "my"):
                    a, b = concept_ids(lang, src), concept_ids("en", tgt)
                    assert len(a) == len(b), (src, tgt)
                    assert all(x & y for x, y in zip(a, b)), (src, tgt)
            # the generator's own rendering of the gold concept sequences
            (source,) = next(u for u in UNITS[corpus]
                             if u.language == lang and u.split == split).sources
            expected = {(s, t) for s, t, _ in synthetic.gold_pairs(source)}
            assert set(pairs) == expected, unit["key"]


def test_lareqa_gold_answers_exist_and_align_across_languages(fetched) -> None:
    out, manifest = fetched
    candidates = table(out, "lareqa", "all", "candidates")
    ids = {c["id"] for c in candidates}
    assert {c["language"] for c in candidates} == set(LAREQA_LANGUAGES)
    gold_by_question: dict[str, set[str]] = defaultdict(set)
    questions: dict[str, list[str]] = {}
    for lang in LAREQA_LANGUAGES:
        rows = table(out, "lareqa", lang, "test")
        questions[lang] = [r["id"].split("-", 1)[1] for r in rows]
        for r in rows:
            assert r["gold_ids"] and set(r["gold_ids"]) <= ids
            gold_by_question[r["id"].split("-", 1)[1]].update(r["gold_ids"])
    # The same question ids in every language ...
    assert len({tuple(q) for q in questions.values()}) == 1
    for qid, gold in gold_by_question.items():
        # ... whose gold sentences cover every language and are the same (translated)
        # sentence of the same context: "<lang>-<context>-<sentence>".
        assert {g.split("-")[0] for g in gold} == set(LAREQA_LANGUAGES), qid
        assert len({g.split("-", 1)[1] for g in gold}) == 1, qid
    per_context = Counter(c["id"].rsplit("-", 1)[0] for c in candidates)
    assert min(per_context.values()) >= 3  # contexts hold several sentences


def test_mewslix_mentions_point_to_candidates(fetched) -> None:
    out, manifest = fetched
    candidates = table(out, "mewslix", "all", "candidates")
    qids = {c["id"] for c in candidates}
    assert 150 <= len(candidates) <= 300
    assert len({c["language"] for c in candidates}) >= 5
    for unit in units_of(manifest, "mewslix"):
        if unit["split"] in ("candidates", "train_candidates"):
            continue
        rows = table(out, "mewslix", unit["language"], unit["split"])
        assert len(rows) >= 30
        for r in rows:
            assert r["language"] == unit["language"]
            assert r["context"][r["mention_start"]:r["mention_end"]] == r["mention"]
            if unit["split"] != "train":
                assert set(r["gold_ids"]) <= qids
    raw = SyntheticSource()
    unit = next(u for u in UNITS["mewslix"] if u.split == "test")
    folder, _ = raw.load(unit.sources[0])
    article = json.loads((folder / "wikinews_mentions-test.jsonl").read_text(
        encoding="utf-8").splitlines()[0])
    assert set(article["context"]) >= {"document_id", "language", "text", "sentence_spans"}
    raw.close()


def test_causal_choices_and_multiple_choice_are_consistent(fetched) -> None:
    out, _ = fetched
    copa = table(out, "copa", "en", "validation")
    assert {r["question"] for r in copa} == {"cause", "effect"}
    xcopa = {lang: table(out, "xcopa", lang, "test") for lang in ("et", "zh")}
    # XCOPA languages hold the same items (translated): same questions and labels.
    assert [(r["question"], r["label"]) for r in xcopa["et"]] == \
        [(r["question"], r["label"]) for r in xcopa["zh"]]


# ----------------------------------------------------------------------------- learnability

def _accuracy(predicted, gold) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(gold)))


def _chance(labels: list) -> float:
    counts = Counter(labels)
    return max(1 / len(counts), max(counts.values()) / len(labels))


@pytest.mark.parametrize("corpus", ["mnli", "anli_plus"])
def test_nli_is_learnable_from_bag_of_words(fetched, corpus: str) -> None:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    out, _ = fetched
    train, dev = table(out, corpus, "en", "train"), table(out, corpus, "en", "validation")

    def text(rows: list[dict]) -> list[str]:
        return [f"{r['text_a']} [SEP] {r['text_b']}" for r in rows]

    vectorizer = CountVectorizer()
    model = LogisticRegression(max_iter=2000).fit(vectorizer.fit_transform(text(train)),
                                                  [r["label"] for r in train])
    gold = [r["label"] for r in dev]
    assert _accuracy(model.predict(vectorizer.transform(text(dev))), gold) >= \
        _chance(gold) + 0.15


def _pair_features(rows: list[dict]):
    """Word-overlap features of a sentence pair: unigram/bigram/trigram Jaccard and the
    words only one side has."""
    docs, numbers = [], []
    for r in rows:
        a, b = words(r["text_a"]), words(r["text_b"])
        grams = [(set(zip(*[a[i:] for i in range(n)])), set(zip(*[b[i:] for i in range(n)])))
                 for n in (1, 2, 3)]
        numbers.append([len(x & y) / max(1, len(x | y)) for x, y in grams])
        docs.append(" ".join(sorted(set(a) ^ set(b))))
    return docs, np.asarray(numbers)


@pytest.mark.parametrize("corpus", ["qqp", "pawsx"])
def test_paraphrase_is_learnable_from_overlap_features(fetched, corpus: str) -> None:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    out, _ = fetched
    train, dev = table(out, corpus, "en", "train"), table(out, corpus, "en", "validation")
    vectorizer = CountVectorizer()
    docs, numbers = _pair_features(train)
    x_train = hstack([vectorizer.fit_transform(docs), csr_matrix(numbers * 5)])
    docs, numbers = _pair_features(dev)
    x_dev = hstack([vectorizer.transform(docs), csr_matrix(numbers * 5)])
    model = LogisticRegression(max_iter=2000).fit(x_train, [r["label"] for r in train])
    gold = [r["label"] for r in dev]
    assert _accuracy(model.predict(x_dev), gold) >= _chance(gold) + 0.15


@pytest.mark.parametrize("corpus", ["udpos", "panx"])
def test_tags_are_learnable_by_most_frequent_tag(fetched, corpus: str) -> None:
    out, _ = fetched
    train, dev = table(out, corpus, "en", "train"), table(out, corpus, "en", "validation")
    by_token: dict[str, Counter] = defaultdict(Counter)
    overall: Counter = Counter()
    for r in train:
        for token, tag in zip(r["tokens"], r["tags"]):
            by_token[token][tag] += 1
            overall[tag] += 1
    majority = overall.most_common(1)[0][0]
    gold = [tag for r in dev for tag in r["tags"]]
    predicted = [by_token[t].most_common(1)[0][0] if t in by_token else majority
                 for r in dev for t in r["tokens"]]
    baseline = _accuracy([majority] * len(gold), gold)
    assert _accuracy(predicted, gold) >= baseline + 0.2


def test_multiple_choice_is_solvable_by_word_overlap(fetched) -> None:
    out, _ = fetched
    dev = table(out, "hellaswag", "en", "validation")
    correct = 0
    for r in dev:
        context = set(words(r["context"] + " " + r["question"]))
        scores = [len(context & set(words(choice))) for choice in r["choices"]]
        correct += int(np.argmax(scores)) == r["label"]
    assert correct / len(dev) >= 1 / 4 + 0.15
