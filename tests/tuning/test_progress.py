from dladvisor.tuning import Deadline, ProgressReporter


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
