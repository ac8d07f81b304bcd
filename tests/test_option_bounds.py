"""Count options with an upper bound: a value far beyond any real use is refused in one
line naming the option, before any thread, network or array is made (``--threads 100000``
spent the machine's process limit; ``--epochs 10**30`` ended in an OverflowError
traceback; ``--filters 10**30`` in torch's "Overflow when unpacking long long")."""

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
from ramancam.train import CNNClassifier

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


# ------------------------------------------------------------ network and training sizes
TRAIN = ["--label-col", "label", "--recipe", "none", "--epochs", "1", "--filters", "2",
         "--fc-width", "4", "--folds", "2", "--no-compare", "--novelty", "none"]


@pytest.mark.parametrize("option, name, most", [
    ("--epochs", "epochs", "1,000,000"), ("--filters", "n_filters", "100,000"),
    ("--filter-size", "filter_size", "100,000"), ("--fc-width", "fc_width", "100,000"),
    ("--augment-shift", "augment_shift", "100,000"),
    ("--batch-size", "batch_size", "10,000,000")])
def test_huge_network_and_training_options_are_refused_by_name(files, capsys, monkeypatch,
                                                               option, name, most):
    import ramancam.cli._common as common

    def no_reading(*a, **k):
        raise AssertionError("the data were read before the options were checked")

    monkeypatch.setattr(common, "read_data", no_reading)
    extra = ["--augment", "on"] if option == "--augment-shift" else []
    out = files / "big.ramancam"
    line = _err(capsys, ["train", str(files / "sim.csv"), *TRAIN, *extra, option, BIG,
                         "--out", str(out)])
    low = 0 if name == "augment_shift" else 1
    assert line == (f"error: {option} must be an integer from {low} to {most}; got a number "
                    "of 31 digits. Give a smaller value."), line
    assert not out.exists()
    # the Python API refuses it in fit, in its keyword's name
    s = peak_position_set(2, rng=0)
    with pytest.raises(RamancamError, match=rf"^{name} must be an integer from {low} to "):
        CNNClassifier(**{name: 10**30}).fit(s.X, s.labels)


def test_the_bounds_themselves_are_accepted():
    from ramancam._cnn_params import check_params

    check_params(CNNClassifier(epochs=10**6, n_filters=10**5, filter_size=10**5,
                               fc_width=10**5, augment_shift=10**5, batch_size=10**7))


# ------------------------------------------------------------------------------- simulate
def test_simulate_peaks_with_a_400_digit_count_is_refused(tmp_path, capsys):
    line = _err(capsys, ["simulate", "peaks", "--out", str(tmp_path / "s.csv"),
                         "--n-per-class", "9" * 400])
    assert line.startswith("error: --n-per-class must be smaller for the memory there is; "
                           "got a number of 400 digits"), line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("out", ["s.zarr", "s.csv"])
def test_simulate_map_larger_than_the_disk_is_refused(tmp_path, capsys, out):
    # (the map is written tile by tile: the disk bounds it, a tile the memory)
    line = _err(capsys, ["simulate", "map", "--out", str(tmp_path / out), "--shape",
                         "100000000000000000000x4"])
    assert line.startswith("error: --shape must be smaller for the disk space there is; got "
                           "'100000000000000000000x4' (about 10^20 spectra x 1024 "
                           "channels need at least "), line
    assert list(tmp_path.iterdir()) == []


def test_simulate_map_tile_larger_than_memory_is_refused(tmp_path, capsys):
    line = _err(capsys, ["simulate", "map", "--out", str(tmp_path / "s.zarr"), "--shape",
                         "100000x100000", "--chunk", "100000x100000"])
    assert line.startswith("error: --chunk must be smaller for the memory there is; got "
                           "'100000x100000'"), line
    assert list(tmp_path.iterdir()) == []


def test_simulate_map_memory_check_leaves_real_sizes_alone(tmp_path, capsys):
    assert main(["simulate", "map", "--out", str(tmp_path / "s.zarr"), "--shape", "6x4",
                 "--chunk", "3x2"]) == 0
    assert "wrote a 6 x 4 map" in capsys.readouterr().out



@pytest.mark.parametrize("kind", ["common", "map"])
def test_simulate_random_peaks_has_an_upper_bound(tmp_path, capsys, kind):
    out = tmp_path / ("s.zarr" if kind == "map" else "s.csv")
    extra = ["--shape", "4x4"] if kind == "map" else []
    line = _err(capsys, ["simulate", kind, "--out", str(out), *extra, "--random-peaks",
                         "1001"])
    assert line == ("error: --random-peaks must be an integer from 0 to 1000; got 1001. Give "
                    "e.g. --random-peaks 3."), line
    assert list(tmp_path.iterdir()) == []
