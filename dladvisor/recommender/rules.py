"""What the advisor knows, as data: when each technique fits, and what follows from it.

The tables here encode the domain spec in ``docs/techniques.md``:

- :data:`RULES` score the techniques. A rule fires when all its conditions hold for the
  data's facts (:func:`dladvisor.recommender.facts.facts`); its signed weight goes to one
  technique's score, and its reason, filled with the data's numbers, explains the hit.
  Negative rules say why a technique does not fit and feed the "why not" sentences.
- :data:`PATTERNS` pick the sequence input/output pattern (first match wins).
- :data:`WARNING_RULES` derive training warnings from facts (and from the winner).
- :data:`ALERT_ADVICE` adds what each profiler alert means for training.
- :data:`BASELINES` name the classical model each task is held against.

Thresholds are named constants so a rule's meaning is readable from its conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dladvisor.recommender.facts import AnyOf, Condition, all_hold, render
from dladvisor.recommender.profile import FEW_EXAMPLES, IMBALANCE_RATIO
from dladvisor.recommender.recommendation import Baseline

__all__ = [
    "ALERT_ADVICE",
    "BASELINES",
    "BASELINE_BEATS_DEEP_LEARNING",
    "BENCHMARK_BASELINE_WINS",
    "CREATIVE",
    "IMAGE_RESTORING",
    "LARGE_IMAGE_PIXELS",
    "LONG_SEQUENCE",
    "MANY_CLASSES",
    "PATTERNS",
    "PREDICTIVE",
    "RULES",
    "SEQUENCE_TASKS",
    "SLOW_DECAY_LAG",
    "SMALL_IMAGE_PIXELS",
    "SUPERVISED",
    "TECHNIQUES",
    "UNSUPERVISED",
    "VERY_LONG_SEQUENCE",
    "WARNING_RULES",
    "PatternRule",
    "Rule",
    "WarningRule",
    "baseline_for",
]

#: The techniques, short name -> display name. Score ties are broken in this fixed
#: order, so the same data always gives the same ranking.
TECHNIQUES: dict[str, str] = {
    "mlp": "MLP",
    "cnn": "CNN",
    "rnn": "RNN / LSTM",
    "gan": "GAN",
    "rbm": "RBM",
}

#: Images up to this many pixels (32 x 32) are small enough to flatten into an MLP.
SMALL_IMAGE_PIXELS = 32 * 32
#: Images from this many pixels (64 x 64) make a complex mapping that favours deep CNNs.
LARGE_IMAGE_PIXELS = 64 * 64
#: From this many classes a mapping counts as complex.
MANY_CLASSES = 10
#: From this many steps a sequence holds dependencies a plain RNN loses: prefer LSTM/GRU.
LONG_SEQUENCE = 100
#: From this many steps, stepping through every value is slow: truncate or use 1-D convs.
VERY_LONG_SEQUENCE = 1000
#: An autocorrelation still above 0.2 after this many lags decays slowly: the past
#: keeps mattering.
SLOW_DECAY_LAG = 20

#: Task groups the rules test.
SUPERVISED = ("classification", "regression")
PREDICTIVE = ("classification", "regression", "forecasting", "sequence-labelling")
SEQUENCE_TASKS = ("forecasting", "sequence-labelling")
CREATIVE = ("generation", "inpainting", "super-resolution")  # tasks that create data
IMAGE_RESTORING = ("inpainting", "super-resolution")
UNSUPERVISED = (*CREATIVE, "recommendation", "monitoring", "feature-learning", "imputation")


@dataclass(frozen=True)
class Rule:
    """One scoring rule.

    Attributes:
        id: unique, "<technique>.<what it tests>".
        technique: a key of :data:`TECHNIQUES`.
        weight: added to the technique's score when the rule fires (negative: against).
        when: conditions over facts; the rule fires when all hold.
        reason: plain-words template filled from facts ("{samples} rows ...").
    """

    id: str
    technique: str
    weight: int
    when: tuple[Condition | AnyOf, ...]
    reason: str

    def __post_init__(self) -> None:
        if self.technique not in TECHNIQUES:
            valid = ", ".join(sorted(TECHNIQUES))
            raise ValueError(
                f"rule {self.id!r} scores unknown technique {self.technique!r}; "
                f"valid techniques are: {valid}"
            )
        if self.weight == 0:
            raise ValueError(f"rule {self.id!r} has weight 0; give it a signed weight")
        if not self.when:
            raise ValueError(f"rule {self.id!r} has no conditions; it would always fire")

    def fires(self, known: Mapping[str, Any]) -> bool:
        """Whether every condition holds for ``known``."""
        return all_hold(self.when, known)

    def evidence(self, known: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        """The ``(fact, value)`` pairs the rule's conditions rest on, each once."""
        pairs = (pair for c in self.when for pair in c.evidence(known))
        return tuple(dict(pairs).items())

    def explain(self, known: Mapping[str, Any]) -> str:
        """The reason filled in with the data's facts."""
        return render(self.reason, known)


def _rule(rule_id: str, weight: int, reason: str, *when: Condition | AnyOf) -> Rule:
    technique = rule_id.split(".", 1)[0]
    return Rule(id=rule_id, technique=technique, weight=weight, when=when, reason=reason)


def _is(fact: str, value: Any) -> Condition:
    return Condition(fact, "==", value)


def _among(fact: str, values: tuple[Any, ...]) -> Condition:
    return Condition(fact, "in", values)


def _task(*names: str) -> Condition:
    return Condition("task", "in", names)


#: Every scoring rule. A rule's technique is the part of its id before the dot.
RULES: tuple[Rule, ...] = (
    # --- MLP: tabular data with a target; any fixed-length feature vector ---------------
    _rule(
        "mlp.tabular-target",
        3,
        "{table.rows} rows x {table.columns} columns with a {target.kind} target: the "
        "classic MLP case - fully connected layers learn to map a row to its target",
        _among("kind", ("tabular", "binary")),
        Condition("has_target", "is", True),
        _task(*SUPERVISED),
    ),
    _rule(
        "mlp.fixed-length-vector",
        1,
        "every sample is a fixed-length feature vector, which an MLP takes as it is",
        Condition("fixed_length_input", "is", True),
        Condition("has_target", "is", True),
        _task(*SUPERVISED),
    ),
    _rule(
        "mlp.small-images",
        1,
        "small {image.height_median}x{image.width_median} images: simple image "
        "identification is a known MLP use",
        _is("kind", "image"),
        Condition("image.pixels", "<=", SMALL_IMAGE_PIXELS),
        _task(*SUPERVISED),
    ),
    _rule(
        "mlp.text-bag-of-words",
        1,
        "a text turned into a bag-of-words vector is fixed-length: spam detection is a "
        "known MLP use",
        _is("modality", "text"),
        _task(*SUPERVISED),
    ),
    _rule(
        "mlp.forecast-window",
        1,
        "a window of recent values is a fixed-length vector an MLP can forecast from "
        "(stock analysis is a known use), though it ignores order beyond the window",
        _task("forecasting"),
    ),
    _rule(
        "mlp.few-examples",
        -2,
        "only {examples} training examples: too few for a network to beat a classical "
        "model - expect the baseline to win",
        Condition("examples", "<", FEW_EXAMPLES),
    ),
    _rule(
        "mlp.no-target",
        -3,
        "the task is {task}: an MLP learns a mapping from inputs to given targets, and "
        "this task has none to map to",
        _task(*UNSUPERVISED),
    ),
    _rule(
        "mlp.sequence-output",
        -3,
        "the task is {task}: an MLP gives one fixed-size output per input, not a "
        "sequence of outputs",
        _task("sequence-labelling", "captioning"),
    ),
    _rule(
        "mlp.large-images",
        -2,
        "{image.height_median}x{image.width_median} images flattened into one long "
        "vector lose the neighbourhood structure that convolutions exploit",
        _is("kind", "image"),
        Condition("image.pixels", ">", SMALL_IMAGE_PIXELS),
    ),
    _rule(
        "mlp.variable-length",
        -2,
        "sequences vary in length ({sequence.length_min}-{sequence.length_max} steps), "
        "and an MLP needs a fixed-length input",
        _is("kind", "sequence"),
        Condition("sequence.fixed_length", "is", False),
        Condition("modality", "!=", "text"),
    ),
    # --- CNN: images and other 2-D grids; 1-D convolutions for sequences -----------------
    _rule(
        "cnn.image-grid",
        3,
        "{image.count} images of about {image.height_median}x{image.width_median} "
        "pixels: a 2-D grid, where small convolution kernels learn local features",
        Condition("readings", "contains", "image"),
    ),
    _rule(
        "cnn.learnt-image-features",
        2,
        "labelled images: features should be learnt rather than hand-made, which is "
        "what convolution layers do",
        _is("kind", "image"),
        Condition("has_target", "is", True),
        _task(*SUPERVISED),
    ),
    _rule(
        "cnn.complex-mapping",
        1,
        "a complex mapping ({target.n_classes} classes, {image.pixels} pixels per image) "
        "favours deep convolutional features",
        _is("kind", "image"),
        _task("classification"),
        AnyOf(
            (
                Condition("target.n_classes", ">=", MANY_CLASSES),
                Condition("image.pixels", ">=", LARGE_IMAGE_PIXELS),
            )
        ),
    ),
    _rule(
        "cnn.sequence-1d",
        1,
        "1-D convolutions over the steps are a fast alternative to recurrence for "
        "sequences of {sequence.length_median} steps",
        _is("kind", "sequence"),
        _task(*PREDICTIVE),
    ),
    _rule(
        "cnn.very-long-1d",
        1,
        "very long sequences ({sequence.length_max} steps): stacked or dilated 1-D "
        "convolutions with pooling run far faster than an LSTM stepping through every value",
        _is("kind", "sequence"),
        Condition("sequence.length_max", ">=", VERY_LONG_SEQUENCE),
    ),
    _rule(
        "cnn.image-restoration",
        1,
        "a convolutional encoder-decoder trained on pixel loss also restores and "
        "upscales images, though its results are blurrier than a GAN's",
        _is("kind", "image"),
        _task(*IMAGE_RESTORING),
    ),
    _rule(
        "cnn.no-grid",
        -3,
        "{kind} columns have no spatial order: convolution kernels need neighbouring "
        "values to be related",
        _among("kind", ("tabular", "binary")),
    ),
    _rule(
        "cnn.not-generative",
        -2,
        "a CNN maps inputs to outputs; on its own it does not make new samples (a GAN's "
        "generator and discriminator are CNNs)",
        _task("generation"),
    ),
    # --- RNN / LSTM: sequences, text, time series -----------------------------------------
    _rule(
        "rnn.sequence",
        3,
        "{sequence.n_sequences} sequence(s) of up to {sequence.length_max} steps: an RNN "
        "carries a state from step to step, so the past shapes each output",
        _is("kind", "sequence"),
        _among("sequence.form", ("series", "sequences")),
    ),
    _rule(
        "rnn.text",
        3,
        "free text (median {sequence.length_median} tokens, {sequence.vocabulary_size} "
        "distinct words): natural language is a sequence, the home ground of RNNs and LSTMs",
        _is("modality", "text"),
    ),
    _rule(
        "rnn.forecasting",
        2,
        "forecasting the next values of a series: the past must shape the prediction, "
        "which recurrence provides",
        _task("forecasting"),
    ),
    _rule(
        "rnn.per-step-output",
        2,
        "an output for every step: a recurrent network emits one per step, with the "
        "context of the steps before",
        _task("sequence-labelling"),
    ),
    _rule(
        "rnn.lstm-long-sequences",
        1,
        "sequences up to {sequence.length_max} steps hold long dependencies: prefer an "
        "LSTM or GRU, whose gates and cell state keep information over long spans, to a "
        "plain RNN",
        _is("kind", "sequence"),
        Condition("sequence.length_max", ">=", LONG_SEQUENCE),
    ),
    _rule(
        "rnn.lstm-slow-decay",
        1,
        "the autocorrelation stays above 0.2 for {sequence.autocorrelation_lag} lags - "
        "the past keeps mattering - so use an LSTM or GRU for the long dependencies",
        Condition("sequence.autocorrelation_lag", ">=", SLOW_DECAY_LAG),
    ),
    _rule(
        "rnn.very-long",
        -1,
        "backpropagation through {sequence.length_max} steps is slow and memory-hungry: "
        "truncate or window the sequences, or shorten them with 1-D convolutions first",
        Condition("sequence.length_max", ">=", VERY_LONG_SEQUENCE),
    ),
    _rule(
        "rnn.monitoring-time-steps",
        1,
        "rows are time steps, so an LSTM predicting the next step could also learn "
        "normal behaviour",
        _task("monitoring"),
        _is("binary.rows_are", "time steps"),
    ),
    _rule(
        "rnn.caption-decoder",
        4,
        "a caption is written word by word from one image (one-to-many): an LSTM "
        "decoder over CNN image features",
        _task("captioning"),
    ),
    _rule(
        "rnn.sequence-generation",
        1,
        "new sequences can be generated step by step by an LSTM that predicts each "
        "next value or word",
        _task("generation"),
        _is("kind", "sequence"),
    ),
    _rule(
        "rnn.no-target",
        -2,
        "the task is {task}: with no target to predict, an RNN must be set up as a "
        "sequence autoencoder - a less direct route to features than an RBM",
        _task("feature-learning"),
    ),
    _rule(
        "rnn.no-order",
        -3,
        "rows are independent samples with no order between them: recurrence has "
        "nothing to carry (one-to-one - use an MLP or CNN)",
        _among("kind", ("tabular", "binary")),
        Condition("binary.rows_are", "!=", "time steps"),
    ),
    _rule(
        "rnn.image-grid",
        -3,
        "an image is a 2-D grid, not a sequence: convolutions fit it, recurrence does not",
        _is("kind", "image"),
        Condition("task", "!=", "captioning"),
    ),
    # --- GAN: create rather than classify; no labels needed ------------------------------
    _rule(
        "gan.create",
        3,
        "the task is {task}: creating data rather than classifying it - a generator "
        "trained against a discriminator - and no labels are needed",
        _task(*CREATIVE),
    ),
    _rule(
        "gan.sharp-images",
        2,
        "on images a GAN gives the sharpest results of the generative techniques",
        _is("kind", "image"),
        _task(*CREATIVE),
    ),
    _rule(
        "gan.no-labels",
        1,
        "the images carry no labels, and a GAN needs none",
        _is("kind", "image"),
        Condition("image.labelled", "is", False),
    ),
    _rule(
        "gan.discriminator-detector",
        1,
        "its discriminator learns what real data looks like, so it can act as a "
        "real-versus-fake (normal-versus-anomalous) detector",
        _task("monitoring"),
    ),
    _rule(
        "gan.predictive-task",
        -3,
        "the task is {task}: a GAN creates samples and does not predict a given target "
        "(its discriminator only tells real from fake)",
        _task(*PREDICTIVE, "captioning"),
    ),
    _rule(
        "gan.nothing-to-create",
        -2,
        "the task is {task}, not making new samples: adversarial training is hard to "
        "stabilise and adds nothing here",
        _task("recommendation", "feature-learning"),
    ),
    _rule(
        "gan.not-media",
        -2,
        "GANs are at their best on images and other media; on {kind} data they are hard "
        "to train and prone to mode collapse",
        _task(*CREATIVE),
        _among("kind", ("tabular", "binary")),
    ),
    _rule(
        "gan.few-examples",
        -1,
        "only {examples} samples: adversarial training is unstable on small sets",
        _task(*CREATIVE),
        Condition("examples", "<", FEW_EXAMPLES),
    ),
    # --- RBM: binary data, recommendation, monitoring, feature learning ------------------
    _rule(
        "rbm.binary-recommendation",
        4,
        "a {binary.rows} x {binary.columns} 0/1 matrix of users x items with a share of "
        "{binary.share_ones} ones: the textbook RBM case - items are visible units, hidden "
        "units learn tastes, and the reconstruction scores the unseen items",
        _task("recommendation"),
        _is("binary.rows_are", "entities"),
        Condition("binary.all_columns_binary", "is", True),
    ),
    _rule(
        "rbm.monitoring-signals",
        4,
        "{binary.columns} on/off signals over {binary.rows} time steps: an RBM learns the "
        "regular patterns, so departures stand out as poor reconstructions",
        _task("monitoring"),
        _is("binary.rows_are", "time steps"),
    ),
    _rule(
        "rbm.feature-learning",
        3,
        "the task is feature learning: an RBM's hidden units are learnt features of the "
        "raw input (dimensionality reduction), and it needs no target",
        _task("feature-learning"),
    ),
    _rule(
        "rbm.binary-units",
        1,
        "every feature is 0/1, matching the RBM's binary visible units",
        Condition("binary.all_columns_binary", "is", True),
    ),
    _rule(
        "rbm.binary-features-supervised",
        1,
        "a weaker option on binary features: learn hidden features with an RBM, then fit "
        "a classifier or regressor on them",
        _task(*SUPERVISED),
        Condition("binary.all_columns_binary", "is", True),
    ),
    _rule(
        "rbm.fill-missing",
        1,
        "an RBM fills missing values by Gibbs sampling, though its images are blurrier "
        "than a GAN's",
        _task("inpainting"),
    ),
    _rule(
        "rbm.impute-binary",
        4,
        "missing cells of a 0/1 matrix: an RBM learns how the columns go together and "
        "fills each gap by Gibbs sampling with the known cells held fixed",
        _task("imputation"),
    ),
    _rule(
        "rbm.topic-model",
        1,
        "over word counts an RBM is a topic model",
        _is("modality", "text"),
        _task("feature-learning"),
    ),
    _rule(
        "rbm.gibbs-generation",
        1,
        "an RBM can also sample new data by Gibbs sampling, with blurrier results than a GAN",
        _task("generation"),
    ),
    _rule(
        "rbm.not-binary",
        -1,
        "the features are not all 0/1: an RBM's binary units need inputs scaled to "
        "[0, 1] (or Gaussian visible units)",
        Condition("binary.all_columns_binary", "!=", True),
    ),
    _rule(
        "rbm.no-output-layer",
        -2,
        "an RBM has no output layer: for {task} it only supplies features to another model",
        _task(*SUPERVISED, "captioning"),
    ),
    _rule(
        "rbm.no-order",
        -2,
        "an RBM sees its input as an unordered set of units: it has no notion of order "
        "between steps for {task}",
        _task(*SEQUENCE_TASKS),
    ),
)


@dataclass(frozen=True)
class PatternRule:
    """One line of the sequence-pattern table: if every condition holds, it is ``name``.

    Attributes:
        name: "one-to-one", "one-to-many", "many-to-one" or "many-to-many".
        when: conditions over facts.
        explanation: plain-words template filled from facts.
    """

    name: str
    when: tuple[Condition | AnyOf, ...]
    explanation: str


#: Sequence input/output patterns, first match wins.
PATTERNS: tuple[PatternRule, ...] = (
    PatternRule(
        "one-to-many",
        (_task("captioning"),),
        "one image in, a sequence of words out: a CNN encodes the image and an LSTM "
        "writes the caption word by word",
    ),
    PatternRule(
        "one-to-many",
        (_task("generation"), _is("kind", "sequence")),
        "one seed (a start token or first values) in, a whole sequence out, generated "
        "step by step",
    ),
    PatternRule(
        "many-to-many",
        (_task("sequence-labelling"),),
        "a sequence in, an output for every one of its steps (per-step labels or tags)",
    ),
    PatternRule(
        "many-to-many",
        (_task("forecasting"), Condition("horizon", ">", 1)),
        "the past of the series in, the next {horizon} values out (a multi-step forecast)",
    ),
    PatternRule(
        "many-to-one",
        (_task("forecasting"),),
        "the past of the series in, the next value out (forecast horizon 1)",
    ),
    PatternRule(
        "many-to-one",
        (_is("modality", "text"), _task(*SUPERVISED)),
        "a whole text in, one output (e.g. the sentiment or class of the text)",
    ),
    PatternRule(
        "many-to-one",
        (_is("kind", "sequence"), _task(*SUPERVISED)),
        "a whole sequence in, one output (e.g. the class of a series)",
    ),
    PatternRule(
        "many-to-one",
        (_is("kind", "sequence"), _task("feature-learning", "monitoring")),
        "a whole sequence in, one summary out (its learnt features or an anomaly score)",
    ),
    PatternRule(
        "one-to-one",
        (Condition("kind", "!=", "sequence"), _task(*SUPERVISED)),
        "not a sequence problem: one input, one output - use an MLP or CNN, not an RNN",
    ),
    PatternRule(
        "one-to-one",
        (Condition("kind", "!=", "sequence"),),
        "not a sequence problem: each sample stands on its own, so the recurrent "
        "input/output patterns do not apply",
    ),
)


@dataclass(frozen=True)
class WarningRule:
    """A warning derived from facts rather than from a profiler alert.

    Attributes:
        id: unique, "warn.<what>".
        when: conditions over facts; the warning applies when all hold.
        text: plain-words template (what was found and what to do), filled from facts.
        technique: apply only when this technique ranks first (``None``: whatever ranks
            first).
    """

    id: str
    when: tuple[Condition | AnyOf, ...]
    text: str
    technique: str | None = None


#: The words docs/benchmarks.md, the train verdict and the recommendation's warnings all
#: use when a classical model scores better than the network.
BASELINE_BEATS_DEEP_LEARNING = "the classical baseline beats deep learning"

#: Where dladvisor's latest full benchmark run (docs/benchmarks.md, written by
#: benchmarks/run.py) found the classical baseline scoring better than dladvisor's
#: network: ``(task, modality)`` -> the cases and budgets, in words. The recommendation
#: warns about data of that task and modality in :data:`BASELINE_BEATS_DEEP_LEARNING`'s
#: words; tests/test_benchmarks_harness.py recomputes this from benchmarks/results/, so
#: it says what the table says.
BENCHMARK_BASELINE_WINS: dict[tuple[str, str], str] = {
    ("classification", "text"): "tweets at 1, 3 and 10 min",
    ("regression", "tabular"): "diamonds at 1, 3 and 10 min",
}


def _benchmark_warnings() -> tuple[WarningRule, ...]:
    return tuple(
        WarningRule(
            f"warn.benchmark-{task}-{modality}",
            (_is("task", task), _is("modality", modality)),
            f"In dladvisor's benchmarks of {modality} {task} ({cases}; docs/benchmarks.md) "
            f"{BASELINE_BEATS_DEEP_LEARNING}: expect the baseline to be hard to beat, and "
            "keep it where it wins on your test part (train reports both).",
        )
        for (task, modality), cases in sorted(BENCHMARK_BASELINE_WINS.items())
    )


#: Derived warnings, in the order they are reported. Those that restate a profiler
#: finding apply only when the profile lacks that alert, so nothing is said twice.
WARNING_RULES: tuple[WarningRule, ...] = (
    WarningRule(
        "warn.few-examples",
        (
            Condition("examples", "<", FEW_EXAMPLES),
            Condition("alerts", "lacks", "few_rows"),
        ),
        "Only {examples} training examples: too few for deep learning to shine. Expect "
        "the classical baseline to win; if you train a network, keep it small with strong "
        "regularisation (dropout, weight decay, early stopping).",
    ),
    WarningRule(
        "warn.imbalance",
        (
            Condition("target.imbalance_ratio", ">=", IMBALANCE_RATIO),
            Condition("alerts", "lacks", "imbalance"),
        ),
        "The most frequent class outnumbers the rarest {target.imbalance_ratio} to 1: "
        "train with class weights (or resampling) and a stratified split, and judge by "
        "balanced accuracy rather than accuracy.",
    ),
    WarningRule(
        "warn.identifiers",
        (
            Condition("table.identifier_columns", ">", 0),
            Condition("alerts", "lacks", "identifier"),
        ),
        "{table.identifier_columns} identifier column(s) name rows and carry no pattern: "
        "they are dropped before training.",
    ),
    WarningRule(
        "warn.unreadable",
        (
            Condition("image.unreadable", ">", 0),
            Condition("alerts", "lacks", "unreadable"),
        ),
        "{image.unreadable} image file(s) could not be read and are skipped; fix or "
        "remove them if they matter.",
    ),
    WarningRule(
        "warn.task-needs-target",
        (_task(*SUPERVISED), Condition("has_target", "is", False)),
        "The task {task} needs a target, but the profile has none: name the target column.",
    ),
    WarningRule(
        "warn.task-needs-images",
        (_task(*IMAGE_RESTORING, "captioning"), Condition("readings", "lacks", "image")),
        "The task {task} works on images, but the data was read as {kind}: point the "
        "advisor at images or choose another task.",
    ),
    WarningRule(
        "warn.task-needs-sequences",
        (_task(*SEQUENCE_TASKS), Condition("readings", "lacks", "sequence")),
        "The task {task} needs sequences, but the data was read as {kind}: give a time "
        "index or sequence data, or choose another task.",
    ),
    WarningRule(
        "warn.task-needs-binary",
        (_task("recommendation"), Condition("readings", "lacks", "binary")),
        "Recommendation expects a users x items 0/1 matrix or a user,item list, but the "
        "data was read as {kind}: convert it, or choose another task.",
    ),
    WarningRule(
        "warn.horizon-unused",
        (Condition("task", "!=", "forecasting"), Condition("horizon", ">", 1)),
        "A forecast horizon of {horizon} steps only matters for forecasting; it is "
        "ignored for {task}.",
    ),
    WarningRule(
        "warn.long-sequences",
        (
            Condition("sequence.length_max", ">=", VERY_LONG_SEQUENCE),
            Condition("alerts", "lacks", "long_sequences"),
        ),
        "Sequences up to {sequence.length_max} steps are very long: truncate or window "
        "them, or put 1-D convolutions before an LSTM, to keep training time and memory "
        "in check.",
    ),
    WarningRule(
        "warn.image-sizes",
        (_is("kind", "image"), Condition("image.uniform_size", "is", False)),
        "Image sizes vary: training resizes every image to one size (the median "
        "{image.height_median}x{image.width_median}, scaled down to at most 128 pixels a "
        "side), stretching rather than cropping; crop them yourself first if their "
        "shapes differ much.",
    ),
    WarningRule(
        "warn.mlp-on-pixels",
        (
            _is("kind", "image"),
            _task(*SUPERVISED),
            AnyOf(
                (
                    Condition("image.pixels", "<=", SMALL_IMAGE_PIXELS),
                    Condition("examples", "<", FEW_EXAMPLES),
                )
            ),
        ),
        "These images are small ({image.height_median}x{image.width_median}) or few "
        "({examples}): an MLP on the raw pixels is a fair alternative to a CNN here, and "
        "the pixel baseline shows how far a simple model gets.",
        technique="cnn",
    ),
    WarningRule(
        "warn.rnn-variable-length",
        (Condition("sequence.fixed_length", "is", False),),
        "Sequences vary from {sequence.length_min} to {sequence.length_max} steps: pad "
        "and mask them (or bucket them by length) to train in batches.",
        technique="rnn",
    ),
    WarningRule(
        "warn.rbm-scaling",
        (Condition("binary.all_columns_binary", "!=", True),),
        "The data is not 0/1: scale every feature to [0, 1] (min-max) so the RBM can "
        "read values as probabilities, or use Gaussian visible units.",
        technique="rbm",
    ),
    WarningRule(
        "warn.rbm-sparse",
        (Condition("binary.share_ones", "<", 0.01),),
        "Only {binary.share_ones} of the cells are 1: hold out some ones per user and "
        "judge by precision@10, not by reconstruction accuracy, which the zeros dominate.",
        technique="rbm",
    ),
    WarningRule(
        "warn.gan-few-examples",
        (Condition("examples", "<", FEW_EXAMPLES),),
        "A GAN trained on {examples} samples tends to memorise them or collapse: use "
        "heavy augmentation, or start from a pre-trained generator.",
        technique="gan",
    ),
    *_benchmark_warnings(),
)

#: What each profiler alert means for training, by alert code. The alert's own message
#: (the finding, with its column and numbers) comes first and this follows it, adding
#: what the message leaves out. An alert whose code is not here is reported as it is.
ALERT_ADVICE: dict[str, str] = {
    "imbalance": "Judge the network and the baseline by balanced accuracy, not accuracy.",
    "few_per_class": "Merge the rarest classes or collect more of them if they matter.",
    "few_rows": "If you train a network anyway, keep it small with strong "
    "regularisation (dropout, weight decay, early stopping).",
    "leakage": "A near-perfect score with it would not hold on new data.",
    "duplicates": "Deduplicate before splitting.",
    "unreadable": "Unreadable files are skipped; fix or remove them if they matter.",
    "long_sequences": "Truncate or window the sequences, or use 1-D convolutions or an "
    "LSTM with truncated backpropagation, to keep training time and memory in check.",
}

_TREES_NOTE = (
    "Gradient-boosted trees often beat MLPs on tables: a network must beat this strong "
    "classical model to be worth its cost."
)
_PIXELS_NOTE = "A linear model on raw pixels shows how much a CNN's learnt features really add."

#: The classical yardstick per (task, modality); modality "*" is any. Modalities are
#: the data kinds plus "text" (a sequence of words).
BASELINES: dict[tuple[str, str], Baseline] = {
    ("classification", "*"): Baseline(
        "HistGradientBoostingClassifier", _TREES_NOTE, "balanced accuracy"
    ),
    ("classification", "image"): Baseline(
        "logistic regression on pixels", _PIXELS_NOTE, "balanced accuracy"
    ),
    ("classification", "sequence"): Baseline(
        "1-nearest-neighbour (Euclidean)",
        "1-NN with Euclidean distance is the standard, hard-to-beat yardstick of "
        "time-series classification.",
        "balanced accuracy",
    ),
    ("classification", "text"): Baseline(
        "TF-IDF + logistic regression",
        "Word weights with a linear model classify text well and train in seconds.",
        "balanced accuracy",
    ),
    ("regression", "*"): Baseline("HistGradientBoostingRegressor", _TREES_NOTE, "RMSE"),
    ("regression", "image"): Baseline("ridge regression on pixels", _PIXELS_NOTE, "RMSE"),
    ("regression", "sequence"): Baseline(
        "5-nearest-neighbour regression (Euclidean)",
        "The mean value of the five most similar training sequences is a hard-to-beat "
        "yardstick.",
        "RMSE",
    ),
    ("regression", "text"): Baseline(
        "TF-IDF + ridge regression",
        "Word weights with a linear model are a strong, fast text baseline.",
        "RMSE",
    ),
    ("forecasting", "*"): Baseline(
        "seasonal naive (or last value)",
        "Repeating the value of one season ago (or the last value, whichever does better "
        "on validation) is what a forecaster must beat to add anything.",
        "MASE on the held-out end of the series (MAE scaled by the seasonal naive error "
        "on the training part)",
    ),
    ("sequence-labelling", "*"): Baseline(
        "gradient boosting on each step's own values (no context)",
        "Labelling each step from its own values alone, without the steps around it, "
        "shows what context adds.",
        "per-step accuracy",
    ),
    ("generation", "*"): Baseline(
        "Gaussian-mixture sampler in PCA space",
        "Sampling a mixture of Gaussians fitted to PCA components is the simplest "
        "generator; a GAN must clearly outdo it.",
        "Frechet distance to held-out samples",
    ),
    ("inpainting", "*"): Baseline(
        "biharmonic inpainting",
        "Smoothly interpolating the missing region from its border needs no training.",
        "PSNR on the restored regions",
    ),
    ("super-resolution", "*"): Baseline(
        "bicubic upscaling",
        "Bicubic interpolation is the standard upscaling a learnt model must beat.",
        "PSNR / SSIM",
    ),
    ("captioning", "*"): Baseline(
        "nearest-neighbour caption",
        "Copying the caption of the most similar training image shows what generating " "one adds.",
        "BLEU-4",
    ),
    ("recommendation", "*"): Baseline(
        "most-popular items or item-item cosine neighbours (the better on validation)",
        "Recommending what most users liked is hard to beat on sparse data; items liked "
        "together are the classical next step.",
        "precision@10",
    ),
    ("imputation", "*"): Baseline(
        "each column's share of ones",
        "Filling a gap with its column's usual value ignores the rest of the row.",
        "log loss on hidden known cells",
    ),
    ("monitoring", "*"): Baseline(
        "IsolationForest",
        "An isolation forest flags outliers with no labels and little tuning.",
        "ROC AUC on labelled anomalies (on injected ones when there are no labels)",
    ),
    ("feature-learning", "binary"): Baseline(
        "the raw 0/1 columns",
        "Learnt features must beat the columns themselves: a logistic regression on the "
        "raw columns when a label exists, else independent columns' pseudo-likelihood.",
        "balanced accuracy of a logistic regression (pseudo-likelihood without a label)",
    ),
    ("feature-learning", "*"): Baseline(
        "PCA",
        "Principal components are the linear features a learnt representation must beat.",
        "reconstruction error at the same number of features",
    ),
}


def baseline_for(task: str, modality: str) -> Baseline:
    """The baseline for ``task`` on ``modality``, falling back to the task's ``"*"`` entry."""
    return BASELINES.get((task, modality)) or BASELINES[(task, "*")]
