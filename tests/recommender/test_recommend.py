"""recommend() end to end: the technique, task, pattern, warnings and baseline per data shape."""

from __future__ import annotations

import dataclasses
import json

import pytest
from profiles import SCENARIOS, images, sequences, series, tabular, text, users_items

from dladvisor.errors import ConfigError
from dladvisor.recommender import TASKS, Alert, Recommendation, recommend


def recommend_for(name: str) -> Recommendation:
    scenario = SCENARIOS[name]
    return recommend(scenario.profile, scenario.task, horizon=scenario.horizon)


def techniques(rec: Recommendation) -> list[str]:
    return [score.technique for score in rec.ranking]


def fired(rec: Recommendation) -> set[str]:
    return {hit.rule_id for score in rec.ranking for hit in score.hits_for + score.hits_against}


# --- per data kind and task -------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, task, top, baseline",
    [
        ("tabular-multiclass", "classification", "mlp", "HistGradientBoostingClassifier"),
        ("tabular-regression", "regression", "mlp", "HistGradientBoostingRegressor"),
        ("tabular-small", "classification", "mlp", "HistGradientBoostingClassifier"),
        ("binary-table", "classification", "mlp", "HistGradientBoostingClassifier"),
        ("tabular-unlabelled", "feature-learning", "rbm", "PCA"),
        (
            "users-items",
            "recommendation",
            "rbm",
            "most-popular items or item-item cosine neighbours (the better on validation)",
        ),
        ("binary-table-imputation", "imputation", "rbm", "each column's share of ones"),
        ("signals", "monitoring", "rbm", "IsolationForest"),
        ("images-labelled", "classification", "cnn", "logistic regression on pixels"),
        ("images-small", "classification", "cnn", "logistic regression on pixels"),
        ("images-unlabelled", "generation", "gan", "Gaussian-mixture sampler in PCA space"),
        ("images-few-unlabelled", "generation", "gan", "Gaussian-mixture sampler in PCA space"),
        ("images-inpainting", "inpainting", "gan", "biharmonic inpainting"),
        ("images-super-resolution", "super-resolution", "gan", "bicubic upscaling"),
        ("images-captioning", "captioning", "rnn", "nearest-neighbour caption"),
        ("series-long", "forecasting", "rnn", "seasonal naive (or last value)"),
        ("series-very-long", "forecasting", "rnn", "seasonal naive (or last value)"),
        ("sequences-labelled", "classification", "rnn", "1-nearest-neighbour (Euclidean)"),
        (
            "sequences-per-step",
            "sequence-labelling",
            "rnn",
            "gradient boosting on each step's own values (no context)",
        ),
        ("sequences-generation", "generation", "rnn", "Gaussian-mixture sampler in PCA space"),
        ("text-classified", "classification", "rnn", "TF-IDF + logistic regression"),
        ("text-unlabelled", "feature-learning", "rbm", "PCA"),
    ],
)
def test_task_top_technique_and_baseline(scenario, task, top, baseline):
    rec = recommend_for(scenario)
    assert rec.task == task
    assert rec.top.technique == top
    assert rec.top.score > 0
    assert rec.baseline.name == baseline
    assert rec.baseline.why and rec.baseline.metric


def test_tabular_classification_cites_the_rows_and_admits_trees_often_win():
    rec = recommend(tabular(rows=5000, features=8))
    assert rec.kind == "tabular"
    assert rec.task_source == "inferred"
    assert "multiclass" in rec.task_reason
    assert ("samples", 5000) in rec.evidence
    assert ("columns", 9) in rec.evidence
    assert ("classes", 3) in rec.evidence
    top_reasons = [hit.reason for hit in rec.top.hits_for]
    assert top_reasons[0].startswith("5,000 rows x 9 columns with a multiclass target")
    assert "Gradient-boosted trees often beat MLPs on tables" in rec.baseline.why
    assert rec.pattern.name == "one-to-one"
    assert "not a sequence problem" in rec.pattern.explanation
    assert "MLP or CNN" in rec.pattern.explanation


def test_few_rows_cost_the_mlp_and_warn_that_the_baseline_may_win():
    small, large = recommend(tabular(rows=300)), recommend(tabular(rows=5000))
    assert small.top.score == large.top.score - 2
    assert "mlp.few-examples" in fired(small)
    assert any("Expect the classical baseline to win" in w for w in small.warnings)
    assert not any("baseline to win" in w for w in large.warnings)


def test_binary_features_make_the_rbm_a_weaker_second_choice_for_classification():
    rec = recommend_for("binary-table")
    rbm = next(score for score in rec.ranking if score.technique == "rbm")
    assert "rbm.binary-features-supervised" in {hit.rule_id for hit in rbm.hits_for}
    assert 0 <= rbm.score < rec.top.score
    plain = next(s for s in recommend_for("tabular-multiclass").ranking if s.technique == "rbm")
    assert rbm.score > plain.score


def test_unlabelled_table_learns_features_with_an_rbm_scaled_to_unit_range():
    rec = recommend_for("tabular-unlabelled")
    assert techniques(rec)[0] == "rbm"
    assert "no target" in rec.task_reason
    assert any("scale every feature to [0, 1]" in w for w in rec.warnings)


def test_user_item_matrix_is_a_recommendation_for_an_rbm():
    rec = recommend_for("users-items")
    assert "rbm.binary-recommendation" in {hit.rule_id for hit in rec.top.hits_for}
    assert "2,000 x 50" in rec.top.hits_for[0].reason
    assert rec.baseline.metric == "precision@10"
    assert not any("[0, 1]" in w for w in rec.warnings)


def test_on_off_signals_over_time_are_monitored_by_an_rbm():
    rec = recommend_for("signals")
    assert rec.top.hits_for[0].rule_id == "rbm.monitoring-signals"
    assert "10,000 time steps" in rec.top.hits_for[0].reason
    assert "rnn.no-order" not in fired(rec)


def test_labelled_images_go_to_a_cnn():
    rec = recommend_for("images-labelled")
    assert rec.top.technique == "cnn"
    assert {"cnn.image-grid", "cnn.learnt-image-features", "cnn.complex-mapping"} <= fired(rec)
    assert ("images", 5000) in rec.evidence


def test_unlabelled_images_are_generated_by_a_gan():
    rec = recommend_for("images-unlabelled")
    assert rec.task == "generation"
    assert {"gan.create", "gan.no-labels"} <= {hit.rule_id for hit in rec.top.hits_for}


@pytest.mark.parametrize("task", ["inpainting", "super-resolution"])
def test_user_set_restoration_task_puts_the_gan_first_with_the_cnn_behind(task):
    rec = recommend(images(), task)
    assert rec.task == task
    assert rec.task_source == "user"
    assert rec.task_reason.startswith("set by the user; the data alone suggests classification")
    assert techniques(rec)[:2] == ["gan", "cnn"]
    assert "blurrier" in rec.ranking[1].hits_for[-1].reason


def test_user_task_that_matches_the_data_says_so():
    rec = recommend(tabular(), "classification")
    assert rec.task_source == "user"
    assert rec.task_reason.startswith("set by the user; the data suggests it too")


def test_long_series_with_slow_decay_is_forecast_by_an_lstm_many_to_one():
    rec = recommend(series(length=800, autocorrelation_lag=40))
    assert rec.task == "forecasting"
    assert rec.top.technique == "rnn"
    assert rec.top.name == "RNN / LSTM"
    assert rec.pattern.name == "many-to-one"
    assert "horizon 1" in rec.pattern.explanation
    lstm = [hit.reason for hit in rec.top.hits_for if hit.rule_id.startswith("rnn.lstm")]
    assert len(lstm) == 2
    assert any("LSTM" in reason and "long dependencies" in reason for reason in lstm)
    assert ("autocorrelation lag (steps until below 0.2)", 40) in rec.evidence


def test_short_series_does_not_ask_for_an_lstm():
    rec = recommend(series(length=60, autocorrelation_lag=3))
    assert not {"rnn.lstm-long-sequences", "rnn.lstm-slow-decay"} & fired(rec)


def test_multi_step_forecast_is_many_to_many():
    rec = recommend(series(), horizon=12)
    assert rec.pattern.name == "many-to-many"
    assert "next 12 values" in rec.pattern.explanation


def test_very_long_series_warn_once_and_favour_1d_convolutions():
    rec = recommend(series(length=20000))
    assert {"cnn.very-long-1d", "rnn.very-long"} <= fired(rec)
    assert sum("very long" in w for w in rec.warnings) == 1
    alert = Alert("long_sequences", "Sequences reach 20,000 steps.")
    alerted = recommend(dataclasses.replace(series(length=20000), alerts=(alert,)))
    long_warnings = [w for w in alerted.warnings if "20,000" in w or "Truncate" in w]
    assert long_warnings == [
        "Sequences reach 20,000 steps. Truncate or window the sequences, or use 1-D "
        "convolutions or an LSTM with truncated backpropagation, to keep training time and "
        "memory in check."
    ]


def test_per_step_target_is_sequence_labelling_many_to_many():
    rec = recommend(sequences(per_step_target=True))
    assert rec.task == "sequence-labelling"
    assert rec.top.technique == "rnn"
    assert rec.pattern.name == "many-to-many"


def test_classified_sequences_are_many_to_one():
    rec = recommend(sequences())
    assert rec.pattern.name == "many-to-one"
    assert "class of a series" in rec.pattern.explanation


def test_text_with_a_class_target_goes_to_an_rnn_against_tf_idf():
    rec = recommend(text())
    assert rec.task == "classification"
    assert rec.top.technique == "rnn"
    assert rec.top.hits_for[0].rule_id == "rnn.text"
    assert rec.pattern.name == "many-to-one"
    assert "sentiment" in rec.pattern.explanation
    assert rec.baseline.name == "TF-IDF + logistic regression"
    assert "mlp.tabular-target" not in fired(rec)


def test_captioning_is_one_to_many():
    rec = recommend(images(), "captioning")
    assert rec.pattern.name == "one-to-many"
    assert techniques(rec)[:2] == ["rnn", "cnn"]


def test_generating_sequences_is_one_to_many_with_the_gan_as_runner_up():
    rec = recommend_for("sequences-generation")
    assert rec.pattern.name == "one-to-many"
    assert techniques(rec)[:2] == ["rnn", "gan"]


# --- bad input --------------------------------------------------------------------------


def test_unknown_task_lists_the_valid_ones():
    with pytest.raises(ConfigError) as caught:
        recommend(tabular(), "clustering")
    message = str(caught.value)
    assert "unknown task 'clustering'" in message
    assert "valid tasks are: " + ", ".join(sorted(TASKS)) in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("horizon", [0, -3, 1.5, True])
def test_bad_horizon_is_a_config_error(horizon):
    with pytest.raises(ConfigError, match="horizon"):
        recommend(series(), horizon=horizon)


def test_task_that_needs_other_data_is_warned_about():
    rec = recommend(tabular(), "super-resolution")
    assert any("works on images, but the data was read as tabular" in w for w in rec.warnings)


# --- alerts become warnings -------------------------------------------------------------


def test_profile_alerts_become_warnings_that_say_what_to_do():
    alerts = (
        Alert("imbalance", "class imbalance in 'label': 'a' has 4,750 rows, 'c' only 250",
              column="label"),
        Alert("leakage", "column 'refund_id' alone predicts 'label' almost perfectly",
              column="refund_id"),
        Alert("identifier", "column 'row_id' looks like an identifier; it will be dropped",
              column="row_id", severity="info"),
        Alert("few_rows", "only 300 rows: expect the classical baseline to be hard to beat."),
        Alert("unreadable", "3 files could not be decoded"),
        Alert("skew", "column 'x0' is heavily skewed; a log transform helps"),
    )
    rec = recommend(tabular(rows=300, minority_share=0.05, identifier=True, alerts=alerts))
    assert rec.warnings[:6] == (
        "Class imbalance in 'label': 'a' has 4,750 rows, 'c' only 250. Judge the network "
        "and the baseline by balanced accuracy, not accuracy.",
        "Column 'refund_id' alone predicts 'label' almost perfectly. A near-perfect score "
        "with it would not hold on new data.",
        "Column 'row_id' looks like an identifier; it will be dropped.",
        "Only 300 rows: expect the classical baseline to be hard to beat. If you train a "
        "network anyway, keep it small with strong regularisation (dropout, weight decay, "
        "early stopping).",
        "3 files could not be decoded. Unreadable files are skipped; fix or remove them if "
        "they matter.",
        "Column 'x0' is heavily skewed; a log transform helps.",
    )
    # The profiler already raised these findings, so their derived twins stay silent.
    assert not any(w.startswith(("Only 300 training examples", "The most frequent class"))
                   for w in rec.warnings)
    assert not any("identifier column(s)" in w for w in rec.warnings)


def test_findings_without_alerts_are_still_warned_about():
    rec = recommend(tabular(minority_share=0.05, identifier=True))
    assert any(
        w.startswith("The most frequent class outnumbers the rarest 9.5 to 1") and
        "class weights" in w
        for w in rec.warnings
    )
    assert any("1 identifier column(s)" in w for w in rec.warnings)


def test_many_balanced_classes_are_not_called_imbalanced():
    rec = recommend(images(n_classes=50, count=5000))
    assert not any("outnumbers" in w for w in rec.warnings)


# --- ranking invariants -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_ranking_is_complete_ordered_and_explained(name):
    rec = recommend_for(name)
    assert sorted(techniques(rec)) == ["cnn", "gan", "mlp", "rbm", "rnn"]
    assert [score.rank for score in rec.ranking] == [1, 2, 3, 4, 5]
    scores = [score.score for score in rec.ranking]
    assert scores == sorted(scores, reverse=True)
    assert rec.top.why_not == ""
    for score in rec.ranking:
        assert score.score == sum(h.weight for h in score.hits_for + score.hits_against)
        assert all(h.weight > 0 for h in score.hits_for)
        assert all(h.weight < 0 for h in score.hits_against)
    for score in rec.ranking[1:]:
        assert score.why_not.startswith(score.name)
        assert rec.top.name in score.why_not


def test_why_not_quotes_the_rules_against_the_technique():
    rec = recommend_for("tabular-multiclass")
    gan = next(score for score in rec.ranking if score.technique == "gan")
    assert gan.why_not == (
        "GAN scores -3 against MLP's 4: the task is classification: a GAN creates samples and "
        "does not predict a given target (its discriminator only tells real from fake)."
    )


def test_why_not_without_rules_against_quotes_the_winner():
    rec = recommend_for("images-captioning")
    cnn = rec.ranking[1]
    assert cnn.technique == "cnn" and not cnn.hits_against
    assert "nothing rules it out, but RNN / LSTM fits better - a caption" in cnn.why_not


def test_ties_are_broken_in_the_documented_order():
    rec = recommend_for("tabular-multiclass")
    tied = [score for score in rec.ranking if score.score == -3]
    assert [score.technique for score in tied] == ["cnn", "rnn", "gan", "rbm"]


def test_a_tie_with_the_winner_says_how_it_was_broken():
    rec = recommend(sequences(target_kind=None))
    assert rec.task == "feature-learning"
    assert [(s.technique, s.score) for s in rec.ranking[:2]] == [("rnn", 2), ("rbm", 2)]
    assert rec.ranking[1].why_not == (
        "RBM ties with RNN / LSTM at 2; RNN / LSTM comes first in the fixed tie order "
        "(MLP, CNN, RNN / LSTM, GAN, RBM)."
    )


def test_binary_data_is_generated_by_an_rbm_rather_than_a_gan():
    rec = recommend(users_items(), "generation")
    assert techniques(rec)[:2] == ["rbm", "gan"]
    assert "gan.not-media" in fired(rec)


def test_hit_evidence_is_the_facts_the_rule_read():
    rec = recommend(tabular(rows=5000))
    hit = rec.top.hits_for[0]
    assert hit.rule_id == "mlp.tabular-target"
    assert hit.evidence == (("kind", "tabular"), ("has_target", True), ("task", "classification"))


# --- output -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_json_round_trip(name):
    rec = recommend_for(name)
    data = json.loads(rec.to_json())
    assert data["task"] == rec.task
    assert data["ranking"][0]["technique"] == rec.top.technique
    assert len(data["ranking"]) == 5
    assert data["baseline"]["name"] == rec.baseline.name
    assert data == json.loads(json.dumps(rec.to_dict()))


def test_recommendation_is_deterministic():
    first, second = recommend_for("series-long"), recommend_for("series-long")
    assert first == second
    assert first.to_json() == second.to_json()


def test_recommendation_is_frozen():
    rec = recommend_for("tabular-multiclass")
    with pytest.raises(AttributeError):
        rec.task = "regression"
