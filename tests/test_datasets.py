import numpy as np
import pytest

from sklabelfree.datasets import (
    digits_benchmark_split,
    image_half_views,
    load_digits_images,
    make_partially_labeled,
)


def test_load_digits_images_shapes_and_scale():
    X, y = load_digits_images()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    X2, y2 = load_digits_images(as_images=False)
    assert X2.shape == (1797, 64)
    np.testing.assert_array_equal(X2, X.reshape(1797, 64))
    np.testing.assert_array_equal(y, y2)
    bunch = load_digits_images(return_X_y=False)
    assert bunch.data.shape == (1797, 1, 8, 8)


def test_make_partially_labeled_per_class():
    y = np.repeat(np.arange(4), 10)
    y_copy = y.copy()
    out = make_partially_labeled(y, 8, random_state=0)
    np.testing.assert_array_equal(y, y_copy)
    kept = out != -1
    assert kept.sum() == 8
    np.testing.assert_array_equal(np.bincount(out[kept]), [2, 2, 2, 2])
    np.testing.assert_array_equal(out[kept], y[kept])
    np.testing.assert_array_equal(out, make_partially_labeled(y, 8, random_state=0))


def test_make_partially_labeled_global_and_strings():
    y = np.array(["a", "b"] * 10)
    out = make_partially_labeled(y, 5, per_class=False, random_state=1)
    assert out.dtype == object
    assert int(sum(v == -1 for v in out)) == 15
    out_u = make_partially_labeled(np.arange(10, dtype=np.uint8) % 2, 4, random_state=0)
    assert (out_u == -1).sum() == 6


@pytest.mark.parametrize(
    "n_labeled, kwargs, match",
    [
        (3, {}, "not a multiple of the 2 classes"),
        (0, {}, "at least 1"),
        (100, {}, "larger than the number of rows"),
        (12, {}, "fewer than the 6 labels per class"),
    ],
)
def test_make_partially_labeled_errors(n_labeled, kwargs, match):
    y = np.array([0] * 5 + [1] * 15)
    with pytest.raises(ValueError, match=match):
        make_partially_labeled(y, n_labeled, **kwargs)


def test_digits_benchmark_split_follows_protocol():
    X_tr, y_tr, X_te, y_te, y_full = digits_benchmark_split(50, random_state=1)
    assert X_tr.shape == (1257, 64) and X_te.shape == (540, 64)
    labeled = y_tr != -1
    assert labeled.sum() == 50
    np.testing.assert_array_equal(np.bincount(y_tr[labeled]), [5] * 10)
    np.testing.assert_array_equal(y_tr[labeled], y_full[labeled])
    X_im = digits_benchmark_split(50, random_state=1, as_images=True)[0]
    np.testing.assert_array_equal(X_im.reshape(-1, 64), X_tr)


def test_image_half_views():
    left, right = image_half_views((8, 8))
    assert len(left) == len(right) == 32
    assert set(left) | set(right) == set(range(64)) and not set(left) & set(right)
    assert all(c % 8 < 4 for c in left)
    top, bottom = image_half_views((8, 8), axis="height")
    assert top.max() == 31 and bottom.min() == 32
    with pytest.raises(ValueError, match="axis must be"):
        image_half_views((8, 8), axis="depth")


def test_bunch_images_are_scaled_like_data():
    bunch = load_digits_images(return_X_y=False)
    np.testing.assert_array_equal(bunch.images, bunch.data.reshape(-1, 8, 8))
    assert bunch.images.max() == 1.0


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_labels=25), ValueError, "a positive multiple of 10"),
    (dict(n_labels=2000), ValueError, "at most 1220 labels"),
    (dict(n_labels=20, random_state=np.random.RandomState(0)), TypeError,
     "random_state must be an int"),
])
def test_digits_benchmark_split_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        digits_benchmark_split(**kwargs)


def test_make_partially_labeled_needs_a_full_target():
    with pytest.raises(ValueError, match="already contains -1"):
        make_partially_labeled([0, 1, -1, -1, 0, 1], 3, random_state=0)


def test_bad_inputs_of_the_small_helpers_get_clear_errors():
    from sklabelfree.datasets import colorize_digits, image_half_views, make_partially_labeled

    with pytest.raises(ValueError, match="None or NaN"):
        make_partially_labeled(np.array(["a", None] * 5, dtype=object), 2)
    with pytest.raises(ValueError, match="string '-1'"):
        make_partially_labeled(np.array(["a", "-1"] * 5), 2)
    with pytest.raises(TypeError, match="per_class must be True or False"):
        make_partially_labeled(np.array([0, 1] * 5), 2, per_class="no")
    images = np.zeros((2, 8, 8))
    images[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="no NaN"):
        colorize_digits(images, [0, 1])
    with pytest.raises(ValueError, match="integer labels"):
        colorize_digits(np.zeros((2, 8, 8)), [0.5, 9.9])
    with pytest.raises(ValueError, match="integer labels"):
        colorize_digits(np.zeros((2, 8, 8)), ["a", "b"])
    for shape in [(0, 8), (-3, 8), (8.0, 8.0), (1, 8, 8)]:
        with pytest.raises(ValueError, match="image_shape must be a pair of positive ints"):
            image_half_views(shape)
