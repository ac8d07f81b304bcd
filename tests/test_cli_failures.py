"""The one ``error:`` line of a command that ran out of memory or whose file the system
refused (cli/_failures.py): the cause in words and a fix that fits the command."""

from __future__ import annotations

import pytest

from _toy_sets import FAST, fast_model, peaks_table
from ramancam.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: What torch's CPU allocator raised under 'ulimit -v 900000' in predict (_fast.py, F.pad).
ALLOC = ("[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: can't allocate "
         "memory: you tried to allocate 9437184 bytes. Error code 12 (Cannot allocate memory)")


@pytest.fixture(scope="module")
def peaks_file(tmp_path_factory):
    return peaks_table(tmp_path_factory, n_per_class=3, seed=4)


@pytest.fixture(scope="module")
def model_file(peaks_file):
    return fast_model(peaks_file)


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    return err.strip()


def test_torch_running_out_of_memory_is_one_line(peaks_file, model_file, tmp_path,
                                                 monkeypatch, capsys):
    # a 43-line traceback, status 1: only MemoryError was caught, not torch's RuntimeError
    import torch
    import torch.nn.functional as F

    def no_memory(*args, **kwargs):
        raise RuntimeError(ALLOC)

    monkeypatch.setattr(F, "pad", no_memory)
    assert main(["predict", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "p.csv")]) == 2
    err = _one_line(capsys)
    assert err.startswith("error: not enough memory for this input, which was read whole. ")
    assert "'ramancam convert MAP OUT.zarr'" in err and "run predict on the cube" in err

    def cuda_no_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(F, "pad", cuda_no_memory)
    assert main(["explain", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "e.csv")]) == 2
    assert "run explain on the cube" in _one_line(capsys)
    # any other RuntimeError stays a bug, with its traceback
    monkeypatch.setattr(F, "pad", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError, match=r"^x$"):
        main(["predict", str(model_file), str(peaks_file), "--out", str(tmp_path / "p.csv")])


def test_running_out_of_memory_in_train_names_what_train_can_change(peaks_file, tmp_path,
                                                                    monkeypatch, capsys):
    # train was told to write a Zarr cube and run predict or explain on it
    import torch

    def no_memory(*args, **kwargs):
        raise RuntimeError(ALLOC)

    monkeypatch.setattr(torch.Tensor, "backward", no_memory)
    assert main(["train", str(peaks_file), "--label-col", "label", *FAST, "--folds", "2",
                 "--no-compare", "--out", str(tmp_path / "m.ramancam")]) == 2
    err = _one_line(capsys)
    assert err == (
        "error: not enough memory to train on this set, which is held whole in memory. Use "
        "fewer spectra, shorter ones (a narrower or coarser --grid START:STOP:STEP), a "
        "smaller --batch-size (now 32), or a machine with more memory.")
    assert not (tmp_path / "m.ramancam").exists()


def test_a_library_that_cannot_be_mapped_is_said_as_memory(peaks_file, monkeypatch, capsys):
    # 'ulimit -v' too low for torch's libraries: an ImportError traceback
    import ramancam.cli._common as cli_common

    def unmapped(*args, **kwargs):
        raise ImportError("/venv/lib/python3.11/site-packages/torch/lib/libtorch_cpu.so: "
                          "failed to map segment from shared object")

    monkeypatch.setattr(cli_common, "read_data", unmapped)
    assert main(["info", str(peaks_file)]) == 2
    assert _one_line(capsys) == (
        "error: not enough memory to load the library libtorch_cpu.so (failed to map segment "
        "from shared object): this process may use too little memory (ulimit -v) for the "
        "libraries ramancam loads. Raise the limit (ulimit -v unlimited) or run where more "
        "memory is free.")

