"""Reading the fitted network: predictions, scikit-learn's weight attributes,
the summary, and CPU-safe pickling.
"""

from __future__ import annotations

import copy
import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ._device import thread_budget, to_tensor
from ._losses import OUTPUT_ACTIVATIONS
from ._numpy_forward import numpy_forward
from ._summary import summarize
from ._unchanged_input import predict_input_array

# Tests switch the numpy forward pass off to compare it with torch's.
_NUMPY_PREDICT = True
# Rows per forward pass at predict time on an accelerator, to bound memory.
_PREDICT_CHUNK = 1 << 16
# Rows per forward pass on the CPU: a (2048, 256) float64 activation is 4 MiB,
# so each layer's output is still in cache when the next layer reads it, and
# no call allocates (and page-faults in) arrays the size of the whole input.
# 100k rows through a (256, 256) net: 0.27 s in chunks of 2048 rows against
# 0.44 s in one pass (float64 numpy; torch in the same chunks 0.29 s), /tmp
# measurement on the 2 vCPU box.
_CPU_PREDICT_CHUNK = 2048

# The input dtypes predict keeps as they are (others become float64): those
# that numpy combines with float32 weights into float32, as scikit-learn's
# predict does (int8 or bool features on a float32-trained model give float32
# outputs), and float64.
_PREDICT_DTYPES = [np.float64, np.float32, np.float16, np.int8, np.uint8, np.int16, np.uint16,
                   np.bool_]


def _read_only_copy(array: np.ndarray, dtype) -> np.ndarray:
    """A C-ordered copy that refuses in-place edits.

    The network's weights live in torch (in the compute dtype, perhaps on a
    GPU), so ``coefs_`` cannot be the arrays scikit-learn keeps: an in-place
    edit of a copy would be lost without a word, and of a float32 view it
    would reach some predictions and not others (predict keeps a float64
    copy). Assigning a list (``est.coefs_ = [...]``) writes the network.
    """
    copy = np.array(array, dtype=dtype, order="C", copy=True)
    copy.flags.writeable = False
    return copy


class FittedNetworkMixin:
    """Everything that reads ``module_`` once it is trained."""

    def _n_weights(self) -> int:
        return sum(layer.weight.numel() for layer in self.module_.linear_layers())

    def _validated_input(self, X):
        """X checked as at predict time (fitted, same features), as an array."""
        if "module_" not in self.__dict__:
            check_is_fitted(self)  # raises NotFittedError with scikit-learn's message
        array = predict_input_array(self, X)  # what validate_data would return, ~50 us sooner
        if array is not None:
            return array
        # scikit-learn's checks, strings refused ("numeric"), then numbers kept
        # as _PREDICT_DTYPES says.
        array = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        if array.dtype.kind == "O":
            # "numeric" keeps a list holding None as objects, on which
            # scikit-learn fails mid-computation with a TypeError; converting
            # it reports the missing value as fit does ("Input X contains NaN").
            return validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                                 dtype=_PREDICT_DTYPES)
        return array if array.dtype in _PREDICT_DTYPES else array.astype(np.float64)

    def _forward(self, X) -> np.ndarray:
        """X -> output activations, in scikit-learn's output dtype."""
        return self._outputs(self._validated_input(X))

    def _outputs(self, X, raw_float32=False) -> np.ndarray:
        """Validated X -> output activations in scikit-learn's output dtype, or
        with ``raw_float32`` the raw scores (before the output activation) in float32.

        Plain networks on the CPU are evaluated with numpy, as scikit-learn
        does: for one row that avoids torch's per-operation overhead, and from
        a few hundred rows on it also avoids running torch's OpenMP threads
        next to numpy's BLAS threads (on a 2-core machine the two pools'
        spinning made torch 2-3x slower than numpy here). Other networks, and
        accelerators, use the module.
        """
        # scikit-learn's output dtype: that of X @ coef in numpy.
        single = raw_float32 or np.result_type(X.dtype, self._coef_dtype) == np.float32
        output = "identity" if raw_float32 else self.out_activation_
        activation = self.module_.plain_activation(inference=True) if _NUMPY_PREDICT else None
        layers = None if activation is None else self._numpy_layers(single)
        if layers is not None:
            dtype = layers[0][0].dtype  # float64 weights (compute_dtype) stay float64
            out = _in_chunks(
                lambda part: numpy_forward(part.astype(dtype, copy=False), layers, activation,
                                           output),
                X, _CPU_PREDICT_CHUNK,
            )
            return out.astype(np.float32, copy=False) if single else out
        dtype = torch.float32 if single else torch.float64
        device = self.module_.layers[0].weight.device
        step = min(_CPU_PREDICT_CHUNK if device.type == "cpu" else _PREDICT_CHUNK, X.shape[0])
        with torch.inference_mode(), thread_budget(step * self._n_weights()):
            return _in_chunks(
                lambda part: OUTPUT_ACTIVATIONS[output](
                    self.module_.forward_as(to_tensor(part, dtype, device), dtype)
                ).cpu().numpy(),
                X, step,
            )

    def _numpy_layers(self, single: bool):
        """``(coef, intercept)`` arrays for :func:`numpy_forward`, or None.

        None unless the network is on the CPU (the caller checks that it is
        plain: :meth:`sknn.MLPModule.plain_activation`). float32 weights give
        float32 views when ``single``; otherwise float64 copies, made once per
        fit (predict must not change the estimator's ``__dict__``) and used
        while the weights are unchanged (:func:`_stamp`); after a change of
        the module by hand, each call makes its own copy. The
        options the module was built with count, not the current parameters.
        """
        params = self._layer_params()
        if params[0].device.type != "cpu":
            return None
        if single and params[0].dtype == torch.float32:
            arrays = [p.detach().numpy() for p in params]
            return [(w.T, b) for w, b in zip(arrays[::2], arrays[1::2])]
        cache = self.__dict__.get("_float64_layers")
        if cache is not None and cache[0] is self.module_ and cache[1] == _stamp(params):
            return cache[2]
        return _float64_layers(params)

    def _layer_params(self):
        return [p for layer in self._layers("coefs_") for p in (layer.weight, layer.bias)]

    def _cache_float64_layers(self):
        params = self._layer_params()
        if params[0].device.type != "cpu":
            self.__dict__.pop("_float64_layers", None)
            return
        self._float64_layers = (self.module_, _stamp(params), _float64_layers(params))

    # ------------------------------------------------------------------
    # scikit-learn's attributes, read from and written to the module
    def _layers(self, attribute):
        if "module_" not in self.__dict__:
            # Python's own words for a missing attribute, as scikit-learn gives.
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attribute!r}")
        return self.module_.linear_layers()

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weights in scikit-learn's (fan_in, fan_out) layout, read-only copies."""
        return [_read_only_copy(layer.weight.detach().cpu().numpy().T, self._coef_dtype)
                for layer in self._layers("coefs_")]

    @coefs_.setter
    def coefs_(self, values):
        self._write_layers(values, "weight", transpose=True)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Biases, one vector per layer, read-only copies."""
        return [_read_only_copy(layer.bias.detach().cpu().numpy(), self._coef_dtype)
                for layer in self._layers("intercepts_")]

    @intercepts_.setter
    def intercepts_(self, values):
        self._write_layers(values, "bias", transpose=False)

    def _write_layers(self, values, name, transpose):
        layers = self._layers("coefs_" if name == "weight" else "intercepts_")
        if len(values) != len(layers):
            raise ValueError(f"Expected {len(layers)} arrays, got {len(values)}.")
        with torch.no_grad():
            for layer, value in zip(layers, values):
                target = getattr(layer, name)
                value = torch.as_tensor(np.asarray(value))
                value = value.T if transpose else value
                if value.shape != target.shape:
                    raise ValueError(
                        f"Expected shape {tuple(target.T.shape if transpose else target.shape)}, "
                        f"got {tuple(np.shape(value.T if transpose else value))}."
                    )
                target.copy_(value)
        self._cache_float64_layers()

    def summary(self, batch_size: int = -1):
        """Layers, output shapes, parameter counts and memory (like ``torchsummary``).

        Parameters
        ----------
        batch_size : int, default=-1
            The first dimension of the output shapes, as ``torchsummary``'s
            ``batch_size``: -1 for any (the memory estimates then count one
            row), or the rows of a batch.

        Returns
        -------
        summary : ModelSummary
            ``print(est.summary())`` shows the table; ``.total_params`` etc.
            give the numbers.
        """
        check_is_fitted(self)
        if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or \
                (batch_size < 1 and batch_size != -1):
            raise ValueError(f"batch_size must be -1 or a positive integer, got {batch_size!r}.")
        return summarize(self.module_, self.n_features_in_, int(batch_size))

    # ------------------------------------------------------------------
    # Pickling: CPU-only state, so a GPU-fitted model loads anywhere
    def __getstate__(self):
        # BaseEstimator returns object.__getstate__(), which (Python 3.11+) is the
        # instance's own __dict__: edit a copy, or pickling changes the live model.
        state = dict(super().__getstate__())
        module = state.get("module_")
        if module is not None:
            state["module_"] = copy.deepcopy(module).to("cpu")
            state["device_"] = torch.device("cpu")
        park_optimizer(state)
        state.pop("_float64_layers", None)  # rebuilt by __setstate__
        # The stopper's best weights live only during a call (sknn._engine), so
        # it holds no tensors here.
        state["_sknn_versions"] = _versions()
        return state

    def __setstate__(self, state):
        # scikit-learn stamps and checks its own estimators' pickles only: a
        # model saved with another sknn, scikit-learn or torch gets the same
        # warning here (the persistence guide asks for the same versions).
        saved = state.pop("_sknn_versions", "unknown")
        if saved != _versions():
            warnings.warn(InconsistentVersionWarning(
                estimator_name=type(self).__name__, current_sklearn_version=_versions(),
                original_sklearn_version=saved,
            ), stacklevel=2)
        super().__setstate__(state)
        if "module_" in state:
            self._cache_float64_layers()


def _versions() -> str:
    """The versions a pickle is stamped with (torch without its build tag)."""
    from sklearn import __version__ as sklearn_version

    from . import __version__

    return (f"sknn {__version__}, scikit-learn {sklearn_version}, "
            f"torch {torch.__version__.split('+')[0]}")


def _stamp(params):
    """What identifies the weights' current values: in-place updates bump the
    version counters, replacing a parameter's data changes its address."""
    return [(p._version, p.data_ptr()) for p in params]


def _float64_layers(params):
    """float64 ``(coef, intercept)`` pairs, coef in scikit-learn's layout."""
    arrays = [p.detach().numpy().astype(np.float64) for p in params]
    return [(np.ascontiguousarray(w.T), b) for w, b in zip(arrays[::2], arrays[1::2])]


def _in_chunks(fn, X, step):
    """``fn`` applied to consecutive ``step``-row slices of ``X``, concatenated."""
    if X.shape[0] <= step:
        return fn(X)
    return np.concatenate([fn(X[start : start + step]) for start in range(0, X.shape[0], step)])


def park_optimizer(state: dict) -> None:
    """Replace a live optimizer and schedule in ``state`` (an estimator's
    ``__dict__``, or the copy a pickle takes) by their state dicts, on the
    CPU: what the next ``partial_fit`` loads onto the module, wherever it is
    then and in whatever dtype. The numpy step, a cache of training arrays,
    goes too; training rebuilds it."""
    optimizer = state.pop("_optimizer", None)
    schedule = state.pop("_schedule", None)
    state.pop("_numpy_step", None)
    if optimizer is not None:
        state["_optimizer_state"] = _to_cpu(optimizer.state_dict())
        state["_schedule_state"] = schedule.state_dict()


def _to_cpu(obj):
    """Copy every tensor in a nested state dict to the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj
