"""Simulated Raman spectra (Fukuhara et al. 2019, section 2.2 and 4.1, Eq. 10).

* :func:`lorentzian` — one Lorentzian band, Eq. (10) without the noise term;
* :func:`peak_position_set` — the peak-position task: three classes with one band at channel
  100, 500 or 1000 of a 1024-channel axis (FWHM 4 channels), plus white noise;
* :func:`common_component_set` — the same, plus ``n_random_peaks`` bands at random positions
  per spectrum (the positions are kept as metadata so that explanation maps can be scored);
* :func:`map_layout` / :func:`map_tile` / :func:`simulated_map` / :func:`write_simulated_map`
  — a synthetic Raman image: Voronoi regions of the classes of :func:`common_component_set`,
  generated tile by tile (each tile from its own seed, so any tile can be made alone);
* :func:`mixtures` — numerical mixtures ``pure_a + r * pure_b`` of measured pure spectra
  (paper 4.3), labelled ``a``.

Every function takes ``rng`` (``None``, an ``int`` seed or a ``numpy.random.Generator``); the
same seed gives the same spectra.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._inputs import finite_number
from .errors import RamancamError
from .spectra import Spectra

__all__ = ["CLASS_PEAKS", "DEFAULT_POSITIONS", "MapLayout", "common_component_set", "lorentzian",
           "lorentzian_spectra", "map_layout", "map_tile", "mixtures", "peak_position_set",
           "simulated_map", "write_simulated_map"]

DEFAULT_POSITIONS: tuple[int, ...] = (100, 500, 1000)

#: Label -> channel of the class's defined band, for both simulated sets.
CLASS_PEAKS: dict[str, int] = {f"peak_{p}": p for p in DEFAULT_POSITIONS}

RngLike = np.random.Generator | int | None


def _rng(rng: RngLike) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise RamancamError(
        f"rng must be None, an integer seed or a numpy.random.Generator; got {type(rng).__name__}.")


def lorentzian(x: ArrayLike, x0: ArrayLike, fwhm: float, amplitude: ArrayLike = 1.0
               ) -> NDArray[np.float64]:
    """Lorentzian band, Eq. (10) without the noise term.

    ``S(x) = amplitude / (1 + ((x - x0) / (fwhm / 2))**2)``.

    Parameters
    ----------
    x : array-like of shape (n_points,)
        Axis (channels or cm-1).
    x0 : float or array-like of shape (n_spectra,)
        Band centre(s). With an array, one band per spectrum is returned.
    fwhm : float
        Full width at half maximum, in axis units; must be > 0.
    amplitude : float or array-like of shape (n_spectra,)
        Peak height(s).

    Returns
    -------
    ndarray of shape (n_points,) for a scalar ``x0``, else (n_spectra, n_points)
    """
    if not finite_number(fwhm) or fwhm <= 0:
        raise RamancamError(f"fwhm must be a positive number; got {fwhm!r}.")
    xa = np.asarray(x, dtype=np.float64)
    c = np.asarray(x0, dtype=np.float64)
    a = np.asarray(amplitude, dtype=np.float64)
    if c.ndim == 0:
        return np.asarray(a / (1.0 + ((xa - c) / (fwhm / 2.0)) ** 2), dtype=np.float64)
    return np.asarray(a[..., None] / (1.0 + ((xa[None, :] - c[:, None]) / (fwhm / 2.0)) ** 2),
                      dtype=np.float64)


def lorentzian_spectra(positions: ArrayLike, *, n_channels: int = 1024, fwhm: float = 4.0,
                       amplitudes: ArrayLike | None = None, noise: float = 0.025,
                       rng: RngLike = None) -> NDArray[np.float64]:
    """Sums of Lorentzian bands plus uniform white noise, Eq. (10).

    Parameters
    ----------
    positions : array-like of shape (n_spectra, n_bands)
        Band centres (channels) of each spectrum.
    n_channels : int
        Number of channels; the axis is ``0 .. n_channels - 1``.
    fwhm : float
        Band width (channels).
    amplitudes : array-like of shape (n_spectra, n_bands), optional
        Band heights (default 1).
    noise : float
        White noise uniform in ``[-noise, +noise] * max`` of each noise-free spectrum (paper:
        2.5 %, i.e. 0.025). 0 gives clean spectra.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    ndarray of shape (n_spectra, n_channels)
    """
    gen = _rng(rng)
    _check_channels(n_channels)
    _check_band(fwhm, noise)
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 2:
        raise RamancamError(
            f"positions must be 2-D of shape (n_spectra, n_bands); got shape {pos.shape}.")
    amp = np.ones_like(pos) if amplitudes is None else np.asarray(amplitudes, dtype=np.float64)
    if amp.shape != pos.shape:
        raise RamancamError(
            f"amplitudes must have the shape of positions {pos.shape}; got {amp.shape}.")
    x = np.arange(n_channels, dtype=np.float64)
    # (n, bands, channels) summed over bands: vectorised, no per-spectrum loop.
    clean = (amp[..., None] / (1.0 + ((x - pos[..., None]) / (fwhm / 2.0)) ** 2)).sum(axis=1)
    peak = clean.max(axis=1, keepdims=True)
    return clean + gen.uniform(-noise, noise, size=clean.shape) * peak


def _check_band(fwhm: Any, noise: Any) -> None:
    """Refuse a band width or noise level that gives NaN, flat or mirrored spectra (a width
    of 0 or NaN made all-NaN spectra, inf flat ones, -4 the same as 4)."""
    if not finite_number(fwhm) or fwhm <= 0:
        raise RamancamError(f"fwhm must be a positive finite number; got {fwhm!r}.")
    if not finite_number(noise) or noise < 0:
        raise RamancamError(f"noise must be a number >= 0; got {noise!r}.")


def _check_channels(n_channels: Any) -> None:
    if isinstance(n_channels, bool) or not isinstance(n_channels, (int, np.integer)) \
            or n_channels < 2:
        raise RamancamError(f"n_channels must be an integer >= 2; got {n_channels!r}.")


def _check_map_options(options: dict[str, Any]) -> None:
    """:func:`map_tile`'s options (with its defaults), checked before the first tile."""
    _check_band(options.get("fwhm", 4.0), options.get("noise", 0.025))
    _check_random_peaks(options.get("n_random_peaks", 3))


#: Most random bands per spectrum (the paper's common-component set: 3).
MAX_RANDOM_PEAKS = 1000


def _check_random_peaks(n: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise RamancamError(f"n_random_peaks must be an integer >= 0; got {n!r}.")
    if n > MAX_RANDOM_PEAKS:
        raise RamancamError(f"n_random_peaks must be an integer from 0 to {MAX_RANDOM_PEAKS}; "
                            f"got {n!r}. Give a smaller value.")


def _check_count(n: int, name: str) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise RamancamError(f"{name} must be a positive integer; got {n!r}.")


def _class_layout(n_per_class: int, positions: Sequence[float], n_channels: int
                  ) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    _check_count(n_per_class, "n_per_class")
    _check_channels(n_channels)
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 1 or pos.size < 2:
        raise RamancamError(
            f"positions must list at least 2 class band positions; got {list(pos.ravel())}.")
    shown = [f"{p:g}" for p in pos]
    if not (np.isfinite(pos).all() and (pos >= 0).all() and (pos <= n_channels - 1).all()):
        raise RamancamError(f"positions must lie on the axis, 0 to {n_channels - 1}; got "
                            f"{', '.join(shown)}. Move the bands or raise n_channels.")
    names = [f"peak_{p}" for p in shown]
    if len(set(names)) < len(names):  # two classes of one label would be merged
        twice = sorted({n for n in names if names.count(n) > 1})
        raise RamancamError(f"positions must differ from class to class; got {', '.join(shown)} "
                            f"(label {', '.join(twice)} twice). Give each class its own band.")
    centre = np.repeat(pos, n_per_class)
    labels = np.repeat(np.array(names), n_per_class)
    return centre, labels


def peak_position_set(n_per_class: int = 20, *, n_channels: int = 1024,
                      positions: Sequence[float] = DEFAULT_POSITIONS, fwhm: float = 4.0,
                      noise: float = 0.025, rng: RngLike = None) -> Spectra:
    """The peak-position task (paper 4.1): one band per spectrum, its position is the class.

    Parameters
    ----------
    n_per_class : int
        Spectra per class (paper: 20 for training).
    n_channels : int
        Channels on the axis ``0 .. n_channels - 1`` (paper: 1024).
    positions : sequence of float
        Band position of each class (paper: 100, 500, 1000).
    fwhm : float
        Band width in channels (paper: 4).
    noise : float
        Uniform white noise amplitude relative to the maximum (paper: 0.025).
    rng : None, int or numpy.random.Generator

    Returns
    -------
    Spectra
        ``len(positions) * n_per_class`` spectra, grouped by class; labels ``"peak_<p>"``;
        metadata column ``"peak_position"``.
    """
    centre, labels = _class_layout(n_per_class, positions, n_channels)
    X = lorentzian_spectra(centre[:, None], n_channels=n_channels, fwhm=fwhm, noise=noise,
                           rng=rng)
    return Spectra(X, np.arange(n_channels, dtype=np.float64), labels,
                   {"peak_position": centre})


def common_component_set(n_per_class: int = 100, *, n_random_peaks: int = 3,
                         n_channels: int = 1024,
                         positions: Sequence[float] = DEFAULT_POSITIONS, fwhm: float = 4.0,
                         random_amplitude: float = 1.0, noise: float = 0.025,
                         rng: RngLike = None) -> Spectra:
    """The common-component task (paper 4.1, Fig. 3): the class band plus random bands.

    Each spectrum holds its class's band and ``n_random_peaks`` further Lorentzian bands of
    the same width at positions drawn uniformly over the axis, independently per spectrum.

    Parameters
    ----------
    n_per_class : int
        Spectra per class (paper: 100 for training).
    n_random_peaks : int
        Extra bands per spectrum (paper: 3); 0 gives :func:`peak_position_set`.
    n_channels, positions, fwhm, noise, rng
        As in :func:`peak_position_set`.
    random_amplitude : float
        Height of the random bands relative to the class band (default 1: the same height).

    Returns
    -------
    Spectra
        Labels ``"peak_<p>"``; metadata ``"peak_position"`` and ``"random_peak_1"`` ..
        ``"random_peak_<n_random_peaks>"`` (band centres in channels).
    """
    gen = _rng(rng)
    _check_random_peaks(n_random_peaks)
    if not np.isfinite(random_amplitude) or random_amplitude < 0:
        raise RamancamError(f"random_amplitude must be a number >= 0; got {random_amplitude!r}.")
    centre, labels = _class_layout(n_per_class, positions, n_channels)
    n = centre.size
    extra = gen.uniform(0.0, n_channels - 1, size=(n, n_random_peaks))
    pos = np.column_stack([centre, extra])
    amp = np.column_stack([np.ones(n), np.full((n, n_random_peaks), float(random_amplitude))])
    X = lorentzian_spectra(pos, n_channels=n_channels, fwhm=fwhm, amplitudes=amp, noise=noise,
                           rng=gen)
    meta: dict[str, Any] = {"peak_position": centre}
    for j in range(n_random_peaks):
        meta[f"random_peak_{j + 1}"] = extra[:, j]
    return Spectra(X, np.arange(n_channels, dtype=np.float64), labels, meta)


def _pure_names(pure: Spectra) -> NDArray[np.str_]:
    if pure.labels is not None:
        return pure.labels
    stems = np.array([Path(s).stem if s else "" for s in pure.sources])
    if (stems == "").any():
        raise RamancamError(
            "pure spectra must carry labels (or come from files, whose names are used); got "
            "unlabelled spectra made in memory. Pass labels=... to Spectra.")
    return stems


def mixtures(pure: Spectra, *, n_per_pair: int = 5, ratio: tuple[float, float] = (0.1, 0.5),
             rng: RngLike = None) -> Spectra:
    """Numerical mixtures of pure spectra (paper 4.3): ``pure_a + r * pure_b``.

    For every ordered pair ``(a, b)`` of pure spectra with different labels, ``n_per_pair``
    mixtures are made with ``r`` drawn uniformly from ``ratio``. The label is ``a`` (the main
    component; the paper's one-hot target ignores ``r``).

    Parameters
    ----------
    pure : Spectra
        Pure spectra on one common axis, labelled (or read from files, whose stems are used as
        labels). With 20 pure spectra and ``n_per_pair=5`` this gives 95 mixtures per class.
    n_per_pair : int
        Mixtures per ordered pair (paper: 5).
    ratio : (float, float)
        Range ``(low, high)`` of the admixture ratio ``r`` (paper: 0.1 to 0.5), within
        0 to 1: the label is the main component.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    Spectra
        ``n_per_pair`` spectra per ordered pair of pure spectra with different labels
        (``n_pure * (n_pure - 1) * n_per_pair`` when every label is distinct) on the pure
        spectra's axis; labels =
        main component; metadata ``"partner"`` (label of ``b``) and ``"ratio"`` (``r``).

    Raises
    ------
    RamancamError
        If the pure spectra are not on one common axis, have fewer than 2 distinct labels, or
        ``ratio`` is not ``0 <= low <= high <= 1``.
    """
    gen = _rng(rng)
    _check_count(n_per_pair, "n_per_pair")
    if finite_number(ratio) or not hasattr(ratio, "__len__") or len(ratio) != 2:
        raise RamancamError(f"ratio must be (low, high) with 0 <= low <= high <= 1, e.g. "
                            f"(0.1, 0.5); got {ratio!r}. For one ratio r give (r, r).")
    lo, hi = (float(v) for v in ratio)
    # above 1 the admixed spectrum would be the main component, not the label
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo <= hi <= 1):
        raise RamancamError(
            f"ratio must be (low, high) with 0 <= low <= high <= 1; got {tuple(ratio)!r}. "
            "The label is the main component, so r must not exceed 1.")
    if not pure.has_common_axis:
        raise RamancamError(
            "pure spectra must share one axis; got per-spectrum axes. Resample them first, "
            "e.g. ramancam.preprocess.paper_recipe(grid=(450, 1800, 1)).apply(pure).")
    names = _pure_names(pure)
    if len(set(names.tolist())) < 2:
        raise RamancamError(
            f"pure spectra must have at least 2 different labels; got only "
            f"{', '.join(repr(str(n)) for n in sorted(set(names.tolist())))}. Label a table's "
            "spectra by its label column, or give one file per pure spectrum.")
    X = np.asarray(pure.X, dtype=np.float64)
    ia, ib = np.nonzero(names[:, None] != names[None, :])  # ordered pairs, a != b by label
    ia = np.repeat(ia, n_per_pair)
    ib = np.repeat(ib, n_per_pair)
    r = gen.uniform(lo, hi, size=ia.size)
    mixed = X[ia] + r[:, None] * X[ib]
    return Spectra(mixed, pure.wavenumbers, names[ia],
                   {"partner": names[ib], "ratio": r})


# --------------------------------------------------------------------------- maps

@dataclass(frozen=True)
class MapLayout:
    """Where the classes lie on a simulated map: Voronoi regions around seed points.

    Attributes
    ----------
    shape : (ny, nx)
        Pixels along y and x.
    seeds : ndarray of shape (n_regions, 2)
        Seed positions (y, x) in pixels; each pixel belongs to its nearest seed.
    seed_class : ndarray of int of shape (n_regions,)
        Class index of each region (every class has at least one region).
    positions : tuple of float
        Class band positions (channels); class ``k`` is ``f"peak_{positions[k]:g}"``.
    seed : int
        The seed of the layout; tile ``(y0, x0)`` draws its spectra from
        ``SeedSequence([seed, y0, x0])``.
    """

    shape: tuple[int, int]
    seeds: NDArray[np.float64]
    seed_class: NDArray[np.int64]
    positions: tuple[float, ...]
    seed: int

    @property
    def class_names(self) -> list[str]:
        return [f"peak_{p:g}" for p in self.positions]

    def truth(self, ys: slice, xs: slice) -> NDArray[np.int16]:
        """Class index of every pixel of the window ``[ys, xs]``, shape (h, w)."""
        yy, xx = np.meshgrid(np.arange(ys.start, ys.stop, dtype=np.float64),
                             np.arange(xs.start, xs.stop, dtype=np.float64), indexing="ij")
        d = ((yy[..., None] - self.seeds[:, 0]) ** 2 + (xx[..., None] - self.seeds[:, 1]) ** 2)
        return self.seed_class[d.argmin(axis=-1)].astype(np.int16)


def parse_shape(text: str) -> tuple[int, int]:
    """``"NXxNY"`` (e.g. ``"300x200"``: 300 pixels along x, 200 along y) -> ``(ny, nx)``."""
    parts = str(text).lower().split("x")
    try:
        nx, ny = (int(v) for v in parts)
    except ValueError:
        raise RamancamError(f"shape must be NXxNY, e.g. 300x300; got {text!r}.") from None
    if nx < 1 or ny < 1:
        raise RamancamError(f"shape must be NXxNY with positive sizes; got {text!r}.")
    return ny, nx


def map_layout(shape: tuple[int, int], *, n_regions: int | None = None,
               positions: Sequence[float] = DEFAULT_POSITIONS, seed: int = 0) -> MapLayout:
    """Random Voronoi regions over an (ny, nx) image, classes spread over the regions.

    Parameters
    ----------
    shape : (ny, nx)
    n_regions : int, optional
        Number of regions (default ``max(2 * n_classes, 12)``); at least the number of
        classes, so that every class appears.
    positions : sequence of float
        Class band positions in channels (default 100, 500, 1000: the classes of
        ``ramancam simulate common``).
    seed : int
        Random seed of the layout and of every tile.

    Returns
    -------
    MapLayout
    """
    ny, nx = (int(v) for v in shape)
    _check_count(ny, "ny")
    _check_count(nx, "nx")
    pos = tuple(float(p) for p in positions)
    k = len(pos)
    n = max(2 * k, 12) if n_regions is None else n_regions
    _check_count(n, "n_regions")
    if n < k:
        raise RamancamError(f"n_regions must be at least the number of classes ({k}); got {n}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise RamancamError(f"seed must be an integer; got {seed!r}.")
    gen = np.random.default_rng([int(seed), 0x5EED])
    seeds = gen.uniform(0.0, 1.0, size=(n, 2)) * np.array([ny, nx], dtype=np.float64)
    seed_class = gen.permutation(np.arange(n) % k).astype(np.int64)
    return MapLayout((ny, nx), seeds, seed_class, pos, int(seed))


def map_tile(layout: MapLayout, ys: slice, xs: slice, *, n_random_peaks: int = 3,
             n_channels: int = 1024, fwhm: float = 4.0, noise: float = 0.025
             ) -> tuple[NDArray[np.float32], NDArray[np.int16]]:
    """Spectra and true classes of the window ``[ys, xs]`` of a simulated map.

    Every pixel is a spectrum of :func:`common_component_set`: its class band plus
    ``n_random_peaks`` bands of the same height at random positions, plus white noise. The
    window's random numbers come from ``SeedSequence([layout.seed, ys.start, xs.start])``,
    so a tile is the same whichever tiles were made before it.

    Returns
    -------
    spectra : ndarray of float32 of shape (h, w, n_channels)
    truth : ndarray of int16 of shape (h, w)
        Class index of each pixel (into ``layout.class_names``).
    """
    _check_random_peaks(n_random_peaks)
    truth = layout.truth(ys, xs)
    h, w = truth.shape
    gen = np.random.default_rng([layout.seed, int(ys.start), int(xs.start)])
    centre = np.asarray(layout.positions, dtype=np.float64)[truth.ravel()]
    extra = gen.uniform(0.0, n_channels - 1, size=(h * w, n_random_peaks))
    pos = np.column_stack([centre, extra])
    X = lorentzian_spectra(pos, n_channels=n_channels, fwhm=fwhm, noise=noise, rng=gen)
    return X.astype(np.float32).reshape(h, w, n_channels), truth


def simulated_map(shape: tuple[int, int], *, chunks: tuple[int, int] = (64, 64),
                  seed: int = 0, **options: Any) -> Spectra:
    """A small simulated map in memory (the same spectra as :func:`write_simulated_map` with
    the same ``seed`` and ``chunks``).

    Returns
    -------
    Spectra
        ``ny * nx`` spectra row by row (y outer, x inner) on channels ``0 .. n_channels-1``,
        float32 values as float64; labels = true class; metadata ``x`` and ``y`` (pixels).
    """
    _check_map_options(options)
    layout = map_layout(shape, seed=seed)
    ny, nx = layout.shape
    cy, cx = chunks
    n_channels = int(options.get("n_channels", 1024))
    X = np.empty((ny, nx, n_channels), dtype=np.float32)
    truth = np.empty((ny, nx), dtype=np.int16)
    for y0 in range(0, ny, cy):
        for x0 in range(0, nx, cx):
            ys, xs = slice(y0, min(ny, y0 + cy)), slice(x0, min(nx, x0 + cx))
            X[ys, xs], truth[ys, xs] = map_tile(layout, ys, xs, **options)
    yy, xx = np.meshgrid(np.arange(ny, dtype=np.float64), np.arange(nx, dtype=np.float64),
                         indexing="ij")
    return Spectra(X.reshape(ny * nx, n_channels).astype(np.float64),
                   np.arange(n_channels, dtype=np.float64),
                   np.asarray(layout.class_names)[truth.ravel()],
                   {"x": xx.ravel(), "y": yy.ravel()})


def write_simulated_map(path: str | Path, shape: tuple[int, int], *,
                        chunks: tuple[int, int] = (64, 64), seed: int = 0,
                        **options: Any) -> MapLayout:
    """Write a simulated map tile by tile (memory bounded by one tile; written atomically).

    Parameters
    ----------
    path : str or Path
        ``*.zarr``: a cube (:mod:`ramancam.io.zarr_cube`) with ``truth`` and the class names;
        ``*.csv`` (or ``.csv.gz``): a wide table with columns ``label, x, y`` and one column per
        channel, pixels row by row.
    shape : (ny, nx)
    chunks : (cy, cx)
        Tile size (and the cube's chunks).
    seed : int
    **options
        ``n_random_peaks``, ``n_channels``, ``fwhm``, ``noise`` (see :func:`map_tile`).

    Returns
    -------
    MapLayout
    """
    from .io import atomic_write, gz_name
    from .io.zarr_cube import _check_pair, atomic_store, create_cube

    _check_map_options(options)
    layout = map_layout(shape, seed=seed)
    ny, nx = layout.shape
    cy, cx = _check_pair(chunks, "chunks", "(cy, cx)")
    n_channels = int(options.get("n_channels", 1024))
    axis = np.arange(n_channels, dtype=np.float64)
    out = Path(path)
    name = out.name.lower()
    if name.endswith(".zarr"):
        with atomic_store(out) as tmp:
            cube = create_cube(tmp, (ny, nx), axis, chunks=(cy, cx),
                               x=np.arange(nx, dtype=np.float64),
                               y=np.arange(ny, dtype=np.float64),
                               class_names=layout.class_names)
            for ty, tx in cube.tiles():
                ys, xs = cube.tile(ty, tx)
                cube.spectra[ys, xs, :], cube.truth[ys, xs] = map_tile(layout, ys, xs,
                                                                      **options)
        return layout
    if not (name.endswith(".csv") or name.endswith(".csv.gz")):
        raise RamancamError(f"map output must end in .zarr, .csv or .csv.gz; got {out.name!r}.")
    names = np.asarray(layout.class_names)
    row_fmt = ",".join(["%.9g"] * n_channels)  # 9 significant digits: float32 exactly
    with atomic_write(out, "w", gzip=gz_name(out), newline="") as fh:
        fh.write(",".join(["label", "x", "y", *(repr(float(v)) for v in axis)]) + "\n")
        for y0 in range(0, ny, cy):
            ys = slice(y0, min(ny, y0 + cy))
            band = [map_tile(layout, ys, slice(x0, min(nx, x0 + cx)), **options)
                    for x0 in range(0, nx, cx)]
            X = np.concatenate([b[0] for b in band], axis=1)
            truth = np.concatenate([b[1] for b in band], axis=1)
            for r in range(X.shape[0]):
                for c in range(nx):
                    fh.write(f"{names[truth[r, c]]},{c},{y0 + r},"
                             + row_fmt % tuple(X[r, c].tolist()) + "\n")
    return layout
