"""The labels in a target, as ``sklearn.utils.multiclass.unique_labels`` finds them."""

from __future__ import annotations

import numpy as np
from sklearn.utils.multiclass import unique_labels


def labels_of(y: np.ndarray) -> np.ndarray:
    """``unique_labels(y)`` for a validated target, sooner where it is ``np.unique(y)``.

    ``unique_labels`` first classifies ``y`` with ``type_of_target`` (about
    100 us, most of it looking for dataframe and array-API inputs), a cost a
    classifier's later ``partial_fit`` calls pay on every call. A 1-D array
    of bools, integers or fixed-width strings is always 'binary' or
    'multiclass' there, and its labels are then ``np.unique(y)``. Anything
    else (floats, whose integrality ``type_of_target`` judges by a cast to
    int, objects, 2-D targets) goes through ``unique_labels``, with its
    warnings and errors.

    Parameters
    ----------
    y : ndarray
        A target that passed ``validate_data`` (finite, at least one entry).

    Returns
    -------
    ndarray
        The sorted labels.
    """
    if y.ndim == 1 and y.dtype.kind in "biuU":
        return np.unique(y)
    return unique_labels(y)
