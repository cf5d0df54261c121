"""Short synthetic captions of digit images, and the prompts of the zero-shot benchmark."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

__all__ = [
    "DIGIT_WORDS",
    "DIGIT_CLASS_PROMPTS",
    "DIGIT_PROMPT_TEMPLATES",
    "make_digit_captions",
]

#: The English name of each digit, in label order.
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
               "nine")

# The phrasings of make_digit_captions. ``{word}`` is the digit's name,
# ``{num}`` its numeral and ``{any}`` either, drawn with equal chances.
# Some carry distractor words (pen, form, envelope, grey...) that say
# nothing about the class; none contains another digit.
_CAPTION_TEMPLATES = (
    "a handwritten {word}",
    "the digit {num}",
    "a picture of the number {word}",
    "{num}",
    "{word}",
    "{word} written by hand",
    "a scanned image of a handwritten {num}",
    "the number {any}",
    "a small {word} in the corner of a form",
    "someone wrote the digit {any} with a pen",
    "a messy {num} on a postal envelope",
    "digit {any}, low resolution",
    "a neat {word}",
    "a blurry grey picture showing {num}",
    "the handwritten number {any}",
    "an image of a {word} drawn in ink",
)

#: Class names of the zero-shot digits benchmark: the word and the numeral.
DIGIT_CLASS_PROMPTS = {k: (word, str(k)) for k, word in enumerate(DIGIT_WORDS)}

#: Prompt templates of the zero-shot digits benchmark. They are reasonable
#: descriptions of a digit image but not the caption phrasings: "photo" and
#: "drawing" never occur in the captions, and no template is a caption
#: template.
DIGIT_PROMPT_TEMPLATES = (
    "a photo of the number {}.",
    "a drawing of the digit {}.",
    "a {} written by someone.",
    "an image showing a {}.",
)


def make_digit_captions(y, random_state=None):
    """One short caption per digit label, in varied phrasings.

    Each label ``k`` in ``0..9`` gets a phrasing drawn at random among 16
    (``"a handwritten seven"``, ``"the digit 7"``, ``"a picture of the
    number seven"``, ``"7"``, ``"seven written by hand"``, ``"a messy 7 on
    a postal envelope"``...). Some phrasings name the digit by its word,
    some by its numeral and some by either at random, and some carry
    distractor words (pen, form, envelope, grey, blurry...) that say nothing
    about the class. No caption contains another digit. These are the paired
    texts that :class:`~sklabelfree.self_supervised.CLIPEncoder` learns from
    on digits: the class shows in the text, in many forms, never as a label.

    The zero-shot benchmark then classifies with other phrasings:
    ``DIGIT_PROMPT_TEMPLATES`` (``"a photo of the number {}."``, ``"a
    drawing of the digit {}."``, ``"a {} written by someone."``, ``"an image
    showing a {}."``) formatted with both names of each class in
    ``DIGIT_CLASS_PROMPTS`` (``{7: ("seven", "7"), ...}``), so 8 prompts
    per class; none of them is a caption phrasing.

    Parameters
    ----------
    y : array-like of int of shape (n_samples,)
        Digit labels in ``0..9``.
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of phrasings.

    Returns
    -------
    captions : ndarray of str (dtype object) of shape (n_samples,)

    Examples
    --------
    >>> from sklabelfree.datasets import make_digit_captions
    >>> list(make_digit_captions([7, 7, 7, 0, 3], random_state=0))
    ['a neat seven', 'an image of a seven drawn in ink', 'seven written by hand',
     'a handwritten zero', '3']
    """
    y_arr = np.asarray(y)
    if y_arr.ndim != 1:
        raise ValueError(f"y must be a 1-D array of digit labels, got shape "
                         f"{y_arr.shape}.")
    if y_arr.size and not all(isinstance(v, Integral) or
                              (isinstance(v, (float, np.floating)) and float(v).is_integer())
                              for v in y_arr.tolist()):
        raise ValueError("y must hold integer digit labels in 0..9.")
    labels = y_arr.astype(int) if y_arr.size else y_arr.astype(int)
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        bad = labels[(labels < 0) | (labels > 9)][0]
        raise ValueError(f"Digit labels must be in 0..9, got {bad}.")
    rng = check_random_state(random_state)
    which = rng.randint(len(_CAPTION_TEMPLATES), size=labels.size)
    word_for_any = rng.rand(labels.size) < 0.5
    captions = np.empty(labels.size, dtype=object)
    for i, (k, t, w) in enumerate(zip(labels.tolist(), which.tolist(),
                                      word_for_any.tolist())):
        word, num = DIGIT_WORDS[k], str(k)
        captions[i] = _CAPTION_TEMPLATES[t].format(word=word, num=num,
                                                   any=word if w else num)
    return captions
