"""A cube write stopped by Ctrl-C or SIGTERM leaves no temporary folder
(:func:`ramancam.io.zarr_cube.atomic_store`), though zarr's I/O thread goes on writing."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

pytest.importorskip("zarr")

from ramancam.io.zarr_cube import atomic_store, create_cube


def test_a_late_write_into_a_stopped_store_is_removed_too(tmp_path):
    # the exception reached the command while the write went on in another thread, which
    # made chunk folders again after the temporary folder was removed: it stayed
    late = []

    def writer(tmp):
        time.sleep(0.05)  # after the removal that the exception set off
        (tmp / "spectra" / "c" / "0").mkdir(parents=True, exist_ok=True)
        (tmp / "spectra" / "c" / "0" / "3").write_bytes(b"chunk")

    with pytest.raises(KeyboardInterrupt):
        with atomic_store(tmp_path / "c.zarr") as tmp:
            tmp.mkdir()
            late.append(threading.Thread(target=writer, args=(tmp,)))
            late[0].start()
            raise KeyboardInterrupt
    late[0].join()
    assert list(tmp_path.iterdir()) == []


def test_zarrs_pending_writes_end_before_the_store_is_removed(tmp_path):
    # a write of zarr's I/O thread still going when the exception came: waited for (with
    # another zarr, the removal above is the fallback)
    import asyncio

    from zarr.core.sync import _get_loop

    pending = []

    async def slow_chunk(folder):
        await asyncio.sleep(0.5)  # longer than the removal waits for a folder to stay gone
        await asyncio.to_thread(lambda: (folder / "c" / "1").mkdir(parents=True))

    with pytest.raises(KeyboardInterrupt):
        with atomic_store(tmp_path / "c.zarr") as tmp:
            cube = create_cube(tmp, (4, 4), np.arange(3.0), chunks=(2, 2))
            cube.spectra[:2, :2] = 1.0
            pending.append(asyncio.run_coroutine_threadsafe(slow_chunk(tmp / "spectra"),
                                                            _get_loop()))
            raise KeyboardInterrupt
    pending[0].result(5)
    assert list(tmp_path.iterdir()) == []
