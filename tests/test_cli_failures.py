"""The one ``error:`` line of a command that ran out of memory or whose file the system
refused (cli/_failures.py): the cause in words and a fix that fits the command."""

from __future__ import annotations

import errno
from pathlib import Path

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


def _refuse_open(monkeypatch: pytest.MonkeyPatch, ending: str, code: int) -> None:
    """Opening a file whose path ends in ``ending`` fails with ``code`` (root opens any)."""
    import builtins
    import io
    import os

    real_open, real_os_open = builtins.open, os.open

    def check(file: object) -> None:
        if isinstance(file, (str, bytes, os.PathLike)) and os.fsdecode(file).endswith(ending):
            raise OSError(code, os.strerror(code), os.fsdecode(file))

    def fopen(file, *args, **kwargs):
        check(file)
        return real_open(file, *args, **kwargs)

    def fos_open(file, *args, **kwargs):
        check(file)
        return real_os_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fopen)
    monkeypatch.setattr(io, "open", fopen)
    monkeypatch.setattr(os, "open", fos_open)


def test_a_file_that_cannot_be_read_is_named_with_the_cause_and_fix(
        peaks_file, model_file, tmp_path, monkeypatch, capsys):
    # '[Errno 13] Permission denied: ...': no fix, and a folder read stopped without a word
    fold = tmp_path / "fold"
    for cls in ("A", "B"):
        (fold / cls).mkdir(parents=True)
        for i in range(2):
            (fold / cls / f"s{i}.txt").write_text("400 1\n401 2\n402 3\n")
    with monkeypatch.context() as m:
        _refuse_open(m, "s1.txt", errno.EACCES)
        assert main(["info", str(fold)]) == 2
    bad = fold / "A" / "s1.txt"
    assert _one_line(capsys) == (
        f"error: {str(bad)!r} could not be read: permission denied; the folder read, "
        f"{str(fold)!r}, stopped there. Give yourself read permission (ls -l, chmod u+r) or "
        "copy it where you can read it.")
    with monkeypatch.context() as m:
        _refuse_open(m, "peaks.ramancam", errno.EACCES)
        assert main(["predict", str(model_file), str(peaks_file), "--out",
                     str(tmp_path / "p.csv")]) == 2
    assert _one_line(capsys) == (
        f"error: {str(model_file)!r} could not be read: permission denied. Give yourself read "
        "permission (ls -l, chmod u+r) or copy it where you can read it.")
    with monkeypatch.context() as m:
        _refuse_open(m, "peaks.csv", errno.EIO)
        assert main(["info", str(peaks_file)]) == 2
    assert _one_line(capsys) == (
        f"error: {str(peaks_file)!r} could not be read: an input/output error (a failing disk "
        "or a lost network file system). Check the disk, or copy the file to another.")


def test_names_and_paths_too_long_say_which_limit(tmp_path, monkeypatch, capsys):
    # '[Errno 36] File name too long: ...' for a 300-byte name and a path over PATH_MAX alike
    monkeypatch.chdir(tmp_path)
    name = "x" * 300 + ".csv"
    assert main(["simulate", "peaks", "--out", name]) == 2
    assert _one_line(capsys) == (
        f"error: '{name[:60]}...{name[-50:]}' could not be written: a name in it has 304 "
        "bytes, more than the 255 a file system allows. Use a shorter name.")
    deep = "/".join(["d" * 250] * 20) + "/x.csv"
    assert main(["info", deep]) == 2
    err = _one_line(capsys)
    assert err.startswith(f"error: '{deep[:60]}...") and " could not be read: its path has " \
        in err and "bytes, more than the 4096 the system allows. Use a shorter path" in err
    assert not list(Path(tmp_path).iterdir())


def test_running_out_of_memory_while_loading_a_model_does_not_blame_the_file(
        peaks_file, model_file, tmp_path, monkeypatch, capsys):
    # load caught RuntimeError/MemoryError while building the network and said "The file is
    # damaged or was altered": under a memory limit, a good model file was blamed
    from ramancam import model as model_module

    def no_memory(*args, **kwargs):
        raise RuntimeError(ALLOC)

    monkeypatch.setattr(model_module.RamanCNN, "__init__", no_memory)
    assert main(["predict", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "p.csv")]) == 2
    err = _one_line(capsys)
    assert err.startswith("error: not enough memory ") and "damaged" not in err
    # a network that cannot be built for another reason is still the file's fault
    monkeypatch.setattr(model_module.RamanCNN, "__init__",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("bad shape")))
    assert main(["predict", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "p.csv")]) == 2
    assert "The file is damaged or was altered" in _one_line(capsys)


def test_a_thread_the_system_would_not_start_is_one_line(peaks_file, model_file, tmp_path,
                                                         monkeypatch, capsys):
    # a RuntimeError("can't start new thread") (ulimit -u, or memory) ended in a traceback
    import torch.nn.functional as F

    def no_thread(*args, **kwargs):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(F, "pad", no_thread)
    assert main(["predict", str(model_file), str(peaks_file), "--out",
                 str(tmp_path / "p.csv")]) == 2
    err = _one_line(capsys)
    assert err.startswith("error: the system would not start another thread ")
    assert "ulimit -u" in err and "--workers" not in err
