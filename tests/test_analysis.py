"""The report's statistics on constructed score tables with known answers: gains, seed
and example bootstrap intervals, Kendall τ, best-per-target selection on dev, official
aggregate averaging, missing cells, multiple-comparison corrections, language metadata."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from xstilts.analysis.aggregates import aggregate_matrix
from xstilts.analysis.best_per_target import BEST
from xstilts.analysis.bootstrap import ratio_draws, resample_counts, seed_intervals
from xstilts.analysis.constructed_grid import (
    constructed_config,
    constructed_dev,
    constructed_rows,
)
from xstilts.analysis.example_scores import example_parts, scores_of, suffix, tag_counts
from xstilts.analysis.grid import ALL, TASK_GROUPS, Grid
from xstilts.analysis.language_metadata import LANGUAGES, language_frame
from xstilts.analysis.results import scores_frame
from xstilts.analysis.significance import benjamini_hochberg, holm
from xstilts.analysis.study_analysis import analyse
from xstilts.evaluation.fake_submission import write_fake_submission
from xstilts.evaluation.leaderboard import score_language, score_submission, task_languages
from xstilts.evaluation.metrics import seqeval_f1
from xstilts.tasks.languages import LAREQA_LANGUAGES, TASK2LANGS

ARCHS = ("mbert", "xlmr-base", "mt5-base")
SETTINGS = ("none", "mnli", "qqp", "squad_v1", "hellaswag")
SEEDS = (0, 1, 2)
EFFECTS = {"mnli": 2.0, "qqp": -1.0, "squad_v1": 3.5, "hellaswag": 0.5}


def effect(arch: str, inter: str, target: str) -> float:
    """Known gains: a per-setting effect scaled per architecture, shifted per target."""
    if inter == "none":
        return 0.0
    scale = {"mbert": 1.0, "xlmr-base": 2.0, "mt5-base": 0.5}[arch]
    return EFFECTS[inter] * scale + {"xnli": 0.0, "panx": 1.0, "xquad": -0.5}.get(target, 0)


def build(targets=("xnli",), archs=ARCHS, settings=SETTINGS, seeds=SEEDS, noise=0.0,
          effect_fn=effect, drop=None, dev_effect=None):
    rows = constructed_rows(archs, settings, targets, seeds, effect=effect_fn, noise=noise)
    if drop is not None:
        rows = [r for r in rows if not drop(r)]
    config = constructed_config(archs, settings, targets, seeds)
    dev = constructed_dev(archs, settings, targets, seeds, dev_effect=dev_effect or effect_fn)
    return config, scores_frame(rows), dev


# --------------------------------------------------------------------------- gains


def test_gains_equal_the_constructed_effects_with_zero_width_intervals() -> None:
    config, scores, dev = build(targets=("xnli", "panx", "xquad"))
    analysis = analyse(config, scores, dev)
    gains = analysis.target_gains
    assert len(gains) == len(ARCHS) * (len(SETTINGS) - 1) * 3
    for row in gains.itertuples():
        expected = effect(row.architecture, row.intermediate, row.target)
        assert row.gain == pytest.approx(expected, abs=1e-9)
        assert row.status == "ok" and row.n_seeds == 3 and row.languages > 1
        # identical seeds: no spread, a zero-width interval at the gain
        assert row.gain_std == pytest.approx(0, abs=1e-9)
        assert row.seed_ci_low == pytest.approx(expected, abs=1e-9)
        assert row.seed_ci_high == pytest.approx(expected, abs=1e-9)
        assert row.score - row.baseline == pytest.approx(row.gain)
    per_language = analysis.language_gains
    assert len(per_language) == len(ARCHS) * 4 * (15 + 48 + 12)
    xlmr = per_language[(per_language["architecture"] == "xlmr-base")
                        & (per_language["intermediate"] == "squad_v1")
                        & (per_language["target"] == "panx")]
    assert np.allclose(xlmr["gain"], 2.0 * 3.5 + 1.0)
    # the mean over targets and over settings
    means = analysis.mean_gains.set_index(["architecture", "intermediate", "group"])
    expected = np.mean([effect("mbert", "mnli", t) for t in ("xnli", "panx", "xquad")])
    assert means.loc[("mbert", "mnli", ALL), "gain"] == pytest.approx(expected)
    overall = np.mean([effect("mt5-base", i, t) for i in EFFECTS
                       for t in ("xnli", "panx", "xquad")])
    assert means.loc[("mt5-base", ALL, ALL), "gain"] == pytest.approx(overall)
    structured = np.mean([effect("mbert", i, "panx") for i in EFFECTS])
    assert means.loc[("mbert", ALL, "structured prediction"), "gain"] == \
        pytest.approx(structured)


def test_gains_table_agrees_with_the_runs_gains_frame() -> None:
    from xstilts.analysis.results import TASK_METRIC, gains_frame

    config, scores, dev = build(noise=1.0)
    analysis = analyse(config, scores, dev)
    frame = gains_frame(scores)
    frame = frame[frame["metric"] == TASK_METRIC]
    direct = frame.groupby(["architecture", "intermediate", "target", "language"])["gain"] \
        .mean()
    table = analysis.language_gains.set_index(["architecture", "intermediate", "target",
                                               "language"])["gain"]
    assert np.allclose(table.reindex(direct.index), direct)


def test_task_groups_come_from_the_scorer() -> None:
    assert TASK_GROUPS["classification"] == ("pawsx", "xnli", "xcopa")
    assert TASK_GROUPS["structured prediction"] == ("udpos", "panx")
    assert TASK_GROUPS["question answering"] == ("xquad", "mlqa", "tydiqa")
    assert set(TASK_GROUPS["retrieval"]) == {"bucc2018", "tatoeba", "mewslix", "lareqa"}


# --------------------------------------------------------------------------- bootstrap


def test_seed_bootstrap_matches_a_direct_numpy_computation() -> None:
    values = np.array([[1.0, 2.5, 4.0], [3.0, np.nan, 5.0], [2.0, 2.0, 2.0],
                       [7.0, np.nan, np.nan]])
    low, high = seed_intervals(values, samples=1000, seed=0)
    rng = np.random.default_rng(0)
    means = values[0][rng.integers(0, 3, size=(1000, 3))].mean(axis=1)
    assert (low[0], high[0]) == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])))
    rng = np.random.default_rng(0)  # rows with two seeds share their own resamples
    pair = np.array([3.0, 5.0])
    means = pair[rng.integers(0, 2, size=(1000, 2))].mean(axis=1)
    assert (low[1], high[1]) == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])))
    assert low[2] == high[2] == pytest.approx(2.0)  # identical seeds: zero width
    assert math.isnan(low[3]) and math.isnan(high[3])  # one seed: no interval
    assert low[0] < values[0].mean() < high[0]
    again = seed_intervals(values, samples=1000, seed=0)
    assert np.array_equal(np.nan_to_num(again[0]), np.nan_to_num(low))


def test_resample_counts_and_ratio_draws() -> None:
    counts = resample_counts(7, samples=50, rng=3)
    assert counts.shape == (50, 7) and (counts.sum(axis=1) == 7).all()
    rng = np.random.default_rng(3)
    direct = np.stack([np.bincount(row, minlength=7)
                       for row in rng.integers(0, 7, size=(50, 7))])
    assert np.array_equal(counts, direct)
    values = np.arange(7.0)[:, None]
    draws = ratio_draws(values, np.ones_like(values), samples=50, rng=3)
    assert np.allclose(draws[:, 0], counts @ np.arange(7.0) / 7)
    # a ratio: F1 parts 2·TP / (pred + gold), 0 where the denominator is 0
    zero = ratio_draws(np.zeros((4, 1)), np.zeros((4, 1)), samples=5)
    assert (zero == 0).all()


# --------------------------------------------------------------------------- per example


@pytest.fixture(scope="module")
def fake_submissions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("fake")
    return {b: write_fake_submission(root / b, benchmark=b, seed=1, scale=0.03)
            for b in ("xtreme", "xtreme-r")}


def test_per_example_parts_reproduce_the_scorer_for_every_task(fake_submissions) -> None:
    checked = set()
    for benchmark, (predictions, labels) in fake_submissions.items():
        for task, languages in task_languages(benchmark).items():
            for language in languages[:3]:
                name = f"{task}/test-{language}.{suffix(task)}"
                parts = example_parts(task, language, labels / name, [predictions / name])
                official = score_language(task, language, predictions, labels)
                expected = ((official["exact_match"] + official["f1"]) / 2
                            if "exact_match" in official else
                            official.get("f1", official.get("accuracy",
                                                            official.get("map@20"))))
                assert scores_of(parts)[0] == pytest.approx(expected, abs=1e-9), name
                checked.add(task)
    assert checked == {"pawsx", "xnli", "udpos", "panx", "bucc2018", "tatoeba", "xquad",
                       "mlqa", "tydiqa", "xcopa", "mewslix", "lareqa"}


def test_tag_counts_sum_to_seqeval() -> None:
    gold = [["NOUN", "NOUN", "VERB"], ["B-PER", "I-PER", "O", "B-LOC"], ["DET"]]
    predicted = [["NOUN", "ADJ", "VERB"], ["B-PER", "I-PER", "O", "B-ORG"], ["DET"]]
    flat = lambda sentences: [t for s in sentences for t in [*s, ""]]  # noqa: E731
    counts = tag_counts(flat(gold), flat(predicted))
    assert counts.shape == (3, 3)
    tp, npred, ngold = counts.sum(axis=0)
    assert 200 * tp / (npred + ngold) == pytest.approx(seqeval_f1(gold, predicted)["f1"])


def test_identical_predictions_give_a_zero_width_example_interval(
        fake_submissions, tmp_path: Path) -> None:
    """Two cells with the same predictions: gain 0, and every resample's gain is 0."""
    predictions, labels = fake_submissions["xtreme-r"]
    run = tmp_path / "predictions"
    for inter in ("none", "mnli"):
        target = run / "mbert" / inter / "0" / "xnli"
        target.mkdir(parents=True)
        for path in (predictions / "xnli").iterdir():
            (target / path.name).write_bytes(path.read_bytes())
    rows = [{"architecture": "mbert", "intermediate": inter, "seed": 0, "target": "xnli",
             "language": lang, "metric": "accuracy",
             "value": score_language("xnli", lang, predictions, labels)["accuracy"]}
            for inter in ("none", "mnli") for lang in TASK2LANGS["xtreme"]["xnli"]]
    config = constructed_config(["mbert"], ["none", "mnli"], ["xnli"], [0])
    analysis = analyse(config, scores_frame(rows), [], run, [labels])
    row = analysis.target_gains.iloc[0]
    assert row.gain == 0 and row.example_ci_low == 0 and row.example_ci_high == 0
    assert "resampled sentence pairs" in analysis.example_notes["xnli"]
    assert math.isnan(row.seed_ci_low)  # one seed: no seed interval


# --------------------------------------------------------------------------- rankings


def test_kendall_tau_of_identical_and_reversed_rankings() -> None:
    settings = ("none", "mnli", "qqp", "squad_v1", "squad_v2", "hellaswag")
    rank = {s: k for k, s in enumerate(settings)}

    def ranked(arch: str, inter: str, target: str) -> float:
        if inter == "none":
            return 0.0
        order = rank[inter] if arch != "mt5-base" else len(settings) - rank[inter]
        return {"mbert": 1.0, "xlmr-base": 3.0, "mt5-base": 1.0}[arch] * order

    config, scores, dev = build(settings=settings, effect_fn=ranked)
    table = analyse(config, scores, dev).rank_agreement
    overall = table[table["scope"] == ALL].set_index(["architecture_a", "architecture_b"])
    assert overall.loc[("mbert", "xlmr-base"), "tau"] == pytest.approx(1.0)
    assert overall.loc[("mbert", "mt5-base"), "tau"] == pytest.approx(-1.0)
    assert overall.loc[("mbert", "xlmr-base"), "settings"] == 5
    # exact two-sided p of a perfect ranking of 5 items: 2 / 5! = 1/60
    assert overall.loc[("mbert", "xlmr-base"), "p_value"] == pytest.approx(1 / 60)
    assert overall.loc[("mbert", "mt5-base"), "p_value"] == pytest.approx(1 / 60)
    reference = stats.kendalltau([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])
    assert overall.loc[("xlmr-base", "mt5-base"), "p_value"] == \
        pytest.approx(reference.pvalue)


# --------------------------------------------------------------------------- best per target


def test_best_per_target_is_chosen_on_dev_not_on_test() -> None:
    """On test squad_v1 is best everywhere; on dev hellaswag is: the report picks
    hellaswag, reports its test gain, and shows squad_v1 only as the test-best."""
    def dev_effect(arch: str, inter: str, target: str) -> float:
        return {"none": 0.0, "mnli": 1.0, "qqp": 0.0, "squad_v1": 2.0,
                "hellaswag": 5.0}[inter]

    targets = ("xnli", "xquad", "mlqa", "tatoeba")
    config, scores, dev = build(targets=targets, dev_effect=dev_effect)
    assert not any(d["target"] == "mlqa" for d in dev)  # MLQA uses XQuAD's model
    analysis = analyse(config, scores, dev)
    best = analysis.best_per_target.set_index(["architecture", "target"])
    for arch in ARCHS:
        for target in targets:
            row = best.loc[(arch, target)]
            assert row["selected"] == "hellaswag"
            assert row["test_best"] == "squad_v1" and not row["dev_picks_test_best"]
            assert row["gain"] == pytest.approx(effect(arch, "hellaswag", target))
            assert row["test_best_gain"] == pytest.approx(effect(arch, "squad_v1", target))
    assert best.loc[("mbert", "mlqa"), "basis"] == "English dev of xquad"
    assert "no dev set" in best.loc[("mbert", "tatoeba"), "basis"]
    assert best.loc[("mbert", "xnli"), "dev_score"] == pytest.approx(75.0)


# --------------------------------------------------------------------------- aggregates


def test_aggregates_equal_the_official_scorer(fake_submissions) -> None:
    """Scores of a fake submission, fed to the aggregate code as score rows, give the
    scorer's own all_task and group numbers."""
    for benchmark, (predictions, labels) in fake_submissions.items():
        official = score_submission(benchmark, predictions, labels)
        rows = []
        for task, languages in task_languages(benchmark).items():
            for language in languages:
                for metric, value in score_language(task, language, predictions,
                                                    labels).items():
                    rows.append({"architecture": "mbert", "intermediate": "none", "seed": 0,
                                 "target": task, "language": language, "metric": metric,
                                 "value": value})
        config = constructed_config(["mbert"], ["none"], [benchmark], [0])
        scores = scores_frame(rows)
        matrix = aggregate_matrix(scores, Grid.of(config, scores))
        ours = matrix.xs(("mbert", "none", benchmark),
                         level=["architecture", "intermediate", "benchmark"])[0]
        for name in ("all_task", "classification", "tagging", "qa", "retrieval"):
            assert ours[name] == pytest.approx(official[name], abs=1e-9), (benchmark, name)


def test_aggregates_of_a_partial_benchmark_are_missing() -> None:
    config, scores, dev = build(targets=("xnli", "panx", "udpos"))
    table = analyse(config, scores, dev).aggregates
    xtreme = table[(table["benchmark"] == "xtreme") & (table["architecture"] == "mbert")
                   & (table["intermediate"] == "mnli")].set_index("aggregate")
    assert math.isnan(xtreme.loc["all_task", "score"])  # pawsx, QA, retrieval absent
    assert xtreme.loc["all_task", "status"] == "missing"
    assert not math.isnan(xtreme.loc["tagging", "score"])
    tagging = (effect("mbert", "mnli", "panx") + effect("mbert", "mnli", "udpos")) / 2
    assert xtreme.loc["tagging", "gain"] == pytest.approx(tagging)
    best = table[(table["intermediate"] == BEST) & (table["benchmark"] == "xtreme")
                 & (table["aggregate"] == "tagging")]
    assert len(best) == len(ARCHS) and best["score"].notna().all()


# --------------------------------------------------------------------------- missing cells


def test_missing_cells_stay_missing_and_fewer_seeds_are_flagged() -> None:
    def drop(row: dict) -> bool:
        return ((row["architecture"] == "mbert" and row["intermediate"] == "qqp"
                 and row["target"] == "panx")
                or (row["architecture"] == "xlmr-base" and row["intermediate"] == "mnli"
                    and row["seed"] == 2)
                or (row["architecture"] == "mt5-base" and row["intermediate"] == "hellaswag"
                    and row["target"] == "xnli" and row["language"] == "sw"))

    config, scores, dev = build(targets=("xnli", "panx"), drop=drop)
    analysis = analyse(config, scores, dev)
    gains = analysis.target_gains.set_index(["architecture", "intermediate", "target"])
    missing = gains.loc[("mbert", "qqp", "panx")]
    assert missing["status"] == "missing" and math.isnan(missing["gain"])
    assert missing["n_seeds"] == 0
    fewer = gains.loc[("xlmr-base", "mnli", "xnli")]
    assert fewer["status"] == "fewer seeds (2/3)" and fewer["n_seeds"] == 2
    assert fewer["gain"] == pytest.approx(effect("xlmr-base", "mnli", "xnli"))
    partial = gains.loc[("mt5-base", "hellaswag", "xnli")]
    assert partial["status"].startswith("missing languages (1/15)")
    assert math.isnan(partial["gain"])  # not averaged over the 14 that are there
    assert len(analysis.target_gains) == len(ARCHS) * 4 * 2  # no row dropped
    per_language = analysis.language_gains.set_index(
        ["architecture", "intermediate", "target", "language"])
    assert per_language.loc[("mt5-base", "hellaswag", "xnli", "sw"), "status"] == "missing"
    assert per_language.loc[("mt5-base", "hellaswag", "xnli", "de"), "status"] == "ok"
    means = analysis.mean_gains.set_index(["architecture", "intermediate", "group"])
    assert math.isnan(means.loc[("mbert", "qqp", ALL), "gain"])
    assert means.loc[("mbert", "qqp", ALL), "status"] == "missing"
    assert math.isnan(means.loc[("mbert", ALL, ALL), "gain"])  # needs every cell
    assert not math.isnan(means.loc[("mbert", "mnli", ALL), "gain"])


# --------------------------------------------------------------------------- tests


def test_holm_and_benjamini_hochberg_adjustments() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    assert np.allclose(holm(p)[:4], [0.03, 0.06, 0.06, 0.02]) and np.isnan(holm(p)[4])
    assert np.allclose(benjamini_hochberg(p)[:4], [0.02, 0.04, 0.04, 0.02])
    assert np.isnan(benjamini_hochberg(p)[4])
    assert holm(np.array([0.5, 0.9])).tolist() == [1.0, 1.0]


def test_significance_finds_large_gains_and_not_zero_gains() -> None:
    def gain(arch: str, inter: str, target: str) -> float:
        return 0.0 if inter in ("none", "qqp") else 5.0

    config, scores, dev = build(targets=("panx",), effect_fn=gain, noise=0.3)
    table = analyse(config, scores, dev).significance
    languages = table[table["family"] == "gain (languages)"].set_index(
        ["architecture", "intermediate"])
    assert languages.loc[("mbert", "mnli"), "significant"]
    assert languages.loc[("mbert", "mnli"), "estimate"] == pytest.approx(5.0, abs=0.2)
    assert not languages.loc[("mbert", "qqp"), "significant"]
    assert (table["p_holm"].dropna() >= table["p_value"].dropna()).all()
    seeds = table[table["family"] == "gain (seeds)"]
    assert seeds["n"].eq(3).all() and seeds["p_value"].notna().any()


def test_gain_versus_baseline_and_language_features() -> None:
    config, scores, dev = build(targets=("xnli", "panx"), noise=0.5)
    analysis = analyse(config, scores, dev)
    points = analysis.baseline_points
    assert "en" not in set(points["language"])  # zero-shot languages only
    assert len(points) == len(ARCHS) * (14 + 47)
    pooled = analysis.baseline_correlations.iloc[0]
    expected = stats.spearmanr(points["baseline"], points["gain"])
    assert pooled["spearman"] == pytest.approx(expected.statistic)
    features = analysis.language_features
    assert set(features["feature"]) == {"family", "script", "joshi_class"}
    latin = features[(features["architecture"] == "mbert") & (features["value"] == "Latin")]
    assert latin["languages"].iloc[0] > 10


# --------------------------------------------------------------------------- languages


def test_language_metadata_covers_every_benchmark_language() -> None:
    every = {lang for version in TASK2LANGS.values() for langs in version.values()
             for lang in langs} | set(LAREQA_LANGUAGES)
    assert len(every) == 50
    assert every <= set(LANGUAGES)
    frame = language_frame()
    assert frame["joshi_class"].between(0, 5).all()
    assert (frame[["name", "family", "genus", "script"]] != "").all().all()
    assert LANGUAGES["en"].joshi_class == 5 and LANGUAGES["yo"].resource == "low"
    assert LANGUAGES["hi"].script == "Devanagari" and LANGUAGES["sw"].family == \
        "Atlantic-Congo"


def test_grid_keeps_config_order_and_expected_languages() -> None:
    config, scores, _ = build(targets=("xnli", "tatoeba"))
    grid = Grid.of(config, scores)
    assert grid.architectures == ARCHS and grid.intermediates == SETTINGS
    assert grid.targets == ("xnli", "tatoeba")
    assert len(grid.languages["tatoeba"]) == 41 and "en" not in grid.languages["tatoeba"]
    frame = pd.DataFrame({"architecture": ["mt5-base", "mbert"], "language": ["de", "ar"]})
    assert grid.sort(frame, ["architecture"])["architecture"].tolist() == \
        ["mbert", "mt5-base"]


def test_vectorised_t_tests_match_scipy() -> None:
    from xstilts.analysis.significance import t_tests

    values = np.array([[1.0, 2.0, 4.5], [0.5, np.nan, 1.5], [2.0, 2.0, 2.0], [3.0, np.nan,
                                                                               np.nan]])
    statistic, p = t_tests(values)
    for row in range(2):
        present = values[row][~np.isnan(values[row])]
        reference = stats.ttest_1samp(present, 0.0)
        assert statistic[row] == pytest.approx(reference.statistic)
        assert p[row] == pytest.approx(reference.pvalue)
    assert np.isnan(p[2]) and np.isnan(p[3])  # no spread; one seed
