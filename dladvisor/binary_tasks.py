"""The RBM's tasks on binary data: recommend, monitor, learn features, fill missing cells.

Each is a training task (:class:`dladvisor.training._Task`) over a sparse 0/1 matrix
(:class:`~dladvisor.data.binary.BinaryDataset`); the RBM sees batches of its rows
(:class:`~dladvisor.models.rbm.RowBatches`: sparse ones for sparse data), so the matrix
is never made dense whole.

- **recommend**: a share of each user's ones is held out (the latest ones when the
  interactions have timestamps) for validation and test; unseen items are ranked by the
  RBM's reconstruction probability; precision@10, recall@10 and NDCG@10 against the
  better (on validation) of the most-popular items and item-item cosine neighbours.
- **monitor**: rows are time steps, split in time order 70/15/15; the RBM learns the
  training part's normal rows; a row's anomaly score is its free energy; the alarm
  threshold is set on the validation part. Scored by ROC AUC against the labels when the
  data has them, else against anomalies injected into the test rows (said so), beside
  an IsolationForest.
- **features**: the hidden units' probabilities are the learnt features; scored by the
  pseudo-likelihood (against independent columns) and, when a label exists, by a
  logistic regression on them against one on the raw columns.
- **impute**: missing cells are filled by Gibbs sampling with the known cells clamped;
  scored on known cells hidden from the validation and test rows, against each column's
  share of ones.

This module imports :mod:`dladvisor.training` (for the task interface); training imports
it only when an RBM task runs.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from dladvisor.binary_predict import HISTORY_FILE
from dladvisor.data.binary import BinaryDataset
from dladvisor.errors import ConfigError, DataError
from dladvisor.models.binary_schema import RBMSchema
from dladvisor.recommender.profile import Profile
from dladvisor.training import _Task

__all__ = [
    "HISTORY_FILE",
    "binary_task",
    "inject_anomalies",
    "write_history",
]

#: Items recommended and scored per user.
TOP_K = 10
#: The test users whose top-k the report lists (top_items.json).
SHOWN_USERS = 5
TOP_ITEMS_FILE = "top_items.json"
#: Share of each user's ones held out (half for validation, half for test).
HOLDOUT_SHARE = 0.2
#: Rows scored after every epoch (a seeded sample of the validation part).
VALIDATION_ROWS = 2_000
#: Rows scored on the test part at most (a seeded sample beyond that; a recommender's
#: ``users_scored`` says how many): item-item neighbours score about 50 users a second
#: on 20,000 items.
TEST_ROWS = 5_000
#: Monitoring: the time-ordered split.
MONITOR_SPLIT = (0.7, 0.15, 0.15)
#: Injected anomalies flip this share of a row's units (at least one).
FLIP_SHARE = 0.1
#: Monitoring without labels: the alarm threshold is this quantile of the validation
#: part's free energies (1% of normal rows flagged).
ALARM_QUANTILE = 0.99
#: Imputation: share of the known cells of validation and test rows hidden for scoring.
HIDE_SHARE = 0.1
#: Rows an IsolationForest (or a logistic regression) is fitted on at most.
BASELINE_ROWS = 20_000


def binary_task(
    dataset, profile: Profile, task: str, *, seed: int, target: str | None, threshold=None
) -> _Task:
    """The training task ``task`` (one of
    :data:`~dladvisor.models.binary_schema.BINARY_TASKS`) on ``dataset``: a BinaryDataset,
    or a 0/1 table (converted; a value other than 0/1 is an error naming its column and
    row). ``threshold``: the rating from which an interaction is a one (None: each
    user's mean), recorded for predict.

    Raises:
        DataError: the data does not suit the task (no ones to hold out, no missing cell
            to fill, values other than 0/1).
    """
    from dladvisor.data.binary import binary_from_table

    if not isinstance(dataset, BinaryDataset):
        dataset = binary_from_table(dataset, target=target)
    if dataset.matrix.shape[1] < 2:
        raise DataError(
            f"{dataset.path}: an RBM needs at least 2 columns of 0/1 values; "
            f"found {dataset.matrix.shape[1]}"
        )
    kinds = {
        "recommendation": _RecommendTask,
        "monitoring": _MonitorTask,
        "feature-learning": _FeaturesTask,
        "imputation": _ImputeTask,
    }
    made = kinds[task](dataset, profile, seed=seed)
    made.schema = replace(made.schema, threshold=threshold)
    return made


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(roc_auc_score(labels, scores))


def _sample(rows: np.ndarray, limit: int, seed: int) -> np.ndarray:
    if len(rows) <= limit:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, limit, replace=False))


class _BinaryTask(_Task):
    """What the four tasks share: the matrix, the schema, the RBM search."""

    keras_training_step = False

    what = "rows"
    #: The metric the verdict compares (higher better unless named in metrics.py).
    compared_metric = ""

    def __init__(self, dataset: BinaryDataset, profile: Profile, *, seed: int) -> None:
        self.dataset = dataset
        self.profile = profile
        self.seed = seed
        self.matrix = dataset.matrix.tocsr().astype(np.float32, copy=False)
        self.notes: list[str] = []
        if dataset.threshold_note:
            self.notes.append(dataset.threshold_note)
        self.schema = RBMSchema(
            task=self.task_name,
            columns=tuple(dataset.column_names),
            row_name=dataset.row_name,
            column_name=dataset.column_name,
            source=dataset.source,
            rows_are=dataset.rows_are,
            popularity=tuple(int(n) for n in np.asarray(self.matrix.sum(axis=0)).ravel()),
            label=self.label_column(),
            time_column=dataset.time_column,
        )
        #: The rows the RBM is trained on in the search, and in the final refit.
        self.train_matrix = self.matrix
        self.fit_matrix = self.matrix

    # -- the task interface ----------------------------------------------------------

    @property
    def kind(self) -> str:
        return self.task_name

    @property
    def classification(self) -> bool:
        return False

    @property
    def n_train(self) -> int:
        return int(self.train_matrix.shape[0])

    def hypermodel(self, technique, class_weight, epochs):
        from dladvisor.models.rbm import RBMHyperModel

        if technique != "rbm":
            raise ConfigError(
                f"--technique {technique}: {self.task_name} on binary data trains an RBM; "
                "leave --technique out (or use rbm)"
            )
        return RBMHyperModel(
            self.matrix.shape[1],
            n_train=self.n_train,
            epochs=epochs,
            scorer=self.validation_scores,
            visible_shares=np.asarray(self.train_matrix.mean(axis=0)).ravel(),
            seed=self.seed,
        )

    def tuning_data(self, cv):
        # Keras does not evaluate the validation part: validation_scores does, after
        # every epoch, and logs the objective.
        return self.train_matrix, None, (self.train_matrix[:1], None)

    def fitting_data(self):
        return self.fit_matrix, None, self.fit_growth()

    def fit_growth(self):
        return self.fit_matrix.shape[0] / max(1, self.n_train)

    def validation_scores(self, model) -> dict[str, float]:
        raise NotImplementedError

    def export_schema(self, hyperparameters):
        return replace(self.schema, hidden_units=int(hyperparameters.get("hidden_units", 0)))

    def label_column(self) -> str | None:
        annotations = self.dataset.annotations
        if annotations is None or annotations.num_columns == 0:
            return None
        target = self.profile.target.name if self.profile.target is not None else None
        names = annotations.column_names
        if target in names:
            return target
        return self.dataset.label_column if self.dataset.label_column in names else None

    def labels(self) -> np.ndarray | None:
        """The label column's values, as strings (missing: "")."""
        name = self.label_column()
        if name is None:
            return None
        values = self.dataset.annotations.column(name).to_pylist()
        return np.array(["" if v is None else str(v) for v in values])

    def rows(self, matrix, rows: np.ndarray) -> np.ndarray:
        return np.asarray(matrix[rows].toarray(), np.float32)

    def metadata(self):
        return {"data": {"rows": self.matrix.shape[0], "columns": self.matrix.shape[1]}}


# --- recommend ------------------------------------------------------------------------


class _RecommendTask(_BinaryTask):
    task_name = "recommendation"
    objective = f"val_precision_at_{TOP_K}"
    compared_metric = f"precision_at_{TOP_K}"
    what = "users"

    def __init__(self, dataset, profile, *, seed):
        from dladvisor.tuning.ranking import leave_out_split

        super().__init__(dataset, profile, seed=seed)
        self.split = leave_out_split(
            self.matrix, share=HOLDOUT_SHARE, timestamps=dataset.timestamps, seed=seed
        )
        if len(self.split.held_rows) == 0:
            raise DataError(
                f"{dataset.path}: no {dataset.row_name} has enough ones to hold some out "
                "for testing a recommender (3 at least); give more interactions per "
                f"{dataset.row_name}, or use --task features"
            )
        self.train_matrix = self.split.train
        self.fit_matrix = (self.split.train + self.split.validation).tocsr()
        empty = int((np.diff(self.matrix.indptr) == 0).sum())
        if empty:
            self.notes.append(
                f"{empty:,} {dataset.row_name}(s) have no ones: they are not scored, and "
                "`predict --user` gives them the most popular items"
            )

    def describe(self):
        return self.split.describe()

    def _score_rows(self, model):
        from dladvisor.models.rbm import RBMArrays

        weights = RBMArrays.of(model)
        return lambda rows, seen: weights.reconstruct(seen)

    def validation_scores(self, model):
        from dladvisor.tuning.ranking import evaluate_ranker

        found = evaluate_ranker(
            self._score_rows(model),
            self.split.train,
            self.split.validation,
            k=TOP_K,
            max_rows=VALIDATION_ROWS,
            seed=self.seed,
        )
        return {f"val_{name}": value for name, value in found.items() if name.endswith(f"_{TOP_K}")}

    def _test(self, score_rows) -> dict[str, float]:
        from dladvisor.tuning.ranking import evaluate_ranker

        found = evaluate_ranker(
            score_rows,
            self.fit_matrix,
            self.split.test,
            k=TOP_K,
            max_rows=TEST_ROWS,
            seed=self.seed,
        )
        self.users_scored = int(found["users_scored"])
        kept = (f"precision_at_{TOP_K}", f"recall_at_{TOP_K}", f"ndcg_at_{TOP_K}")
        return {name: float(found[name]) for name in kept}

    def baseline(self, seed):
        from dladvisor.tuning.baseline import BaselineResult
        from dladvisor.tuning.ranking import ItemItemCosine, MostPopular, evaluate_ranker

        started = time.perf_counter()
        metric = self.compared_metric
        on_validation = {}
        for make in (MostPopular, ItemItemCosine):
            ranker = make().fit(self.split.train)
            found = evaluate_ranker(
                ranker.score_rows,
                self.split.train,
                self.split.validation,
                k=TOP_K,
                max_rows=VALIDATION_ROWS,
                seed=seed,
            )
            on_validation[ranker.name] = (make, found[metric])
        chosen = max(on_validation, key=lambda name: on_validation[name][1])
        self.baselines_on_validation = {name: value for name, (_, value) in on_validation.items()}
        # Both are refitted on train + validation and scored on the test part: the one
        # chosen on validation is the baseline, the other is reported beside it.
        self.baselines_on_test = {}
        for name, (make, _) in on_validation.items():
            ranker = make().fit(self.fit_matrix)
            self.baselines_on_test[name] = self._test(ranker.score_rows)
            if name == chosen:
                params = getattr(ranker, "params", {})
        self.notes.append(
            f"baselines, {metric} on the validation part (which chooses) and the test part: "
            + ", ".join(
                f"{name} {value:.4f} and {self.baselines_on_test[name][metric]:.4f}"
                for name, value in self.baselines_on_validation.items()
            )
            + f"; {chosen} is the baseline the model is compared with"
        )
        return BaselineResult(
            name=chosen,
            metrics=self.baselines_on_test[chosen],
            seconds=time.perf_counter() - started,
            params=params,
        )

    def evaluate(self, model, baseline, hyperparameters):
        return self._test(self._score_rows(model)), None

    def split_summary(self):
        return {
            "kind": "leave-out",
            "by_time": bool(self.split.by_time),
            "held_rows": int(len(self.split.held_rows)),
            "train_ones": int(self.split.train.nnz),
            "validation_ones": int(self.split.validation.nnz),
            "test_ones": int(self.split.test.nnz),
            "users_scored": getattr(self, "users_scored", None),
        }

    def metadata(self):
        return {
            **super().metadata(),
            "top_k": TOP_K,
            "baselines_on_validation": getattr(self, "baselines_on_validation", {}),
            "baselines_on_test": getattr(self, "baselines_on_test", {}),
        }

    def write_extras(self, run_dir, model, hyperparameters):
        write_history(run_dir / HISTORY_FILE, self.matrix, self.dataset.seen, self.dataset.row_ids)
        self._write_top_items(run_dir / TOP_ITEMS_FILE, model)
        return [HISTORY_FILE, TOP_ITEMS_FILE]

    def _write_top_items(self, path: Path, model) -> None:
        """The model's top-k for a few test users, beside the ones held out from them,
        for the report: the first :data:`SHOWN_USERS` users that hold out test ones."""
        import json

        from dladvisor._files import write_text_atomically
        from dladvisor.tuning.ranking import top_k

        test = self.split.test.tocsr()
        rows = [r for r in self.split.held_rows if test[r].nnz][:SHOWN_USERS]
        seen = self.fit_matrix[rows]
        best = top_k(self._score_rows(model)(np.asarray(rows), seen), seen, TOP_K)
        names, ids = self.dataset.column_names, self.dataset.row_ids
        users = []
        for row, items in zip(rows, best):
            held = {names[i] for i in test[row].indices}
            shown = [names[i] for i in items if i >= 0]
            users.append(
                {
                    "user": str(ids[row]),
                    "top": shown,
                    "held_out": sorted(held),
                    "hits": [item for item in shown if item in held],
                }
            )
        write_text_atomically(path, json.dumps({"k": TOP_K, "users": users}, indent=2))


def write_history(path: Path, ones, seen, row_ids: np.ndarray) -> None:
    """Save every row's ones (what the RBM reads), what it has seen (its ones and the
    items it rated below the threshold: not offered again; ``None``: its ones) and the
    row ids - no pickled objects - for ``predict --user``."""
    from dladvisor._files import write_atomically

    ones = ones.tocsr()
    seen = ones if seen is None else seen.tocsr()
    ids = np.asarray([str(r) for r in row_ids])

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez_compressed(
                handle,
                indptr=ones.indptr,
                indices=ones.indices,
                seen_indptr=seen.indptr,
                seen_indices=seen.indices,
                shape=np.asarray(ones.shape, np.int64),
                row_ids=ids,
            )

    write_atomically(path, save)


# --- monitor --------------------------------------------------------------------------


def inject_anomalies(rows: np.ndarray, rng: np.random.Generator, share: float = FLIP_SHARE):
    """Copies of ``rows`` (dense 0/1) with ``share`` of each row's units flipped (at least
    one): made-up departures from normal, for scoring a monitor that has no labels."""
    corrupted = rows.copy()
    flips = max(1, int(round(share * rows.shape[1])))
    for i in range(len(corrupted)):
        units = rng.choice(rows.shape[1], flips, replace=False)
        corrupted[i, units] = 1.0 - corrupted[i, units]
    return corrupted


class _MonitorTask(_BinaryTask):
    task_name = "monitoring"
    objective = "val_roc_auc"
    compared_metric = "roc_auc"
    what = "time steps"

    def __init__(self, dataset, profile, *, seed):
        super().__init__(dataset, profile, seed=seed)
        n = self.matrix.shape[0]
        if n < 20:
            raise DataError(
                f"{dataset.path}: {n} time steps are too few to learn what normal looks "
                "like (20 at least); give a longer record"
            )
        first = int(n * MONITOR_SPLIT[0])
        second = first + int(n * MONITOR_SPLIT[1])
        self.parts = {
            "train": np.arange(0, first),
            "validation": np.arange(first, second),
            "test": np.arange(second, n),
        }
        labels = self.labels()
        self.anomalous = None
        if labels is not None:
            normal_values = {"", "0", "0.0", "false", "normal", "no", "n", "f", "ok"}
            self.anomalous = np.array([v.lower() not in normal_values for v in labels])
        train = self.parts["train"]
        if self.anomalous is not None:
            dropped = int(self.anomalous[train].sum())
            train = train[~self.anomalous[train]]
            if dropped:
                self.notes.append(
                    f"{dropped:,} training time step(s) labelled anomalous by "
                    f"{self.label_column()!r} are left out: the RBM learns normal periods"
                )
        self.normal_train = train
        fit = np.concatenate([train, self.parts["validation"]])
        if self.anomalous is not None:
            fit = fit[~self.anomalous[fit]]
        self.normal_fit = fit
        self.train_matrix = self.matrix[train]
        self.fit_matrix = self.matrix[fit]
        rng = np.random.default_rng(seed)
        self.checks = {part: self._check_rows(part, rng) for part in ("validation", "test")}
        sources = {c[2] for c in self.checks.values()}
        if "injected" in sources:
            self.notes.append(
                "scored on anomalies injected into held-out time steps (copies with "
                f"{FLIP_SHARE:.0%} of their signals flipped), since "
                + ("the data has no labels" if self.anomalous is None else "a part lacks anomalies")
                + ": a check of the method, not of real incidents"
            )

    def _check_rows(self, part: str, rng) -> tuple[np.ndarray, np.ndarray, str]:
        """``(rows, labels, source)`` the part is scored on: its rows with the data's
        labels when both kinds are there, else its rows plus corrupted copies."""
        rows = self.parts[part]
        if self.anomalous is not None and len(np.unique(self.anomalous[rows])) == 2:
            return self.rows(self.matrix, rows), self.anomalous[rows].astype(int), "labels"
        rows = _sample(rows, VALIDATION_ROWS // 2, self.seed)
        if self.anomalous is not None:
            rows = rows[~self.anomalous[rows]]
        normal = self.rows(self.matrix, rows)
        both = np.concatenate([normal, inject_anomalies(normal, rng)])
        labels = np.concatenate([np.zeros(len(normal), int), np.ones(len(normal), int)])
        return both, labels, "injected"

    def describe(self):
        sizes = {name: len(rows) for name, rows in self.parts.items()}
        return (
            f"time steps in order: train {sizes['train']:,} (normal: {len(self.normal_train):,}), "
            f"validation {sizes['validation']:,}, test {sizes['test']:,}"
        )

    def validation_scores(self, model):
        from dladvisor.models.rbm import RBMArrays

        rows, labels, _ = self.checks["validation"]
        return {"val_roc_auc": _auc(labels, RBMArrays.of(model).free_energy(rows))}

    def _threshold(self, validation_scores: np.ndarray) -> float:
        rows, labels, source = self.checks["validation"]
        if source == "labels":
            from sklearn.metrics import precision_recall_curve

            precision, recall, thresholds = precision_recall_curve(labels, validation_scores)
            f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
            return float(thresholds[int(np.argmax(f1[:-1]))])
        return float(np.quantile(validation_scores[labels == 0], ALARM_QUANTILE))

    def _scores(self, score) -> tuple[dict[str, float], float]:
        from sklearn.metrics import average_precision_score

        threshold = self._threshold(score(self.checks["validation"][0]))
        rows, labels, _ = self.checks["test"]
        scores = score(rows)
        flagged = scores >= threshold
        hits = int((flagged & (labels == 1)).sum())
        metrics = {
            "roc_auc": _auc(labels, scores),
            "average_precision": float(average_precision_score(labels, scores)),
            "precision": hits / max(1, int(flagged.sum())),
            "recall": hits / max(1, int((labels == 1).sum())),
            "flagged_share": float(flagged.mean()),
        }
        return metrics, threshold

    def baseline(self, seed):
        from sklearn.ensemble import IsolationForest

        from dladvisor.tuning.baseline import BaselineResult

        started = time.perf_counter()
        rows = _sample(self.normal_fit, BASELINE_ROWS, seed)
        forest = IsolationForest(random_state=seed).fit(self.rows(self.matrix, rows))
        metrics, threshold = self._scores(lambda v: -forest.score_samples(v))
        return BaselineResult(
            name="IsolationForest",
            metrics=metrics,
            seconds=time.perf_counter() - started,
            params={"n_estimators": forest.n_estimators, "threshold": threshold},
        )

    def evaluate(self, model, baseline, hyperparameters):
        from dladvisor.models.rbm import RBMArrays

        metrics, self.alarm_threshold = self._scores(RBMArrays.of(model).free_energy)
        return metrics, None

    def export_schema(self, hyperparameters):
        schema = super().export_schema(hyperparameters)
        return replace(schema, alarm_threshold=getattr(self, "alarm_threshold", None))

    def split_summary(self):
        return {
            "kind": "time order",
            **{name: int(len(rows)) for name, rows in self.parts.items()},
            "scored_on": self.checks["test"][2],
        }

    def metadata(self):
        return {
            **super().metadata(),
            "anomaly_score": "free energy (higher: less like the training data)",
            "scored_on": self.checks["test"][2],
        }


# --- features -------------------------------------------------------------------------


class _RowSplitTask(_BinaryTask):
    """Rows split at random 80/10/10."""

    def __init__(self, dataset, profile, *, seed):
        from dladvisor.tuning.split import split_indices

        super().__init__(dataset, profile, seed=seed)
        self.split = split_indices(
            self.matrix.shape[0], stratify=False, test_size=0.1, validation_size=0.1, seed=seed
        )
        self.fit_rows = np.sort(np.concatenate([self.split.train, self.split.validation]))
        self.train_matrix = self.matrix[np.sort(self.split.train)]
        self.fit_matrix = self.matrix[self.fit_rows]

    def describe(self):
        s = self.split
        return (
            f"rows at random: train {len(s.train):,}, validation {len(s.validation):,}, "
            f"test {len(s.test):,}"
        )

    def split_summary(self):
        s = self.split
        return {
            "kind": "random",
            "train": int(len(s.train)),
            "validation": int(len(s.validation)),
            "test": int(len(s.test)),
        }


class _FeaturesTask(_RowSplitTask):
    task_name = "feature-learning"
    objective = "val_pseudo_likelihood"

    def __init__(self, dataset, profile, *, seed):
        super().__init__(dataset, profile, seed=seed)
        labels = self.labels()
        self.label_values = None
        if labels is not None:
            present = labels != ""
            if len(np.unique(labels[present])) >= 2:
                self.label_values = labels
        self.compared_metric = (
            "balanced_accuracy" if self.label_values is not None else "pseudo_likelihood"
        )
        self.validation_rows = _sample(np.sort(self.split.validation), VALIDATION_ROWS, seed)

    def validation_scores(self, model):
        from dladvisor.models.rbm import RBMArrays

        rows = self.rows(self.matrix, self.validation_rows)
        rng = np.random.default_rng(self.seed)  # the same flips every epoch
        return {
            "val_pseudo_likelihood": float(RBMArrays.of(model).pseudo_likelihood(rows, rng).mean())
        }

    def _test_rows(self) -> np.ndarray:
        return _sample(np.sort(self.split.test), TEST_ROWS, self.seed)

    def _classify(self, features) -> dict[str, float]:
        """A logistic regression on ``features(rows)`` of the fit rows, scored on the test
        rows' labels."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import accuracy_score, balanced_accuracy_score

        labels = self.label_values
        fit = _sample(self.fit_rows[labels[self.fit_rows] != ""], BASELINE_ROWS, self.seed)
        test = self._test_rows()
        test = test[labels[test] != ""]
        if len(test) == 0 or len(np.unique(labels[fit])) < 2:
            return {}
        classifier = LogisticRegression(max_iter=1000).fit(features(fit), labels[fit])
        predicted = classifier.predict(features(test))
        return {
            "accuracy": float(accuracy_score(labels[test], predicted)),
            "balanced_accuracy": float(balanced_accuracy_score(labels[test], predicted)),
        }

    def baseline(self, seed):
        from dladvisor.tuning.baseline import BaselineResult

        started = time.perf_counter()
        fit = self.matrix[self.fit_rows]
        share = np.clip(np.asarray(fit.mean(axis=0)).ravel(), 1e-6, 1 - 1e-6)
        test = self.rows(self.matrix, self._test_rows())
        rng = np.random.default_rng(seed)
        unit = rng.integers(0, test.shape[1], test.shape[0])
        picked = test[np.arange(len(test)), unit]
        chance = np.where(picked > 0.5, share[unit], 1 - share[unit])
        metrics = {"pseudo_likelihood": float((test.shape[1] * np.log(chance)).mean())}
        name = "independent columns"
        if self.label_values is not None:
            metrics.update(self._classify(lambda rows: self.matrix[rows]))
            name = "logistic regression on the raw columns"
        return BaselineResult(name=name, metrics=metrics, seconds=time.perf_counter() - started)

    def evaluate(self, model, baseline, hyperparameters):
        from dladvisor.models.rbm import RBMArrays

        weights = RBMArrays.of(model)
        test = self.rows(self.matrix, self._test_rows())
        rng = np.random.default_rng(self.seed)
        metrics = {"pseudo_likelihood": float(weights.pseudo_likelihood(test, rng).mean())}
        if self.label_values is not None:
            metrics.update(
                self._classify(lambda rows: weights.hidden_probabilities(self.matrix[rows]))
            )
        return metrics, None


# --- impute ---------------------------------------------------------------------------


class _ImputeTask(_RowSplitTask):
    task_name = "imputation"
    objective = "val_imputation_log_loss"
    compared_metric = "log_loss"

    def __init__(self, dataset, profile, *, seed):
        missing = dataset.missing
        if missing is None or missing.nnz == 0:
            raise DataError(
                f"{dataset.path}: no missing cell to fill; --task impute fills blank or NaN "
                "cells of a 0/1 table - leave --task out, or use --task features"
            )
        super().__init__(dataset, profile, seed=seed)
        self.missing = missing.tocsr().astype(bool)
        known_train = np.sort(self.split.train)
        self.start = self._column_shares(known_train)
        rng = np.random.default_rng(seed)
        # Known cells hidden from validation and test rows: what imputation is scored on.
        self.hidden = {}
        for part in ("validation", "test"):
            rows = _sample(np.sort(getattr(self.split, part)), TEST_ROWS, seed)
            known = ~self.missing[rows].toarray()
            hide = known & (rng.random(known.shape) < HIDE_SHARE)
            self.hidden[part] = (rows, hide)
        # Training rows: missing cells take their column's share of ones (a probability
        # the visible units accept).
        self.train_matrix = self._filled(known_train)
        self.fit_matrix = self._filled(self.fit_rows)
        self.notes.append(
            f"{self.missing.nnz:,} missing cell(s); scored on {HIDE_SHARE:.0%} of the known "
            "cells of the validation and test rows, hidden and filled back"
        )

    def _column_shares(self, rows: np.ndarray) -> np.ndarray:
        ones = np.asarray(self.matrix[rows].sum(axis=0)).ravel()
        known = len(rows) - np.asarray(self.missing[rows].sum(axis=0)).ravel()
        return np.clip(ones / np.maximum(known, 1), 1e-3, 1 - 1e-3).astype(np.float32)

    def _filled(self, rows: np.ndarray):
        import scipy.sparse

        missing = self.missing[rows].tocoo()
        fill = scipy.sparse.csr_matrix(
            (self.start[missing.col], (missing.row, missing.col)), shape=missing.shape
        )
        return (self.matrix[rows] + fill).tocsr().astype(np.float32)

    def _fill(self, weights, part: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities for the hidden cells of ``part``, and their true values."""
        rows, hide = self.hidden[part]
        if limit is not None:
            rows, hide = rows[:limit], hide[:limit]
        values = self.rows(self.matrix, rows)
        gaps = hide | self.missing[rows].toarray()
        rng = np.random.default_rng(self.seed)
        filled = np.zeros(values.shape, np.float32)
        filled[gaps] = weights.fill(values, gaps, self.start, rng)
        return filled[hide], values[hide]

    @staticmethod
    def _imputation_scores(probabilities: np.ndarray, truth: np.ndarray) -> dict[str, float]:
        from sklearn.metrics import log_loss

        p = np.clip(probabilities, 1e-6, 1 - 1e-6)
        return {
            "log_loss": float(log_loss(truth, p, labels=[0, 1])),
            "accuracy": float(((p >= 0.5) == (truth > 0.5)).mean()),
            "roc_auc": _auc(truth, p),
        }

    def split_summary(self):
        return {
            **super().split_summary(),
            **{f"hidden_cells_{part}": int(hide.sum()) for part, (_, hide) in self.hidden.items()},
        }

    def validation_scores(self, model):
        from dladvisor.models.rbm import RBMArrays

        found = self._imputation_scores(*self._fill(RBMArrays.of(model), "validation", 500))
        return {"val_imputation_log_loss": found["log_loss"]}

    def baseline(self, seed):
        from dladvisor.tuning.baseline import BaselineResult

        started = time.perf_counter()
        shares = self._column_shares(self.fit_rows)
        rows, hide = self.hidden["test"]
        truth = self.rows(self.matrix, rows)[hide]
        guess = np.broadcast_to(shares, hide.shape)[hide]
        return BaselineResult(
            name="column share of ones",
            metrics=self._imputation_scores(guess, truth),
            seconds=time.perf_counter() - started,
        )

    def evaluate(self, model, baseline, hyperparameters):
        from dladvisor.models.rbm import RBMArrays

        self.start = self._column_shares(self.fit_rows)
        return self._imputation_scores(*self._fill(RBMArrays.of(model), "test")), None

    def export_schema(self, hyperparameters):
        schema = super().export_schema(hyperparameters)
        return replace(schema, column_shares=tuple(float(p) for p in self.start))
