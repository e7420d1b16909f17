"""Behaviour inside joblib's worker processes (GridSearchCV(n_jobs=...), cross_val_score, ...).

joblib's default backend, loky, runs ``gc.collect()`` in each worker after
its first task and, unless psutil is installed, again after any task that
ends a second or more after the last collection. A full collection walks
every object the garbage collector tracks; once torch and scikit-learn are
imported that is ~250 000 objects and ~130 ms on the 2 vCPU development
machine: a worker stalls for ~130 ms about every second, which cost a
12-fit grid search a fifth of its parallel speed-up.

The objects that exist when sknn is first imported in a worker are the
modules' own (functions, classes, tables), which live as long as the
process. :func:`freeze_import_time_objects` moves them to the collector's
permanent generation (``gc.freeze()``), so later collections only walk what
the tasks allocate. It acts only in loky worker processes: a user's own
process keeps the garbage collector exactly as configured.
"""

from __future__ import annotations

import gc
import multiprocessing


def in_loky_worker() -> bool:
    """Whether this process is a worker of joblib's loky backend."""
    return type(multiprocessing.current_process()).__name__ == "LokyProcess"


def freeze_import_time_objects() -> bool:
    """``gc.freeze()`` in a loky worker; return whether it was done."""
    if not in_loky_worker():
        return False
    gc.collect()  # what is garbage now is not frozen with the rest
    gc.freeze()
    return True
