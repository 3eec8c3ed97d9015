"""dladvisor: profile a data set, recommend a deep-learning technique, build and tune it.

The Python API behind the ``dladvisor`` command::

    import dladvisor

    recommendation = dladvisor.recommend("examples/penguins.csv", target="species")
    print(recommendation.top.name, recommendation.baseline.name)

    result = dladvisor.train("examples/penguins.csv", target="species",
                             settings=dladvisor.TrainSettings(time_budget_s=120))
    print(result.verdict)
    predictions = dladvisor.load(result.run_dir).predict("examples/penguins.csv")

    images = dladvisor.train("examples/digits.npz")   # or a folder, a CSV of image paths
    table, notes = dladvisor.load(images.run_dir).predict_images("new_scans/")

Step by step: ``read`` a path into a Dataset, ``profile_dataset`` it into a Profile, and
``recommend`` that Profile. Importing this package imports no TensorFlow; training and
loading a model do.
"""

__version__ = "0.1.0"

import os

from dladvisor.data import Dataset, ReadOptions, TabularDataset, read
from dladvisor.data.binary import BinaryDataset
from dladvisor.data.images import ImageDataset
from dladvisor.errors import (
    ConfigError,
    DataError,
    DataFileNotFoundError,
    DladvisorError,
    UnsupportedFormatError,
)
from dladvisor.export import TrainedModel, load
from dladvisor.recommender import TASKS, Profile, Recommendation, profile_dataset
from dladvisor.recommender import recommend as _recommend_profile
from dladvisor.training import TrainResult, TrainSettings, train


def recommend(
    data: "Profile | str | os.PathLike",
    target: str | None = None,
    *,
    task: str | None = None,
    read_options: ReadOptions | None = None,
) -> Recommendation:
    """Recommend a technique for ``data``: a Profile, or a path to read and profile.

    Args:
        data: a :class:`Profile`, or the path of a data set.
        target: the column to predict (paths only; None guesses one by name).
        task: the task to solve, overriding the inferred one (a key of :data:`TASKS`).
        read_options: forced encoding / delimiter (paths only).
    """
    if not isinstance(data, Profile):
        data = profile_dataset(read(data, read_options), target=target)
    elif target is not None or read_options is not None:
        raise ConfigError("target and read_options apply to a path, not to a Profile")
    return _recommend_profile(data, task=task)


__all__ = [
    "TASKS",
    "BinaryDataset",
    "ConfigError",
    "DataError",
    "DataFileNotFoundError",
    "Dataset",
    "DladvisorError",
    "ImageDataset",
    "Profile",
    "ReadOptions",
    "Recommendation",
    "TabularDataset",
    "TrainResult",
    "TrainSettings",
    "TrainedModel",
    "UnsupportedFormatError",
    "__version__",
    "load",
    "profile_dataset",
    "read",
    "recommend",
    "train",
]
