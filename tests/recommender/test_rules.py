"""Facts, conditions and the rule tables: each rule fires where it should and only there."""

from __future__ import annotations

import pytest
from profiles import SCENARIOS, images, series, signals, tabular, users_items

from dladvisor.errors import ConfigError
from dladvisor.recommender.facts import (
    FACT_NAMES,
    TASK_INFERENCE,
    TASKS,
    AnyOf,
    Condition,
    facts,
    format_value,
    infer_task,
    placeholders,
    render,
)
from dladvisor.recommender.recommend import recommend
from dladvisor.recommender.rules import (
    BASELINE_BEATS_DEEP_LEARNING,
    BASELINES,
    BENCHMARK_BASELINE_WINS,
    PATTERNS,
    RULES,
    TECHNIQUES,
    WARNING_RULES,
    Rule,
    baseline_for,
)


def scenario_facts(name: str) -> dict:
    scenario = SCENARIOS[name]
    return facts(scenario.profile, task=scenario.task, horizon=scenario.horizon)


RULES_BY_ID = {rule.id: rule for rule in RULES}

#: rule id -> (a scenario where it fires, a scenario where it does not).
RULE_CASES = {
    "mlp.tabular-target": ("tabular-multiclass", "tabular-unlabelled"),
    "mlp.fixed-length-vector": ("tabular-multiclass", "text-classified"),
    "mlp.small-images": ("images-small", "images-labelled"),
    "mlp.text-bag-of-words": ("text-classified", "sequences-labelled"),
    "mlp.forecast-window": ("series-long", "sequences-labelled"),
    "mlp.few-examples": ("tabular-small", "tabular-multiclass"),
    "mlp.no-target": ("tabular-unlabelled", "tabular-multiclass"),
    "mlp.sequence-output": ("sequences-per-step", "sequences-labelled"),
    "mlp.large-images": ("images-labelled", "images-small"),
    "mlp.variable-length": ("sequences-variable", "text-classified"),
    "cnn.image-grid": ("images-labelled", "tabular-multiclass"),
    "cnn.learnt-image-features": ("images-labelled", "images-unlabelled"),
    "cnn.complex-mapping": ("images-labelled", "images-small"),
    "cnn.sequence-1d": ("sequences-labelled", "sequences-generation"),
    "cnn.very-long-1d": ("series-very-long", "series-long"),
    "cnn.image-restoration": ("images-inpainting", "images-labelled"),
    "cnn.no-grid": ("tabular-multiclass", "images-labelled"),
    "cnn.not-generative": ("images-unlabelled", "images-labelled"),
    "rnn.sequence": ("series-long", "text-classified"),
    "rnn.text": ("text-classified", "series-long"),
    "rnn.forecasting": ("series-long", "sequences-labelled"),
    "rnn.per-step-output": ("sequences-per-step", "sequences-labelled"),
    "rnn.lstm-long-sequences": ("sequences-labelled", "series-short"),
    "rnn.lstm-slow-decay": ("series-long", "series-short"),
    "rnn.very-long": ("series-very-long", "series-long"),
    "rnn.monitoring-time-steps": ("signals", "users-items"),
    "rnn.caption-decoder": ("images-captioning", "images-labelled"),
    "rnn.sequence-generation": ("sequences-generation", "images-unlabelled"),
    "rnn.no-target": ("text-unlabelled", "text-classified"),
    "rnn.no-order": ("tabular-multiclass", "signals"),
    "rnn.image-grid": ("images-labelled", "images-captioning"),
    "gan.create": ("images-unlabelled", "images-labelled"),
    "gan.sharp-images": ("images-inpainting", "tabular-generation"),
    "gan.no-labels": ("images-unlabelled", "images-labelled"),
    "gan.discriminator-detector": ("signals", "users-items"),
    "gan.predictive-task": ("tabular-multiclass", "images-unlabelled"),
    "gan.nothing-to-create": ("users-items", "signals"),
    "gan.not-media": ("tabular-generation", "images-unlabelled"),
    "gan.few-examples": ("images-few-unlabelled", "images-unlabelled"),
    "rbm.binary-recommendation": ("users-items", "signals"),
    "rbm.monitoring-signals": ("signals", "users-items"),
    "rbm.feature-learning": ("tabular-unlabelled", "tabular-multiclass"),
    "rbm.binary-units": ("users-items", "tabular-multiclass"),
    "rbm.binary-features-supervised": ("binary-table", "tabular-multiclass"),
    "rbm.fill-missing": ("images-inpainting", "images-super-resolution"),
    "rbm.impute-binary": ("binary-table-imputation", "binary-table"),
    "rbm.topic-model": ("text-unlabelled", "tabular-unlabelled"),
    "rbm.gibbs-generation": ("images-unlabelled", "images-labelled"),
    "rbm.not-binary": ("tabular-multiclass", "users-items"),
    "rbm.no-output-layer": ("tabular-multiclass", "tabular-unlabelled"),
    "rbm.no-order": ("series-long", "sequences-labelled"),
}

#: warning rule id -> (a scenario where it is reported, one where it is not).
WARNING_CASES = {
    "warn.few-examples": ("tabular-small", "tabular-multiclass"),
    "warn.imbalance": ("tabular-imbalanced", "tabular-multiclass"),
    "warn.identifiers": ("tabular-imbalanced", "tabular-multiclass"),
    "warn.unreadable": ("images-mixed", "images-labelled"),
    "warn.task-needs-target": ("tabular-unlabelled-classification", "tabular-multiclass"),
    "warn.task-needs-images": ("tabular-super-resolution", "images-super-resolution"),
    "warn.task-needs-sequences": ("tabular-forecasting", "series-long"),
    "warn.task-needs-binary": ("tabular-recommendation", "users-items"),
    "warn.horizon-unused": ("tabular-horizon", "series-multi-step"),
    "warn.long-sequences": ("series-very-long", "series-long"),
    "warn.image-sizes": ("images-mixed", "images-labelled"),
    "warn.mlp-on-pixels": ("images-small", "images-labelled"),
    "warn.rnn-variable-length": ("sequences-variable", "sequences-labelled"),
    "warn.rbm-scaling": ("tabular-unlabelled", "users-items"),
    "warn.rbm-sparse": ("users-items-sparse", "users-items"),
    "warn.gan-few-examples": ("images-few-unlabelled", "images-unlabelled"),
}


# --- conditions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op, actual, expected, holds",
    [
        ("==", "image", "image", True),
        ("==", "image", "tabular", False),
        ("!=", "image", "tabular", True),
        ("is", True, True, True),
        ("is", None, False, False),
        ("in", "regression", ("classification", "regression"), True),
        ("in", None, ("classification",), False),
        ("not in", "tabular", ("image",), True),
        (">=", 100, 100, True),
        (">", 100, 100, False),
        ("<=", 5, 4, False),
        ("<", 5, 6, True),
        ("<", None, 6, False),
        (">=", None, 0, False),
        ("contains", ("binary", "tabular"), "tabular", True),
        ("contains", None, "tabular", False),
        ("lacks", ("binary", "tabular"), "image", True),
        ("lacks", ("binary", "tabular"), "binary", False),
    ],
)
def test_condition_operators(op, actual, expected, holds):
    assert Condition("samples", op, expected).holds({"samples": actual}) is holds


def test_condition_rejects_unknown_operator_and_lists_valid_ones():
    with pytest.raises(ValueError, match=r"unknown operator '=~'.*valid operators are: !=, <"):
        Condition("samples", "=~", 3)


def test_condition_on_unknown_fact_names_the_fact():
    with pytest.raises(KeyError, match="sample_count"):
        Condition("sample_count", ">", 3).holds({"samples": 5})


def test_any_of_holds_when_one_member_holds_and_cites_only_those():
    group = AnyOf((Condition("samples", "<", 10), Condition("kind", "==", "image")))
    known = {"samples": 5000, "kind": "image"}
    assert group.holds(known)
    assert group.evidence(known) == (("kind", "image"),)
    assert group.facts_read == ("samples", "kind")
    assert not group.holds({"samples": 5000, "kind": "tabular"})


# --- facts ------------------------------------------------------------------------------


def test_facts_always_has_every_name_and_none_for_missing_readings():
    known = facts(tabular())
    assert tuple(known) == FACT_NAMES
    assert known["image.count"] is None
    assert known["sequence.length_max"] is None
    assert known["binary.all_columns_binary"] is None


def test_tabular_facts_count_columns_and_read_the_target():
    known = facts(tabular(rows=1200, features=5, n_classes=4, minority_share=0.1, identifier=True))
    assert known["samples"] == known["table.rows"] == known["examples"] == 1200
    assert known["table.columns"] == 7
    assert known["table.numeric_columns"] == 5
    assert known["table.identifier_columns"] == 1
    assert known["target.kind"] == "multiclass"
    assert known["target.n_classes"] == 4
    assert known["target.minority_share"] == pytest.approx(0.1)
    assert known["has_target"] is True
    assert known["fixed_length_input"] is True
    assert known["task"] == "classification"


def test_all_columns_binary_ignores_ids_time_and_target_but_not_numbers():
    assert facts(users_items())["binary.all_columns_binary"] is True
    assert facts(signals())["binary.all_columns_binary"] is True
    assert facts(SCENARIOS["binary-table"].profile)["binary.all_columns_binary"] is True
    assert facts(tabular())["binary.all_columns_binary"] is None


def test_labelled_images_give_a_class_target_from_their_folders():
    known = facts(images(n_classes=5, size=32))
    assert known["has_target"] is True
    assert known["target.kind"] == "multiclass"
    assert known["target.n_classes"] == 5
    assert known["image.pixels"] == 32 * 32
    assert known["target.minority_share"] == pytest.approx(0.2)
    assert facts(images(n_classes=2))["target.kind"] == "binary"
    assert facts(images(labelled=False))["has_target"] is False


def test_one_series_counts_its_steps_as_training_examples():
    known = facts(series(length=777))
    assert known["samples"] == 777
    assert known["examples"] == 777
    assert known["modality"] == "sequence"
    assert facts(SCENARIOS["text-classified"].profile)["modality"] == "text"


def test_facts_validates_task_and_horizon():
    with pytest.raises(ConfigError, match="unknown task 'clustering'"):
        facts(tabular(), task="clustering")
    with pytest.raises(ConfigError, match="horizon must be a whole number"):
        facts(series(), horizon=0)


# --- task inference ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, task",
    [
        ("tabular-multiclass", "classification"),
        ("tabular-regression", "regression"),
        ("tabular-unlabelled", "feature-learning"),
        ("binary-table", "classification"),
        ("users-items", "recommendation"),
        ("signals", "monitoring"),
        ("images-labelled", "classification"),
        ("images-unlabelled", "generation"),
        ("series-long", "forecasting"),
        ("sequences-labelled", "classification"),
        ("sequences-per-step", "sequence-labelling"),
        ("text-classified", "classification"),
        ("text-unlabelled", "feature-learning"),
    ],
)
def test_infer_task(scenario, task):
    inferred, reason = infer_task(SCENARIOS[scenario].profile)
    assert inferred == task
    assert reason and "unknown" not in reason


def test_task_inference_names_known_tasks_and_ends_with_a_catch_all():
    assert all(rule.task in TASKS for rule in TASK_INFERENCE)
    assert TASK_INFERENCE[-1].when == ()


# --- the rule table ---------------------------------------------------------------------


def test_rule_ids_are_unique_and_prefixed_with_their_technique():
    assert len(RULES_BY_ID) == len(RULES)
    for rule in RULES:
        assert rule.id.split(".")[0] == rule.technique
        assert rule.technique in TECHNIQUES


def test_rules_read_and_fill_in_only_known_facts():
    for rule in RULES:
        read = [name for condition in rule.when for name in condition.facts_read]
        assert set(read) <= set(FACT_NAMES), rule.id
        assert set(placeholders(rule.reason)) <= set(FACT_NAMES), rule.id


def test_every_technique_has_rules_for_and_against_it():
    for technique in TECHNIQUES:
        weights = [rule.weight for rule in RULES if rule.technique == technique]
        assert max(weights) > 0 and min(weights) < 0, technique


def test_every_task_has_a_rule_in_favour_of_some_technique():
    favoured = {
        task
        for rule in RULES
        if rule.weight > 0
        for condition in rule.when
        if isinstance(condition, Condition) and condition.fact == "task"
        for task in condition.value
    }
    assert set(TASKS) <= favoured


def test_rule_cases_cover_every_rule():
    assert set(RULE_CASES) == set(RULES_BY_ID)


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_fires_where_it_should_and_not_elsewhere(rule_id):
    rule = RULES_BY_ID[rule_id]
    fires_in, quiet_in = RULE_CASES[rule_id]
    known = scenario_facts(fires_in)
    assert rule.fires(known), f"{rule_id} should fire for {fires_in}"
    assert not rule.fires(scenario_facts(quiet_in)), f"{rule_id} should not fire for {quiet_in}"
    reason = rule.explain(known)
    assert "unknown" not in reason and "{" not in reason
    assert rule.evidence(known), rule_id
    assert all(known[fact] == value for fact, value in rule.evidence(known))


def test_rule_evidence_lists_each_fact_once():
    rule = RULES_BY_ID["mlp.tabular-target"]
    evidence = rule.evidence(scenario_facts("tabular-multiclass"))
    assert [fact for fact, _ in evidence] == ["kind", "has_target", "task"]


def test_rule_explain_fills_in_the_numbers():
    reason = RULES_BY_ID["mlp.tabular-target"].explain(facts(tabular(rows=12000, features=4)))
    assert reason.startswith("12,000 rows x 5 columns with a multiclass target")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"technique": "svm"}, "unknown technique 'svm'"),
        ({"weight": 0}, "weight 0"),
        ({"when": ()}, "no conditions"),
    ],
)
def test_rule_rejects_bad_definitions(kwargs, message):
    fields = {
        "id": "mlp.example",
        "technique": "mlp",
        "weight": 1,
        "when": (Condition("kind", "==", "tabular"),),
        "reason": "example",
    }
    with pytest.raises(ValueError, match=message):
        Rule(**{**fields, **kwargs})


# --- patterns, warnings, baselines ------------------------------------------------------


def test_every_pattern_line_is_reached_by_some_scenario():
    reached = set()
    for name in SCENARIOS:
        known = scenario_facts(name)
        for index, pattern in enumerate(PATTERNS):
            if all(c.holds(known) for c in pattern.when):
                reached.add(index)
                break
    assert reached == set(range(len(PATTERNS)))


def test_warning_cases_cover_every_warning_rule():
    fixed = {rule.id for rule in WARNING_RULES if not rule.id.startswith("warn.benchmark-")}
    assert set(WARNING_CASES) == fixed


def test_benchmark_warnings_use_the_tables_words_for_their_data_only():
    # One warning per (task, modality) where the benchmarks' classical baseline won;
    # BENCHMARK_BASELINE_WINS itself is checked against benchmarks/results/ in
    # tests/test_benchmarks_harness.py.
    for (task, modality), cases in BENCHMARK_BASELINE_WINS.items():
        matching = [
            name
            for name in SCENARIOS
            if scenario_facts(name)["task"] == task and scenario_facts(name)["modality"] == modality
        ]
        assert matching, f"add a scenario of {modality} {task} to tests/recommender/profiles.py"
        for name in SCENARIOS:
            scenario = SCENARIOS[name]
            said = [
                w
                for w in recommend(
                    scenario.profile, scenario.task, horizon=scenario.horizon
                ).warnings
                if BASELINE_BEATS_DEEP_LEARNING in w and f"{modality} {task} ({cases};" in w
            ]
            assert len(said) == (1 if name in matching else 0), name


@pytest.mark.parametrize("rule_id", sorted(WARNING_CASES))
def test_warning_rule_is_reported_where_it_should_be_and_not_elsewhere(rule_id):
    rule = next(rule for rule in WARNING_RULES if rule.id == rule_id)
    reported_in, quiet_in = WARNING_CASES[rule_id]
    scenario = SCENARIOS[reported_in]
    text = render(rule.text, scenario_facts(reported_in))
    assert "unknown" not in text
    assert text in recommend(scenario.profile, scenario.task, horizon=scenario.horizon).warnings
    quiet = SCENARIOS[quiet_in]
    quiet_text = render(rule.text, scenario_facts(quiet_in))
    assert quiet_text not in recommend(quiet.profile, quiet.task, horizon=quiet.horizon).warnings


def test_every_task_has_a_baseline():
    for task in TASKS:
        assert baseline_for(task, "tabular").name
    assert all(task in TASKS for task, _ in BASELINES)


@pytest.mark.parametrize(
    "task, modality, name",
    [
        ("classification", "tabular", "HistGradientBoostingClassifier"),
        ("classification", "binary", "HistGradientBoostingClassifier"),
        ("regression", "tabular", "HistGradientBoostingRegressor"),
        ("classification", "image", "logistic regression on pixels"),
        ("classification", "sequence", "1-nearest-neighbour (Euclidean)"),
        ("classification", "text", "TF-IDF + logistic regression"),
        ("forecasting", "sequence", "seasonal naive (or last value)"),
        (
            "recommendation",
            "binary",
            "most-popular items or item-item cosine neighbours (the better on validation)",
        ),
        ("imputation", "binary", "each column's share of ones"),
        ("feature-learning", "binary", "the raw 0/1 columns"),
        ("monitoring", "binary", "IsolationForest"),
        ("feature-learning", "tabular", "PCA"),
        ("generation", "image", "Gaussian-mixture sampler in PCA space"),
        ("inpainting", "image", "biharmonic inpainting"),
        ("super-resolution", "image", "bicubic upscaling"),
    ],
)
def test_baseline_table(task, modality, name):
    assert baseline_for(task, modality).name == name


# --- plain words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "unknown"),
        (True, "yes"),
        (12000, "12,000"),
        (0.031234, "0.0312"),
        (25000.4, "25,000"),
        (("binary", "tabular"), "binary, tabular"),
        ((), "none"),
        ("time steps", "time steps"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_render_fills_dotted_names():
    assert render("{samples} rows, {target.kind}", {"samples": 5, "target.kind": "binary"}) == (
        "5 rows, binary"
    )
