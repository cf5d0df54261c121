"""CLIP: its loss, the encoder, zero-shot classification and the digit captions."""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklabelfree.datasets import (
    DIGIT_CLASS_PROMPTS,
    DIGIT_PROMPT_TEMPLATES,
    DIGIT_WORDS,
    load_digits_images,
    make_digit_captions,
)
from sklabelfree.datasets._captions import _CAPTION_TEMPLATES
from sklabelfree.nn.losses import clip_loss
from sklabelfree.self_supervised import CLIPEncoder, ZeroShotClassifier
from sklabelfree.self_supervised._clip import check_texts
from sklabelfree.utils._test_common import check_fit_on_device, device_params

torch.set_num_threads(1)

TINY = dict(max_epochs=2, batch_size=32, module__width=4, embed_dim=8, text_hidden_dim=16,
            random_state=0)


def _tiny(**kw):
    return CLIPEncoder(**{**TINY, **kw})


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_images()
    return X[:300], y[:300], make_digit_captions(y[:300], random_state=0)


@pytest.fixture(scope="module")
def trained(digits):
    """A small CLIP trained long enough to align the towers."""
    X, y, captions = digits
    return CLIPEncoder(max_epochs=15, batch_size=32, module__width=8, embed_dim=16,
                       lr=3e-3, random_state=0).fit(X, captions)


# --------------------------------------------------------------------- the loss
def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_clip_loss_matches_hand_computation():
    img, txt, scale = _rand(5, 3), _rand(5, 3, seed=1), 3.0
    a = img / img.norm(dim=1, keepdim=True)
    b = txt / txt.norm(dim=1, keepdim=True)
    s = [[scale * float(a[i] @ b[j]) for j in range(5)] for i in range(5)]
    img_to_txt = np.mean([-s[i][i] + math.log(sum(math.exp(v) for v in s[i]))
                          for i in range(5)])
    txt_to_img = np.mean([-s[j][j] + math.log(sum(math.exp(s[i][j]) for i in range(5)))
                          for j in range(5)])
    expected = (img_to_txt + txt_to_img) / 2
    assert float(clip_loss(img, txt, scale)) == pytest.approx(expected, rel=1e-5)
    # The scale multiplies (it is exp(t), not t) and a tensor scale works too.
    assert float(clip_loss(img, txt, torch.tensor(scale))) == pytest.approx(expected,
                                                                            rel=1e-5)
    assert float(clip_loss(img, txt, 1.0)) != pytest.approx(expected, rel=1e-3)
    # Symmetric in its two towers; low when the pairs match.
    assert float(clip_loss(txt, img, scale)) == pytest.approx(expected, rel=1e-5)
    assert clip_loss(img, img, 10.0) < clip_loss(img, txt, 10.0)
    with pytest.raises(ValueError, match="same shape"):
        clip_loss(img, txt[:, :2], scale)


# --------------------------------------------------------------------- the encoder
def test_fit_transform_encode(digits):
    X, _, captions = digits
    clip = _tiny().fit(X, captions)
    Z = clip.transform(X)
    assert Z.dtype == np.float32 and Z.shape == (len(X), 8)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(clip.encode_image(X[:5]), Z[:5], rtol=1e-6)
    T = clip.encode_text(["a handwritten seven", "the digit 7", "unknown words only"])
    assert T.dtype == np.float32 and T.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(T, axis=1), 1.0, rtol=1e-5)
    assert clip.feature_dim_ == 8 and clip.get_feature_names_out().shape == (8,)
    assert clip.text_dim_ == len(clip.vectorizer_.vocabulary_)
    # One-character tokens (the numerals) are words of the default vectorizer.
    assert "7" in clip.vectorizer_.vocabulary_
    assert not hasattr(clip, "predict")
    # The trunk features are those before the projection.
    with torch.no_grad():
        h = clip.features_of_trunk(torch.as_tensor(X[:4]))
    assert h.shape == (4, clip.trunk_dim_)


def test_logit_scale_starts_at_paper_value_and_is_clamped(digits):
    X, _, captions = digits
    fresh = _tiny(max_epochs=0).fit(X, captions)
    assert fresh.logit_scale_.log_scale.item() == pytest.approx(math.log(1 / 0.07))
    assert fresh.logit_scale_().item() == pytest.approx(1 / 0.07, rel=1e-5)
    # Learned: it is one of the optimizer's parameters, and training moves it.
    trained = _tiny(max_epochs=3).fit(X, captions)
    params = [p for g in trained.optimizer_.param_groups for p in g["params"]]
    assert any(p is trained.logit_scale_.log_scale for p in params)
    assert trained.logit_scale_.log_scale.item() != pytest.approx(math.log(1 / 0.07))
    # After a big update the multiplier is capped at 100, and the clamp that
    # follows each step brings t back to log(100) (one step: one batch).
    with torch.no_grad():
        trained.logit_scale_.log_scale.add_(10.0)
    assert trained.logit_scale_().item() == pytest.approx(100.0, rel=1e-5)
    steps = trained.n_steps_
    trained.set_params(max_epochs=1, batch_size=len(X))
    trained.partial_fit(X, captions)
    assert trained.n_steps_ == steps + 1
    assert trained.logit_scale_.log_scale.item() == pytest.approx(math.log(100.0))
    # An initial scale above the cap starts clamped.
    hot = _tiny(max_epochs=0, init_temperature=0.001).fit(X, captions)
    assert hot.logit_scale_.log_scale.item() == pytest.approx(math.log(100.0))
    low_cap = _tiny(max_epochs=0, max_logit_scale=5.0).fit(X, captions)
    assert low_cap.logit_scale_().item() == pytest.approx(5.0, rel=1e-5)


def test_training_aligns_images_with_their_captions(digits, trained):
    X, y, captions = digits
    losses = trained.history_[:, "train_loss"]
    assert losses[-1] < losses[0] - 0.5
    # Retrieval: each image's most similar caption word names its class far
    # more often than chance (0.1).
    words = trained.encode_text(list(DIGIT_WORDS))
    assert ((trained.transform(X) @ words.T).argmax(1) == y).mean() > 0.5


def test_reproducible_with_random_state(digits):
    X, _, captions = digits
    a, b = _tiny().fit(X, captions), _tiny().fit(X, captions)
    np.testing.assert_allclose(a.transform(X[:10]), b.transform(X[:10]), atol=1e-6)
    np.testing.assert_allclose(a.encode_text(["a seven"]), b.encode_text(["a seven"]),
                               atol=1e-6)
    c = _tiny(random_state=1).fit(X, captions)
    assert not np.allclose(a.transform(X[:10]), c.transform(X[:10]), atol=1e-3)
    # The global torch random state is left alone.
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    _tiny().fit(X, captions)
    assert torch.equal(torch.rand(3), expected)


def test_clone_pickle_and_custom_vectorizer(digits):
    X, _, captions = digits
    vec = CountVectorizer(token_pattern=r"(?u)\b\w+\b", binary=True)
    clip = _tiny(vectorizer=vec).fit(X, captions)
    assert not hasattr(vec, "vocabulary_")  # cloned at fit, the parameter is untouched
    assert clip.text_dim_ == len(clip.vectorizer_.vocabulary_)
    again = pickle.loads(pickle.dumps(clip))
    np.testing.assert_allclose(again.transform(X[:10]), clip.transform(X[:10]), atol=1e-6)
    np.testing.assert_allclose(again.encode_text(["the digit 3"]),
                               clip.encode_text(["the digit 3"]), atol=1e-6)
    assert again.logit_scale_().item() == pytest.approx(clip.logit_scale_().item())
    twin = clone(clip)
    assert twin.get_params()["embed_dim"] == 8
    assert twin.get_params()["module__width"] == 4
    with pytest.raises(NotFittedError):
        twin.encode_text(["a seven"])
    np.testing.assert_allclose(twin.fit(X, captions).transform(X[:10]),
                               clip.transform(X[:10]), atol=1e-5)


def test_rows_and_numbers_as_texts(digits):
    X, y, captions = digits
    rows = X.reshape(len(X), -1)
    clip = _tiny().fit(rows, captions)
    assert clip.n_features_in_ == 64 and clip.transform(rows[:5]).shape == (5, 8)
    with pytest.raises(ValueError, match="64 features"):
        clip.transform(rows[:, :10])
    # Numeric texts are turned into strings: a label is a one-word caption.
    from_numbers = _tiny().fit(rows, y)
    from_strings = _tiny().fit(rows, [str(v) for v in y])
    np.testing.assert_allclose(from_numbers.transform(rows[:5]),
                               from_strings.transform(rows[:5]), atol=1e-6)
    assert check_texts(np.array([1.5, 2])) == ["1.5", "2.0"]


def test_bad_input_and_params(digits):
    X, _, captions = digits
    with pytest.raises(ValueError, match="requires y to be passed"):
        _tiny().fit(X)
    with pytest.raises(ValueError, match="X has 300 rows but 299 texts"):
        _tiny().fit(X, captions[:-1])
    bad = list(captions)
    bad[3] = None
    with pytest.raises(ValueError, match=r"y\[3\] is missing"):
        _tiny().fit(X, bad)
    bad[3] = float("nan")
    with pytest.raises(ValueError, match=r"y\[3\] is missing"):
        _tiny().fit(X, bad)
    with pytest.raises(ValueError, match="single string"):
        _tiny().fit(X[:2], "a seven")
    with pytest.raises(ValueError, match="must be 1-D"):
        _tiny().fit(X[:2], np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="at least 2 samples"):
        _tiny().fit(X[:1], captions[:1])
    with pytest.raises(ValueError, match="embed_dim"):
        _tiny(embed_dim=0).fit(X, captions)
    with pytest.raises(ValueError, match="vectorizer"):
        _tiny(vectorizer="tfidf").fit(X, captions)
    with pytest.raises(ValueError, match="init_temperature"):
        _tiny(init_temperature=0.0).fit(X, captions)
    with pytest.raises(NotFittedError):
        _tiny().encode_text(["a seven"])
    clip = _tiny(max_epochs=0).fit(X, captions)
    with pytest.raises(ValueError, match="single string"):
        clip.encode_text("a seven")
    with pytest.raises(ValueError, match="at least one text"):
        clip.encode_text([])


def test_pipeline_and_grid_search(digits):
    X, y, _ = digits
    # In a pipeline y reaches every step: the labels become one-word captions.
    pipe = make_pipeline(_tiny(), LogisticRegression(max_iter=200))
    grid = GridSearchCV(pipe, {"clipencoder__embed_dim": [4, 8]}, cv=2).fit(X, y)
    assert grid.best_params_["clipencoder__embed_dim"] in (4, 8)
    assert grid.predict(X[:3]).shape == (3,)


# --------------------------------------------------------------------- zero-shot
class _TableClip(BaseEstimator):
    """A stand-in for a fitted CLIP: texts from a table, images are their embedding."""

    def __init__(self, table, scale=10.0):
        self.table, self.scale = table, scale

    def fit(self, X=None, y=None):
        return self

    def __sklearn_is_fitted__(self):
        return True

    def encode_text(self, texts):
        return np.array([self.table[t] for t in texts], dtype=np.float32)

    def encode_image(self, X):
        X = np.asarray(X, dtype=np.float32)
        return X / np.linalg.norm(X, axis=1, keepdims=True)

    def logit_scale_(self):
        return torch.tensor(self.scale)


TABLE = {"a cat": [1.0, 0.0], "the cat": [2.0, 2.0], "a kitten": [0.0, 3.0],
         "the kitten": [1.0, 0.0], "a dog": [0.0, 1.0], "the dog": [-1.0, 1.0]}


def test_zero_shot_on_a_constructed_case():
    clf = ZeroShotClassifier(_TableClip(TABLE), {"cat": ["cat", "kitten"], "dog": "dog"},
                             templates=["a {}", "the {}"]).fit()
    assert list(clf.classes_) == ["cat", "dog"]
    assert clf.prompts_[0] == ["a cat", "the cat", "a kitten", "the kitten"]
    # Prompt ensembling: the normalised mean of the normalised prompt embeddings.
    unit = {k: np.array(v) / np.linalg.norm(v) for k, v in TABLE.items()}
    cat = np.mean([unit[p] for p in ("a cat", "the cat", "a kitten", "the kitten")], 0)
    dog = np.mean([unit["a dog"], unit["the dog"]], 0)
    expected = np.stack([cat / np.linalg.norm(cat), dog / np.linalg.norm(dog)])
    np.testing.assert_allclose(clf.class_embeddings_, expected, rtol=1e-6)
    # Each image goes to the most similar class embedding. [0.3, 1] is
    # nearest to the single prompt "a kitten" (a cat prompt) but nearer to
    # the dog class embedding than to the cat one.
    X = np.array([[1.0, 0.2], [0.3, 1.0], [-1.0, 0.5]])
    cos = (X / np.linalg.norm(X, axis=1, keepdims=True)) @ expected.T
    assert list(clf.predict(X)) == ["cat", "dog", "dog"]
    assert (cos[:, 1] > cos[:, 0]).tolist() == [False, True, True]
    proba = np.exp(10 * cos) / np.exp(10 * cos).sum(1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-6)
    assert clf.score(X, ["cat", "dog", "dog"]) == 1.0
    # logit_scale changes the probabilities, not the predictions.
    sharp = clone(clf).set_params(logit_scale=100.0).fit()
    assert sharp.predict_proba(X).max(1).min() > clf.predict_proba(X).max(1).min()
    assert list(sharp.predict(X)) == ["cat", "dog", "dog"]
    # A list of names gives classes 0 .. n-1.
    listed = ZeroShotClassifier(_TableClip(TABLE), ["cat", "dog"], templates="a {}").fit()
    assert list(listed.classes_) == [0, 1] and list(listed.predict(X[:1])) == [0]


def test_zero_shot_with_a_trained_clip(digits, trained):
    X, y, _ = digits
    clf = ZeroShotClassifier(trained, DIGIT_CLASS_PROMPTS,
                             templates=DIGIT_PROMPT_TEMPLATES).fit()
    assert clf.class_embeddings_.shape == (10, 16)
    assert clf.logit_scale_ == pytest.approx(trained.logit_scale_().item())
    # The class embedding is the normalised mean of the normalised prompts'.
    e = trained.encode_text([t.format(n) for n in ("seven", "7")
                             for t in DIGIT_PROMPT_TEMPLATES])
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    m = e.mean(0)
    np.testing.assert_allclose(clf.class_embeddings_[7], m / np.linalg.norm(m), atol=1e-6)
    assert clf.score(X, y) > 0.5  # chance is 0.1
    proba = clf.predict_proba(X[:20])
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(X[:20]))
    # fit ignores y and checks X against the encoder's sample shape.
    again = ZeroShotClassifier(trained, DIGIT_CLASS_PROMPTS, templates=DIGIT_PROMPT_TEMPLATES)
    np.testing.assert_allclose(again.fit(X, np.zeros(len(X))).class_embeddings_,
                               clf.class_embeddings_)
    with pytest.raises(ValueError, match="features|shape"):
        clf.fit(X.reshape(len(X), -1))
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(X[:20]), clf.predict(X[:20]))


def test_zero_shot_clone_and_grid_search(digits, trained):
    X, y, _ = digits
    clf = ZeroShotClassifier(trained, DIGIT_CLASS_PROMPTS)
    # clone() unfits the encoder: fit says how to keep it.
    with pytest.raises(NotFittedError, match="FrozenEstimator"):
        clone(clf).fit()
    frozen = ZeroShotClassifier(FrozenEstimator(trained), DIGIT_CLASS_PROMPTS)
    grid = GridSearchCV(frozen, {"templates": [("{}",), DIGIT_PROMPT_TEMPLATES]},
                        cv=2).fit(X, y)
    assert grid.best_estimator_.clip.estimator is trained
    assert grid.score(X, y) == pytest.approx(
        clone(frozen).set_params(**grid.best_params_).fit().score(X, y))


def test_zero_shot_bad_input(digits):
    X, _, captions = digits
    clip = _tiny(max_epochs=0).fit(X, captions)
    with pytest.raises(NotFittedError, match="needs a fitted clip"):
        ZeroShotClassifier(_tiny(), DIGIT_CLASS_PROMPTS).fit()
    with pytest.raises(ValueError, match="class_prompts is empty"):
        ZeroShotClassifier(clip, {}).fit()
    with pytest.raises(ValueError, match=r"class_prompts\[3\]"):
        ZeroShotClassifier(clip, {**DIGIT_CLASS_PROMPTS, 3: []}).fit()
    with pytest.raises(ValueError, match="'{}'"):
        ZeroShotClassifier(clip, DIGIT_CLASS_PROMPTS, templates=["a digit"]).fit()
    with pytest.raises(ValueError, match="clip"):
        ZeroShotClassifier("not a model", DIGIT_CLASS_PROMPTS).fit()
    with pytest.raises(ValueError, match="logit_scale"):
        ZeroShotClassifier(clip, DIGIT_CLASS_PROMPTS, logit_scale=-1.0).fit()
    with pytest.raises(NotFittedError):
        ZeroShotClassifier(clip, DIGIT_CLASS_PROMPTS).predict(X[:2])


# --------------------------------------------------------------------- captions
def test_digit_captions():
    y = np.repeat(np.arange(10), 60)
    caps = make_digit_captions(y, random_state=0)
    assert caps.shape == (600,) and caps.dtype == object
    np.testing.assert_array_equal(caps, make_digit_captions(y, random_state=0))
    assert not np.array_equal(caps, make_digit_captions(y, random_state=1))
    for label, cap in zip(y, caps):
        tokens = cap.replace(",", " ").split()
        # Each caption names its digit (word or numeral) and no other digit.
        assert DIGIT_WORDS[label] in tokens or str(label) in tokens
        others = {w for k, w in enumerate(DIGIT_WORDS) if k != label}
        others |= {str(k) for k in range(10) if k != label}
        assert not others & set(tokens)
    assert len(set(caps[y == 7])) >= 12  # several phrasings, word and numeral
    assert {"7", "seven"} <= set(caps[y == 7])
    # The benchmark's prompts are not caption phrasings.
    assert not set(DIGIT_PROMPT_TEMPLATES) & {t.replace("{word}", "{}").replace(
        "{num}", "{}").replace("{any}", "{}") for t in _CAPTION_TEMPLATES}
    with pytest.raises(ValueError, match="0..9"):
        make_digit_captions([3, 10])
    with pytest.raises(ValueError, match="integer"):
        make_digit_captions([1.5])


@pytest.mark.parametrize("device", device_params())
def test_fit_on_device(device, digits):
    X, _, captions = digits
    check_fit_on_device(_tiny(device=device), X, device, fit_args=(captions,))
