"""Count options with an upper bound: a value far beyond any real use is refused in one
line naming the option, before any thread is made (``--threads 100000`` spent the
machine's process limit; ``--threads 10**30`` ended in torch's "Overflow when unpacking
long long")."""

from __future__ import annotations

import pytest
import torch

from ramancam import _cores
from ramancam.bundle import save, training_summary
from ramancam.cli import main
from ramancam.errors import RamancamError
from ramancam.io import write_table
from ramancam.model import CNNConfig, RamanCNN
from ramancam.simulate import peak_position_set

pytestmark = pytest.mark.usefixtures("one_torch_thread")

BIG = str(10**30)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A table of simulated spectra and a tiny untrained model on their grid."""
    d = tmp_path_factory.mktemp("bounds")
    s = peak_position_set(2, rng=0)
    write_table(s, d / "sim.csv")
    torch.manual_seed(0)
    net = RamanCNN(CNNConfig(n_points=s.X.shape[1], n_classes=3, n_filters=2,
                             fc_width=4)).eval()
    save(d / "m.ramancam", estimator=net, recipe=None, grid=s.wavenumbers,
         classes=sorted(set(s.labels.tolist())), training_summary=training_summary(s))
    return d


@pytest.fixture
def two_cores(monkeypatch):
    """A process allowed on 2 cores; torch and the BLAS libraries must not be given a
    thread count (the refusal comes before any thread is made)."""
    import threadpoolctl

    monkeypatch.setattr(_cores.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)

    def no(*a, **k):
        raise AssertionError("a thread count was set before the refusal")

    monkeypatch.setattr(torch, "set_num_threads", no)
    monkeypatch.setattr(threadpoolctl, "threadpool_limits", no)


def _err(capsys, argv):
    rc = main(argv)
    cap = capsys.readouterr()
    assert rc == 2, cap
    assert "Traceback" not in cap.err
    lines = cap.err.strip().splitlines()
    assert lines[-1].startswith("error: "), cap.err
    return lines[-1]


@pytest.mark.parametrize("value", ["9", BIG])
@pytest.mark.parametrize("command", ["predict", "explain", "train"])
def test_threads_above_four_per_core_are_refused_before_any_thread(files, capsys, two_cores,
                                                                   command, value):
    argv = {"predict": ["predict", str(files / "m.ramancam"), str(files / "sim.csv")],
            "explain": ["explain", str(files / "m.ramancam"), str(files / "sim.csv"),
                        "--out", str(files / "ex")],
            "train": ["train", str(files / "sim.csv"), "--label-col", "label", "--out",
                      str(files / "o.ramancam")]}[command]
    line = _err(capsys, [*argv, "--threads", value])
    shown = value if len(value) < 20 else "a number of 31 digits"
    assert line == (f"error: --threads must be at most 8 (4 x the 2 cores this process may "
                    f"use); got {shown}. More only wait for each other: give e.g. "
                    "--threads 2."), line
    assert not (files / "ex").exists() and not (files / "o.ramancam").exists()


def test_threads_at_the_bound_are_set(monkeypatch):
    from ramancam.cli.train import release_threads, set_threads

    monkeypatch.setattr(_cores.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    got = []
    monkeypatch.setattr(torch, "set_num_threads", got.append)
    set_threads(8)
    release_threads()
    assert got == [8]


def test_workers_times_threads_above_the_bound_are_refused(files, capsys, two_cores):
    line = _err(capsys, ["predict", str(files / "m.ramancam"), str(files / "sim.csv"),
                         "--out", str(files / "w"), "--workers", "3", "--threads", "3"])
    assert line.startswith("error: --workers must be at most 8 (4 x the 2 cores this process "
                           "may use); got 3 x 3 threads each (--threads)."), line
    assert "--workers" in _err(capsys, ["predict", str(files / "m.ramancam"),
                                        str(files / "sim.csv"), "--workers", BIG])


def test_scale_run_refuses_workers_before_a_cluster(monkeypatch, tmp_path):
    from ramancam.scale import MapJob, run

    monkeypatch.setattr(_cores.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    job = MapJob(model="m", cube="c", out=str(tmp_path / "o.zarr"), kind="predict")
    with pytest.raises(RamancamError, match=r"^workers must be at most 4 \(4 x the 1 core "):
        run(job, workers=5)
    assert not (tmp_path / "o.zarr").exists()
