"""Trials in parallel on keras-tuner's own distributed engine: one chief, many workers.

keras-tuner runs a search across processes and machines with one oracle: the *chief*
holds it and serves it over gRPC; each *worker* is a keras-tuner Tuner whose oracle is
keras-tuner's ``OracleClient`` (configured by ``KERASTUNER_TUNER_ID``,
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT``), which asks for a trial, runs
it and reports its score. dladvisor uses that engine unchanged for the trials, and
replaces only keras-tuner 1.4.8's chief loop (``oracle_chief.start_server``), which
blocks its process forever and waits for ever for a worker that died mid-trial:

- :class:`ChiefServer` serves keras-tuner's ``OracleServicer`` from a thread, so the
  chief's process goes on after the search (refit, export, report);
- a worker that exits, or is not heard from for ``worker_timeout`` seconds, has its
  running trial ended as FAILED with the reason; the other workers go on;
- workers send a heartbeat while a trial runs (keras-tuner's own ``GetTrial`` call,
  every :data:`HEARTBEAT_SECONDS`), and Hyperband's "wait" answers are not hammered;
- ``--parallel-trials N`` starts N local workers, each pinned to its own GPU or, on
  the CPU, to a share of the cores, with its output in ``tuning/workers/<id>.log``.

The run directory must be one all workers can read and write (a shared file system on a
cluster): trials' checkpoints and each worker's own facts about its trials are written
there. Importing this module imports no TensorFlow and no gRPC.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from dladvisor._files import write_text_atomically
from dladvisor.errors import ConfigError
from dladvisor.tuning.budget import Deadline
from dladvisor.tuning.progress import ProgressReporter

__all__ = [
    "CLUSTER_FILE",
    "ChiefRole",
    "ChiefServer",
    "DATA_PARALLEL_MIN_EXAMPLES",
    "choose_parallel_trials",
    "HEARTBEAT_SECONDS",
    "JOIN_TIMEOUT_SECONDS",
    "LocalWorker",
    "WorkerRole",
    "default_tuner_id",
    "format_address",
    "heartbeat_seconds",
    "parse_address",
    "read_cluster_file",
    "silence_stray_print",
    "start_local_workers",
    "trial_number",
    "worker_threads",
]

#: A worker asks the chief for its running trial this often: the chief's sign of life.
HEARTBEAT_SECONDS = 5.0
#: A running trial whose worker is not heard from for this long is ended as FAILED.
WORKER_TIMEOUT_SECONDS = 120.0
#: How long a worker waits for the chief to answer its first call (the chief may still
#: be reading the data), and then any later call, before it gives up.
JOIN_TIMEOUT_SECONDS = 30 * 60.0
CALL_TIMEOUT_SECONDS = 120.0
#: Written by the chief into the tuning folder for its workers: where it listens and
#: when the search's time is up (wall-clock seconds since the epoch).
CLUSTER_FILE = "cluster.json"
#: The chief checks its workers this often.
_POLL_SECONDS = 0.25
#: Exit codes of a worker interrupted by Ctrl-C (dladvisor's 130, or killed by SIGINT).
_INTERRUPTED = (130, -2)


def parse_address(text: str, *, option: str = "--chief") -> tuple[str, int]:
    """``"HOST:PORT"`` -> ``(host, port)``; a port of 0 means "any free port"."""
    host, sep, port = str(text).strip().rpartition(":")
    host = host.strip("[]")  # [::1]:8000
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(
            f"{option} {text!r}: expected HOST:PORT, e.g. 10.0.0.5:8000 or 127.0.0.1:0"
        )
    return host, int(port)


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


#: With several GPUs, a training part at least this large trains each trial across all of
#: them (data parallel); a smaller one trains one trial per GPU (trial parallel), since
#: a small model's steps are too short to gain from being split.
DATA_PARALLEL_MIN_EXAMPLES = 50_000


def choose_parallel_trials(
    asked: int | None, *, gpus: int, own_training_step: bool, n_train: int
) -> tuple[int, str]:
    """How many worker processes run trials at once (0: one after another in this
    process), and why.

    Args:
        asked: ``--parallel-trials`` (None: auto).
        gpus: the GPUs this run uses.
        own_training_step: the technique's model trains with its own step (a GAN, an
            RBM), which does not run under MirroredStrategy.
        n_train: training examples.
    """
    if asked is not None:
        if asked == 0:
            return 0, "--parallel-trials 0: one trial at a time in this process"
        return asked, f"--parallel-trials {asked}"
    if gpus < 2:
        return 0, "one device: one trial at a time"
    if own_training_step:
        return gpus, "its own training step does not run data parallel: one trial per GPU"
    if n_train >= DATA_PARALLEL_MIN_EXAMPLES:
        return 0, f"{n_train:,} training examples: each trial across all GPUs (data parallel)"
    return gpus, (
        f"{n_train:,} training examples (under {DATA_PARALLEL_MIN_EXAMPLES:,}): small models "
        "gain more from one trial per GPU than from splitting each batch"
    )


def worker_threads(workers: int, cores: int | None = None) -> int:
    """CPU threads for each of ``workers`` local workers sharing this machine's cores."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, workers))


@dataclass(frozen=True)
class WorkerRole:
    """This process runs trials for the chief at ``address``.

    Attributes:
        address: ``(host, port)`` of the chief.
        tuner_id: this worker's name, unique within the search (keras-tuner's
            ``KERASTUNER_TUNER_ID``).
    """

    address: tuple[str, int]
    tuner_id: str


@dataclass(frozen=True)
class ChiefRole:
    """This process holds the oracle and serves it at ``address``.

    Attributes:
        address: ``(host, port)`` to listen on; port 0 picks a free one.
        local_workers: worker processes to start on this machine (``--parallel-trials``);
            0 serves workers started elsewhere (``--role worker``).
        worker_command: ``(chief address, tuner id) -> argv`` of a local worker.
        gpus: the GPU numbers local workers are pinned to, one each in turn; empty on
            the CPU, where each worker gets ``threads`` CPU threads.
        threads: CPU threads per local worker on the CPU (see :func:`worker_threads`).
        worker_timeout: seconds without a word from a worker before its trial is ended
            as FAILED.
    """

    address: tuple[str, int]
    local_workers: int = 0
    worker_command: Callable[[str, str], list[str]] | None = None
    gpus: Sequence[int] = field(default=())
    threads: int | None = None
    worker_timeout: float = WORKER_TIMEOUT_SECONDS


@dataclass
class LocalWorker:
    """A worker process started by the chief."""

    tuner_id: str
    process: subprocess.Popen
    log: Path
    pinned: str
    exit_code: int | None = None


def start_local_workers(role: ChiefRole, address: str, log_dir: Path) -> list[LocalWorker]:
    """Start ``role.local_workers`` worker processes, each with its own log file."""
    if role.worker_command is None:
        raise ValueError("ChiefRole.worker_command is needed to start local workers")
    log_dir.mkdir(parents=True, exist_ok=True)
    workers = []
    for index in range(role.local_workers):
        tuner_id = f"worker-{index + 1}"
        env = dict(os.environ)
        # keras-tuner's own configuration of a worker; the chief's process has none.
        env.update(
            KERASTUNER_TUNER_ID=tuner_id,
            KERASTUNER_ORACLE_IP=parse_address(address)[0],
            KERASTUNER_ORACLE_PORT=str(parse_address(address)[1]),
        )
        if role.gpus:
            gpu = role.gpus[index % len(role.gpus)]
            # TensorFlow numbers the GPUs this process sees; CUDA the machine's.
            visible = [v for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v]
            env["CUDA_VISIBLE_DEVICES"] = visible[gpu] if gpu < len(visible) else str(gpu)
            pinned = f"GPU {gpu}"
        else:
            env["CUDA_VISIBLE_DEVICES"] = ""  # "" hides every GPU: a CPU worker
            threads = role.threads or worker_threads(role.local_workers)
            # numpy's and scikit-learn's BLAS threads too, not only TensorFlow's.
            for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                env[name] = str(threads)
            pinned = f"{threads} CPU thread(s)"
        log = log_dir / f"{tuner_id}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                role.worker_command(address, tuner_id),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        workers.append(LocalWorker(tuner_id, process, log, pinned))
    return workers


def heartbeat_seconds(worker_timeout: float | None) -> float:
    """How often a worker signals it is alive: often enough that a chief waiting
    ``worker_timeout`` seconds hears it several times."""
    if not worker_timeout:
        return HEARTBEAT_SECONDS
    return max(0.2, min(HEARTBEAT_SECONDS, worker_timeout / 4))


def read_cluster_file(directory: Path, *, wait: float = 0.0) -> dict:
    """The chief's ``cluster.json`` in ``directory``, waiting up to ``wait`` seconds."""
    path = Path(directory) / CLUSTER_FILE
    until = time.monotonic() + wait
    while True:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            if time.monotonic() >= until:
                raise ConfigError(
                    f"{path}: the chief has not started its search there; start "
                    "`dladvisor train ... --role chief` first, and give workers the run "
                    "directory it writes (--out), on a shared file system"
                ) from None
        time.sleep(1.0)


class ChiefServer:
    """keras-tuner's oracle served over gRPC from a thread, watching its workers.

    Args:
        oracle: the search's keras-tuner oracle (with dladvisor's ``stop_reason``).
        role: where to listen and which local workers to start.
        deadline: the search's deadline; workers stop their trials when it passes.
        reporter: progress sink (trials started and ended, workers lost).
        directory: the tuning project folder (``cluster.json``, ``workers/``).
    """

    def __init__(
        self,
        oracle,
        role: ChiefRole,
        *,
        deadline: Deadline,
        reporter: ProgressReporter | None,
        directory: Path,
    ):
        self.oracle = oracle
        self.role = role
        self.deadline = deadline
        self.reporter = reporter
        self.directory = Path(directory)
        self.workers: list[LocalWorker] = []
        self.address = ""
        self.lost: list[str] = []
        self._server = None
        self._servicer = None

    def run(self) -> None:
        """Serve until the search ends: no trial running and none to start.

        Raises:
            ConfigError: the address cannot be listened on.
            TuningError: every local worker failed before running a trial, or no worker
                ever came (the message says which, with the log to read).
        """
        self._start()
        try:
            self._watch()
        finally:
            self._finish()

    @property
    def trials_started(self) -> int:
        """Trials handed to workers during :meth:`run`."""
        return len(self._servicer.announced) if self._servicer is not None else 0

    # Internals -------------------------------------------------------------------------

    def _start(self) -> None:
        import grpc
        from keras_tuner.src import protos

        silence_stray_print()
        host, port = self.role.address
        server = grpc.server(_thread_pool())
        self._servicer = _servicer(self.oracle, self.reporter)
        protos.get_service_grpc().add_OracleServicer_to_server(self._servicer, server)
        try:
            bound = server.add_insecure_port(format_address(host, port))
        except RuntimeError:
            bound = 0
        if not bound:
            raise ConfigError(
                f"--chief {format_address(host, port)}: cannot listen there (the port is in "
                "use, or the address is not this machine's); choose another port"
            )
        server.start()
        self._server = server
        self.address = format_address(host, bound)
        remaining = self.deadline.remaining()
        write_text_atomically(
            self.directory / CLUSTER_FILE,
            json.dumps(
                {
                    "chief": self.address,
                    "deadline_unix": None if math.isinf(remaining) else time.time() + remaining,
                    "worker_timeout": self.role.worker_timeout,
                },
                indent=2,
            ),
        )
        if self.role.local_workers:
            self.workers = start_local_workers(self.role, self.address, self.directory / "workers")
            if self.reporter is not None:
                pins = ", ".join(f"{w.tuner_id} on {w.pinned}" for w in self.workers)
                self.reporter.message(
                    f"trial parallel: {len(self.workers)} worker process(es) ({pins}); "
                    f"their output: {self.directory / 'workers'}"
                )
        elif self.reporter is not None:
            self.reporter.message(
                f"chief listening on {self.address}: start workers with `dladvisor train "
                f"--role worker --chief HOST:{bound} --out {self.directory.parent}`"
            )

    def _watch(self) -> None:
        oracle, servicer = self.oracle, self._servicer
        while True:
            time.sleep(_POLL_SECONDS)
            for worker in self.workers:
                if worker.exit_code is None and worker.process.poll() is not None:
                    worker.exit_code = worker.process.returncode
                    trial = oracle.ongoing_trials.get(worker.tuner_id)
                    # After Ctrl-C (exit 130) the trial stays unfinished: --resume runs
                    # it again.
                    if trial is not None and worker.exit_code not in _INTERRUPTED:
                        self._lose(
                            worker.tuner_id,
                            trial.trial_id,
                            f"worker {worker.tuner_id} ended (exit code {worker.exit_code}) "
                            f"while running this trial; see {worker.log}",
                        )
            now = time.monotonic()
            for tuner_id, trial in list(oracle.ongoing_trials.items()):
                silent = now - servicer.heard.get(trial.trial_id, now)
                if silent > self.role.worker_timeout:
                    self._lose(
                        tuner_id,
                        trial.trial_id,
                        f"worker {tuner_id} was not heard from for {silent:.0f}s while "
                        "running this trial",
                    )
            local = {w.tuner_id for w in self.workers}
            if self.workers and not (servicer.seen - local):
                if all(w.exit_code is not None for w in self.workers):
                    return  # every worker has ended, and none came from elsewhere
            if oracle.ongoing_trials:
                continue
            if servicer.stop_triggered or getattr(oracle, "stop_reason", None):
                return
            if self.deadline.expired():
                oracle.stop_reason = "budget"
                return

    def _lose(self, tuner_id: str, trial_id: str, reason: str) -> None:
        if self._servicer.fail(trial_id, reason):
            self.lost.append(tuner_id)

    def _finish(self) -> None:
        # Workers asking for a next trial now hear "stop" (the oracle's stop_reason is
        # set); give them a moment to ask, then end those started here.
        if self._servicer is not None and self.oracle.stop_reason is None:
            self.oracle.stop_reason = "budget" if self.deadline.expired() else "workers_ended"
        until = time.monotonic() + 10.0
        while time.monotonic() < until and any(w.process.poll() is None for w in self.workers):
            time.sleep(_POLL_SECONDS)
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.terminate()
        for worker in self.workers:
            try:
                worker.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            if worker.exit_code is None:
                worker.exit_code = worker.process.returncode
        if self._server is not None:
            # Remote workers told to stop have left the oracle's list of tuners.
            until = time.monotonic() + 5.0
            while self.oracle.tuner_ids and time.monotonic() < until and not self.workers:
                time.sleep(_POLL_SECONDS)
            self._server.stop(grace=1.0)

    def failure_message(self) -> str | None:
        """Why no trial ran, when it was the workers' fault; None otherwise."""
        if self.oracle.trials:
            return None
        if self.workers:
            worker = self.workers[0]
            return (
                f"the {len(self.workers)} worker process(es) ended before running a trial: "
                f"{_last_line(worker.log)} (see {worker.log})"
            )
        if not self._servicer.seen:
            return (
                f"no worker joined the chief at {self.address} within the time budget; "
                "start workers with `dladvisor train --role worker --chief HOST:PORT --out "
                "RUN_DIR`"
            )
        return None


def silence_stray_print() -> None:
    """keras-tuner 1.4.8 prints the first value of a conditional hyperparameter's parent
    to stdout each time it serialises one for gRPC (``Parent.to_proto`` in
    ``engine/conditions.py``), which would mix stray numbers into the chief's summary on
    stdout. A module-level ``print`` in that one module shadows the builtin there only."""
    from keras_tuner.src.engine import conditions

    conditions.print = lambda *args, **kwargs: None


def _thread_pool():
    from concurrent import futures

    return futures.ThreadPoolExecutor(max_workers=8)


def _servicer(oracle, reporter: ProgressReporter | None):
    """keras-tuner's OracleServicer, noting when each running trial was last heard of."""
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer
    from keras_tuner.src.engine import trial as trial_module

    status = trial_module.TrialStatus

    class Servicer(OracleServicer):
        def __init__(self):
            super().__init__(oracle)
            self.heard: dict[str, float] = {}
            self.seen: set[str] = set()
            self.announced: set[str] = set()
            self._ending = threading.Lock()

        def CreateTrial(self, request, context):
            self.seen.add(request.tuner_id)
            trial = self.oracle.create_trial(request.tuner_id)
            if trial.status == status.STOPPED:
                self.stop_triggered = True
            elif trial.status == status.RUNNING:
                self.heard[trial.trial_id] = time.monotonic()
                if trial.trial_id not in self.announced and reporter is not None:
                    self.announced.add(trial.trial_id)
                    reporter.trial_started(
                        trial_number(trial.trial_id), trial.hyperparameters.values
                    )
            return protos.get_service().CreateTrialResponse(trial=trial.to_proto())

        def UpdateTrial(self, request, context):
            self.heard[request.trial_id] = time.monotonic()
            return super().UpdateTrial(request, context)

        def GetTrial(self, request, context):
            self.heard[request.trial_id] = time.monotonic()
            return super().GetTrial(request, context)

        def EndTrial(self, request, context):
            trial_id = request.trial.trial_id
            with self._ending:
                known = self.oracle.trials.get(trial_id)
                if known is not None and known.status == status.RUNNING:
                    super().EndTrial(request, context)
                    self._report_end(trial_id)
            # A report of a trial already ended (its worker was given up for lost and
            # came back) is dropped; the worker carries on with a new trial.
            return protos.get_service().EndTrialResponse()

        def fail(self, trial_id: str, reason: str) -> bool:
            with self._ending:
                trial = self.oracle.trials.get(trial_id)
                if trial is None or trial.status != status.RUNNING:
                    return False
                trial.status = status.FAILED
                trial.message = reason
                self.oracle.end_trial(trial)
                self._report_end(trial_id)
                return True

        def _report_end(self, trial_id: str) -> None:
            self.heard.pop(trial_id, None)
            if reporter is None:
                return
            trial = self.oracle.trials[trial_id]
            ended = "FAILED" if trial.status in (status.FAILED, status.INVALID) else "COMPLETED"
            score = trial.score if ended == "COMPLETED" else None
            detail = _message_line(trial.message) if ended == "FAILED" else ""
            reporter.trial_ended(trial_number(trial_id), ended, score, detail)

    return Servicer()


def trial_number(trial_id: str) -> int:
    """The 1-based number of a trial: keras-tuner numbers trials in creation order."""
    try:
        return int(trial_id) + 1
    except ValueError:
        return 0


def _message_line(message: str | None) -> str:
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no output"
    lines = [line.strip() for line in lines if line.strip()]
    return lines[-1] if lines else "no output"


def default_tuner_id() -> str:
    """A worker name unique across machines: ``KERASTUNER_TUNER_ID`` or host and pid."""
    return os.environ.get("KERASTUNER_TUNER_ID") or f"worker-{socket.gethostname()}-{os.getpid()}"
