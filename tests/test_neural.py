"""The skorch layer: fast iterators, the base net's contract, augmentations."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset

from sklabelfree.augment import (
    BrightnessContrast,
    Cutout,
    FeatureMasking,
    GaussianNoise,
    RandAugment,
    RandomAffine,
    RandomFlip,
    RandomShift,
    SwapNoise,
    make_augmentation,
)
from sklabelfree.datasets import digits_benchmark_split, load_digits_images
from sklabelfree.neural import (
    LabeledUnlabeledIterator,
    TensorBatchIterator,
    build_module,
    check_net_input,
)
from sklabelfree.nn import MLP, ConvNet1d, ConvNet2d, default_module_for_shape
from sklabelfree.semi_supervised import SupervisedNetClassifier

torch.set_num_threads(1)


def test_labeled_unlabeled_iterator_draws_and_epoch_length():
    y = np.array([0, 1, 2] * 4 + [-1] * 28)
    X = np.arange(40, dtype=np.float32).reshape(40, 1)
    it = LabeledUnlabeledIterator(Dataset(X, y), batch_size=5, mu=2, seed=0)
    assert len(it) == 4  # ceil(40 / 10) steps see the pool once
    seen_l = []
    for batch in it:
        assert batch.x_l.shape == (5, 1) and batch.x_u.shape == (10, 1)
        assert (batch.y_l >= 0).all()
        np.testing.assert_array_equal(batch.x_u[:, 0].numpy(), batch.idx_u.numpy())
        seen_l.extend(batch.x_l[:, 0].int().tolist())
    # Every labeled row comes back once before any repeats (12 rows, 20 draws).
    assert sorted(seen_l[:12]) == list(range(12))
    only_u = LabeledUnlabeledIterator(Dataset(X, y), batch_size=5, mu=2, seed=0,
                                      unlabeled_pool="unlabeled")
    assert all((b.idx_u >= 12).all() for b in only_u)
    # Same seed, same batches.
    again = LabeledUnlabeledIterator(Dataset(X, y), batch_size=5, mu=2, seed=0)
    first = [b.idx_u.tolist() for b in LabeledUnlabeledIterator(
        Dataset(X, y), batch_size=5, mu=2, seed=0)]
    assert first == [b.idx_u.tolist() for b in again]


def test_iterator_errors():
    X = np.zeros((3, 1), np.float32)
    with pytest.raises(ValueError, match="No labeled row"):
        LabeledUnlabeledIterator(Dataset(X, np.array([-1, -1, -1])))
    with pytest.raises(ValueError, match="unlabeled_pool must be"):
        LabeledUnlabeledIterator(Dataset(X, np.array([0, 1, -1])), unlabeled_pool="x")


def test_tensor_batch_iterator_slices_in_order():
    X = np.arange(10, dtype=np.float32).reshape(10, 1)
    batches = list(TensorBatchIterator(Dataset(X, None), batch_size=4))
    assert [b[0][:, 0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][1] is None
    shuffled = TensorBatchIterator(Dataset(X, np.arange(10)), batch_size=4, shuffle=True,
                                   seed=0)
    xs = torch.cat([b[0] for b in shuffled])[:, 0]
    assert sorted(xs.tolist()) == list(range(10)) and xs.tolist() != list(range(10))


@pytest.mark.parametrize("shape, cls", [((64,), MLP), ((2, 50), ConvNet1d),
                                        ((1, 8, 8), ConvNet2d), ((3, 32, 32), ConvNet2d)])
def test_default_module_for_shape(shape, cls):
    module = default_module_for_shape(shape, 5, width=8)
    assert isinstance(module, cls)
    assert module(torch.zeros((2,) + shape)).shape == (2, 5)
    assert module(torch.zeros((2,) + shape), return_features=True).shape == (
        2, module.feature_dim)
    with pytest.raises(ValueError, match="No default module"):
        default_module_for_shape((1, 2, 3, 4), 5)


def test_check_net_input():
    X = np.zeros((3, 4))
    out = check_net_input(X)
    assert out.dtype == np.float32 and X.dtype == np.float64
    with pytest.raises(ValueError, match="NaN or infinity"):
        check_net_input(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="Reshape your data"):
        check_net_input(np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(3, 1, 2, 2, 2\)"):
        check_net_input(np.zeros((3, 1, 2, 2, 2)))
    with pytest.raises(ValueError, match="fitted on samples of shape"):
        check_net_input(np.zeros((3, 1, 8, 8)), expected_shape=(1, 4, 4))
    with pytest.raises(TypeError, match="sparse"):
        import scipy.sparse as sp

        check_net_input(sp.csr_matrix(X))
    assert check_net_input(torch.zeros(2, 3, dtype=torch.float64)).dtype == torch.float32


def test_check_net_input_copies_read_only_arrays():
    # pandas' copy-on-write hands out read-only arrays; torch cannot wrap one
    # safely and warns that writing to it is undefined behaviour.
    pd = pytest.importorskip("pandas")
    X = np.arange(12, dtype=np.float32).reshape(3, 4)
    ro = X.copy()
    ro.setflags(write=False)
    out = check_net_input(ro)
    assert out.flags.writeable and np.array_equal(out, X) and not ro.flags.writeable
    assert check_net_input(pd.DataFrame(X)).flags.writeable
    assert check_net_input(X) is X          # a writable float32 array is not copied


def test_nets_take_float32_views_with_negative_strides():
    # X[::-1] of a float32 array: the cast to float32 copies nothing, and
    # torch refuses negative strides (fit blamed the module's input size).
    X, y = load_digits_images(as_images=False)
    X, y = np.ascontiguousarray(X[:200], dtype=np.float32), y[:200]
    out = check_net_input(X[::-1])
    assert all(s > 0 for s in out.strides) and np.array_equal(out, X[::-1])
    kw = dict(max_epochs=1, module__width=8, random_state=0)
    flipped = SupervisedNetClassifier(**kw).fit(X[::-1], y[::-1])
    ref = SupervisedNetClassifier(**kw).fit(X[::-1].copy(), y[::-1])
    np.testing.assert_array_equal(flipped.predict(X[::-1]), ref.predict(X[::-1].copy()))


def test_float32_dataframe_fits_without_torch_warning():
    # Torch warns once per process, so the fit runs in a fresh interpreter.
    code = (
        "import warnings, numpy as np, pandas as pd\n"
        "warnings.simplefilter('error')\n"
        "from sklabelfree.semi_supervised import SupervisedNetClassifier\n"
        "rng = np.random.RandomState(0)\n"
        "X = pd.DataFrame(rng.rand(40, 4).astype('float32'), columns=list('abcd'))\n"
        "y = np.arange(40) % 2\n"
        "y[::4] = -1\n"
        "clf = SupervisedNetClassifier(max_epochs=1, random_state=0).fit(X, y)\n"
        "clf.predict(X)\n"
    )
    pytest.importorskip("pandas")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.fixture(scope="module")
def digits50():
    return digits_benchmark_split(50, random_state=0, as_images=True)


def test_supervised_net_learns_and_predicts_labels(digits50):
    X, y, X_test, y_test, _ = digits50
    names = np.array([f"digit{i}" for i in range(10)], dtype=object)
    y_str = np.where(y == -1, -1, names[np.clip(y, 0, 9)]).astype(object)
    clf = SupervisedNetClassifier(max_epochs=40, module__width=16, random_state=0)
    clf.fit(X, y_str)
    assert list(clf.classes_) == sorted(names)
    pred = clf.predict(X_test)
    assert set(pred) <= set(names)
    assert np.mean(pred == names[y_test]) > 0.6
    assert clf.predict_proba(X_test).shape == (X_test.shape[0], 10)
    assert len(clf.history_) == 40


def test_random_state_reproducible_and_global_rng_untouched(digits50):
    X, y, X_test, _, _ = digits50
    state = torch.random.get_rng_state()
    a = SupervisedNetClassifier(max_epochs=2, module__width=8, random_state=3).fit(X, y)
    assert torch.equal(state, torch.random.get_rng_state())
    b = SupervisedNetClassifier(max_epochs=2, module__width=8, random_state=3).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X_test), b.predict_proba(X_test))
    c = SupervisedNetClassifier(max_epochs=2, module__width=8, random_state=4).fit(X, y)
    assert not np.allclose(a.predict_proba(X_test), c.predict_proba(X_test))


def test_module_class_gets_shapes_and_instance_used_as_is(digits50):
    X, y, _, _, _ = digits50
    X2 = X.reshape(len(X), -1)
    clf = SupervisedNetClassifier(MLP, module__width=16, max_epochs=1, random_state=0)
    clf.fit(X2, y)
    assert clf.module_.features[0].in_features == 64
    assert clf.module_.head.out_features == 10
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    clf = SupervisedNetClassifier(module, max_epochs=1, random_state=0).fit(X, y)
    assert clf.module_ is module
    assert clf.n_features_in_ == 64 if X.ndim == 2 else not hasattr(clf, "n_features_in_")


def test_bad_input_is_refused_before_training(digits50):
    X, y, _, _, _ = digits50
    clf = SupervisedNetClassifier(max_epochs=1)
    y_neg = y.copy()
    y_neg[y_neg == -1][:1] = -2
    y_neg[np.flatnonzero(y == -1)[0]] = -2
    with pytest.raises(ValueError, match=r"negative labels \[-2\]"):
        clf.fit(X, y_neg)
    y_missing = y.copy()
    y_missing[y_missing == 3] = -1
    clf_fit = SupervisedNetClassifier(max_epochs=1, module__width=8).fit(X, y_missing)
    assert 3 not in clf_fit.classes_  # a class with no labeled row is not a class
    X_nan = X.copy()
    X_nan[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_nan, y)
    with pytest.raises(ValueError, match="NaN.*-1"):
        clf.fit(X, y.astype(float) * np.nan)
    with pytest.raises(ValueError, match="X has 1257 rows but y has 600"):
        clf.fit(X, y[:600])
    fitted = SupervisedNetClassifier(max_epochs=1, module__width=8).fit(X, y)
    with pytest.raises(ValueError, match="fitted on samples of shape"):
        fitted.predict(X[:, :, :4, :4])


def test_pickle_roundtrip_predicts_the_same(digits50):
    X, y, X_test, _, _ = digits50
    clf = SupervisedNetClassifier(max_epochs=1, module__width=8, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(loaded.predict_proba(X_test), clf.predict_proba(X_test))


def test_build_module_tells_a_convnet_class_when_to_stop_pooling():
    # As the default module: four blocks on 8x8 images pool only while the
    # map is larger than 2x2 (without input_size they pooled it away).
    net = SupervisedNetClassifier(ConvNet2d, module__depth=4, module__width=4)
    net.input_shape_ = (1, 8, 8)
    module = build_module(net, default_module_for_shape, 3)
    assert module(torch.zeros(2, 1, 8, 8)).shape == (2, 3)
    net = SupervisedNetClassifier(ConvNet1d, module__depth=4, module__width=4)
    net.input_shape_ = (1, 8)
    module = build_module(net, default_module_for_shape, 3)
    assert module(torch.zeros(2, 1, 8)).shape == (2, 3)
    # module__input_size still wins (32: a pooling in each of the 4 blocks).
    def pools(module):
        return sum(isinstance(m, torch.nn.MaxPool2d) for m in module.modules())

    net = SupervisedNetClassifier(ConvNet2d, module__depth=4, module__width=4)
    net.input_shape_ = (1, 8, 8)
    assert pools(build_module(net, default_module_for_shape, 3)) == 2
    net.set_params(module__input_size=32)
    assert pools(build_module(net, default_module_for_shape, 3)) == 4


@pytest.mark.parametrize("aug", [RandomShift(2), RandomFlip(), RandomAffine(20, 10, 0.1),
                                 Cutout(0.5), GaussianNoise(0.1), RandAugment(3)])
def test_image_augmentations_are_batched_and_seeded(aug):
    # One image repeated: per-sample parameters give different outputs.
    x = torch.rand(1, 1, 8, 8).expand(64, 1, 8, 8).contiguous()
    a = aug(x, torch.Generator().manual_seed(0))
    b = aug(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, x)
    assert len({tuple(row.tolist()) for row in a.flatten(1)}) > 1


def test_random_shift_is_a_translation():
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1.0
    out = RandomShift(1, padding_mode="zeros")(x.expand(200, 1, 5, 5).contiguous(),
                                               torch.Generator().manual_seed(0))
    positions = {tuple(torch.nonzero(o[0])[0].tolist()) for o in out}
    assert positions == {(r, c) for r in (1, 2, 3) for c in (1, 2, 3)}


def test_tabular_augmentations():
    x = torch.randn(2000, 5)
    masked = FeatureMasking(0.25)(x, torch.Generator().manual_seed(0))
    assert abs(float((masked == 0).float().mean()) - 0.25) < 0.02
    swapped = SwapNoise(0.3)(x, torch.Generator().manual_seed(0))
    changed = (swapped != x).float().mean()
    assert 0.25 < float(changed) < 0.32
    for j in range(5):
        assert set(swapped[:, j].tolist()) <= set(x[:, j].tolist())
    with pytest.raises(ValueError, match="needs images"):
        RandAugment()(x, torch.Generator())


def test_presets():
    assert "RandAugment" in repr(make_augmentation("image", "strong", size=8))
    assert "SwapNoise" in repr(make_augmentation("tabular", "strong"))
    sig = make_augmentation("signal", "weak", size=50)
    assert sig(torch.rand(4, 2, 50), torch.Generator()).shape == (4, 2, 50)
    with pytest.raises(ValueError, match="strength must be"):
        make_augmentation("image", "medium")


def test_iterator_carries_the_weights_of_the_labeled_rows():
    y = np.array([0, 1, 2] * 4 + [-1] * 8)
    X = np.arange(20, dtype=np.float32).reshape(20, 1)
    w = np.arange(20, dtype=np.float64) / 10
    it = LabeledUnlabeledIterator(Dataset(X, y), batch_size=5, mu=1, seed=0,
                                  sample_weight=w)
    plain = LabeledUnlabeledIterator(Dataset(X, y), batch_size=5, mu=1, seed=0)
    for batch, same in zip(it, plain):
        rows = batch.x_l[:, 0].long()
        np.testing.assert_allclose(batch.w_l.numpy(), w[rows.numpy()], rtol=1e-6)
        # The weights do not change the draws.
        assert torch.equal(batch.x_l, same.x_l) and torch.equal(batch.idx_u, same.idx_u)
        assert same.w_l is None
    with pytest.raises(ValueError, match="sample_weight has shape"):
        LabeledUnlabeledIterator(Dataset(X, y), sample_weight=w[:5])


def test_augment_presets_by_name(digits50):
    X, y, _, _, _ = digits50
    kw = dict(max_epochs=0, module__width=8, random_state=0)
    strong = SupervisedNetClassifier(augment="strong", **kw).fit(X, y).weak_augment_
    weak = SupervisedNetClassifier(augment="weak", **kw).fit(X, y).weak_augment_
    auto = SupervisedNetClassifier(**kw).fit(X, y).weak_augment_
    assert repr(strong) == repr(make_augmentation("image", "strong", size=8))
    assert repr(weak) == repr(auto) == repr(make_augmentation("image", "weak", size=8))
    with pytest.raises(ValueError, match="augment"):
        SupervisedNetClassifier(augment="medium", **kw).fit(X, y)


class _ShapeRecorder(torch.nn.Module):
    def __init__(self, in_channels=1, image_size=(1, 1), output_dim=0, width=2):
        super().__init__()
        self.args = (in_channels, tuple(image_size), output_dim, width)


def test_build_module_fills_the_arguments_a_module_class_takes():
    net = SupervisedNetClassifier(_ShapeRecorder, module__width=5)
    net.input_shape_ = (3, 6, 4)
    assert build_module(net, default_module_for_shape, 7).args == (3, (6, 4), 7, 5)
    # module__ arguments win; a sample shape of its own (a piece of the image).
    net.set_params(module__image_size=(2, 2))
    assert build_module(net, default_module_for_shape, 7).args == (3, (2, 2), 7, 5)
    net = SupervisedNetClassifier(_ShapeRecorder)
    net.input_shape_ = (3, 6, 4)
    assert build_module(net, default_module_for_shape, 0, input_shape=(1, 3, 3)).args == (
        1, (3, 3), 0, 2)


@pytest.mark.parametrize("aug", [RandomShift(2), RandomFlip(), RandomAffine(20, 10, 0.1),
                                 Cutout(0.5), GaussianNoise(0.1), RandAugment(3),
                                 BrightnessContrast(), SwapNoise()])
def test_augmentations_return_an_empty_batch_as_it_is(aug):
    # A training step may draw no unlabeled rows (mu=0): their views are empty.
    shape = (0, 5) if isinstance(aug, SwapNoise) else (0, 1, 8, 8)
    out = aug(torch.zeros(shape), torch.Generator().manual_seed(0))
    assert tuple(out.shape) == shape


def test_relative_noise_leaves_a_single_row_finite():
    x = torch.rand(1, 5)
    out = GaussianNoise(0.1, relative=True)(x, torch.Generator().manual_seed(0))
    assert torch.equal(out, x)
    many = GaussianNoise(0.1, relative=True)(torch.rand(4, 5), torch.Generator().manual_seed(0))
    assert torch.isfinite(many).all()


def test_losses_refuse_non_positive_temperatures_and_bad_codes():
    from sklabelfree.nn.losses import (
        class_prototypes,
        info_nce_loss,
        mixmatch_guess_labels,
        nt_xent_loss,
    )

    z = torch.randn(4, 3)
    for loss in (lambda t: nt_xent_loss(z, z, temperature=t),
                 lambda t: info_nce_loss(z, z, temperature=t),
                 lambda t: mixmatch_guess_labels(torch.randn(2, 4, 3), t)):
        for t in (0.0, -1.0, float("nan")):
            with pytest.raises(ValueError, match="temperature must be positive"):
                loss(t)
    with pytest.raises(ValueError, match=r"class codes in \[0, n_classes\)"):
        class_prototypes(z, torch.tensor([0, 1, 2, 1]), n_classes=2)
    with pytest.raises(ValueError, match=r"class codes in \[0, n_classes\)"):
        class_prototypes(z, torch.tensor([0, -1, 1, 1]))


def test_vat_perturbation_has_norm_eps_on_float32_digits():
    from sklabelfree.nn import ConvNet2d
    from sklabelfree.nn.losses import vat_perturbation

    X, _ = load_digits_images()
    x = torch.as_tensor(X[:64])
    torch.manual_seed(0)
    net = ConvNet2d(1, 10, width=8, input_size=8).eval()
    r = vat_perturbation(net, x, net(x), eps=1.0, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(r.flatten(1).norm(dim=1).numpy(), 1.0, rtol=1e-4)


def test_check_net_input_names_float32_overflow_and_sparse_tensors():
    with pytest.raises(ValueError, match="beyond the float32 range"):
        check_net_input(np.array([[1e300, 0.0]]))
    with pytest.raises(ValueError, match="NaN or infinity"):
        check_net_input(np.array([[np.inf, 0.0]]))
    with pytest.raises(TypeError, match="sparse tensor"):
        check_net_input(torch.eye(3).to_sparse())
