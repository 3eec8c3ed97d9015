import io
import re
import threading

import pytest

from dladvisor.tuning import Deadline, ProgressReporter, progress


def test_reporter_writes_progress_lines_to_stderr(capsys):
    reporter = ProgressReporter()
    reporter.search_started(
        objective="val_loss", direction="min", max_trials=20, deadline=Deadline(3600)
    )
    reporter.trial_started(3)
    reporter.epoch_ended(4, 30, {"val_loss": 0.412})
    reporter.trial_ended(3, "COMPLETED", 0.4)
    out, err = capsys.readouterr()
    assert out == ""
    assert "trial 3/20 - epoch 4/30 - best val_loss 0.412 - 1h00m left" in err
    assert "trial 3 completed - val_loss 0.4 - best val_loss 0.4" in err


def test_best_follows_direction(capsys):
    reporter = ProgressReporter()
    reporter.search_started(objective="val_accuracy", direction="max", max_trials=2)
    reporter.trial_ended(1, "COMPLETED", 0.7)
    reporter.trial_ended(2, "COMPLETED", 0.6)
    assert capsys.readouterr().err.splitlines()[-1].endswith("best val_accuracy 0.7")


def test_quiet_writes_nothing(capsys):
    reporter = ProgressReporter(quiet=True)
    reporter.search_started(objective="val_loss", direction="min", max_trials=1)
    reporter.trial_started(1)
    reporter.epoch_ended(1, 2, {"val_loss": 1.0}, fold=(1, 3))
    reporter.message("hello")
    assert capsys.readouterr() == ("", "")


def test_a_gans_epoch_line_shows_both_networks_losses(capsys):
    reporter = ProgressReporter()
    reporter.search_started(objective="val_psnr", direction="max", max_trials=2)
    reporter.trial_started(1)
    reporter.epoch_ended(2, 5, {"d_loss": 1.3862, "g_loss": 0.693, "val_psnr": 21.5})
    assert "trial 1/2 - epoch 2/5 - d_loss 1.39 g_loss 0.693 - best val_psnr 21.5" in (
        capsys.readouterr().err
    )


class FakeTerminal(io.StringIO):
    """What the reporter writes, as if stderr were a terminal."""

    def isatty(self):
        return True


@pytest.fixture
def terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")
    return FakeTerminal()


def _search(reporter, trials=2, epochs=2):
    reporter.search_started(
        objective="val_loss", direction="min", max_trials=trials, deadline=Deadline(3600)
    )
    for number in range(1, trials + 1):
        reporter.trial_started(number, {"units": 32 * number, "learning_rate": 0.001})
        for epoch in range(1, epochs + 1):
            reporter.epoch_ended(epoch, epochs, {"loss": 0.9, "val_loss": 1.0 / (number + epoch)})
        reporter.trial_ended(number, "COMPLETED", 1.0 / (number + epochs))


def test_a_terminal_gets_bars_and_keeps_one_line_per_trial(terminal):
    reporter = ProgressReporter(stream=terminal)
    _search(reporter)
    reporter.message("search ended")
    reporter.close()
    drawn = terminal.getvalue()
    assert "━" in drawn  # the bars
    assert "search" in drawn and "trial 2/2" in drawn and "epoch 2/2" in drawn
    assert "trial 1 completed - val_loss 0.3333 - best val_loss 0.3333 - " in drawn
    assert "trial 2 completed - val_loss 0.25 - best val_loss 0.25 - " in drawn
    # The bars leave the terminal with the cursor shown again and only the trial lines
    # and messages on the screen.
    assert "\x1b[?25h" in drawn[drawn.rindex("\x1b[?25l") :]
    screen = _screen(drawn)
    assert [line.split(" - ")[0] for line in screen] == [
        "trial 1 completed",
        "trial 2 completed",
        "search ended",
    ]
    # Epochs are not kept as lines unless verbose; hyperparameters neither.
    assert "hyperparameters" not in drawn


def test_a_terminal_after_close_gets_plain_messages(terminal):
    reporter = ProgressReporter(stream=terminal)
    _search(reporter, trials=1, epochs=1)
    reporter.close()
    before = terminal.getvalue()
    reporter.message("written: runs/x")
    assert terminal.getvalue() == before + "written: runs/x\n"


def test_a_log_file_gets_exactly_the_plain_lines():
    log = io.StringIO()
    reporter = ProgressReporter(stream=log)
    reporter.search_started(objective="val_loss", direction="min", max_trials=2)
    reporter.trial_started(1, {"units": 64})
    reporter.epoch_ended(1, 2, {"loss": 0.7, "val_loss": 0.5})
    reporter.epoch_ended(2, 2, {"loss": 0.6, "val_loss": 0.45}, fold=(1, 3))
    reporter.trial_ended(1, "FAILED", None, "ValueError: boom")
    reporter.message("done")
    reporter.close()
    assert log.getvalue().splitlines() == [
        "trial 1/2",
        "trial 1/2 - epoch 1/2 - best val_loss 0.5",
        "trial 1/2 - fold 1/3 - epoch 2/2 - best val_loss 0.45",
        "trial 1 failed - no score - ValueError: boom - best val_loss 0.45",
        "done",
    ]


def test_verbose_shows_hyperparameters_and_every_metric():
    log = io.StringIO()
    reporter = ProgressReporter(stream=log, verbose=True)
    reporter.search_started(objective="val_loss", direction="min", max_trials=2)
    reporter.trial_started(1, {"units": 64, "learning_rate": 0.00123456, "tuner/epochs": 3})
    reporter.epoch_ended(1, 3, {"loss": 0.71234, "val_loss": 0.5, "note": "text"})
    lines = log.getvalue().splitlines()
    assert lines[1] == "trial 1 hyperparameters: learning_rate=0.001235, units=64"
    assert lines[2] == "trial 1/2 - epoch 1/3 - loss 0.7123 val_loss 0.5 - best val_loss 0.5"


def test_verbose_on_a_terminal_keeps_hyperparameters_and_epochs_above_the_bars(terminal):
    reporter = ProgressReporter(stream=terminal, verbose=True)
    _search(reporter, trials=1, epochs=2)
    reporter.close()
    kept = [line.split(" - best")[0] for line in _screen(terminal.getvalue())]
    assert kept == [
        "trial 1 hyperparameters: learning_rate=0.001, units=32",
        "trial 1/1 - epoch 1/2 - loss 0.9 val_loss 0.5",
        "trial 1/1 - epoch 2/2 - loss 0.9 val_loss 0.3333",
        "trial 1 completed - val_loss 0.3333",
    ]


def test_quiet_on_a_terminal_draws_nothing(terminal):
    reporter = ProgressReporter(stream=terminal, quiet=True, verbose=True)
    _search(reporter)
    with reporter.reading(__file__):
        pass
    reporter.close()
    assert terminal.getvalue() == ""


def test_a_large_input_is_announced_while_it_is_read(tmp_path, monkeypatch, terminal):
    data = tmp_path / "big.csv"
    data.write_text("x\n" * 1500)
    log = io.StringIO()
    with ProgressReporter(stream=log).reading(data):  # 3 KB: small, quiet
        pass
    assert log.getvalue() == ""
    monkeypatch.setattr(progress, "LARGE_INPUT_BYTES", 1000)
    with ProgressReporter(stream=log).reading(data):
        pass
    assert log.getvalue() == f"profiling {data} (3 KB)\n"
    with ProgressReporter(stream=terminal).reading(data):
        pass
    assert f"profiling {data} (3 KB)" in terminal.getvalue()  # a spinner...
    assert _screen(terminal.getvalue()) == []  # ...erased when the file is read


def test_verbose_announces_any_input(tmp_path):
    data = tmp_path / "small.csv"
    data.write_text("x\n1\n")
    log = io.StringIO()
    with ProgressReporter(stream=log, verbose=True).reading(data):
        pass
    assert log.getvalue() == f"profiling {data} (4 B)\n"


def test_trials_reported_from_several_threads_keep_whole_lines():
    log = io.StringIO()
    reporter = ProgressReporter(stream=log)
    reporter.search_started(objective="val_loss", direction="min", max_trials=40)

    def run(number):
        reporter.trial_started(number)
        reporter.trial_ended(number, "COMPLETED", 1.0 / number)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(1, 41)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = log.getvalue().splitlines()
    assert len(lines) == 80
    completed = [int(line.split()[1]) for line in lines if "completed" in line]
    assert sorted(completed) == list(range(1, 41))
    whole = (
        r"trial \d+/40( - best val_loss [\d.]+)?|trial \d+ completed - val_loss [\d.]+ - best .*"
    )
    assert all(re.fullmatch(whole, line) for line in lines)


def _screen(drawn: str) -> list[str]:
    """The lines left on a terminal after it is sent ``drawn`` (a tiny emulator of the
    sequences rich uses: carriage return, new line, cursor up, erase line)."""
    lines, row, column = [""], 0, 0
    for token in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+", drawn):
        if token == "\r":
            column = 0
        elif token == "\n":
            row, column = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        elif token.endswith("A") and token.startswith("\x1b["):
            row = max(0, row - int(token[2:-1] or 1))
        elif token == "\x1b[2K":
            lines[row] = ""
        elif not token.startswith("\x1b"):
            line = lines[row].ljust(column)
            lines[row] = line[:column] + token + line[column + len(token) :]
            column += len(token)
    return [line.rstrip() for line in lines if line.strip()]
