"""Verbose output: a tqdm bar on a terminal, scikit-learn's lines otherwise."""

from __future__ import annotations

import sys


class Reporter:
    """Reports epochs while training.

    Parameters
    ----------
    verbose : bool or int
        Off: nothing is printed and nothing is computed for it.
    total : int
        Epochs at most, for the progress bar.
    """

    def __init__(self, verbose, total: int):
        self.verbose = bool(verbose)
        self.bar = None
        if self.verbose and _is_terminal():
            try:
                from tqdm.auto import tqdm
            except ImportError:  # tqdm is a dependency, but stay usable without it
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, unit="epoch", leave=True, dynamic_ncols=True)

    @property
    def say(self):
        """A function that prints one line, or None when not verbose."""
        if not self.verbose:
            return None
        return self.bar.write if self.bar is not None else print

    def epoch(self, n_iter: int, record: dict) -> None:
        """Report one finished epoch (``record`` is a ``history_`` entry)."""
        if not self.verbose:
            return
        if self.bar is not None:
            postfix = {"loss": f"{record['loss']:.5g}"}
            if record["val_score"] is not None:
                postfix["val_score"] = f"{record['val_score']:.4f}"
            self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(1)
            return
        print("Iteration %d, loss = %.8f" % (n_iter, record["loss"]))
        if record["val_score"] is not None:
            print("Validation score: %f" % record["val_score"])

    def close(self) -> None:
        """Finish the progress bar, if any."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
