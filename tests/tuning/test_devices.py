"""Choosing GPUs and the precision: parsing --gpus, the precision rule, and what a
machine without a GPU (like CI) gets. The GPU path itself needs a GPU to run."""

from __future__ import annotations

import pytest

from dladvisor.errors import ConfigError
from dladvisor.tuning.devices import GPU, choose_precision, parse_gpus, setup_devices


@pytest.mark.parametrize(
    "text, expected",
    [("all", "all"), ("none", "none"), ("NONE", "none"), ("0", (0,)), ("0, 2", (0, 2))],
)
def test_gpus_option_is_parsed(text, expected):
    assert parse_gpus(text) == expected


@pytest.mark.parametrize("text", ["", "first", "0;2", "-1", "1,1"])
def test_malformed_gpus_option_is_refused(text):
    with pytest.raises(ConfigError, match="--gpus"):
        parse_gpus(text)


VOLTA = GPU(0, "Tesla V100", (7, 0), 16384)
PASCAL = GPU(1, "Tesla P100", (6, 0), 16384)
UNKNOWN = GPU(2, "a GPU that reports no capability")


@pytest.mark.parametrize(
    "asked, used, policy",
    [
        ("auto", (), "float32"),
        ("auto", (VOLTA,), "mixed_float16"),
        ("auto", (VOLTA, PASCAL), "float32"),  # every GPU must have tensor cores
        ("auto", (UNKNOWN,), "float32"),
        ("float32", (VOLTA,), "float32"),
        ("mixed", (), "mixed_float16"),
        ("mixed", (PASCAL,), "mixed_float16"),
    ],
)
def test_precision_rule(asked, used, policy):
    chosen, reason = choose_precision(asked, used)
    assert chosen == policy and reason
    if asked == "mixed" and not used:
        assert "slower" in reason


def test_unknown_precision_is_refused():
    with pytest.raises(ConfigError, match="--precision 'half'"):
        choose_precision("half", ())


def test_a_machine_without_a_gpu_trains_on_the_cpu_in_float32():
    import keras

    try:
        devices = setup_devices("all", "auto")
        assert devices.found == () and devices.used == ()
        assert devices.precision == "float32" and "no GPU" in devices.precision_reason
        assert keras.mixed_precision.global_policy().name == "float32"
        assert devices.describe().startswith("training on the CPU")
        assert devices.to_dict()["used"] == []
        with pytest.raises(ConfigError, match="this machine has no GPU TensorFlow can use"):
            setup_devices("1", "auto")
        assert setup_devices("none", "mixed").precision == "mixed_float16"
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
