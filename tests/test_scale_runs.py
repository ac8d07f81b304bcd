"""Two tiled runs (:mod:`ramancam.scale`) on one result store: a refused run leaves the other
run's store."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

pytest.importorskip("zarr")

from ramancam.cli import main
from test_scale import novelty_map as novelty_map  # the module's fixture, used here

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_refused_run_leaves_the_store_another_run_made(novelty_map, tmp_path, monkeypatch,
                                                         capsys):
    # run B (--bf16) began while the store did not exist; run A made it before B's
    # prepare_output, which refused it (other settings): B's error path deleted A's store
    import ramancam.scale as scale

    model_path, cube_path, _ = novelty_map
    out = tmp_path / "race.zarr"
    real = scale.prepare_output

    def other_run_first(job):  # run A, between B's start and B's prepare_output
        other = threading.Thread(target=real, args=(replace(job, bf16=False),))
        other.start()
        other.join()
        return real(job)

    monkeypatch.setattr(scale, "prepare_output", other_run_first)
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out),
                 "--bf16"]) == 2
    assert "differs in bf16" in capsys.readouterr().err
    assert (out / "done").is_dir()  # run A's store, kept
    monkeypatch.setattr(scale, "prepare_output", real)
    assert main(["predict", str(model_path), str(cube_path), "--out", str(out)]) == 0


def test_a_store_made_by_another_run_meanwhile_is_refused(tmp_path):
    # both runs found no store; the second one's zarr.open_group(mode="w") went on into it
    from ramancam.errors import RamancamError
    from ramancam.maps.lock import claim, make_store

    store = tmp_path / "s.zarr"
    with claim(store) as held:
        store.mkdir()  # the other run's
        with pytest.raises(RamancamError, match=r"^--out must not be written by two runs at "
                                                r"once; got .*s\.zarr', made by another run"):
            make_store(store)
        assert not held.made
        assert store.is_dir()
