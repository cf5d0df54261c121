"""Few-shot learning: episodes, prototypes, Baseline/Baseline++, ProtoNet, MAML."""

import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neighbors import NearestCentroid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler

from sklabelfree.datasets import load_digits_images
from sklabelfree.few_shot import (
    MAML,
    BaselineEncoder,
    EpisodeSampler,
    FineTunedHeadClassifier,
    MAMLClassifier,
    PrototypeClassifier,
    ProtoNetEncoder,
    evaluate_episodes,
    maml_task_loss,
)
from sklabelfree.few_shot import _deformation
from sklabelfree.few_shot._deformation import image_distortion_distances
from sklabelfree.few_shot._head import fit_head
from sklabelfree.nn.losses import class_prototypes, prototype_logits, prototypical_loss

TINY = dict(module__width=4, random_state=0)

# NearestCentroid divides by n_samples - n_classes, zero in 1-shot episodes.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


@pytest.fixture(scope="module")
def digits():
    """Digit images: 300 rows of the base classes 0-4, 300 of the new ones 5-9."""
    X, y = load_digits_images()
    base, novel = np.flatnonzero(y < 5)[:300], np.flatnonzero(y >= 5)[:300]
    return X[base], y[base], X[novel], y[novel]


@pytest.fixture(scope="module")
def protonet(digits):
    X_base, y_base, _, _ = digits
    return ProtoNetEncoder(k_shot=2, n_query=3, max_epochs=2, episodes_per_epoch=5,
                           **TINY).fit(X_base, y_base)


@pytest.fixture(scope="module")
def maml(digits):
    X_base, y_base, _, _ = digits
    return MAML(n_way=3, k_shot=1, n_query=2, inner_steps=2, meta_batch_size=2,
                max_epochs=1, episodes_per_epoch=4, **TINY).fit(X_base, y_base)


def test_import_does_not_import_torch():
    code = ("import sys; import sklabelfree.few_shot as fs; fs.PrototypeClassifier; "
            "fs.EpisodeSampler; fs.FineTunedHeadClassifier; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


# ----------------------------------------------------------------------- episodes
def test_episode_sampler_draws_disjoint_support_and_query_with_user_labels():
    y = np.repeat(np.array(["ant", "bee", "cat", "dog"], dtype=object), 6)
    y = np.concatenate([y, np.array([-1, -1], dtype=object)])
    X = np.arange(len(y)).reshape(-1, 1)
    sampler = EpisodeSampler(n_way=3, k_shot=2, n_query=3, n_episodes=20, random_state=0)
    seen = set()
    for support, query in sampler.split(X, y):
        assert len(support) == 6 and len(query) == 9
        assert not set(support) & set(query)
        assert set(y[support].tolist()) == set(y[query].tolist())
        assert len(set(y[support].tolist())) == 3
        assert all(np.sum(y[support] == c) == 2 for c in set(y[support].tolist()))
        assert -1 not in y[support].tolist() + y[query].tolist()
        seen |= set(y[support].tolist())
    assert seen == {"ant", "bee", "cat", "dog"}
    Xs, ys, Xq, yq = next(sampler.episodes(X, y))
    assert ys.dtype == object and set(ys.tolist()) <= {"ant", "bee", "cat", "dog"}
    s0, q0 = next(sampler.split(X, y))
    np.testing.assert_array_equal(Xs, X[s0])
    np.testing.assert_array_equal(yq, y[q0])


def test_episode_sampler_random_state():
    y = np.repeat(np.arange(5, 10), 5)
    first = [s.tolist() for s, _ in EpisodeSampler(3, 1, 2, 5, random_state=0).split(None, y)]
    again = [s.tolist() for s, _ in EpisodeSampler(3, 1, 2, 5, random_state=0).split(None, y)]
    other = [s.tolist() for s, _ in EpisodeSampler(3, 1, 2, 5, random_state=1).split(None, y)]
    assert first == again and first != other
    rng_sampler = EpisodeSampler(3, 1, 2, 5, random_state=np.random.RandomState(0))
    a = [s.tolist() for s, _ in rng_sampler.split(None, y)]
    b = [s.tolist() for s, _ in rng_sampler.split(None, y)]
    assert a == first and a != b


@pytest.mark.parametrize("params, y, message", [
    (dict(n_way=4), np.repeat([5, 6, 7], 5),
     re.escape("n_way=4 is larger than the number of classes in y (3: [5, 6, 7])")),
    (dict(n_way=2, k_shot=2, n_query=3), np.array([5] * 5 + [6] * 4),
     r"k_shot \+ n_query = 2 \+ 3 = 5 rows .* fewer: 6 \(4 rows\)"),
    (dict(n_way=1), np.repeat([5, 6], 5), "n_way must be an int >= 2"),
    (dict(k_shot=0), np.repeat([5, 6], 5), "k_shot must be an int >= 1"),
])
def test_episode_sampler_errors(params, y, message):
    kwargs = dict(n_way=2, k_shot=1, n_query=1, n_episodes=2)
    kwargs.update(params)
    with pytest.raises(ValueError, match=message):
        next(EpisodeSampler(**kwargs).split(np.zeros((len(y), 1)), y))
    with pytest.raises(ValueError, match=message):
        evaluate_episodes(NearestCentroid(), np.zeros((len(y), 1)), y, **kwargs)


def test_evaluate_episodes_reports_mean_interval_and_every_episode():
    X, y = load_digits_images(as_images=False)
    novel = y >= 5
    result = evaluate_episodes(NearestCentroid(), X[novel], y[novel], k_shot=1,
                               n_episodes=40, random_state=0)
    acc = result.accuracies
    assert acc.shape == (40,) and result.fit_times.shape == (40,)
    assert result.mean_accuracy == pytest.approx(acc.mean())
    assert result.ci95 == pytest.approx(1.96 * acc.std() / np.sqrt(40))
    # Each accuracy is a fraction of the 75 queries.
    np.testing.assert_allclose(acc * 75, np.round(acc * 75))
    again = evaluate_episodes(NearestCentroid(), X[novel], y[novel], k_shot=1,
                              n_episodes=40, random_state=0)
    np.testing.assert_array_equal(again.accuracies, acc)
    # The same episodes, scored by hand.
    sampler = EpisodeSampler(5, 1, 15, 40, random_state=0)
    by_hand = [NearestCentroid().fit(X[novel][s], y[novel][s]).score(X[novel][q], y[novel][q])
               for s, q in sampler.split(X[novel], y[novel])]
    np.testing.assert_allclose(by_hand, acc)
    with pytest.raises(TypeError, match="needs a classifier with fit and predict"):
        evaluate_episodes(StandardScaler(), X[novel], y[novel], n_episodes=2)


def test_sampler_is_a_cross_validation_splitter():
    X, y = load_digits_images(as_images=False)
    novel = y >= 5
    scores = cross_val_score(PrototypeClassifier(), X[novel], y[novel],
                             cv=EpisodeSampler(5, 5, 10, n_episodes=6, random_state=0))
    assert scores.shape == (6,) and scores.min() > 0.5


# ----------------------------------------------------------------------- prototypes
def test_prototypical_loss_matches_a_hand_computation():
    support = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0], [0.0, 1.0]])
    y_s = torch.tensor([0, 0, 1, 1])
    queries = torch.tensor([[1.0, 1.0], [0.0, 2.5]])
    y_q = torch.tensor([0, 1])
    # Prototypes (1, 0) and (0, 2); squared distances of the queries:
    # q1: 1 and 2; q2: 7.25 and 0.25.
    d = np.array([[1.0, 2.0], [7.25, 0.25]])
    expected = np.mean([
        -(-d[0, 0] - np.log(np.exp(-d[0, 0]) + np.exp(-d[0, 1]))),
        -(-d[1, 1] - np.log(np.exp(-d[1, 0]) + np.exp(-d[1, 1]))),
    ])
    loss, logits = prototypical_loss(support, y_s, queries, y_q, return_logits=True)
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(logits.numpy(), -d, rtol=1e-6)
    np.testing.assert_allclose(class_prototypes(support, y_s).numpy(), [[1, 0], [0, 2]])
    # Temperature divides the logits; cosine compares directions.
    np.testing.assert_allclose(
        prototype_logits(queries, class_prototypes(support, y_s), temperature=2.0).numpy(),
        -d / 2, rtol=1e-6)
    cos = prototype_logits(queries, class_prototypes(support, y_s), metric="cosine")
    np.testing.assert_allclose(cos.numpy(), [[1 / np.sqrt(2), 1 / np.sqrt(2)], [0, 1]],
                               atol=1e-6)
    with pytest.raises(ValueError, match="classes \\[2\\] have no row"):
        class_prototypes(support, y_s, n_classes=3)


def test_protonet_episode_loss_is_the_prototypical_loss_of_its_embeddings(protonet, digits):
    X_base, y_base, _, _ = digits
    enc = clone(protonet).set_params(augment=None, max_epochs=1, episodes_per_epoch=1)
    enc.fit(X_base, y_base)
    rows = [np.flatnonzero(y_base == c)[:5] for c in (3, 1, 4, 0, 2)]
    x = torch.as_tensor(np.concatenate([X_base[r] for r in rows]))[None]
    loss, _ = enc.compute_loss((x, None))
    z = torch.as_tensor(enc.transform(x[0].numpy()))
    enc.module_.train()
    with torch.no_grad():
        z = enc.module_(x[0], return_features=True)
    z = z.view(5, 5, -1)
    # By hand: prototypes of the first two rows of each class, squared
    # distances of the other three, softmax cross-entropy.
    protos = z[:, :2].mean(1)
    queries = z[:, 2:].reshape(15, -1)
    d = ((queries[:, None] - protos[None]) ** 2).sum(-1)
    target = torch.arange(5).repeat_interleave(3)
    expected = (torch.logsumexp(-d, 1) + d[torch.arange(15), target]).mean()
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-4)


def test_prototype_classifier_means_and_probabilities():
    X = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 2.0]])
    y = np.array([7, 7, 9, 9])
    clf = PrototypeClassifier().fit(X, y)
    np.testing.assert_allclose(clf.prototypes_, [[1, 0], [0, 3]])
    Xq = np.array([[1.0, 1.0], [0.0, 5.0]])
    d = ((Xq[:, None] - clf.prototypes_[None]) ** 2).sum(-1)
    p = np.exp(-d) / np.exp(-d).sum(1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(Xq), p)
    np.testing.assert_array_equal(clf.predict(Xq), [7, 9])
    np.testing.assert_allclose(clf.decision_function(Xq), -d[:, 1] + d[:, 0])
    # The torch loss's logits and the classifier agree.
    logits = prototype_logits(torch.tensor(Xq), torch.tensor(clf.prototypes_)).numpy()
    np.testing.assert_allclose(logits, -d)
    nc = NearestCentroid().fit(X, y)
    np.testing.assert_array_equal(clf.predict(X + 0.3), nc.predict(X + 0.3))


def test_soft_kmeans_refinement_matches_a_hand_computation():
    X = np.array([[0.0, 0.0], [4.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    y = np.array(["a", "b", -1, -1], dtype=object)
    clf = PrototypeClassifier(soft_kmeans_steps=1).fit(X, y)
    # Step 1: the unlabeled rows' soft assignments to prototypes (0,0), (4,0).
    w1 = np.exp([-1.0, -9.0]) / np.exp([-1.0, -9.0]).sum()
    w2 = w1[::-1]
    pa = (0.0 + w1[0] * 1.0 + w2[0] * 3.0) / (1 + w1[0] + w2[0])
    pb = (4.0 + w1[1] * 1.0 + w2[1] * 3.0) / (1 + w1[1] + w2[1])
    np.testing.assert_allclose(clf.prototypes_[:, 0], [pa, pb])
    np.testing.assert_array_equal(clf.classes_, np.array(["a", "b"], dtype=object))
    # Without refinement, the -1 rows are ignored.
    plain = PrototypeClassifier().fit(X, y)
    np.testing.assert_allclose(plain.prototypes_, [[0, 0], [4, 0]])


def test_transductive_refinement_uses_the_queries_and_leaves_prototypes():
    rng = np.random.RandomState(0)
    X_support = np.array([[0.0, 0.0], [3.0, 0.0]])
    # The classes' queries lie around (1.2, 0) and (4, 0): the support rows
    # are off-centre, the queries pull the prototypes to their centres.
    queries = np.vstack([rng.normal([1.2, 0], 0.3, (30, 2)), rng.normal([4, 0], 0.3, (30, 2))])
    y_true = np.repeat([0, 1], 30)
    inductive = PrototypeClassifier().fit(X_support, [0, 1])
    trans = PrototypeClassifier(soft_kmeans_steps=5, transductive=True).fit(X_support, [0, 1])
    np.testing.assert_allclose(trans.prototypes_, inductive.prototypes_)
    acc_trans = (trans.predict(queries) == y_true).mean()
    assert acc_trans > (inductive.predict(queries) == y_true).mean()
    assert acc_trans > 0.95


def _idm_by_hand(a, b, warp_range, context_size):
    """The image distortion distance written as loops: each pixel of a, its best match in b."""
    r = context_size // 2
    c, h, w = a.shape
    pa = np.pad(a, ((0, 0), (r, r), (r, r)))
    pb = np.pad(b, ((0, 0), (r, r), (r, r)))
    total = 0.0
    for i in range(h):
        for j in range(w):
            total += min(
                ((pa[:, i:i + context_size, j:j + context_size]
                  - pb[:, i2:i2 + context_size, j2:j2 + context_size]) ** 2).sum()
                for i2 in range(max(0, i - warp_range), min(h, i + warp_range + 1))
                for j2 in range(max(0, j - warp_range), min(w, j + warp_range + 1)))
    return total


@pytest.mark.parametrize("warp_range, context_size", [(0, 1), (1, 1), (1, 3), (2, 3), (1, 5)])
def test_deformation_distance_matches_a_hand_computation(warp_range, context_size,
                                                         monkeypatch):
    rng = np.random.RandomState(0)
    A, B = rng.rand(4, 2, 5, 4), rng.rand(3, 2, 5, 4)
    expected = np.array([[_idm_by_hand(a, b, warp_range, context_size) for b in B] for a in A])
    np.testing.assert_allclose(
        image_distortion_distances(A, B, warp_range, context_size), expected, rtol=1e-10)
    # The same in chunks of one query (the bound on memory for large inputs).
    monkeypatch.setattr(_deformation, "_BLOCK_FLOATS", 1)
    np.testing.assert_allclose(
        image_distortion_distances(A, B, warp_range, context_size), expected, rtol=1e-10)
    if warp_range == 0 and context_size == 1:
        np.testing.assert_allclose(expected, ((A[:, None] - B[None]) ** 2).sum((2, 3, 4)))


def test_deformation_metric_forgives_a_shift_the_euclidean_counts():
    digit = load_digits_images()[0][0]           # a 0, with a blank border column
    moved = np.roll(digit, 1, axis=-1)
    assert digit[..., -1].sum() == 0
    assert image_distortion_distances(moved[None], digit[None], 1, 1)[0, 0] == 0
    assert image_distortion_distances(moved[None], digit[None], 0, 1)[0, 0] > 1
    # A classifier: a bar moved by one pixel stays nearest its own class.
    bars = np.zeros((2, 1, 6, 6))
    bars[0, 0, :, 1] = 1.0
    bars[1, 0, 2, :] = 1.0
    moved = np.zeros((1, 1, 6, 6))
    moved[0, 0, :, 2] = 1.0
    assert PrototypeClassifier().fit(bars, ["|", "-"]).predict(moved)[0] == "-"
    clf = PrototypeClassifier(metric="deformation", temperature=2.0).fit(bars, ["|", "-"])
    assert clf.predict(moved)[0] == "|"
    assert clf.image_shape_ == (1, 6, 6)
    d_bar, d_dash = (_idm_by_hand(moved[0], b, 1, 3) for b in bars)
    np.testing.assert_array_equal(clf.classes_, ["-", "|"])
    np.testing.assert_allclose(clf.decision_function(moved), [(-d_bar + d_dash) / 2.0])
    # Flattened rows with their image_shape, or (n, h, w) images: the same classifier.
    flat = PrototypeClassifier(metric="deformation", image_shape=(6, 6), temperature=2.0)
    flat.fit(bars.reshape(2, -1), ["|", "-"])
    np.testing.assert_allclose(flat.predict_proba(moved.reshape(1, -1)), clf.predict_proba(moved))
    gray = PrototypeClassifier(metric="deformation", temperature=2.0).fit(bars[:, 0], ["|", "-"])
    np.testing.assert_allclose(gray.predict_proba(moved[:, 0]), clf.predict_proba(moved))
    # Soft k-means refinement works with it (the weights are its softmax).
    refined = PrototypeClassifier(metric="deformation", soft_kmeans_steps=2).fit(
        np.concatenate([bars, moved]), np.array(["|", "-", -1], dtype=object))
    assert refined.prototypes_[0].reshape(6, 6)[:, 2].min() > 0


def test_deformation_metric_bad_input():
    X, y = np.zeros((2, 36)), [0, 1]
    with pytest.raises(ValueError, match=re.escape(
            "metric='deformation' compares images pixel by pixel, so it must know their "
            "shape: give the support rows as (n_samples, channels, height, width) images")):
        PrototypeClassifier(metric="deformation").fit(X, y)
    with pytest.raises(ValueError, match=re.escape(
            "image_shape (1, 5, 5) holds 25 values but the features have 36 columns")):
        PrototypeClassifier(metric="deformation", image_shape=(5, 5)).fit(X, y)
    with pytest.raises(ValueError, match="context_size must be odd .* got 4"):
        PrototypeClassifier(metric="deformation", context_size=4).fit(X.reshape(2, 1, 6, 6), y)
    with pytest.raises(ValueError, match=re.escape(
            "image_shape must be (channels, height, width) or (height, width) of positive "
            "sizes, got (36,)")):
        PrototypeClassifier(metric="deformation", image_shape=(36,)).fit(X, y)


def test_fit_head_gradients_match_finite_differences():
    # One Adam step moves each weight by lr * sign(gradient) (|m / sqrt(v)| = 1):
    # compare the move's sign with the sign of the finite-difference gradient.
    rng = np.random.RandomState(0)
    Z, codes = rng.normal(size=(6, 3)), np.array([0, 1, 2, 0, 1, 2])
    for kind in ("linear", "cosine"):
        W0, b0 = fit_head(Z, codes, 3, kind=kind, max_iter=0)
        W1, _ = fit_head(Z, codes, 3, kind=kind, max_iter=1, lr=1e-3, weight_decay=0.0)

        def loss(W, b=b0):
            logits = (5.0 * (Z / np.linalg.norm(Z, axis=1, keepdims=True))
                      @ (W / np.linalg.norm(W, axis=1, keepdims=True)).T
                      if kind == "cosine" else Z @ W.T + b)
            logits = logits - logits.max(1, keepdims=True)
            logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
            return -logp[np.arange(6), codes].mean()

        if kind == "cosine":
            W0, _ = fit_head(Z, codes, 3, kind=kind, max_iter=0)
            W1, _ = fit_head(Z, codes, 3, kind=kind, scale=5.0, max_iter=1, lr=1e-3,
                             weight_decay=0.0)
        grad = np.zeros_like(W0)
        for i in np.ndindex(W0.shape):
            e = np.zeros_like(W0)
            e[i] = 1e-6
            grad[i] = (loss(W0 + e) - loss(W0 - e)) / 2e-6
        big = np.abs(grad) > 1e-6
        np.testing.assert_array_equal(np.sign(W1 - W0)[big], -np.sign(grad)[big])
    # Zero steps: the cosine head is the normalised class means (imprinting).
    W, b = fit_head(Z, codes, 3, kind="cosine", max_iter=0)
    means = np.stack([(Z[codes == c] / np.linalg.norm(Z[codes == c], axis=1,
                                                       keepdims=True)).sum(0)
                      for c in range(3)])
    np.testing.assert_allclose(W, means / np.linalg.norm(means, axis=1, keepdims=True))
    np.testing.assert_array_equal(b, 0)


# ----------------------------------------------------------------------- bad input
@pytest.mark.parametrize("clf", [PrototypeClassifier(), FineTunedHeadClassifier(),
                                 MAMLClassifier(inner_steps=1, random_state=0)])
def test_support_set_and_query_errors(clf):
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.9]], dtype=np.float32)
    name = type(clf).__name__
    with pytest.raises(ValueError, match=f"{name}: the support set has one class \\(\\[5\\]\\)"):
        clone(clf).fit(X, [5, 5, 5, 5])
    fitted = clone(clf).fit(X, [5, 6, 5, 6])
    with pytest.raises(ValueError, match=re.escape(
            f"{name}: query labels [7] are not classes of the support set [5, 6]")):
        fitted.score(X, [5, 7, 5, 6])
    assert fitted.score(X, [5, 6, -1, -1]) == pytest.approx(
        np.mean(fitted.predict(X[:2]) == [5, 6]))


class _ShapeShifter(BaseEstimator):
    """An encoder whose embeddings have ``dims`` columns, or 3 dimensions (None)."""

    def __init__(self, dims=2):
        self.dims = dims

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        if self.dims is None:
            return X[:, None, :]
        return np.repeat(X, self.dims, axis=1)[:, :self.dims]


@pytest.mark.parametrize("make", [PrototypeClassifier, FineTunedHeadClassifier])
def test_encoder_embeddings_must_keep_their_shape(make):
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.2, 0.9]])
    name = make.__name__
    with pytest.raises(ValueError, match=re.escape(
            f"{name}: the encoder's transform returns an array of shape (4, 1, 2); "
            "features of shape (n_samples, n_dims) are needed.")):
        make(_ShapeShifter(None).fit(X)).fit(X, [5, 6, 5, 6])
    encoder = _ShapeShifter(3).fit(X)
    clf = make(encoder).fit(X, [5, 6, 5, 6])
    assert clf.predict(X).shape == (4,)
    encoder.dims = 2
    with pytest.raises(ValueError, match=re.escape(
            f"{name}: the encoder gives 2 dimensions now but gave 3 in fit.")):
        clf.predict(X)


def test_unfitted_encoder_is_an_error(protonet):
    X = np.zeros((4, 1, 8, 8), np.float32)
    for clf in (PrototypeClassifier(ProtoNetEncoder()), FineTunedHeadClassifier(
            BaselineEncoder()), MAMLClassifier(MAML())):
        with pytest.raises(ValueError, match="is not fitted. Meta-train it on the base classes"):
            clf.fit(X, [5, 6, 5, 6])


def test_meta_training_errors(digits):
    X_base, y_base, _, _ = digits
    with pytest.raises(ValueError, match="n_way=6 is larger than the number of classes"):
        ProtoNetEncoder(n_way=6, **TINY).fit(X_base, y_base)
    few = np.concatenate([np.flatnonzero(y_base == 0)[:3], np.flatnonzero(y_base == 1)])
    with pytest.raises(ValueError, match=r"= 20 rows .* fewer: 0 \(3 rows\)"):
        ProtoNetEncoder(**TINY).fit(X_base[few], y_base[few])
    with pytest.raises(ValueError, match="MAML: n_way=5 is larger"):
        MAML(**TINY).fit(X_base[y_base < 3], y_base[y_base < 3])
    with pytest.raises(ValueError, match="one class"):
        BaselineEncoder(**TINY).fit(X_base[:5], np.zeros(5))
    with pytest.raises(ValueError, match="train_split must be None"):
        BaselineEncoder(train_split=lambda ds, y: (ds, ds), **TINY).fit(X_base, y_base)


def test_maml_classifier_caps_the_classes_at_n_way(maml, digits):
    _, _, X_new, y_new = digits
    rows = np.concatenate([np.flatnonzero(y_new == c)[:2] for c in (5, 6, 7, 8)])
    with pytest.raises(ValueError, match="support set has 4 classes but the MAML was "
                                         "meta-trained with n_way=3"):
        MAMLClassifier(maml).fit(X_new[rows], y_new[rows])
    two = rows[:4]
    clf = MAMLClassifier(maml).fit(X_new[two], y_new[two])
    assert clf.predict_proba(X_new[:3]).shape == (3, 2)


# ----------------------------------------------------------------------- labels
@pytest.mark.parametrize("make_clf", [
    lambda enc, maml: PrototypeClassifier(enc),
    lambda enc, maml: FineTunedHeadClassifier(enc),
    lambda enc, maml: MAMLClassifier(maml),
])
def test_labels_are_never_remapped(make_clf, protonet, maml, digits):
    _, _, X_new, y_new = digits
    names = np.array(["five", "six", "seven", "eight", "nine"], dtype=object)
    for y in (y_new, names[y_new - 5]):
        result = evaluate_episodes(make_clf(protonet, maml), X_new, y, n_way=3,
                                   n_episodes=3, random_state=0)
        assert result.accuracies.shape == (3,)
        s, q = next(EpisodeSampler(3, 1, 5, 1, random_state=0).split(X_new, y))
        clf = make_clf(protonet, maml).fit(X_new[s], y[s])
        np.testing.assert_array_equal(clf.classes_, np.unique(y[s]))
        assert set(clf.predict(X_new[q]).tolist()) <= set(y[s].tolist())
    # Base-class labels of any type too, in the messages as well.
    X_base, y_base, _, _ = digits
    letters = np.array(list("abcde"), dtype=object)[y_base]
    enc = ProtoNetEncoder(k_shot=1, n_query=1, max_epochs=1, episodes_per_epoch=2,
                          **TINY).fit(X_base, letters)
    np.testing.assert_array_equal(enc.classes_, np.array(list("abcde"), dtype=object))
    few = np.concatenate([np.flatnonzero(letters == "c")[:2], np.flatnonzero(letters != "c")])
    with pytest.raises(ValueError, match=r"fewer: 'c' \(2 rows\)"):
        ProtoNetEncoder(k_shot=2, n_query=1, **TINY).fit(X_base[few], letters[few])


# ----------------------------------------------------------------------- composition
def test_clone_keeps_a_fitted_encoder_and_pipelines_work(protonet, digits):
    _, _, X_new, y_new = digits
    clf = PrototypeClassifier(protonet, metric="cosine")
    copy = clone(clf)
    assert copy.encoder is protonet and copy.metric == "cosine"
    assert clone(PrototypeClassifier(ProtoNetEncoder())).encoder is not None
    s, q = next(EpisodeSampler(5, 2, 5, 1, random_state=0).split(X_new, y_new))
    direct = PrototypeClassifier(protonet).fit(X_new[s], y_new[s]).predict_proba(X_new[q])
    pipe = make_pipeline(FrozenEstimator(protonet), PrototypeClassifier())
    np.testing.assert_allclose(clone(pipe).fit(X_new[s], y_new[s]).predict_proba(X_new[q]),
                               direct)
    frozen = PrototypeClassifier(FrozenEstimator(protonet)).fit(X_new[s], y_new[s])
    np.testing.assert_allclose(frozen.predict_proba(X_new[q]), direct)
    # Any scikit-learn transformer or classifier composes with the embeddings.
    lr = make_pipeline(FrozenEstimator(protonet), LogisticRegression()).fit(X_new[s], y_new[s])
    assert lr.predict(X_new[q]).shape == (len(q),)


def test_grid_search_over_episodes(protonet, digits):
    _, _, X_new, y_new = digits
    search = GridSearchCV(PrototypeClassifier(protonet), {"metric": ["sqeuclidean", "cosine"]},
                          cv=EpisodeSampler(5, 1, 5, n_episodes=4, random_state=0))
    search.fit(X_new, y_new)
    assert search.best_estimator_.encoder is protonet
    assert search.cv_results_["mean_test_score"].shape == (2,)


def test_pickle_roundtrip(protonet, maml, digits):
    X_base, y_base, X_new, y_new = digits
    baseline = BaselineEncoder(max_epochs=1, **TINY).fit(X_base, y_base)
    s = np.concatenate([np.flatnonzero(y_new == c)[:2] for c in (5, 6, 7)])
    for est in (protonet, baseline, maml):
        loaded = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(loaded.transform(X_new[:5]), est.transform(X_new[:5]))
    for clf in (PrototypeClassifier(protonet), FineTunedHeadClassifier(baseline),
                MAMLClassifier(maml)):
        clf.fit(X_new[s], y_new[s])
        loaded = pickle.loads(pickle.dumps(clf))
        np.testing.assert_allclose(loaded.predict_proba(X_new[:5]), clf.predict_proba(X_new[:5]))


# ----------------------------------------------------------------------- encoders
def test_encoders_transform_and_random_state(digits):
    X_base, y_base, X_new, _ = digits
    for make in (lambda s: ProtoNetEncoder(k_shot=1, n_query=2, max_epochs=1,
                                           episodes_per_epoch=3, module__width=4,
                                           random_state=s),
                 lambda s: BaselineEncoder(max_epochs=1, module__width=4, random_state=s)):
        a, b, c = make(0).fit(X_base, y_base), make(0).fit(X_base, y_base), make(1).fit(
            X_base, y_base)
        Za = a.transform(X_new)
        assert Za.dtype == np.float32 and Za.shape == (len(X_new), 64)
        np.testing.assert_array_equal(Za, b.transform(X_new))
        assert not np.allclose(Za, c.transform(X_new))
        # Eval mode: a row's embedding does not depend on its batch.
        np.testing.assert_allclose(a.transform(X_new[:3]), Za[:3], rtol=1e-5, atol=1e-6)
        assert len(a.history_) == 1 and a.n_steps_ > 0
        assert a.get_feature_names_out().shape == (64,)
        assert not hasattr(a, "predict")


def test_rows_and_minus_one_labels(digits):
    X_base, y_base, _, _ = digits
    y = y_base.copy()
    y[::3] = -1
    enc = ProtoNetEncoder(k_shot=1, n_query=1, max_epochs=1, episodes_per_epoch=2,
                          **TINY).fit(X_base.reshape(len(X_base), -1), y)
    np.testing.assert_array_equal(enc.classes_, [0, 1, 2, 3, 4])
    assert enc.n_features_in_ == 64 and type(enc.module_).__name__ == "MLP"
    assert enc.transform(X_base[:2].reshape(2, -1)).shape[0] == 2


def test_baseline_heads_and_fine_tuned_head(digits):
    X_base, y_base, X_new, y_new = digits
    s = np.concatenate([np.flatnonzero(y_new == c)[:3] for c in (5, 6, 7, 8, 9)])
    for head, kind in (("cosine", "CosineHead"), ("linear", "LinearHead")):
        enc = BaselineEncoder(head=head, max_epochs=3, **TINY).fit(X_base, y_base)
        assert type(enc.head_).__name__ == kind
        losses = enc.history_[:, "train_loss"]
        assert losses[-1] < losses[0]
        clf = FineTunedHeadClassifier(enc).fit(X_new[s], y_new[s])
        assert clf.head_kind_ == head and clf.n_iter_ == 100
        assert clf.score(X_new[s], y_new[s]) >= 0.8
    cos = FineTunedHeadClassifier(enc, head="cosine", max_iter=0).fit(X_new[s], y_new[s])
    # With no step, the imprinted cosine head is the cosine nearest mean of
    # the normalised embeddings.
    proto = make_pipeline(FrozenEstimator(enc), Normalizer(),
                          PrototypeClassifier(metric="cosine")).fit(X_new[s], y_new[s])
    np.testing.assert_array_equal(cos.predict(X_new), proto.predict(X_new))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_device(digits):  # pragma: no cover - runs where a GPU is
    X_base, y_base, X_new, y_new = digits
    s = np.concatenate([np.flatnonzero(y_new == c)[:2] for c in (5, 6, 7)])
    for enc in (ProtoNetEncoder(k_shot=1, n_query=1, max_epochs=1, episodes_per_epoch=2,
                                device="cuda", **TINY),
                BaselineEncoder(max_epochs=1, device="cuda", **TINY)):
        enc.fit(X_base, y_base)
        assert next(enc.module_.parameters()).is_cuda
        assert PrototypeClassifier(enc).fit(X_new[s], y_new[s]).predict(X_new).shape
    maml = MAML(n_way=3, k_shot=1, n_query=1, max_epochs=1, episodes_per_epoch=2,
                device="cuda", **TINY).fit(X_base, y_base)
    clf = MAMLClassifier(maml).fit(X_new[s], y_new[s])
    assert next(clf.module_.parameters()).is_cuda
    assert clf.predict(X_new).shape == (len(X_new),)


def test_device_parameter_is_used(digits):
    X_base, y_base, _, _ = digits
    enc = ProtoNetEncoder(k_shot=1, n_query=1, max_epochs=1, episodes_per_epoch=1,
                          device="meta", **TINY)
    with pytest.raises(Exception):
        enc.fit(X_base, y_base)
    assert MAMLClassifier(device="cpu").get_params()["device"] == "cpu"


# ----------------------------------------------------------------------- MAML
def _tiny_task():
    g = torch.Generator().manual_seed(0)
    x_s = torch.randn(6, 3, generator=g, dtype=torch.float64)
    x_q = torch.randn(8, 3, generator=g, dtype=torch.float64)
    return x_s, torch.tensor([0, 1, 0, 1, 0, 1]), x_q, torch.tensor([0, 1] * 4)


def _tiny_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                               torch.nn.Linear(4, 2)).double()


def _meta_grad(net, first_order, inner_steps=3):
    params = dict(net.named_parameters())
    loss, _ = maml_task_loss(net, params, {}, *_tiny_task(), inner_lr=0.5,
                             inner_steps=inner_steps, first_order=first_order)
    return torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(params.values()))])


def test_maml_second_order_gradient_matches_finite_differences():
    net = _tiny_net()
    shapes = {n: p.shape for n, p in net.named_parameters()}
    theta = torch.cat([p.detach().flatten() for p in net.parameters()])

    def loss_at(vector):
        params, i = {}, 0
        for n, shape in shapes.items():
            k = int(np.prod(shape))
            params[n] = vector[i:i + k].view(shape).clone().requires_grad_(True)
            i += k
        loss, _ = maml_task_loss(net, params, {}, *_tiny_task(), inner_lr=0.5,
                                 inner_steps=3)
        return float(loss.detach())

    eps = 1e-6
    numeric = torch.zeros_like(theta)
    for i in range(theta.numel()):
        e = torch.zeros_like(theta)
        e[i] = eps
        numeric[i] = (loss_at(theta + e) - loss_at(theta - e)) / (2 * eps)
    second = _meta_grad(net, first_order=False)
    np.testing.assert_allclose(second.numpy(), numeric.numpy(), rtol=1e-5, atol=1e-8)
    first = _meta_grad(net, first_order=True)
    assert torch.linalg.norm(first - second) > 1e-2 * torch.linalg.norm(second)


def test_maml_first_order_gradient_is_the_query_gradient_at_the_adapted_point():
    from sklabelfree.few_shot import maml_adapt

    net = _tiny_net()
    x_s, y_s, x_q, y_q = _tiny_task()
    params = dict(net.named_parameters())
    adapted = maml_adapt(net, params, {}, x_s, y_s, 0.5, 3, first_order=True)
    point = {n: p.detach().requires_grad_(True) for n, p in adapted.items()}
    loss = torch.nn.functional.cross_entropy(torch.func.functional_call(net, point, (x_q,)), y_q)
    expected = torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(point.values()))])
    np.testing.assert_allclose(_meta_grad(net, first_order=True).numpy(), expected.numpy(),
                               rtol=1e-10)
    # No inner step: first and second order are the plain query gradient.
    np.testing.assert_allclose(_meta_grad(net, True, 0).numpy(),
                               _meta_grad(net, False, 0).numpy())


def test_maml_batch_norm_uses_the_support_statistics(maml, digits):
    _, _, X_new, y_new = digits
    s = np.concatenate([np.flatnonzero(y_new == c)[:2] for c in (5, 6, 7)])
    clf = MAMLClassifier(maml).fit(X_new[s], y_new[s])
    full = clf.predict_proba(X_new[:20])
    one_by_one = np.vstack([clf.predict_proba(X_new[i:i + 1]) for i in range(20)])
    np.testing.assert_allclose(one_by_one, full, rtol=1e-10)
    # The meta-learned network is untouched by the adaptation.
    before = {k: v.clone() for k, v in maml.module_.state_dict().items()}
    MAMLClassifier(maml, inner_steps=5).fit(X_new[s], y_new[s])
    for k, v in maml.module_.state_dict().items():
        assert torch.equal(v, before[k])
    # More inner steps fit the support set better.
    fit1 = MAMLClassifier(maml, inner_steps=1, inner_lr=0.05).fit(X_new[s], y_new[s])
    fit20 = MAMLClassifier(maml, inner_steps=20, inner_lr=0.05).fit(X_new[s], y_new[s])
    assert fit20.score(X_new[s], y_new[s]) >= fit1.score(X_new[s], y_new[s])


def test_maml_meta_training_changes_the_initialisation_and_is_reproducible(digits):
    X_base, y_base, _, _ = digits
    params = dict(n_way=3, k_shot=1, n_query=2, inner_steps=1, max_epochs=1,
                  episodes_per_epoch=2, meta_batch_size=2, module__width=4)
    a = MAML(random_state=0, **params).fit(X_base, y_base)
    b = MAML(random_state=0, **params).fit(X_base, y_base)
    untrained = MAML(random_state=0, lr=1e-12, **params).fit(X_base, y_base)
    fo = MAML(random_state=0, first_order=True, **params).fit(X_base, y_base)
    sa, sb = a.module_.state_dict(), b.module_.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    w = "head.weight"
    assert not torch.allclose(sa[w], untrained.module_.state_dict()[w])
    assert not torch.equal(sa[w], fo.module_.state_dict()[w])
    assert a.n_steps_ == 1 and a.transform(X_base[:2]).shape == (2, 64)


# ----------------------------------------------------------------------- figures
@pytest.mark.slow
def test_default_methods_beat_nearest_centroid_on_pixels():
    """The benchmark's claim, on 100 episodes per shot (a few minutes)."""
    X, y = load_digits_images()
    base, novel = y < 5, y >= 5
    encoders = {
        "protonet": PrototypeClassifier(ProtoNetEncoder(random_state=0).fit(X[base], y[base])),
        "baseline++": FineTunedHeadClassifier(BaselineEncoder(random_state=0).fit(
            X[base], y[base])),
        "maml": MAMLClassifier(MAML(random_state=0).fit(X[base], y[base])),
    }
    for k in (1, 5):
        pixels = evaluate_episodes(NearestCentroid(), X[novel].reshape(-1, 64), y[novel],
                                   k_shot=k, n_episodes=100, random_state=0).mean_accuracy
        for name, clf in encoders.items():
            acc = evaluate_episodes(clf, X[novel], y[novel], k_shot=k, n_episodes=100,
                                    random_state=0).mean_accuracy
            assert acc > pixels, (name, k, acc, pixels)


def test_a_column_vector_target_scores_like_a_flat_one(digits):
    # A target taken as df[["label"]] is (n, 1): the accuracy must not
    # broadcast the predictions against it.
    _, _, X_new, y_new = digits
    X_rows = X_new.reshape(len(X_new), -1)
    kw = dict(n_way=3, k_shot=1, n_query=4, n_episodes=5, random_state=0)
    flat = evaluate_episodes(PrototypeClassifier(), X_rows, y_new, **kw)
    with pytest.warns(Warning, match="column-vector y"):
        column = evaluate_episodes(PrototypeClassifier(), X_rows, y_new[:, None], **kw)
    np.testing.assert_array_equal(column.accuracies, flat.accuracies)
    assert flat.accuracies.min() > 0.34
    with pytest.warns(Warning, match="column-vector y"):
        _, ys, _, yq = next(EpisodeSampler(3, 1, 4, 1, random_state=0)
                            .episodes(X_rows, y_new[:, None]))
    assert ys.shape == (3,) and yq.shape == (12,)


@pytest.mark.parametrize("make", [
    lambda: ProtoNetEncoder(n_way=2, k_shot=1, n_query=1, **TINY),
    lambda: ProtoNetEncoder(k_shot=1, n_query=1, **TINY),     # n_way=None
    lambda: MAML(n_way=2, k_shot=1, n_query=1, meta_batch_size=1, **TINY),
])
def test_partial_fit_on_a_subset_of_the_base_classes(make, digits):
    X_base, y_base, _, _ = digits
    net = make().set_params(max_epochs=1, episodes_per_epoch=2).fit(X_base, y_base)
    before = [p.detach().clone() for p in net.module_.parameters()]
    subset = np.isin(y_base, [0, 4])       # the first and the last class only
    net.partial_fit(X_base[subset], y_base[subset])
    assert any(not torch.equal(a, b) for a, b in zip(before, net.module_.parameters()))
    assert net.classes_.tolist() == [0, 1, 2, 3, 4]


def test_encoders_honour_set_output(protonet, maml, digits):
    import pandas as pd

    from sklabelfree.utils.discovery import all_estimators

    X_base = digits[0][:4]
    for net in (pickle.loads(pickle.dumps(protonet)), pickle.loads(pickle.dumps(maml))):
        net.set_output(transform="pandas")
        Z = net.transform(X_base)
        assert isinstance(Z, pd.DataFrame) and Z.shape[0] == 4
        assert Z.columns.tolist() == net.get_feature_names_out().tolist()
    # Every transformer's own transform is wrapped, not only fit_transform's.
    unwrapped = [name for name, cls in all_estimators()
                 if hasattr(cls, "set_output") and not hasattr(cls.transform, "__wrapped__")]
    assert unwrapped == []


def test_maml_module_with_too_few_logits_and_warm_start_on_other_classes(digits):
    X_base, y_base, _, _ = digits
    small = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 2))
    with pytest.raises(ValueError, match="at least n_way=3 logits per row"):
        MAML(small, n_way=3, k_shot=1, n_query=2, max_epochs=1,
             episodes_per_epoch=1).fit(X_base, y_base)
    net = BaselineEncoder(max_epochs=1, warm_start=True, **TINY)
    net.fit(X_base[y_base < 3], y_base[y_base < 3])
    net.fit(X_base[y_base < 3], y_base[y_base < 3])     # the same classes: continues
    with pytest.raises(ValueError, match="warm_start=True continues the network"):
        net.fit(X_base, y_base)


@pytest.mark.parametrize("Clf", [PrototypeClassifier, FineTunedHeadClassifier])
def test_images_as_nested_lists_are_flattened_like_arrays(Clf):
    # With no encoder the images are flattened; nested lists of images were
    # refused ("dim <= 2 is required") while the same ndarray worked.
    X, y = load_digits_images()
    X, y = X[:60], y[:60]
    np.testing.assert_array_equal(Clf().fit(X.tolist(), y).predict(X[:10].tolist()),
                                  Clf().fit(X, y).predict(X[:10]))


def test_maml_classifier_refit_on_images_drops_n_features_in():
    # A refit on images must not keep the feature count of a fit on rows.
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 3)
    clf = MAMLClassifier(inner_steps=1, random_state=0).fit(rng.rand(6, 64), y)
    assert clf.n_features_in_ == 64
    clf.fit(rng.rand(6, 1, 8, 8).astype(np.float32), y)
    assert clf.input_shape_ == (1, 8, 8) and not hasattr(clf, "n_features_in_")
