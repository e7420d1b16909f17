"""Data for ``sknn compare``: built-in data sets, CSV files, task inference, fold checks.

Every problem with the user's input becomes a :class:`CompareError`, which the
command line prints as one line.
"""

import os
from dataclasses import dataclass, field

import numpy as np
from sklearn import datasets as _skdatasets

# Only loaders bundled with scikit-learn: no network access is ever needed.
BUILTIN_DATASETS = {
    "iris": (_skdatasets.load_iris, "classification"),
    "wine": (_skdatasets.load_wine, "classification"),
    "breast_cancer": (_skdatasets.load_breast_cancer, "classification"),
    "digits": (_skdatasets.load_digits, "classification"),
    "diabetes": (_skdatasets.load_diabetes, "regression"),
}
DEFAULT_DATASETS = ("iris", "wine", "diabetes")

# A numeric target with at most this many distinct integer values is taken to
# be class labels (e.g. 0/1 or 1..5 ratings); --task overrides the guess.
MAX_CLASSES_INFERRED = 20


class CompareError(ValueError):
    """Bad user input; reported as a one-line error, never a traceback."""


@dataclass
class Dataset:
    """A loaded data set ready for cross-validation.

    Attributes
    ----------
    name : str
        Built-in name or CSV path.
    X : ndarray or DataFrame of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    task : {"classification", "regression"}
    categorical : list of str
        Names of non-numeric feature columns (CSV only) to one-hot encode.
    task_inferred : bool
        Whether ``task`` was guessed from the target rather than given.
    """

    name: str
    X: object
    y: np.ndarray
    task: str
    categorical: list = field(default_factory=list)
    task_inferred: bool = False

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]


# --------------------------------------------------------------------------
# Input parsing and loading
# --------------------------------------------------------------------------


def parse_hidden(text):
    """Parse ``"100"`` or ``"64,32"`` into a tuple of layer sizes.

    Parameters
    ----------
    text : str

    Returns
    -------
    tuple of int

    Raises
    ------
    CompareError
        If ``text`` is not a comma-separated list of positive integers.
    """
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(size <= 0 for size in sizes):
        raise CompareError(
            f"invalid --hidden {text!r}: expected comma-separated positive "
            "integers such as 100 or 64,32"
        )
    return sizes


def infer_task(y):
    """Guess whether a target calls for classification or regression.

    Parameters
    ----------
    y : array-like of shape (n_samples,)

    Returns
    -------
    {"classification", "regression"}
        Classification for a non-numeric or boolean target, or a numeric one
        holding at most ``MAX_CLASSES_INFERRED`` distinct integer values.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "iuf":
        return "classification"
    values = np.unique(y)
    if np.all(np.mod(values, 1) == 0) and len(values) <= MAX_CLASSES_INFERRED:
        return "classification"
    return "regression"


def _load_builtin(name, task):
    loader, natural_task = BUILTIN_DATASETS[name]
    X, y = loader(return_X_y=True)
    if task == "classification" and natural_task == "regression":
        raise CompareError(f"{name} has a continuous target; use --task regression")
    return Dataset(name, X, y, task or natural_task)


def _load_csv(path, target, task):
    # pandas is only needed for CSV input, so built-in runs work without it.
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas ships with the test env
        raise CompareError("reading a CSV file needs pandas: pip install sknn[pandas]") from None

    if target is None:
        raise CompareError(f"--target COLUMN is required with a CSV dataset ({path})")
    if not os.path.isfile(path):
        raise CompareError(f"file not found: {path}")
    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        # EmptyDataError and ParserError are ValueErrors; keep only the gist.
        raise CompareError(f"cannot read {path}: {str(exc).splitlines()[0]}") from exc
    if target not in frame.columns:
        columns = ", ".join(map(str, frame.columns))
        raise CompareError(f"column {target!r} not found in {path} (columns: {columns})")

    y_col = frame[target]
    X = frame.drop(columns=[target])
    if X.shape[1] == 0:
        raise CompareError(f"{path} has no feature columns besides {target!r}")
    if y_col.isna().any():
        raise CompareError(f"target column {target!r} has missing values")
    missing = [str(c) for c in X.columns if X[c].isna().any()]
    if missing:
        # Imputation is a modelling choice; make the user take it explicitly.
        raise CompareError(f"missing values in column(s): {', '.join(missing)}")

    numeric_target = pd.api.types.is_numeric_dtype(y_col) and not pd.api.types.is_bool_dtype(y_col)
    if task == "regression" and not numeric_target:
        raise CompareError(
            f"target column {target!r} is not numeric; regression needs a numeric "
            "target (use --task classification)"
        )
    # Keep numeric targets numeric, but give labels a plain object array so
    # both estimators see the same label type whatever pandas' string dtype.
    y = y_col.to_numpy() if numeric_target else y_col.astype(str).to_numpy(dtype=object)
    inferred = task is None
    task = task or infer_task(y)
    categorical = [
        c for c in X.columns
        if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])
    ]
    return Dataset(path, X, y, task, categorical=categorical, task_inferred=inferred)


def load_dataset(name, target=None, task=None):
    """Load a built-in data set by name or a CSV file by path.

    Parameters
    ----------
    name : str
        One of ``BUILTIN_DATASETS`` or the path of a CSV file.
    target : str, optional
        Target column, required for a CSV file.
    task : {"classification", "regression"}, optional
        Forces the task; by default it is known (built-in) or inferred (CSV).

    Returns
    -------
    Dataset

    Raises
    ------
    CompareError
        For an unknown name, unreadable file, unknown column or a target that
        does not suit the task.
    """
    if name in BUILTIN_DATASETS:
        if target is not None:
            raise CompareError(f"--target only applies to CSV files, not the built-in {name!r}")
        return _load_builtin(name, task)
    if name.lower().endswith(".csv") or os.path.exists(name):
        return _load_csv(name, target, task)
    raise CompareError(
        f"unknown dataset {name!r} (built-in: {', '.join(BUILTIN_DATASETS)}; "
        "or the path of a CSV file)"
    )


def _check_folds(data, cv):
    if cv < 2:
        raise CompareError(f"--cv must be at least 2, got {cv}")
    if data.n_samples < cv:
        raise CompareError(f"{data.name} has {data.n_samples} rows, too few for {cv} folds")
    if data.task == "classification":
        labels, counts = np.unique(data.y, return_counts=True)
        if len(labels) < 2:
            raise CompareError(f"{data.name}: classification needs at least 2 classes")
        if len(labels) > data.n_samples // 2:
            raise CompareError(
                f"{data.name}: the target has {len(labels)} distinct values in "
                f"{data.n_samples} rows; if it is continuous use --task regression"
            )
        if counts.min() < cv:
            # Stratified folds would otherwise leave the class out of some
            # training sets, which only warns and skews the comparison.
            rare = labels[np.argmin(counts)]
            raise CompareError(
                f"{data.name}: class {str(rare)!r} has only {counts.min()} rows, too few "
                f"for {cv} folds (lower --cv)"
            )
