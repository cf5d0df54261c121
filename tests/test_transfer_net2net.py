"""Net2Net: widening and deepening leave the network's output unchanged."""

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from sklabelfree.nn import MLP, ConvNet2d  # noqa: E402
from sklabelfree.transfer.net2net import deepen, widen, widenable_layers  # noqa: E402


def _trained_stats(model, x, steps=3):
    """Give batch norms non-trivial running statistics and affine parameters."""
    torch.manual_seed(0)
    model.train()
    with torch.no_grad():
        for _ in range(steps):
            model(x * 2 + 0.5)
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return model.eval()


def _same(a, b, x):
    with torch.no_grad():
        return torch.allclose(a.eval()(x), b.eval()(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("batch_norm", [True, False])
def test_widen_mlp_preserves_output(batch_norm):
    torch.manual_seed(0)
    x = torch.randn(16, 6)
    net = _trained_stats(MLP(6, 3, width=5, depth=3, dropout=0.2, batch_norm=batch_norm), x)
    for name in widenable_layers(net):
        wide = widen(net, name, 11, random_state=0)
        assert net.get_submodule(name).out_features == 5  # the original is untouched
        assert wide.get_submodule(name).out_features == 11
        assert _same(net, wide, x)
    wide = net
    for name in widenable_layers(net):
        wide = widen(wide, name, 9, random_state=1)
    assert _same(net, wide, x)


@pytest.mark.parametrize("batch_norm", [True, False])
def test_widen_convnet_preserves_output(batch_norm):
    torch.manual_seed(0)
    x = torch.randn(8, 1, 8, 8)
    net = _trained_stats(ConvNet2d(1, 4, width=4, depth=2, batch_norm=batch_norm,
                                   input_size=8), x)
    layers = widenable_layers(net)
    # Conv -> conv inside a block, conv -> next block, last conv -> linear head.
    assert len(layers) == 4
    grown = net
    for name, units in layers.items():
        grown = widen(grown, name, units + 3, random_state=0)
        assert _same(net, grown, x)
    assert grown.head.in_features == net.head.in_features + 3
    assert grown.feature_dim == grown.head.in_features


def test_widen_before_flatten_replicates_spatial_blocks():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Flatten(),
                        nn.Linear(3 * 16, 2)).eval()
    x = torch.randn(4, 1, 4, 4)
    wide = widen(net, "0", 7, random_state=0)
    assert wide[3].in_features == 7 * 16
    assert _same(net, wide, x)


def test_widen_copies_units_and_splits_their_outgoing_weights():
    torch.manual_seed(0)
    net = MLP(3, 2, width=2, depth=1, dropout=0, batch_norm=False)
    wide = widen(net, "features.0", 5, random_state=0)
    W_old, W_new = net.features[0].weight, wide.features[0].weight
    g = [int(np.flatnonzero((W_old == W_new[j]).all(1))[0]) for j in range(5)]
    assert g[:2] == [0, 1]
    counts = np.bincount(g, minlength=2)
    for j in range(5):
        expected = net.head.weight[:, g[j]] / counts[g[j]]
        assert torch.allclose(wide.head.weight[:, j], expected)


def test_widen_with_noise_breaks_symmetry_and_keeps_the_function():
    torch.manual_seed(0)
    x = torch.randn(10, 6)
    net = _trained_stats(MLP(6, 3, width=4, depth=2), x)
    plain = widen(net, "features.0", 12, random_state=0)
    noisy = widen(net, "features.0", 12, random_state=0, noise_std=0.1)
    assert _same(net, noisy, x)
    consumer = "features.4"
    assert not torch.allclose(plain.get_submodule(consumer).weight,
                              noisy.get_submodule(consumer).weight)


def test_widened_network_trains():
    torch.manual_seed(0)
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    wide = widen(MLP(6, 3, width=4), "features.0", 8, random_state=0)
    opt = torch.optim.SGD(wide.parameters(), lr=0.1)
    loss0 = nn.functional.cross_entropy(wide(x), y)
    for _ in range(20):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(wide(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < loss0.item()


@pytest.mark.parametrize("batch_norm", [True, False])
def test_deepen_mlp_and_convnet_preserve_output(batch_norm):
    torch.manual_seed(0)
    x = torch.randn(12, 5)
    net = _trained_stats(MLP(5, 3, width=6, depth=2, batch_norm=batch_norm), x)
    deep = deepen(net, "features.0")
    n_linear = sum(isinstance(m, nn.Linear) for m in deep.modules())
    assert n_linear == 4
    assert _same(net, deep, x)
    assert any(isinstance(m, nn.BatchNorm1d) for m in deep.features) == batch_norm

    xi = torch.randn(6, 1, 8, 8)
    conv = _trained_stats(ConvNet2d(1, 4, width=4, depth=2, batch_norm=batch_norm,
                                    input_size=8), xi)
    for name in widenable_layers(conv):
        deeper = deepen(conv, name)
        assert _same(conv, deeper, xi)


def test_widen_then_deepen_compose():
    torch.manual_seed(0)
    x = torch.randn(10, 1, 8, 8)
    net = _trained_stats(ConvNet2d(1, 3, width=4, depth=1, input_size=8), x)
    grown = deepen(widen(net, "features.0", 6, random_state=0), "features.0")
    grown = widen(grown, "features.0", 9, random_state=1)
    assert _same(net, grown, x)


def test_bad_input_messages():
    net = MLP(4, 2, width=6, depth=2)
    with pytest.raises(ValueError, match="cannot widen 'features.0' to 3 units: it has 6"):
        widen(net, "features.0", 3)
    with pytest.raises(ValueError, match="no layer consumes the output of 'head'"):
        widen(net, "head", 8)
    with pytest.raises(ValueError, match="the model has no layer named 'features.99'"):
        widen(net, "features.99", 8)
    with pytest.raises(ValueError, match="Net2Net grows Linear and Conv"):
        widen(net, "features.1", 8)
    gelu = MLP(4, 2, width=6, depth=2, activation="gelu")
    with pytest.raises(ValueError, match="deepen needs a ReLU after 'features.0'"):
        deepen(gelu, "features.0")
    grouped = nn.Sequential(nn.Conv2d(4, 4, 3, groups=2), nn.ReLU(), nn.Conv2d(4, 2, 1))
    with pytest.raises(ValueError, match="grouped convolution"):
        widen(grouped, "0", 8)
    mismatch = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(ValueError, match="takes 5 inputs"):
        widen(mismatch, "0", 6)


@pytest.mark.parametrize("between", [
    lambda: nn.LayerNorm(4),
    lambda: nn.LayerNorm(4, elementwise_affine=False),
    lambda: nn.GroupNorm(2, 4),
    lambda: nn.PReLU(4),
])
def test_widen_refuses_a_module_it_cannot_carry_between_layer_and_consumer(between):
    module = between()
    net = nn.Sequential(nn.Linear(5, 4), module, nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=f"cannot widen '0': '1' \\({type(module).__name__}"
                                         r"\) sits between it and the layer that "
                                         r"consumes it, '3'"):
        widen(net, "0", 6, random_state=0)
    # Parameter-free per-unit modules (and a scalar PReLU) are carried exactly.
    x = torch.randn(7, 5)
    ok = nn.Sequential(nn.Linear(5, 4), nn.PReLU(), nn.Dropout(0.1), nn.Linear(4, 2))
    assert _same(ok, widen(ok, "0", 6, random_state=0), x)


def test_deepen_a_root_sequential_in_place():
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    x = torch.randn(7, 5)
    before = seq(x).detach()
    grown = deepen(seq, "0", copy=False)
    assert grown is seq
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear", "ReLU",
                                                 "Linear"]
    assert torch.allclose(seq(x), before, atol=1e-6)


# ---------------------------------------------------------------- Net2NetClassifier
# ---------------------------------------------------------------- Net2NetClassifier
def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16).astype("float32"), y[:600]


def test_net2net_classifier_grows_on_schedule_and_keeps_the_loss():
    from sklabelfree.transfer import Net2NetClassifier

    X, y = _digits()
    clf = Net2NetClassifier(schedule=[(2, "widen"), (3, "deepen")], max_epochs=4,
                            module__width=8, random_state=0).fit(X, y)
    assert [(g["epoch"], g["op"]) for g in clf.growth_] == [(2, "widen"), (3, "deepen")]
    for g in clf.growth_:
        assert g["n_params_after"] > g["n_params_before"]
        assert g["loss_after"] == pytest.approx(g["loss_before"], abs=1e-4)
    assert clf.module_.features[0].out_features == 16
    # The optimizer trains the grown parameters.
    grown = {id(p) for p in clf.module_.parameters()}
    trained = {id(p) for group in clf.optimizer_.param_groups for p in group["params"]}
    assert grown == trained
    assert len(clf.history) == 4 and clf.score(X, y) > 0.5


def test_net2net_classifier_convnet_and_pickle():
    import pickle

    from sklabelfree.transfer import Net2NetClassifier

    X, y = _digits()
    X = X.reshape(-1, 1, 8, 8)
    clf = Net2NetClassifier(schedule=[(1, "widen")], max_epochs=2, module__width=4,
                            noise_std=0.05, random_state=0).fit(X, y)
    g = clf.growth_[0]
    assert g["loss_after"] == pytest.approx(g["loss_before"], abs=1e-4)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X[:20]), clf.predict(X[:20]))


def test_net2net_classifier_bad_schedule():
    from sklabelfree.transfer import Net2NetClassifier

    X, y = _digits()
    with pytest.raises(ValueError, match="would never be trained: max_epochs=3"):
        Net2NetClassifier(schedule=[(3, "widen")], max_epochs=3).fit(X, y)
    with pytest.raises(ValueError, match="'widen' or 'deepen'; got 'shrink'"):
        Net2NetClassifier(schedule=[(1, "shrink")], max_epochs=3).fit(X, y)
    with pytest.raises(ValueError, match=r"\(epoch, 'widen' \| 'deepen'\) pairs"):
        Net2NetClassifier(schedule=[5], max_epochs=3).fit(X, y)


def test_net2net_classifier_refuses_deepen_on_a_gelu_net_before_training():
    from sklabelfree.transfer import Net2NetClassifier

    X, y = _digits()
    clf = Net2NetClassifier(schedule=[(1, "deepen")], max_epochs=3, module__width=4,
                            module__activation="gelu", random_state=0)
    with pytest.raises(ValueError, match="the schedule has a 'deepen' step that this "
                                         "network cannot take: deepen needs a ReLU"):
        clf.fit(X, y)
    assert len(clf.history) == 0  # refused before the first epoch


def test_deepen_with_data_keeps_the_function_in_training_mode_too():
    # Chen et al. (2016, sec. 2.3): the new batch norm is set from the
    # statistics of its inputs, so that it undoes its own normalisation.
    from sklabelfree.nn import MLP

    torch.manual_seed(0)
    net = MLP(4, 2, width=8, depth=2, dropout=0)
    x = torch.randn(64, 4) * 3 + 1
    with torch.no_grad():                     # running statistics of the data
        for _ in range(50):
            net(x)
    last = [n for n, m in net.named_modules() if isinstance(m, torch.nn.Linear)][-2]
    eval_before = net.eval()(x).detach()
    net_train = copy.deepcopy(net).train()
    train_before = net_train(x).detach()
    paper = deepen(net, last, data=x)
    blind = deepen(net, last)
    # Evaluation mode first: a training-mode pass moves the running statistics.
    torch.testing.assert_close(paper.eval()(x), eval_before, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(blind.eval()(x), eval_before, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(paper.train()(x), train_before, atol=1e-5, rtol=1e-5)
    assert (blind.train()(x) - train_before).abs().max() > 1e-2   # only eval mode
