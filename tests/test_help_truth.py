"""What the --help texts promise, held to the code (audit 'help-truth', 2026-12-07)."""

from __future__ import annotations

import pytest

from ramancam.cli import build_parser, main
from ramancam.errors import RamancamError
from ramancam.model import resolve_device


@pytest.mark.parametrize("device", ["mps", "xpu", "meta", "cpu:x"])
def test_a_device_other_than_cpu_or_cuda_is_refused_in_one_line(device):
    # 'mps' passed torch.device() and failed inside the first fit with a traceback (rc 1)
    with pytest.raises(RamancamError, match=r"device must be 'cpu', 'cuda', 'cuda:N' or "
                                            rf"'auto'; got '{device}'\.$"):
        resolve_device(device)


def test_train_refuses_an_unknown_device_before_reading(tmp_path, capsys):
    code = main(["train", str(tmp_path / "none.csv"), "--label-col", "label", "--device",
                 "mps", "--out", str(tmp_path / "m.ramancam")])
    err = capsys.readouterr().err
    assert code == 2 and "device must be 'cpu', 'cuda', 'cuda:N' or 'auto'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["predict", "explain"])
def test_commands_that_use_no_groups_do_not_offer_groups_from(command, capsys):
    # predict and explain accepted --groups-from and ignored it: no output used the groups
    code = main([command, "m.ramancam", "d.csv", "--groups-from", "regex:(rep\\d)"])
    assert code == 2 and "unrecognized arguments: --groups-from" in capsys.readouterr().err
    assert "--groups-from" not in _help(command)
    assert "--groups-from" in _help("train") and "--groups-from" in _help("baseline")


def _help(command):
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices[command].format_help()


def test_predict_help_gives_the_sets_level_as_the_models_rate():
    text = " ".join(_help("predict").split())
    assert "in its set 95 % of the time" not in text
    assert "1 - rate of the time" in text and "--novelty-rate" in text


def test_baseline_help_says_a_fixed_split_writes_its_test_part():
    text = " ".join(_help("baseline").split())
    assert "every spectrum once, as a test spectrum" not in text
    assert "each test spectrum once: every spectrum with K folds, the test part of a fixed " \
           "split" in text


def test_laser_nm_help_names_absolute_wavenumbers():
    # since 11076ee --laser-nm converts an axis wholly above 4500 cm-1 (absolute wavenumbers),
    # even a JCAMP-DX ##XUNITS=1/CM or SPC XWAVEN one; the help said only wavelengths in nm
    # and that every file stating Raman shift is left as it is
    from ramancam.checks import MAX_SHIFT

    text = " ".join(_help("info").split())
    assert "absolute wavenumbers" in text and f"above {MAX_SHIFT:g} cm-1" in text
    assert "files stating Raman shift are left as they are" not in text
