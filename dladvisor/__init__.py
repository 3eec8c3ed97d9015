"""dladvisor: profile a data set, recommend a deep-learning technique, build and tune it."""

__version__ = "0.1.0"
