"""dladvisor: profile a data set, recommend a deep-learning technique, build and tune it.

The Python API behind the ``dladvisor`` command::

    import dladvisor

    dataset = dladvisor.read("examples/penguins.csv")
    profile = dladvisor.profile_dataset(dataset, target="species")
    recommendation = dladvisor.recommend(profile)
    print(recommendation.top.name, recommendation.baseline.name)

Importing this package imports no TensorFlow.
"""

__version__ = "0.1.0"

from dladvisor.data import Dataset, ReadOptions, TabularDataset, read
from dladvisor.errors import (
    ConfigError,
    DataError,
    DataFileNotFoundError,
    DladvisorError,
    UnsupportedFormatError,
)
from dladvisor.recommender import TASKS, Profile, Recommendation, profile_dataset, recommend

__all__ = [
    "TASKS",
    "ConfigError",
    "DataError",
    "DataFileNotFoundError",
    "Dataset",
    "DladvisorError",
    "Profile",
    "ReadOptions",
    "Recommendation",
    "TabularDataset",
    "UnsupportedFormatError",
    "__version__",
    "profile_dataset",
    "read",
    "recommend",
]
