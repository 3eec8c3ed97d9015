"""What a model of binary data was trained on: the visible units and the task.

Saved with the model (``metadata.json``), so ``predict`` lays new data out in the same
columns, knows what the model is for, and has the fallbacks it needs: the items' counts
for users the model never saw (cold start), the alarm threshold of a monitor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = ["BINARY_TASKS", "BINARY_TASK_ALIASES", "RBMSchema"]

#: The tasks an RBM is trained for on binary data, as the recommender names them.
BINARY_TASKS = ("recommendation", "monitoring", "feature-learning", "imputation")
#: What ``--task`` accepts for binary data, and the recommender's name for it.
BINARY_TASK_ALIASES = {
    "recommend": "recommendation",
    "recommendation": "recommendation",
    "monitor": "monitoring",
    "monitoring": "monitoring",
    "features": "feature-learning",
    "feature-learning": "feature-learning",
    "impute": "imputation",
    "imputation": "imputation",
}


@dataclass(frozen=True)
class RBMSchema:
    """The layout and purpose of an RBM trained on a 0/1 matrix.

    Attributes:
        task: one of :data:`BINARY_TASKS`.
        columns: the visible units' names (items, signals), in the model's order.
        row_name, column_name: what a row and a column are (the user and item columns of
            an interaction list; "row" and "column" otherwise).
        source: "matrix", "interactions" or "sparse" (how the training data came).
        rows_are: "entities" or "time steps".
        hidden_units: the hidden layer's size (the learnt features).
        threshold: interactions with ratings: the rating from which a rating is a one;
            None: the user's own mean rating.
        popularity: ones per column in the training data (cold-start recommendations).
        alarm_threshold: monitoring: the free energy above which a row is flagged.
        column_shares: imputation: each column's share of ones among its known cells in
            the training data (where Gibbs sampling starts a missing cell).
        label: the annotation column held out of the matrix (monitoring labels, or the
            label that judged the features), if any.
        time_column: the column the rows' (or the interactions') times came from, if any.
    """

    kind: ClassVar[str] = "rbm"

    task: str
    columns: tuple[str, ...]
    row_name: str = "row"
    column_name: str = "column"
    source: str = "matrix"
    rows_are: str = "entities"
    hidden_units: int = 0
    threshold: float | None = None
    popularity: tuple[int, ...] = field(default=(), repr=False)
    alarm_threshold: float | None = None
    column_shares: tuple[float, ...] = field(default=(), repr=False)
    label: str | None = None
    time_column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "task": self.task,
            "columns": list(self.columns),
            "row_name": self.row_name,
            "column_name": self.column_name,
            "source": self.source,
            "rows_are": self.rows_are,
            "hidden_units": self.hidden_units,
            "threshold": self.threshold,
            "popularity": list(self.popularity),
            "alarm_threshold": self.alarm_threshold,
            "column_shares": list(self.column_shares),
            "label": self.label,
            "time_column": self.time_column,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RBMSchema":
        """The schema saved by :meth:`to_dict`.

        Raises:
            KeyError, TypeError, ValueError: the dict is incomplete or malformed.
        """
        if data.get("kind") != cls.kind:
            raise ValueError(f"not an RBM schema (kind {data.get('kind')!r})")
        if data["task"] not in BINARY_TASKS:
            raise ValueError(f"unknown task {data['task']!r}")
        columns = tuple(str(c) for c in data["columns"])
        popularity = tuple(int(n) for n in data.get("popularity") or ())
        shares = tuple(float(p) for p in data.get("column_shares") or ())
        if not columns or any(v and len(v) != len(columns) for v in (popularity, shares)):
            raise ValueError("no columns, or counts that do not match them")
        optional = {
            name: (None if data.get(name) is None else cast(data[name]))
            for name, cast in (
                ("threshold", float),
                ("alarm_threshold", float),
                ("label", str),
                ("time_column", str),
            )
        }
        return cls(
            task=str(data["task"]),
            columns=columns,
            row_name=str(data.get("row_name", "row")),
            column_name=str(data.get("column_name", "column")),
            source=str(data.get("source", "matrix")),
            rows_are=str(data.get("rows_are", "entities")),
            hidden_units=int(data.get("hidden_units", 0)),
            popularity=popularity,
            column_shares=shares,
            **optional,
        )
