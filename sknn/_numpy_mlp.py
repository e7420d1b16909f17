"""The hand-derived training step and its optimizer update in numpy, for small problems.

On a problem like iris with a (10,) network a training step is a few
thousand multiply-adds; what it costs is the number of operations launched.
A torch operation costs ~2-3 us of dispatch on the CPU, a numpy ufunc on a
small array well under 1 us, so the same step (:class:`~sknn._fast_mlp.ManualMLPGrad`'s
closed-form gradients followed by the optimizer's update) runs about twice as
fast in numpy. Two more savings are only possible here: all parameters live
in one flat array, so Adam is ~13 whole-array operations whatever the
depth, and the L2 penalty's gradient is one operation over all weights.

The step works on a flat *copy* of the module's parameters and of the
optimizer's state, and writes both back with :meth:`NumpyMLPStep.sync` (the
engine calls it before anything reads the module and when training ends), so
the module, the optimizer's ``state_dict`` and everything built on them
(pickling, ``partial_fit``, warm starts, ``coefs_``) are unchanged by which
path trained them. The updates (every named solver's but lbfgs:
:mod:`sknn._numpy_updates`) are the torch optimizers', operation for
operation; the results equal the torch path's to float round-off
(tests/test_numpy_path.py).

The same step also has the layers and losses of the torch step besides the
plain network: normalisation (:mod:`sknn._numpy_norm`), PReLU and RReLU
(:mod:`sknn._numpy_leaky_relus`) and the regressor's absolute and Huber
losses (:data:`EXTRA_LOSSES`).
BatchNorm's running estimates are the one thing it writes into the module
as it goes (its buffers, through numpy views).

:class:`NumpyMLPGradient`, the loss and gradient without an update, is also
the objective of ``solver="lbfgs"`` (:mod:`sknn._lbfgs`): scipy calls it a
few hundred times per fit, so the same saving applies to every call.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import expit, xlogy

from ._device import PARALLEL_WORK
from ._dropout_mask import DropoutMask
from ._fast_mlp import EXTRA_LOSSES, per_layer_dropouts
from ._numpy_leaky_relus import numpy_leaky_relu, supports_leaky_relu
from ._numpy_norm import numpy_norm, supports_norm
from ._numpy_state import flat_views, split_like, write_back
from ._numpy_updates import UPDATES, numpy_update
from ._pointwise import ACTIVATION_NAMES, IDENTITY, Pointwise, Scratch, as_rule
from ._recent import Recent

__all__ = ["NUMPY_MAX_WORK", "NumpyMLPGradient", "NumpyMLPStep"]

#: Multiply-adds per training step (batch rows x weights) below which the
#: numpy step is used on a CPU: the one-thread regime of
#: :data:`sknn._device.PARALLEL_WORK`. ``python benchmarks/bench_step.py
#: --threads 1 --nets tiny,small,medium,wide,deep`` gave numpy/torch 0.52x at 8
#: thousand, 0.76x at 1.5 million, 0.90x at 5.6 million and 1.0x at 7-12
#: million (2026-11-25, 2 vCPU AMD EPYC). Above it torch trains on every
#: core. The numpy step must not run there: with Adam its update is torch's
#: fused kernel, so every step hands the cores from numpy's BLAS threads to torch's
#: OpenMP threads and back, and each pool spins while the other works.
#: ``python benchmarks/bench_step.py --nets small,large`` on two threads gave
#: the numpy step 8.4 and 8.3 ms a step against torch's 0.20 and 1.13 ms
#: (2026-11-26).
NUMPY_MAX_WORK = PARALLEL_WORK


OUTPUTS = ("identity", "logistic", "softmax", "exp")


# The ufuncs' own reductions: np.sum/np.max add ~3 us of Python per call.
_add_reduce = np.add.reduce
_max_reduce = np.maximum.reduce
_min_reduce = np.minimum.reduce


class _Buffers:
    """Activations, deltas and output scratch for one batch size, reused every step."""

    def __init__(self, n, widths, dtype, keeps_input, dropouts):
        self.acts = [np.empty((n, w), dtype=dtype) for w in widths]
        # The pre-activation of a hidden layer has its own array where the
        # activation's derivative needs it; else the activation overwrites it.
        self.pres = [
            np.empty((n, w), dtype=dtype) if keeps_input and i < len(widths) - 1 else a
            for i, (w, a) in enumerate(zip(widths, self.acts))
        ]
        # Dropout masks (drawn from torch's generator into memory numpy views)
        # and the layers' outputs after dropout, as in sknn._fast_mlp.
        torch_dtype = torch.float32 if np.dtype(dtype) == np.float32 else torch.float64
        self.masks = [None if d is None else DropoutMask((n, w), d.p, torch_dtype, "cpu")
                      for w, d in zip(widths, dropouts)]
        self.outs = [a if m is None else np.empty_like(a) for a, m in zip(self.acts, self.masks)]
        self.deltas = [np.empty((n, w), dtype=dtype) for w in widths]
        self.deltas_t = [d.T for d in self.deltas]
        self.scratch = [Scratch((n, w), dtype) for w in widths]
        self.row = np.empty((n, 1), dtype=dtype)
        self.out = np.empty((n, widths[-1]), dtype=dtype)


class NumpyMLPGradient:
    """Loss and gradient of a plain MLP in numpy, on a flat copy of its parameters.

    Parameters
    ----------
    weights, biases : list of torch.Tensor
        The module's ``Linear`` parameters (``(fan_out, fan_in)`` and
        ``(fan_out,)``), first layer first, float32 or float64 on the CPU.
    activation : str or Pointwise
        A name in :data:`sknn._pointwise.ACTIVATION_NAMES` or a rule.
    output : {"identity", "logistic", "softmax", "exp"}
        Output activation, with its canonical loss (as in
        :class:`sknn._fast_mlp.ManualMLPGrad`).
    alpha : float
        L2 penalty ``0.5 * alpha * sum ||W||**2 / sum(sample_weight)``.
    report_scale : float, default=1.0
        Factor on the reported data loss (``1 / n_outputs`` where scikit-learn
        reports a per-output mean).
    dropouts : list of (Dropout or None), optional
        As for :class:`sknn._fast_mlp.ManualMLPGrad`: the masks are the
        module's (same generator and calls), so is the model.
    norms : list of (BatchNorm1d, LayerNorm or None), optional
        Per hidden layer, the normalisation module between its ``Linear`` and
        its activation (:mod:`sknn._numpy_norm`); their weights and biases are
        trained with the rest, BatchNorm's running estimates are updated in
        the module's buffers.
    leaky_relus : list of (PReLU, RReLU or None), optional
        Per hidden layer, its ``nn.PReLU`` or sknn ``RReLU`` activation
        (:mod:`sknn._numpy_leaky_relus`), with ``activation`` the identity
        rule; PReLU's slopes are trained with the rest.
    loss : {None, "absolute_error", "huber"}, default=None
        None: the output's canonical loss. Otherwise one of
        :data:`EXTRA_LOSSES`, with ``output="identity"``.
    huber_delta : float, default=1.0
        Where the Huber loss turns from quadratic to linear.
    log_cap : float, optional
        With the ``"softmax"`` and ``"logistic"`` outputs, each log term of
        the loss is capped here, as scikit-learn reports it
        (:func:`sknn._losses.log_loss_cap`); the gradient is not.

    Attributes
    ----------
    flat : ndarray
        The parameters, all weights then all biases (then the normalisation
        layers' weights and biases, then the PReLU slopes), each in torch's
        layout; :meth:`sync` writes them back into the tensors.
    grad : ndarray
        The gradient of the last :meth:`gradient` call, laid out like ``flat``.
    """

    def __init__(self, weights, biases, activation, output, alpha, report_scale=1.0,
                 dropouts=None, norms=None, leaky_relus=None, loss=None, huber_delta=1.0,
                 log_cap=None):
        if not self.supports_network(weights, biases, activation, output, norms, leaky_relus, loss):
            raise ValueError("NumpyMLPGradient does not support this network")
        self.loss = loss
        self.huber_delta = float(huber_delta)
        self.log_cap = None if log_cap is None else float(log_cap)
        # A sample's -log p is at most log(k) - min(z) with z shifted by its
        # row's maximum: below this floor a softmax score may reach the cap.
        self._capped_below = (-np.inf if log_cap is None or output != "softmax"
                              else float(np.log(weights[-1].shape[0]) - log_cap))
        norms = norms or [None] * (len(weights) - 1)
        leaky_relus = leaky_relus or [None] * (len(weights) - 1)
        affine = [m for m in norms if m is not None]
        self.params = _flat_order(weights, biases, norms, leaky_relus)
        self.activation = as_rule(activation)
        self.dropouts = per_layer_dropouts(dropouts, len(weights))
        self.output = output
        self.alpha = float(alpha)
        self.report_scale = float(report_scale)
        self._widths = [w.shape[0] for w in weights]
        self.flat = np.concatenate([p.detach().numpy().ravel() for p in self.params])
        self.grad = np.zeros_like(self.flat)
        self._tmp = np.empty_like(self.flat)
        self._n_weight_values = sum(w.numel() for w in weights)
        views, grads = split_like(self.flat, self.params), split_like(self.grad, self.params)
        self._views = views
        n_layers = len(weights)
        self._W, self._b = views[:n_layers], views[n_layers : 2 * n_layers]
        self._W_t = [w.T for w in self._W]
        self._gW, self._gb = grads[:n_layers], grads[n_layers : 2 * n_layers]
        # The normalisation layers' views: all their weights, then all biases.
        k = 2 * n_layers + len(affine)
        affine_views = iter(zip(views[2 * n_layers : k], views[k:], grads[2 * n_layers : k],
                                grads[k:]))
        self._norms = [None if m is None else numpy_norm(m, *next(affine_views)) for m in norms]
        k += len(affine)
        n_prelu = sum(isinstance(m, torch.nn.PReLU) for m in leaky_relus)
        slopes = iter(zip(views[k : k + n_prelu], grads[k : k + n_prelu]))
        self._leaky_relus = [
            None if m is None
            else numpy_leaky_relu(m, *next(slopes)) if isinstance(m, torch.nn.PReLU)
            else numpy_leaky_relu(m)
            for m in leaky_relus]
        # PReLU's and RReLU's gradients need the pre-activation kept.
        self._keeps_input = self.activation.keeps_input or any(
            m is not None for m in self._leaky_relus)
        self._dtype = self.flat.dtype
        self._sources = None  # torch views of the pieces of flat, made at the first sync
        self._buffers = Recent(lambda n: _Buffers(n, self._widths, self._dtype,
                                                  self._keeps_input, self.dropouts))

    @staticmethod
    def supports_network(weights, biases, activation, output, norms=None, leaky_relus=None,
                         loss=None) -> bool:
        """Whether this class can compute the gradient of these parameters."""
        norms = list(norms or [None] * max(len(weights) - 1, 0))
        leaky_relus = list(leaky_relus or [None] * max(len(weights) - 1, 0))
        params = _flat_order(weights, biases, norms, leaky_relus)
        return (
            (isinstance(activation, Pointwise) or activation in ACTIVATION_NAMES)
            and output in OUTPUTS
            and (loss is None or (loss in EXTRA_LOSSES and output == "identity"))
            and bool(weights)
            and len(weights) == len(biases)
            and len(norms) == len(weights) - 1
            and all(m is None or (supports_norm(m) and m.weight.shape[0] == w.shape[0])
                    for m, w in zip(norms, weights))
            and len(leaky_relus) == len(weights) - 1
            and (all(m is None for m in leaky_relus) or (
                as_rule(activation).name == IDENTITY.name
                and all(m is not None and supports_leaky_relu(m, w.shape[0])
                        for m, w in zip(leaky_relus, weights))))
            and all(p.device.type == "cpu" for p in params)
            and len({p.dtype for p in params}) == 1
            and params[0].dtype in (torch.float32, torch.float64)
        )

    def _buffers_for(self, n):
        return self._buffers(n)

    def gradient(self, X, Y, sw=None):
        """Write the gradient of one batch's objective into :attr:`grad`.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        Y : ndarray of shape (n_samples, n_outputs)
            Encoded targets, same dtype as the parameters.
        sw : ndarray of shape (n_samples,) or None

        Returns
        -------
        data_loss, penalty : float
            The (weighted) mean loss and the L2 penalty: the objective is
            their sum, scikit-learn reports ``report_scale * data_loss +
            penalty``.
        """
        n = X.shape[0]
        buf = self._buffers_for(n)
        z = self._forward(X, buf)
        D = buf.deltas[-1]
        if sw is None:
            inv = 1.0 / n
            data_loss = self._output_delta_and_loss(z, Y, D, buf, None) * inv
            np.multiply(D, inv, out=D)
        else:
            total = float(sw.sum(dtype=np.float64))  # as every path adds them (weight_sum)
            if total == 0:  # weights that cancel in the compute dtype
                raise ZeroDivisionError("Weights sum to zero, can't be normalized")
            inv = 1.0 / total
            wn = (sw * inv)[:, None]
            data_loss = self._output_delta_and_loss(z, Y, D, buf, wn)
            np.multiply(D, wn, out=D)
        for i in range(len(self._W) - 1, -1, -1):
            a_prev = X if i == 0 else buf.outs[i - 1]
            np.matmul(buf.deltas_t[i], a_prev, out=self._gW[i])
            _add_reduce(D, 0, out=self._gb[i])
            if i > 0:
                D_prev = buf.deltas[i - 1]
                np.matmul(D, self._W[i], out=D_prev)
                drop = self.dropouts[i - 1]
                if drop is not None:
                    np.multiply(D_prev, buf.masks[i - 1].array, out=D_prev)
                leaky = self._leaky_relus[i - 1]
                if leaky is not None:
                    leaky.backward(D_prev, buf.pres[i - 1], buf.scratch[i - 1])
                elif self.activation.numpy_backward is not None:
                    self.activation.numpy_backward(D_prev, buf.pres[i - 1], buf.acts[i - 1],
                                                   buf.scratch[i - 1])
                norm = self._norms[i - 1]
                if norm is not None:
                    norm.backward(D_prev, n)
                D = D_prev
        penalty = 0.0
        if self.alpha:
            w = self.flat[: self._n_weight_values]
            penalty = 0.5 * self.alpha * inv * float(np.dot(w, w))
            tmp = self._tmp[: self._n_weight_values]
            np.multiply(w, self.alpha * inv, out=tmp)
            grad = self.grad[: self._n_weight_values]
            np.add(grad, tmp, out=grad)
        return data_loss, penalty

    def raw_output(self, X):
        """The network's raw output ``z`` for ``X`` at the current parameters,
        without dropout (as the module in eval mode); a view of a buffer that
        the next call with as many rows overwrites."""
        return self._forward(X, self._buffers_for(X.shape[0]), train=False)

    def _forward(self, X, buf, train=True):
        last = len(self._W) - 1
        act_fwd = self.activation.numpy_forward
        a = X
        n = X.shape[0]
        for i, (w_t, b) in enumerate(zip(self._W_t, self._b)):
            pre = buf.pres[i]
            norm = self._norms[i] if i != last else None
            linear = pre if norm is None else norm.buffers(n)[0]
            np.matmul(a, w_t, out=linear)
            np.add(linear, b, out=linear)
            if norm is not None:
                norm.forward(n, pre, train)
            if i != last and self._leaky_relus[i] is not None:
                self._leaky_relus[i].forward(pre, buf.acts[i], buf.scratch[i], train)
            elif i != last and act_fwd is not None:
                act_fwd(pre, buf.acts[i], buf.scratch[i])
            a = buf.acts[i]
            drop = self.dropouts[i]
            if drop is not None and train:
                mask = buf.masks[i]
                mask.draw(drop.generator)
                a = np.multiply(a, mask.array, out=buf.outs[i])
        return a

    def _regression_delta_and_loss(self, z, Y, D, buf, wn):
        """:data:`EXTRA_LOSSES`: the loss, and its derivative per sample in ``D``
        (``sign(r) / k`` or ``clip(r, -delta, delta) / k`` for ``k`` outputs;
        torch's derivatives, 0 at ``r = 0`` for the absolute error)."""
        k = z.shape[1]
        np.subtract(z, Y, out=D)
        np.abs(D, out=buf.out)
        terms = _regression_loss_terms(self.loss, D, buf.out, self.huber_delta)
        loss = _total(terms, wn) / k
        if self.loss == "absolute_error":
            np.sign(D, out=D)
        else:
            np.clip(D, -self.huber_delta, self.huber_delta, out=D)
        np.divide(D, k, out=D)
        return loss

    def _output_delta_and_loss(self, z, Y, D, buf, wn):
        """Write ``out(z) - y`` into ``D``; return the summed (or ``wn``-weighted) loss.

        With an extra loss, ``D`` is the derivative of the per-sample loss instead.
        """
        out, row = self.output, buf.row
        if self.loss is not None:
            return self._regression_delta_and_loss(z, Y, D, buf, wn)
        if out == "softmax":
            # log-sum-exp with the row maximum subtracted; rows of Y sum to one,
            # so -sum y log p = sum(lse) - sum y z (z shifted in place).
            _max_reduce(z, 1, keepdims=True, out=row)
            np.subtract(z, row, out=z)
            np.exp(z, out=D)
            _add_reduce(D, 1, keepdims=True, out=row)
            np.divide(D, row, out=D)
            np.subtract(D, Y, out=D)
            np.log(row, out=row)
            if _min_reduce(z, None) < self._capped_below:
                # Some term may exceed scikit-learn's cap: per-sample terms.
                np.multiply(Y, z, out=buf.out)
                terms = np.subtract(row, _add_reduce(buf.out, 1, keepdims=True))
                loss = _total(np.minimum(terms, self.log_cap, out=terms), wn)
            elif wn is None:
                loss = float(_add_reduce(row, None)) - float(np.vdot(Y, z))
            else:
                np.multiply(Y, z, out=buf.out)
                loss = float(np.vdot(wn, row)) - float(np.vdot(wn, _add_reduce(buf.out, 1)))
        elif out == "logistic":
            expit(z, out=D)
            np.subtract(D, Y, out=D)
            # Binary cross-entropy with logits: softplus(z) - y z, stable for any z.
            np.logaddexp(0.0, z, out=buf.out)
            np.subtract(buf.out, np.multiply(Y, z), out=buf.out)
            if self.log_cap is not None:
                np.minimum(buf.out, self.log_cap, out=buf.out)
            loss = _total(buf.out, wn)
        elif out == "identity":
            np.subtract(z, Y, out=D)
            np.multiply(D, D, out=buf.out)
            loss = 0.5 * _total(buf.out, wn)
        else:  # exp: Poisson deviance-style loss xlogy(y, y) - y z - y + exp(z)
            np.exp(z, out=D)
            np.subtract(D, Y, out=D)
            np.subtract(xlogy(Y, Y), np.multiply(Y, z), out=buf.out)
            np.add(buf.out, D, out=buf.out)
            loss = _total(buf.out, wn)
        return loss

    def sync(self):
        """Write the parameters back into the torch tensors."""
        if self._sources is None:
            self._sources = flat_views(self.flat, self.params)
        write_back(self.params, self.flat, self._sources)


class NumpyMLPStep(NumpyMLPGradient):
    """One training step (gradient + optimizer update) of a plain MLP, in numpy.

    Parameters
    ----------
    weights, biases, activation, output, alpha, report_scale, dropouts, norms, leaky_relus, loss,
    huber_delta, log_cap
        As for :class:`NumpyMLPGradient`.
    optimizer : torch.optim.Optimizer or LeanAdam
        One with a numpy update (:data:`sknn._numpy_updates.UPDATES`).
        Supplies the hyper-parameters (read at every step) and holds the
        state, which is copied in here and written back by :meth:`sync`
        (update rules: :mod:`sknn._numpy_updates`).
    """

    def __init__(self, weights, biases, optimizer, activation, output, alpha, report_scale=1.0,
                 dropouts=None, norms=None, leaky_relus=None, loss=None, huber_delta=1.0,
                 log_cap=None):
        if not self.supports(weights, biases, optimizer, activation, output, norms, leaky_relus,
                             loss):
            raise ValueError("NumpyMLPStep does not support this network or optimizer")
        super().__init__(weights, biases, activation, output, alpha, report_scale, dropouts,
                         norms, leaky_relus, loss, huber_delta, log_cap)
        self._optimizer = optimizer
        self._update = numpy_update(optimizer, self.params)
        self._synced = None

    @staticmethod
    def supports(weights, biases, optimizer, activation, output, norms=None, leaky_relus=None,
                 loss=None) -> bool:
        """Whether this class can train these parameters with this optimizer."""
        params = _flat_order(weights, biases, norms, leaky_relus)
        group_params = {id(p) for g in optimizer.param_groups for p in g["params"]}
        return (
            NumpyMLPGradient.supports_network(weights, biases, activation, output, norms,
                                              leaky_relus, loss)
            and {id(p) for p in params} == group_params
            and any(rule.supports(optimizer, params) for rule in UPDATES)
        )

    def __call__(self, X, Y, sw=None, sw_sum=None):
        """Compute the gradient of one batch and apply the optimizer's update.

        Parameters
        ----------
        X, Y, sw
            As for :meth:`NumpyMLPGradient.gradient`.
        sw_sum : ignored
            Recomputed from ``sw`` (the engine's step signature).

        Returns
        -------
        float
            The batch's reported loss (scaled data loss plus L2 penalty),
            before the update.
        """
        data_loss, penalty = self.gradient(X, Y, sw)
        self._update.apply(self.flat, self.grad, self._tmp)
        # What optimizer.step() records for torch's lr schedulers, which warn
        # when they are stepped before the optimizer.
        self._optimizer._opt_called = True
        return data_loss * self.report_scale + penalty

    def sync(self):
        """Write the parameters and the optimizer's state back into the torch tensors."""
        super().sync()
        self._update.sync()
        self._synced = self._stamps()

    def _stamps(self):
        """The tensors this step holds copies of (parameters, optimizer state),
        each with its version counter and address."""
        state = self._optimizer.state
        tensors = [*self.params, *(v for p in self.params for v in state.get(p, {}).values()
                                   if isinstance(v, torch.Tensor))]
        return [(t, t._version, t.data_ptr()) for t in tensors]

    def is_current(self, optimizer) -> bool:
        """Whether this step can train on from where its last :meth:`sync` left.

        True if ``optimizer`` is the one it was built for, with the same
        parameter group, and nothing has changed, replaced or moved a
        parameter or a state tensor since: torch's in-place operations (an
        edit of ``coefs_``, the torch step, restoring after a failed call,
        ``load_state_dict``) bump version counters, ``Module.to`` moves
        storage, and the parameters still hold the values synced (an edit
        through ``.data`` bumps no counter). Steps with normalisation layers,
        PReLU or RReLU (which keep views of their modules' buffers and
        settings) are never reused.
        """
        if self._synced is None or optimizer is not self._optimizer:
            return False
        if any(m is not None for m in (*self._norms, *self._leaky_relus)):
            return False
        if getattr(self._update, "group", None) is not optimizer.param_groups[0]:
            return False
        now = self._stamps()
        return len(now) == len(self._synced) and all(
            t is t0 and v == v0 and d == d0 for (t, v, d), (t0, v0, d0) in zip(now, self._synced)
        ) and all((view == p.detach().numpy()).all() for view, p in zip(self._views, self.params))


def _regression_loss_terms(loss, residual, abs_residual, delta):
    """Per-element loss of the residual: ``|r|``, or Huber's ``0.5 r**2`` below
    ``delta`` and ``delta * (|r| - delta / 2)`` from it on (torch's formulas)."""
    if loss == "absolute_error":
        return abs_residual
    return np.where(abs_residual < delta, 0.5 * residual * residual,
                    delta * (abs_residual - 0.5 * delta))


def _total(terms, wn):
    """Sum of per-element loss terms, or their ``wn``-weighted sum over rows."""
    if wn is None:
        return float(_add_reduce(terms, None))
    return float(np.vdot(wn, _add_reduce(terms, 1)))


def _flat_order(weights, biases, norms, leaky_relus=None):
    """The parameters in the flat arrays' order: weights, biases, the
    normalisation layers' weights and biases, then the PReLU slopes."""
    affine = [m for m in norms or [] if m is not None]
    return [*weights, *biases, *(m.weight for m in affine), *(m.bias for m in affine),
            *(m.weight for m in leaky_relus or [] if isinstance(m, torch.nn.PReLU))]
