"""Metric values computed by hand, one test per scorer quirk."""

from __future__ import annotations

import random
import warnings

import pytest
from seqeval.metrics import f1_score, precision_score, recall_score

from xstilts.errors import UserError
from xstilts.evaluation.metrics import (
    accuracy,
    bucc_f1,
    map_at_k,
    mlqa_em_f1,
    mrr_at_k,
    seqeval_f1,
    seqeval_f1_flat,
    squad_em_f1,
)


def squad(*qas: tuple[str, list[str]]) -> list[dict]:
    """A SQuAD ``data`` list with one paragraph holding the given (id, gold answers)."""
    questions = [
        {"id": qid, "question": "?", "answers": [{"text": text} for text in golds]}
        for qid, golds in qas
    ]
    return [{"title": "t", "paragraphs": [{"context": "c", "qas": questions}]}]


def one_answer(gold: str, prediction: str) -> list:
    return [squad(("q", [gold])), {"q": prediction}]


# --- accuracy -----------------------------------------------------------------------------


def test_accuracy_counts_exact_matches():
    # 3 of 4 equal -> 75.
    assert accuracy(["a", "b", "c", "d"], ["a", "b", "x", "d"]) == {"accuracy": 75.0}


def test_accuracy_does_not_coerce_types():
    # "1" != 1, 0 == 0 -> 1 of 2.
    assert accuracy([1, 0], ["1", 0]) == {"accuracy": 50.0}


def test_tatoeba_accuracy_compares_index_strings():
    # Indices 0, 1, 3 right, 2 wrong -> 75; "07" is not "7".
    assert accuracy(["0", "1", "2", "3"], ["0", "1", "5", "3"])["accuracy"] == 75.0
    assert accuracy(["7"], ["07"])["accuracy"] == 0.0


# --- seqeval ------------------------------------------------------------------------------


def test_seqeval_chunks_raw_upos_tags():
    # seqeval reads "NOUN" as chunk tag "N" of type "OUN", so neighbouring equal tags merge.
    # gold: NOUN NOUN | VERB | DET | NOUN -> 4 chunks: OUN(0-1) ERB(2) ET(3) OUN(4)
    # pred: NOUN | ADJ | VERB | DET | NOUN -> 5 chunks: OUN(0) DJ(1) ERB(2) ET(3) OUN(4)
    # correct: ERB(2) ET(3) OUN(4) = 3; P = 3/5, R = 3/4, F1 = 2PR/(P+R) = 0.9/1.35 = 2/3.
    # (Token accuracy would be 4/5 = 80.)
    scores = seqeval_f1(
        [["NOUN", "NOUN", "VERB", "DET", "NOUN"]], [["NOUN", "ADJ", "VERB", "DET", "NOUN"]]
    )
    assert scores["precision"] == pytest.approx(60.0)
    assert scores["recall"] == pytest.approx(75.0)
    assert scores["f1"] == pytest.approx(200 / 3)


def test_panx_entity_f1():
    # gold entities: PER(s1 0-1), LOC(s1 3), ORG(s2 0-1) = 3
    # pred entities: PER(s1 0-1), ORG(s1 3), ORG(s2 0) = 3; only PER is right.
    # P = R = F1 = 1/3.
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O", "O"]]
    scores = seqeval_f1(gold, pred)
    for value in scores.values():
        assert value == pytest.approx(100 / 3)


def test_seqeval_default_mode_starts_chunks_at_stray_i_tags():
    # Default (non-strict) mode: "I-PER I-PER" is the same PER(0-1) chunk as "B-PER I-PER".
    assert seqeval_f1([["I-PER", "I-PER"]], [["B-PER", "I-PER"]])["f1"] == pytest.approx(100.0)


def test_seqeval_chunks_stop_at_sentence_ends():
    # gold [B-PER] [I-PER]: the I-PER after the sentence break starts a new chunk, so the
    # chunks are PER(s1 0) and PER(s2 0), exactly the chunks of [B-PER] [B-PER] -> 100.
    # (A chunk running across the break would give 0.)
    assert seqeval_f1([["B-PER"], ["I-PER"]], [["B-PER"], ["B-PER"]])["f1"] == 100.0


def test_seqeval_flat_layout_uses_blank_separators():
    # Same as above, as tag-file lines: "" is the blank line after each sentence.
    assert seqeval_f1_flat(["B-PER", "", "I-PER", ""], ["B-PER", "", "B-PER", ""])["f1"] == 100.0


def test_seqeval_flat_rejects_different_sentence_breaks():
    with pytest.raises(ValueError):
        seqeval_f1_flat(["B-PER", "I-PER", ""], ["B-PER", "", "I-PER"])


def test_seqeval_without_entities_scores_zero():
    assert seqeval_f1([["O", "O"]], [["O", "O"]]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


def test_seqeval_rejects_length_mismatch():
    with pytest.raises(ValueError):
        seqeval_f1([["O", "O"]], [["O"]])


@pytest.mark.parametrize(
    "tagset",
    [
        "O B-PER I-PER B-ORG I-ORG B-LOC I-LOC".split(),
        "ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split(),
        "O B I E S B-X I-X E-X S-X B-Y E-Y . .-X X-Y-Z I-X-Y".split(),
    ],
)
def test_seqeval_f1_equals_the_seqeval_library(tagset):
    """The fast path must give seqeval.metrics' numbers exactly, on any tag set."""
    rng = random.Random(7)
    for _ in range(300):
        sizes = [rng.randint(0, 7) for _ in range(rng.randint(1, 5))]
        gold = [[rng.choice(tagset) for _ in range(size)] for size in sizes]
        pred = [[tag if rng.random() < 0.6 else rng.choice(tagset) for tag in s] for s in gold]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = {
                "f1": f1_score(gold, pred) * 100,
                "precision": precision_score(gold, pred) * 100,
                "recall": recall_score(gold, pred) * 100,
            }
        assert seqeval_f1(gold, pred) == expected, (gold, pred)


# --- SQuAD --------------------------------------------------------------------------------


def test_squad_normalisation_and_unanswered():
    data = squad(
        ("q1", ["The Eiffel Tower"]),  # "eiffel tower!" -> EM 1, F1 1 (case, punct, article)
        ("q2", ["Paris", "the city of Paris"]),  # best gold "city of paris" -> EM 1, F1 1
        ("q3", ["1990s"]),  # "in the 1990s" -> "in 1990s": EM 0, F1 2*(1/2*1)/(3/2) = 2/3
        ("q4", ["anything"]),  # unanswered -> 0
    )
    predictions = {"q1": "eiffel tower!", "q2": "city of Paris", "q3": "in the 1990s"}
    scores = squad_em_f1(data, predictions)
    assert scores["exact_match"] == pytest.approx(50.0)  # 2 of 4
    assert scores["f1"] == pytest.approx(100 * (1 + 1 + 2 / 3 + 0) / 4)


def test_squad_keeps_unicode_punctuation():
    # SQuAD removes only string.punctuation: «paris» stays different from paris.
    assert squad_em_f1(*one_answer("«Paris»", "Paris")) == {"exact_match": 0.0, "f1": 0.0}


def test_squad_takes_max_over_golds_separately_for_em_and_f1():
    # golds "red car" (F1 of "red": P 1, R 1/2 -> 2/3) and "blue" (F1 0): EM 0, F1 2/3.
    scores = squad_em_f1(squad(("q", ["red car", "blue"])), {"q": "red"})
    assert scores["exact_match"] == 0.0
    assert scores["f1"] == pytest.approx(200 / 3)


# --- MLQA ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "gold", "prediction"),
    [
        ("es", "La casa", "casa"),
        ("es", "los perros", "perros"),
        ("de", "der Hund", "Hund"),
        ("de", "einem Haus", "Haus"),
        ("vi", "của tôi", "tôi"),
        ("en", "the «Paris»", "Paris"),  # Unicode quotes are in PUNCT
        ("zh", "北京、上海", "北京上海"),  # 、 is in PUNCT
        ("en", "$100", "100"),  # "$" is a symbol, added through string.punctuation
    ],
)
def test_mlqa_exact_matches(language, gold, prediction):
    assert mlqa_em_f1(*one_answer(gold, prediction), language)["exact_match"] == 100.0


def test_mlqa_keeps_symbols_outside_punct():
    # "€" is a currency symbol (Sc) and not in string.punctuation: EM 0;
    # tokens ["100", "€"] vs ["100"]: P 1, R 1/2 -> F1 2/3.
    scores = mlqa_em_f1(*one_answer("100 €", "100"), "es")
    assert scores["exact_match"] == 0.0
    assert scores["f1"] == pytest.approx(200 / 3)


def test_mlqa_arabic_removes_every_al_even_inside_words():
    # "الكتاب" -> " كتاب" and "مالك" (م ا ل ك) -> "م ك": "ال" goes wherever it occurs.
    assert mlqa_em_f1(*one_answer("الكتاب", "كتاب"), "ar")["exact_match"] == 100.0
    assert mlqa_em_f1(*one_answer("مالك", "م ك"), "ar")["exact_match"] == 100.0


def test_mlqa_chinese_mixed_segmentation_f1():
    # gold 北京大学 -> 北 京 大 学; pred 北京 -> 北 京: P 1, R 1/2 -> F1 2/3.
    scores = mlqa_em_f1(*one_answer("北京大学", "北京"), "zh")
    assert scores["exact_match"] == 0.0
    assert scores["f1"] == pytest.approx(200 / 3)
    # Latin runs stay whole words: "iphone手机" -> iphone 手 机; P 1, R 1/3 -> F1 1/2.
    assert mlqa_em_f1(*one_answer("iPhone手机", "iphone"), "zh")["f1"] == pytest.approx(50.0)


def test_mlqa_chinese_split_range_stops_at_9fa5():
    # U+9FA6 and U+9FA7 are ideographs past the scorer's [\u4e00-\u9fa5] range, so they
    # stay one token: gold -> 北, "\u9fa6\u9fa7"; pred 北: P 1, R 1/2 -> F1 2/3.
    scores = mlqa_em_f1(*one_answer("北\u9fa6\u9fa7", "北"), "zh")
    assert scores["f1"] == pytest.approx(200 / 3)


def test_mlqa_hindi_has_no_articles():
    # hi keeps "the": tokens ["the", "नदी"] vs ["नदी"] -> EM 0, F1 2/3; en drops it -> EM 1.
    hindi = mlqa_em_f1(*one_answer("the नदी", "नदी"), "hi")
    assert hindi["exact_match"] == 0.0
    assert hindi["f1"] == pytest.approx(200 / 3)
    assert mlqa_em_f1(*one_answer("the नदी", "नदी"), "en")["exact_match"] == 100.0


def test_mlqa_unanswered_counts_zero():
    data = squad(("q1", ["casa"]), ("q2", ["perro"]))
    # q1 right, q2 missing -> 50 / 50.
    assert mlqa_em_f1(data, {"q1": "casa"}, "es") == {"exact_match": 50.0, "f1": 50.0}


def test_mlqa_unknown_language_is_a_user_error():
    with pytest.raises(UserError, match="'fr'"):
        mlqa_em_f1(*one_answer("a", "a"), "fr")


# --- BUCC, Mewsli-X, LAReQA ---------------------------------------------------------------


def test_bucc_set_f1_counts_duplicates_once():
    gold = ["a\tb", "c\td", "e\tf", "g\th"]
    predicted = ["a\tb", "a\tb", "c\td", "x\ty"]
    # predicted set {a-b, c-d, x-y}: correct 2 -> P 2/3, R 2/4, F1 = (2/3)/(7/6) = 4/7.
    scores = bucc_f1(gold, predicted)
    assert scores["precision"] == pytest.approx(200 / 3)
    assert scores["recall"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(400 / 7)


def test_bucc_nothing_correct_is_all_zero():
    assert bucc_f1(["a\tb"], ["a\tc"]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}
    assert bucc_f1(["a\tb"], []) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


def ranked_with(gold: str, rank: int, length: int = 25) -> list[str]:
    """``length`` wrong ids with ``gold`` at 1-based ``rank``."""
    ids = [f"wrong{i}" for i in range(length)]
    ids[rank - 1] = gold
    return ids


def test_mrr_rank_16_and_beyond_20():
    assert mrr_at_k({"e": ["Q1"]}, {"e": ranked_with("Q1", 16)}) == pytest.approx(1 / 16)
    assert mrr_at_k({"e": ["Q1"]}, {"e": ranked_with("Q1", 21)}) == 0.0


def test_mrr_strips_gold_ignores_extra_and_zeroes_missing():
    gold = {"e1": [" Q1 "], "e2": ["Q2"], "e3": ["Q3"]}
    predictions = {"e1": ranked_with("Q1", 2), "e2": ranked_with("Q2", 4), "extra": ["Q9"]}
    # (1/2 + 1/4 + 0) / 3 = 1/4.
    assert mrr_at_k(gold, predictions) == pytest.approx(0.25)
    assert mrr_at_k({}, {"e": ["Q1"]}) == 0.0


def test_map_at_20_with_several_golds():
    gold = {"q1": ["a", "b", "c"], "q2": ["d", "e"]}
    predictions = {"q1": ["a", "x", "b", "y", "a", "c"]}
    # q1: hits at ranks 1, 3, 6 (the repeated "a" is no new hit): 1/1 + 2/3 + 3/6 = 13/6,
    # divided by min(3, 20) -> 13/18. q2 missing -> 0. Mean 13/36.
    assert map_at_k(gold, predictions) == pytest.approx(13 / 36)


def test_map_at_20_truncates_and_caps_the_denominator():
    assert map_at_k({"q": ["a"]}, {"q": ranked_with("a", 21)}) == 0.0
    # 25 golds, the top 20 all gold: sum of i/i = 20, over min(25, 20) = 20 -> 1.
    golds = [f"g{i}" for i in range(25)]
    assert map_at_k({"q": golds}, {"q": golds}) == pytest.approx(1.0)
