"""Choosing the device, and moving data to it once per fit."""

from __future__ import annotations

import threading
from contextlib import contextmanager, nullcontext

import numpy as np
import scipy.sparse as sp
import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64}
#: ``autocast`` names -> the reduced precision of the matmuls (mixed precision).
AUTOCAST_DTYPES = {"bfloat16": torch.bfloat16}
#: ``matmul_precision`` values: :func:`torch.set_float32_matmul_precision`'s.
MATMUL_PRECISIONS = ("highest", "high", "medium")


def parse_device(device) -> torch.device:
    """Turn the ``device`` parameter into a ``torch.device`` (no availability check).

    Raises
    ------
    ValueError
        For a string torch does not understand, or the meta device.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = device if isinstance(device, torch.device) else torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a valid device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if dev.type == "meta":  # tensors without data cannot be trained
        raise ValueError(
            f"device={device!r} holds no data and cannot train; use 'auto', 'cpu', 'cuda' "
            "or 'cuda:N'."
        )
    return dev


def resolve_device(device) -> torch.device:
    """Like :func:`parse_device`, and check that the device can be used here."""
    dev = parse_device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this "
                "machine (torch.cuda.is_available() is False); use device='cpu' or 'auto'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only {torch.cuda.device_count()} "
                "CUDA device(s) are visible."
            )
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but MPS is not available.")
    return dev


def to_tensor(a, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Copy a numpy array or scipy sparse matrix into a dense tensor on ``device``.

    Sparse input is densified: ``nn.Linear`` needs dense rows, and the data is
    moved once per fit, not per batch.
    """
    if sp.issparse(a):
        a = a.toarray()
    # torch.from_numpy shares memory and warns on read-only arrays (memmaps);
    # ascontiguousarray also turns F-ordered input into something torch can view.
    a = np.ascontiguousarray(a)
    if not a.flags.writeable:
        a = a.copy()
    return torch.from_numpy(a).to(device=device, dtype=dtype)


# Inputs at least this large are not copied to the compute dtype for training
# (a float32 copy of 75k x 100 float64 rows is 29 MiB); each batch is cast
# as it is taken, which costs microseconds next to a step on that much data.
LAZY_CAST_BYTES = 16 << 20


def training_inputs(X, dtype: torch.dtype, device: torch.device):
    """``(tensor, batch_dtype)``: X for the training loop.

    Usually X copied to ``dtype`` on ``device`` and ``batch_dtype`` None. A
    large C-ordered float64 array on the CPU is instead viewed as it is (no
    copy) and ``batch_dtype`` says what each batch must be cast to.
    """
    lazy = (
        device.type == "cpu"
        and isinstance(X, np.ndarray)
        and X.dtype == np.float64
        and dtype != torch.float64
        and X.flags.c_contiguous
        and X.flags.writeable
        and X.nbytes >= LAZY_CAST_BYTES
    )
    if lazy:
        return torch.from_numpy(X), dtype
    return to_tensor(X, dtype, device), None


# Multiply-adds per training step below which one intra-op thread is faster:
# small matmuls do not amortise waking a thread pool, and on a busy machine
# two spinning OpenMP threads per process make each step many times slower
# (benchmarks/bench_threads.py measures this).
PARALLEL_WORK = 16_000_000


_blas_controller = None


def _blas_threads():
    """threadpoolctl's view of the BLAS libraries (numpy's, scipy's), built once:
    building it scans the loaded libraries (~0.3 ms), limiting is ~15 us."""
    global _blas_controller
    if _blas_controller is None:
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller


@contextmanager
def thread_budget(work: float, blas: bool = False):
    """Run small problems on one thread; restore the setting afterwards.

    Parameters
    ----------
    work : float
        Multiply-adds of one forward pass of one batch.
    blas : bool, default=False
        Limit numpy's BLAS too, for work that runs in numpy
        (:mod:`sknn._numpy_mlp`); torch's own threads are limited always.
    """
    current = torch.get_num_threads()
    if work >= PARALLEL_WORK:
        yield
        return
    if current != 1:
        torch.set_num_threads(1)
    try:
        with _one_thread_per_blas() if blas else nullcontext():
            yield
    finally:
        if current != 1:
            torch.set_num_threads(current)


@contextmanager
def _one_thread_per_blas():
    """Every BLAS library on one thread for the block, then back as it was.

    What ``ThreadpoolController.limit(limits=1, user_api="blas")`` does,
    through its library controllers directly: its bookkeeping (a full
    ``info()`` of every library, twice) took 17 us against 5 here, and a
    ``partial_fit`` call on one row enters this once.
    """
    libs = [lib for lib in _blas_threads().lib_controllers if lib.user_api == "blas"]
    changed = [(lib, n) for lib, n in ((lib, lib.num_threads) for lib in libs) if n != 1]
    for lib, _ in changed:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in changed:
            lib.set_num_threads(n)


@contextmanager
def float32_matmul_precision(precision: str):
    """Set :func:`torch.set_float32_matmul_precision` for the block; restore it after.

    The setting is process-wide in torch, so it is held only while sknn
    trains, and the user's own setting is back afterwards, also on error.
    Fits in several threads at once (joblib's threading backend, a Dask
    worker's threads) share it: the one that started last sets it, and the
    user's setting, saved by the first, comes back when the last one ends. A
    save and restore per fit would let one thread restore another's setting
    and leave it behind.
    """
    global _precision_fits, _precision_saved
    if _precision_fits == 0 and torch.get_float32_matmul_precision() == precision:
        # Nothing to set: a fit that sets nothing restores nothing, so it
        # needs no count (another thread's later setting is shared anyway).
        yield
        return
    with _precision_lock:
        if _precision_fits == 0:
            _precision_saved = torch.get_float32_matmul_precision()
        _precision_fits += 1
        if torch.get_float32_matmul_precision() != precision:
            torch.set_float32_matmul_precision(precision)
    try:
        yield
    finally:
        with _precision_lock:
            _precision_fits -= 1
            if _precision_fits == 0 and torch.get_float32_matmul_precision() != _precision_saved:
                torch.set_float32_matmul_precision(_precision_saved)


_precision_lock = threading.Lock()
_precision_fits = 0  # fits inside float32_matmul_precision, in every thread
_precision_saved = None  # the user's setting, while any is


@contextmanager
def one_blas_thread():
    """Hold every BLAS library to one thread (scipy's L-BFGS-B runs in it).

    L-BFGS-B calls BLAS on the whole parameter vector at every iteration.
    pip's numpy and scipy each ship their own OpenBLAS with its own thread
    pool, and torch has its OpenMP pool: on two cores, pools that spin while
    they wait for work made each of those calls take milliseconds, and the
    medium case of ``python benchmarks/bench_lbfgs.py`` 3x slower than on one
    BLAS thread (scikit-learn's MLPClassifier pays the same).
    """
    with _one_thread_per_blas():
        yield
