"""Colours of classes and text: told apart by colour-blind readers, readable on white."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import numpy as np
import pytest

from ramancam.maps.images import (
    MISSING_COLOR,
    NOT_PREDICTED_COLOR,
    UNKNOWN_COLOR,
    class_colors,
)

# Machado, Oliveira and Fernandes (2009), "A physiologically-based model for simulation of
# color vision deficiency", IEEE TVCG 15(6): the matrices of severity 1.0, applied to
# linear RGB.
MACHADO = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
#: How many classes get colours that colour-blind readers tell apart (Paul Tol's "muted").
SAFE = 9
#: The least distance (RGB, each channel 0 to 1) between two of those colours, or one of
#: them and a special pixel's colour, as a colour-blind reader sees them. tab10, the
#: classes' colours before, had 0.066 (pink #e377c2 and cyan #17becf, deuteranopia) and
#: 0.050 (blue #1f77b4 and purple #9467bd, protanopia).
SAFE_APART = 0.14


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _srgb(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def seen(color: str, matrix: np.ndarray) -> np.ndarray:
    """``color`` as a reader with the colour vision ``matrix`` simulates sees it (sRGB)."""
    return _srgb(matrix @ _linear(np.asarray(mcolors.to_rgb(color))))


def contrast(color: object, background: object = "white") -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    def lum(c: object) -> float:
        rgb = _linear(np.asarray(mcolors.to_rgb(c)))  # type: ignore[arg-type]
        return float(rgb @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted((lum(color), lum(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_helpers_give_known_values():
    # the tab10 pair the accessibility audit found, and WCAG's own extremes
    d = seen("#e377c2", MACHADO["deuteranopia"]) - seen("#17becf", MACHADO["deuteranopia"])
    assert np.linalg.norm(d) == pytest.approx(0.066, abs=0.001)
    assert contrast("black") == pytest.approx(21.0) and contrast("white") == 1.0
    assert contrast("#767676") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
def test_first_class_colours_stay_apart_for_colour_blind_readers(vision):
    # the classes' colours were tab10's: under simulated deuteranopia pink and cyan became
    # one colour (0.066 apart), under protanopia blue and purple (0.050), red and green and
    # orange and olive came close; maps, info --plot and the class means use them
    matrix = np.eye(3) if vision == "normal" else MACHADO[vision]
    colors = class_colors(SAFE)
    for n in range(1, SAFE + 1):  # fewer classes take the first of the same colours
        assert class_colors(n) == colors[:n]
    rgb = {c: seen(c, matrix) for c in colors}
    pair = min(itertools.combinations(colors, 2),
               key=lambda p: np.linalg.norm(rgb[p[0]] - rgb[p[1]]))
    assert np.linalg.norm(rgb[pair[0]] - rgb[pair[1]]) >= SAFE_APART, pair
    for special in (MISSING_COLOR, UNKNOWN_COLOR, NOT_PREDICTED_COLOR, "white"):
        s = seen(special, matrix)
        assert min(np.linalg.norm(v - s) for v in rgb.values()) >= SAFE_APART, special


@pytest.mark.parametrize("n", [2, 9, 20, 60])
def test_class_names_of_a_class_stack_are_readable_on_white(n):
    # info --plot wrote each class's name in its class colour: tab20's light colours had a
    # contrast of 1.45 to 2.5 on white (WCAG asks 4.5 of text)
    from ramancam import plot

    x = np.arange(50.0)
    ax = plot.class_stack([f"c{i}" for i in range(n)], [[(x, x)]] * n)
    assert [t.get_text() for t in ax.texts] == [f"c{i}" for i in range(n)]
    low = [(t.get_text(), t.get_color()) for t in ax.texts if contrast(t.get_color()) < 4.5]
    assert not low
    # each name keeps its class's hue, darkened only as far as needed
    lines = ax.get_lines()
    for t, ln in zip(ax.texts, lines, strict=True):
        h_text = mcolors.rgb_to_hsv(mcolors.to_rgb(t.get_color()))
        h_line = mcolors.rgb_to_hsv(mcolors.to_rgb(ln.get_color()))
        assert h_text[0] == pytest.approx(h_line[0], abs=0.02) or h_line[1] < 0.05
        if contrast(ln.get_color()) >= 4.5:
            assert mcolors.to_hex(t.get_color()) == mcolors.to_hex(ln.get_color())


def test_confusion_matrix_counts_are_readable_on_their_cells():
    # counts were white on cells above half of their row: on Blues at 0.5 to 0.7 that was a
    # contrast of 2.4 to 4.4
    from ramancam import plot

    n = 11
    cm = np.array([[10 - i if j == i else (i if j == (i + 1) % n else 0) for j in range(n)]
                   for i in range(n)])
    ax = plot.confusion_matrix(cm, [f"c{i}" for i in range(n)])
    image = ax.get_images()[0]
    frac = cm / cm.sum(axis=1, keepdims=True)
    for t in ax.texts:
        j, i = (round(v) for v in t.get_position())
        cell = image.cmap(image.norm(frac[i, j]))
        assert contrast(t.get_color(), cell) >= 4.5, (frac[i, j], t.get_color())
