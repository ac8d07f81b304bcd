"""``--preset`` in Python: ``CNNClassifier.from_preset`` builds the classifier train builds."""

from __future__ import annotations

import pytest

from ramancam.cli import build_parser
from ramancam.cli.train import estimator_params
from ramancam.errors import RamancamError
from ramancam.presets import PRESETS, preset_params
from ramancam.train import CNNClassifier


@pytest.mark.parametrize("name", list(PRESETS))
def test_from_preset_is_what_train_fits(name):
    """Every parameter train passes for ``--preset NAME`` (no other option) equals the
    preset classifier's, except the CLI-only ones (seed, progress)."""
    args = build_parser().parse_args(["train", "d.csv", "--out", "m.ramancam",
                                      "--preset", name])
    cli = estimator_params(args)
    ours = CNNClassifier.from_preset(name).get_params()
    differ = {k: (cli[k], ours[k]) for k in cli if cli[k] != ours[k]}
    assert differ == {"random_state": (0, None), "verbose": (True, False)}


def test_from_preset_overrides_and_defaults():
    clf = CNNClassifier.from_preset(random_state=3, epochs=7)
    p = clf.get_params()
    assert (p["random_state"], p["epochs"], p["lr_schedule"], p["input_scaling"],
            p["augment_select"], p["augment_shift"]) == (3, 7, "cosine", "center", True, 3)
    paper = CNNClassifier.from_preset("paper").get_params()
    assert paper == CNNClassifier().get_params()  # the paper preset is the class defaults
    assert preset_params("paper")["augment_select"] is False


def test_unknown_preset_is_refused():
    with pytest.raises(RamancamError, match=r"preset must be one of \('tuned', 'paper'\); "
                                            r"got 'fast'"):
        CNNClassifier.from_preset("fast")
