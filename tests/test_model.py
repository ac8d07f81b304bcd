"""Shapes of the paper's CNN (ramancam.model) for L = 1024 and 1451."""

from __future__ import annotations

import pytest
import torch

from ramancam.errors import RamancamError
from ramancam.model import CNNConfig, RamanCNN, pooled_length


@pytest.mark.parametrize(("n_points", "n_blocks", "pooled"), [
    (1024, 2, 256), (1451, 2, 363), (1451, 3, 182), (1024, 3, 128)])
def test_output_and_pooled_shapes(n_points, n_blocks, pooled):
    cfg = CNNConfig(n_points=n_points, n_classes=3, n_filters=4, n_blocks=n_blocks, fc_width=8)
    m = RamanCNN(cfg).eval()
    assert m.pooled_length == pooled == pooled_length(n_points, n_blocks)
    x = torch.randn(2, n_points, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a = m.features(x[:, None, :])
        assert a.shape == (2, 4, pooled)
        assert m(x).shape == (2, 3)
        assert m(x[:, None, :]).shape == (2, 3)
    assert m.fc1.in_features == 4 * pooled


def test_paper_feature_count_1451():
    m = RamanCNN(CNNConfig(n_points=1451, n_classes=9))
    # Flatten of 64 x 363 = 23,232 features (METHOD.md section 2); intermediate 1451 -> 726.
    assert m.fc1.in_features == 23232
    x = torch.zeros(1, 1, 1451)
    lengths = []
    for layer in m.features:
        x = layer(x)
        if isinstance(layer, torch.nn.MaxPool1d):
            lengths.append(x.shape[-1])
    assert lengths == [726, 363]


def test_same_convolution_keeps_length():
    m = RamanCNN(CNNConfig(n_points=1451, n_classes=2, n_filters=2, filter_size=8))
    out = m.features[1](m.features[0](torch.zeros(1, 1, 1451)))
    assert out.shape[-1] == 1451


@pytest.mark.parametrize(("act", "has_leaky"), [("none", False), ("leaky", True)])
def test_fc_activation_option(act, has_leaky):
    m = RamanCNN(CNNConfig(n_points=64, n_classes=2, n_filters=2, fc_width=4,
                           fc_activation=act))
    kinds = [type(layer) for layer in m.classifier]
    assert (torch.nn.LeakyReLU in kinds) is has_leaky
    assert kinds[-1] is torch.nn.Linear and kinds[-2] is torch.nn.Dropout


def test_wrong_input_shape_and_bad_config():
    m = RamanCNN(CNNConfig(n_points=64, n_classes=2, n_filters=2, fc_width=4))
    with pytest.raises(RamancamError, match=r"input must have shape \(n, 64\)"):
        m(torch.zeros(2, 65))
    with pytest.raises(RamancamError, match="fc_activation must be one of"):
        CNNConfig(n_points=64, n_classes=2, fc_activation="relu")
    with pytest.raises(RamancamError, match="n_classes must be at least 2"):
        CNNConfig(n_points=64, n_classes=1)



def test_a_kernel_longer_than_the_spectra_is_said():
    # a kernel longer than the spectrum was built and trained on padding without a word
    # (a warning, not a refusal: scikit-learn's checks fit spectra of 1 or 2 points)
    import numpy as np

    from ramancam.errors import RamancamWarning
    from ramancam.train import CNNClassifier

    X = np.random.default_rng(0).random((8, 16))
    with pytest.warns(RamancamWarning, match=r"filter_size \(17\) is longer than the spectra "
                                             r"\(16 points\)"):
        CNNClassifier(filter_size=17, n_filters=2, fc_width=4, epochs=1).fit(X, [0, 1] * 4)
    # a band shift as long as the spectra (5000 for 16 points) made every spectrum its edge
    # value throughout, accepted without a word
    with pytest.warns(RamancamWarning, match=r"augment_shift \(16 points\) is as long as the "
                                             r"spectra \(16 points\)"):
        CNNClassifier(filter_size=3, n_filters=2, fc_width=4, epochs=1,
                      augment_shift=16).fit(X, [0, 1] * 4)
