"""The -1 contract: one helper, the same rules and messages everywhere."""

import warnings

import numpy as np
import pytest

import sklabelfree
from sklabelfree.utils.validation import (
    AllLabeledWarning,
    check_partially_labeled,
    labeled_mask,
)


def test_unlabeled_constant():
    assert sklabelfree.UNLABELED == -1


def test_classes_exclude_minus_one_and_input_untouched():
    y = np.array([2, -1, 0, 2, -1])
    y_copy = y.copy()
    y_out, labeled, classes = check_partially_labeled(y)
    np.testing.assert_array_equal(classes, [0, 2])
    np.testing.assert_array_equal(labeled, [True, False, True, True, False])
    np.testing.assert_array_equal(y, y_copy)
    y_out[0] = 99
    assert y[0] == 2, "the helper must return a copy"


@pytest.mark.parametrize(
    "y, match",
    [
        (np.array([0.0, 1.0, np.nan]), "NaN.*-1"),
        (np.array([-1, -1, -1]), "every row of y is unlabeled"),
        (np.array([1, 1, -1]), "1 class among its labeled rows; at least 2"),
        (np.array(["a", 1, -1], dtype=object), "mixes label types"),
        (np.array(["a", None, -1], dtype=object), "None or NaN"),
        (np.array(["a", "-1", "b"]), "string '-1'"),
        (np.array([0.5, 1.5, -1]), "Unknown label type"),
        (np.array([], dtype=int), "empty"),
        (None, "requires y to be passed"),
    ],
)
def test_bad_targets_have_clear_messages(y, match):
    with pytest.raises(ValueError, match=match):
        check_partially_labeled(y)


def test_negative_labels_rejected_on_request():
    y = np.array([0, -2, 1, -1])
    _, _, classes = check_partially_labeled(y)
    np.testing.assert_array_equal(classes, [-2, 0, 1])
    with pytest.raises(ValueError, match=r"negative labels \[-2\]"):
        check_partially_labeled(y, allow_negative_labels=False)


def test_all_labeled_warns_but_works():
    with pytest.warns(AllLabeledWarning, match="no unlabeled rows"):
        _, labeled, classes = check_partially_labeled([0, 1, 1])
    assert labeled.all() and classes.tolist() == [0, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_partially_labeled([0, 1, 1], warn_all_labeled=False)


def test_string_labels_in_object_array():
    y = np.array(["cat", -1, "dog", -1], dtype=object)
    y_out, labeled, classes = check_partially_labeled(y)
    assert classes.tolist() == ["cat", "dog"]
    np.testing.assert_array_equal(labeled, [True, False, True, False])
    # A unicode array has no room for the integer -1: all rows are labeled.
    with pytest.warns(AllLabeledWarning):
        y_out, labeled, _ = check_partially_labeled(np.array(["a", "b"]))
    assert y_out.dtype == object and labeled.all()


def test_labeled_mask_object_only_numeric_minus_one():
    y = np.array(["-1", -1, "a", -1.0, True], dtype=object)
    # The string "-1" is not the marker (check_partially_labeled refuses it);
    # a number equal to -1 is, the float -1.0 of an object array included, as
    # in a float array and as check_partially_labeled reads it; a boolean is
    # a label.
    np.testing.assert_array_equal(labeled_mask(y), [True, False, True, False, True])
    np.testing.assert_array_equal(labeled_mask(np.array([-1.0, 2.0])), [False, True])
    numbers = np.array([0.0, 1.0, -1.0], dtype=object)
    np.testing.assert_array_equal(labeled_mask(numbers),
                                  check_partially_labeled(numbers)[1])


def test_column_vector_is_raveled_with_warning():
    from sklearn.exceptions import DataConversionWarning

    with pytest.warns(DataConversionWarning):
        y, _, _ = check_partially_labeled(np.array([[0], [1], [-1]]))
    assert y.shape == (3,)


def test_estimator_name_in_message():
    with pytest.raises(ValueError, match="^MyEstimator: y contains NaN"):
        check_partially_labeled([0.0, np.nan], estimator_name="MyEstimator")


def test_the_string_minus_one_in_an_object_array_or_series_is_refused():
    import pandas as pd

    y = pd.Series(["yes", "no", "-1", "-1", "yes", "no"])
    with pytest.raises(ValueError, match="string '-1'"):
        check_partially_labeled(y)
    with pytest.raises(ValueError, match="string '-1'"):
        check_partially_labeled(np.array(["yes", "no", "-1"], dtype=object))
    # The integer -1 next to strings is the unlabeled mark.
    _, labeled, classes = check_partially_labeled(
        np.array(["yes", "no", -1], dtype=object), warn_all_labeled=False)
    assert labeled.tolist() == [True, True, False] and classes.tolist() == ["no", "yes"]
