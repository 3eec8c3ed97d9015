"""The devices a run trains on: which GPUs, their memory, the numeric precision.

:func:`setup_devices` runs once per process, before any model is built: it lists the
GPUs TensorFlow sees (name, compute capability, memory), keeps those ``--gpus`` names
visible, turns memory growth on (a trial takes the memory it needs, not the whole card,
so the next trial - or another process - finds the rest), and sets Keras' global dtype
policy from ``--precision``: ``auto`` is mixed precision (``mixed_float16``: float16
compute, float32 weights and outputs) on GPUs of compute capability 7.0 or more, where
tensor cores make it faster, and float32 everywhere else.

The result (:class:`Devices`) is recorded in the run's metadata and report.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from typing import Any

from dladvisor.errors import ConfigError

__all__ = [
    "MIXED_PRECISION_CAPABILITY",
    "PRECISIONS",
    "GPU",
    "Devices",
    "choose_precision",
    "parse_gpus",
    "setup_devices",
]

#: What ``--precision`` accepts.
PRECISIONS = ("auto", "float32", "mixed")
#: The compute capability from which ``auto`` turns mixed precision on (Volta: tensor
#: cores).
MIXED_PRECISION_CAPABILITY = (7, 0)


@dataclass(frozen=True)
class GPU:
    """One GPU as TensorFlow reports it.

    Attributes:
        index: its position among the GPUs TensorFlow lists (what ``--gpus`` names).
        name: the card's name (``NVIDIA H100 80GB HBM3``), or TensorFlow's device name.
        compute_capability: ``(major, minor)``, or None when not reported.
        memory_mb: total memory in MiB (from ``nvidia-smi``), or None when unknown.
    """

    index: int
    name: str
    compute_capability: tuple[int, int] | None = None
    memory_mb: int | None = None

    def describe(self) -> str:
        parts = [f"GPU {self.index}: {self.name}"]
        if self.compute_capability is not None:
            parts.append("compute capability {}.{}".format(*self.compute_capability))
        if self.memory_mb is not None:
            parts.append(f"{self.memory_mb / 1024:.0f} GiB")
        return ", ".join(parts)


@dataclass(frozen=True)
class Devices:
    """What a run trains on.

    Attributes:
        found: every GPU TensorFlow sees.
        used: the GPUs ``--gpus`` kept (none: the CPU).
        precision: the Keras dtype policy, "float32" or "mixed_float16".
        precision_reason: why, in words.
        notes: what the user should know (a GPU asked for that is not there is an
            error instead; these are milder: memory growth already fixed, mixed
            precision asked for on a CPU).
    """

    found: tuple[GPU, ...]
    used: tuple[GPU, ...]
    precision: str
    precision_reason: str
    notes: tuple[str, ...] = field(default=())
    threads: int | None = None

    def strategy(self):
        """A ``tf.distribute.MirroredStrategy`` over the GPUs used when there are several
        (data parallel: each batch split across them, gradients summed), else None."""
        if len(self.used) < 2:
            return None
        import tensorflow as tf

        names = [device.name for device in tf.config.list_logical_devices("GPU")]
        return tf.distribute.MirroredStrategy(names)

    def describe(self) -> str:
        """One line for the progress output."""
        where = "; ".join(g.describe() for g in self.used) if self.used else "the CPU"
        return f"training on {where}; precision {self.precision} ({self.precision_reason})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "found": [asdict(g) for g in self.found],
            "used": [g.index for g in self.used],
            "precision": self.precision,
            "precision_reason": self.precision_reason,
            "threads": self.threads,
            "notes": list(self.notes),
        }


def parse_gpus(text: str) -> str | tuple[int, ...]:
    """``--gpus``: "all", "none", or GPU indices such as "0,2".

    Raises:
        ConfigError: anything else, or an index repeated.
    """
    value = str(text).strip().lower()
    if value in ("all", "none"):
        return value
    if not re.fullmatch(r"\d+(\s*,\s*\d+)*", value):
        raise ConfigError(
            f"--gpus {text!r}: give all, none, or GPU numbers separated by commas (0,2)"
        )
    indices = tuple(int(part) for part in value.split(","))
    if len(set(indices)) != len(indices):
        raise ConfigError(f"--gpus {text!r}: a GPU is named twice")
    return indices


def choose_precision(asked: str, used: tuple[GPU, ...]) -> tuple[str, str]:
    """``(policy, reason)`` for ``--precision asked`` on the GPUs ``used``.

    Raises:
        ConfigError: ``asked`` is not one of :data:`PRECISIONS`.
    """
    if asked not in PRECISIONS:
        raise ConfigError(f"--precision {asked!r}: choose one of {', '.join(PRECISIONS)}")
    if asked == "float32":
        return "float32", "asked for"
    if asked == "mixed":
        return "mixed_float16", "asked for" + ("" if used else "; on a CPU it is slower")
    if not used:
        return "float32", "no GPU: mixed precision only pays on GPUs"
    capable = [
        g
        for g in used
        if g.compute_capability is not None and g.compute_capability >= MIXED_PRECISION_CAPABILITY
    ]
    if len(capable) == len(used):
        return "mixed_float16", "GPUs of compute capability 7.0 or more (tensor cores)"
    return "float32", "a GPU below compute capability 7.0 (no tensor cores)"


def _memory_by_index() -> dict[int, int]:
    """Total memory in MiB of each NVIDIA GPU, from ``nvidia-smi`` (empty without it)."""
    if shutil.which("nvidia-smi") is None:
        return {}
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=index,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    memory = {}
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            memory[int(parts[0])] = int(parts[1])
    return memory


def _found_gpus(tf) -> list:
    from dladvisor._tensorflow import quiet_native_logs

    with quiet_native_logs():  # the first look starts CUDA, which may log its failure
        return tf.config.list_physical_devices("GPU")


def setup_devices(
    gpus: str = "all", precision: str = "auto", threads: int | None = None
) -> Devices:
    """Choose the GPUs and the precision for this process (see the module).

    Args:
        gpus: ``--gpus``: "all", "none" or indices such as "0,2".
        precision: ``--precision``: "auto", "float32" or "mixed".
        threads: ``--threads``: CPU threads for TensorFlow's operations (within one
            and across them); None leaves TensorFlow's default (every core).

    Raises:
        ConfigError: a malformed ``--gpus`` or ``--precision``, or a GPU index that this
            machine does not have.
    """
    from dladvisor._tensorflow import import_tensorflow

    chosen = parse_gpus(gpus)
    tf = import_tensorflow()
    import keras

    physical = _found_gpus(tf)
    memory = _memory_by_index()
    found = []
    for index, device in enumerate(physical):
        details = tf.config.experimental.get_device_details(device) or {}
        capability = details.get("compute_capability")
        found.append(
            GPU(
                index=index,
                name=str(details.get("device_name") or device.name),
                compute_capability=tuple(capability) if capability else None,
                memory_mb=memory.get(index),
            )
        )
    if chosen == "all":
        indices = tuple(range(len(found)))
    elif chosen == "none":
        indices = ()
    else:
        missing = [i for i in chosen if i >= len(found)]
        if missing:
            have = (
                f"{len(found)} GPU(s), numbered 0 to {len(found) - 1}"
                if found
                else "no GPU TensorFlow can use"
            )
            raise ConfigError(
                f"--gpus {gpus}: this machine has {have}; name those, or use all or none"
            )
        indices = tuple(chosen)
    used = tuple(found[i] for i in indices)
    notes = []
    try:
        tf.config.set_visible_devices([physical[i] for i in indices], "GPU")
        for i in indices:
            tf.config.experimental.set_memory_growth(physical[i], True)
    except RuntimeError:
        # TensorFlow fixes devices when it first uses them (an earlier run in this
        # process); the choice made then stands.
        notes.append("the GPUs were already set up in this process: --gpus kept as it was")
    if threads is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            notes.append("TensorFlow was already running in this process: --threads not applied")
    policy, reason = choose_precision(precision, used)
    keras.mixed_precision.set_global_policy(policy)
    return Devices(
        found=tuple(found),
        used=used,
        precision=policy,
        precision_reason=reason,
        notes=tuple(notes),
        threads=threads,
    )
