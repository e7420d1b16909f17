"""Hand-derived forward/backward pass for plain MLPs.

For the small networks scikit-learn users typically train (a few layers of a
few hundred units at most, minibatches of ~200 rows) a training step is
dominated by per-operation overhead, not by arithmetic: autograd records a
graph, allocates every intermediate and gradient, and walks the graph back in
C++ with a dispatcher round trip per node. For a plain MLP with one of the
canonical output/loss pairs the gradient has a closed form, so we can

* run the forward pass into preallocated buffers (``torch.addmm(out=...)``),
* use the closed-form output delta ``(out(z) - y) * w / sum(w)`` which is the
  same for all four canonical pairs (identity/squared error,
  logistic/binary cross-entropy, softmax/categorical cross-entropy,
  exp/Poisson deviance),
* back-propagate with one ``mm`` and one fused elementwise kernel per layer,
* write every gradient straight into the parameters' ``.grad`` tensors.

That is roughly half the dispatcher calls of autograd and no graph
bookkeeping. Nothing here synchronises with the host (no ``.item()``), so the
same code is also usable on CUDA.

This module imports only torch so that it can be unit-tested and benchmarked
in isolation from the estimator layer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._adam_update import SklearnAdam, StepCount, fused_adam_, sklearn_adam_, uses_sklearn_rule
from ._dropout_mask import DropoutMask
from ._lean_optim import TWINS
from ._losses import weight_sum
from ._pointwise import as_rule
from ._torch_leaky_relus import torch_leaky_relu
from ._torch_norm import TorchNorm

__all__ = [
    "EXTRA_LOSSES", "OUTPUTS", "FastAdamStep", "ManualMLPGrad", "make_fast_step",
    "per_layer_dropouts",
]

#: Output activations whose canonical loss gives the delta ``out(z) - y``.
OUTPUTS = ("identity", "logistic", "softmax", "exp")

#: Regression losses with the identity output besides the squared error
#: (per sample: the mean over the outputs, as in :mod:`sknn._losses`).
EXTRA_LOSSES = ("absolute_error", "huber")


class _Buffers:
    """Per-batch-size scratch tensors, allocated once and reused every step."""

    __slots__ = (
        "act_bwd",
        "act_fwd",
        "acts",
        "aux",
        "aux_flat",
        "deltas",
        "deltas_t",
        "half_inv",
        "inv",
        "neg_inv",
        "masks",
        "outs",
        "pen",
        "pres",
    )

    def __init__(self, n, widths, alpha, dtype, device, activation, dropouts, own_pres=None):
        # The hidden activation's forms for these tensors (Pointwise.step_forms).
        self.act_fwd, self.act_bwd = activation.step_forms(dtype, torch.device(device))
        keeps_input = activation.keeps_input
        # acts[i]: post-activation of layer i (last one holds the raw output z).
        self.acts = [torch.empty(n, w, dtype=dtype, device=device) for w in widths]
        # pres[i]: the linear output of hidden layer i. Its own tensor where
        # the activation's derivative needs it, or ``own_pres[i]`` says a
        # layer's does (normalisation, PReLU, RReLU); else the activation
        # overwrites it (the same tensor as acts[i]).
        own_pres = own_pres or [False] * len(widths)
        self.pres = [
            torch.empty(n, w, dtype=dtype, device=device)
            if (keeps_input or own) and i < len(widths) - 1
            else a for i, (w, a, own) in enumerate(zip(widths, self.acts, own_pres))
        ]
        # masks[i]: dropout masks of hidden layer i; outs[i]: its output after
        # dropout, the next layer's input (acts[i] itself without dropout).
        self.masks = [
            None if d is None else DropoutMask((n, w), d.p, dtype, device)
            for w, d in zip(widths, dropouts)
        ]
        self.outs = [a if m is None else torch.empty_like(a) for a, m in zip(self.acts, self.masks)]
        # deltas[i]: dLoss/dz for layer i.
        self.deltas = [torch.empty(n, w, dtype=dtype, device=device) for w in widths]
        # Output-sized scratch for loss terms (log-probabilities, etc.).
        self.aux = torch.empty(n, widths[-1], dtype=dtype, device=device)
        # Views are cached too: creating one costs a dispatcher round trip.
        self.deltas_t = [d.t() for d in self.deltas]
        self.aux_flat = self.aux.view(-1)

        # Scalars as 0-d tensors of the compute dtype: ``t.mul_(python_float)``
        # wraps the float into a fresh tensor and casts it on every call
        # (measured ~2 us each on CPU); a cached tensor operand avoids both.
        # ``full`` fills on the device: ``torch.tensor`` would copy from the
        # host, which waits for the GPU.
        def scalar(v):
            return torch.full((), v, dtype=dtype, device=device)

        self.inv = scalar(1.0 / n)
        self.neg_inv = scalar(-1.0 / n)
        self.half_inv = scalar(0.5 / n)
        self.pen = scalar(0.5 * alpha / n)


class ManualMLPGrad:
    """Forward + backward by hand for a plain MLP.

    Supports Linear layers, one hidden activation shared by all hidden layers
    (or PReLU/RReLU modules), dropout, batch or layer normalisation, and a
    canonical output/loss pair (the pairs scikit-learn's MLP uses) or the
    absolute or Huber loss.

    Parameters
    ----------
    weights : list of torch.Tensor
        Weight parameters, each shaped ``(fan_out, fan_in)`` (the
        ``torch.nn.Linear`` layout), first layer first.
    biases : list of torch.Tensor
        Bias parameters, each shaped ``(fan_out,)``.
    activation : str or Pointwise
        Hidden-layer activation: a name in
        :data:`sknn._pointwise.ACTIVATION_NAMES` (with its default settings)
        or a :class:`~sknn._pointwise.Pointwise` rule.
    output : {"identity", "logistic", "softmax", "exp"}
        Output activation; selects the loss:

        - ``"identity"``: half squared error, ``0.5 * sum (z - y)**2``;
        - ``"logistic"``: binary cross-entropy on ``sigmoid(z)``;
        - ``"softmax"``: categorical cross-entropy on ``softmax(z)``
          (rows of ``Y`` must sum to one, e.g. one-hot);
        - ``"exp"``: Poisson deviance-style loss
          ``xlogy(y, y) - y z - y + exp(z)``.

        Every loss is summed over outputs and averaged over samples
        (weighted by the sample weights when given).
    alpha : float
        L2 penalty strength; the penalty is
        ``0.5 * alpha * sum ||W||_F**2 / sum(sample_weight)`` (biases are not
        penalised), as in scikit-learn.
    dropouts : list of (sknn.MLPModule's Dropout or None), optional
        Per hidden layer, the dropout module after its activation. Masks are
        drawn as the module draws them (same generator, same calls, same
        order), so training matches the module's forward pass under autograd.
    norms : list of (torch.nn.BatchNorm1d, torch.nn.LayerNorm or None), optional
        Per hidden layer, the normalisation module between its ``Linear`` and
        its activation (:class:`sknn._torch_norm.TorchNorm`); the gradients of
        their weights and biases go into their ``.grad`` too.
    leaky_relus : list of (torch.nn.PReLU, sknn's RReLU or None), optional
        Per hidden layer, its PReLU or RReLU module, which then replaces the
        hidden activation (pass the identity rule as ``activation``):
        :mod:`sknn._torch_leaky_relus`.
    loss : {None, "absolute_error", "huber"}, default=None
        With the ``"identity"`` output, the mean absolute error or the Huber
        loss over the outputs instead of the squared error.
    huber_delta : float, default=1.0
        The Huber loss's threshold.
    log_cap : float, optional
        With the ``"softmax"`` and ``"logistic"`` outputs, each log term of
        the returned loss is capped here, as scikit-learn reports it
        (:func:`sknn._losses.log_loss_cap`); the gradient is not.

    Notes
    -----
    The gradients are written into each parameter's ``.grad`` (allocated on
    the first call if missing, then overwritten in place, never accumulated),
    so an optimizer can step right after a call without ``zero_grad``. Do not
    call ``zero_grad(set_to_none=True)`` in between if you care about the
    allocation-free steady state (it still works: ``.grad`` is re-created).

    Scratch buffers are cached per batch size, so a training loop with a
    fixed batch size plus one smaller last batch allocates exactly twice
    (normalisation and the Huber loss allocate as they go: their ATen
    kernels return new tensors).
    """

    def __init__(self, weights, biases, activation, output, alpha, dropouts=None, norms=None,
                 leaky_relus=None, loss=None, huber_delta=1.0, log_cap=None):
        rule = as_rule(activation)
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        if loss not in (None, *EXTRA_LOSSES) or (loss is not None and output != "identity"):
            raise ValueError(f"loss {loss!r} is not available with the {output!r} output")
        if len(weights) != len(biases) or not weights:
            raise ValueError("weights and biases must be non-empty lists of equal length")
        self.weights = list(weights)
        self.biases = list(biases)
        self.activation = rule
        self.output = output
        self.alpha = float(alpha)
        self.dropouts = per_layer_dropouts(dropouts, len(self.weights))
        self.norms = [None if m is None else TorchNorm(m)
                      for m in _per_layer(norms, len(self.weights))]
        self.leaky_relus = [None if m is None else torch_leaky_relu(m)
                            for m in _per_layer(leaky_relus, len(self.weights))]
        self.loss = loss
        self.huber_delta = float(huber_delta)
        self.log_cap = None if log_cap is None else float(log_cap)
        # The activations' inputs of this step: the normalisation layers'
        # outputs where there is one, else the buffers' pre-activations.
        self._act_inputs = [None] * len(self.weights)
        self._widths = [w.shape[0] for w in self.weights]
        self._buffers = {}
        self._views_for = None
        self._refresh_views()

    # ------------------------------------------------------------------ utils
    def _get_buffers(self, n, like):
        buf = self._buffers.get(n)
        if buf is None:
            own_pres = [m is not None or r is not None
                         for m, r in zip(self.norms, self.leaky_relus)]
            buf = _Buffers(n, self._widths, self.alpha, like.dtype, like.device,
                           self.activation, self.dropouts, own_pres)
            self._buffers[n] = buf
        return buf

    def _grads(self):
        # Parameters' .grad are fetched every call (cheap attribute access)
        # rather than cached, so that a caller resetting them to None (e.g.
        # optimizer.zero_grad()) or replacing them keeps working.
        grads = []
        for p in (*self.weights, *self.biases):
            g = p.grad
            if g is None:
                g = torch.zeros_like(p, memory_format=torch.contiguous_format)
                p.grad = g
            grads.append(g)
        n_layers = len(self.weights)
        return grads[:n_layers], grads[n_layers:]

    def _refresh_views(self):
        # Transposed and flattened views of the weights, cached because each
        # view creation is a dispatcher call. They alias the parameters'
        # storage, so in-place updates (every torch optimizer) are seen; if a
        # parameter's storage is swapped (``p.data = ...``) the data pointers
        # change and the views are rebuilt on the next call.
        ws = [w.detach() for w in self.weights]
        self._w_t = [w.t() for w in ws]
        self._w_flat = [w.reshape(-1) if w.is_contiguous() else None for w in ws]
        self._views_for = [w.data_ptr() for w in self.weights]

    def _check_views(self):
        if self._views_for != [w.data_ptr() for w in self.weights]:
            self._refresh_views()

    # ---------------------------------------------------------------- forward
    @torch.no_grad()
    def forward(self, X):
        """Return the raw network output ``z`` (no output activation).

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)

        Returns
        -------
        torch.Tensor of shape (n_samples, n_outputs)
            A view of an internal buffer: it is overwritten by the next call
            with the same batch size; clone it to keep it.
        """
        self._check_views()
        return self._forward(X, self._get_buffers(X.shape[0], X), train=False)

    def _forward(self, X, buf, train=True, weights_t=None, biases=None):
        # weights_t/biases: other copies of the parameters to compute with
        # (sknn._fast_mlp_mixed's low-precision ones), the buffers to match.
        act_fwd = buf.act_fwd
        last = len(self.weights) - 1
        a = X
        layers = zip(weights_t or self._w_t, biases or self.biases)
        for i, (w_t, b) in enumerate(layers):
            pre = buf.pres[i]
            # z = b + a W^T in one BLAS call, straight into the buffer.
            torch.addmm(b, a, w_t, out=pre)
            norm, leaky = self.norms[i], self.leaky_relus[i]
            if norm is not None:
                pre = norm.forward(pre, train)
                if not self.activation.keeps_input and leaky is None:
                    # Activations that work in place start from a copy.
                    pre = buf.acts[i].copy_(pre)
            self._act_inputs[i] = pre
            if leaky is not None:
                leaky.forward(pre, buf.acts[i], train)
            elif i != last and act_fwd is not None:
                act_fwd(pre, buf.acts[i])
            a = buf.acts[i]
            drop = self.dropouts[i]
            if drop is not None and train:
                # sknn's Dropout: input * mask, the mask 0 or 1 / (1 - p).
                mask = buf.masks[i].draw(drop.generator)
                a = torch.mul(a, mask, out=buf.outs[i])
        return a

    # --------------------------------------------------------------- step
    @torch.no_grad()
    def __call__(self, X, Y, sw=None):
        """Compute losses and write the gradient into every parameter's ``.grad``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            Input batch, same dtype/device as the parameters.
        Y : torch.Tensor of shape (n_samples, n_outputs)
            Targets: one-hot rows for ``"softmax"``, 0/1 indicators for
            ``"logistic"``, real (``"identity"``) or non-negative (``"exp"``)
            targets otherwise. Same dtype as ``X``.
        sw : torch.Tensor of shape (n_samples,), optional
            Sample weights. ``None`` means all ones (and is the fast path).

        Returns
        -------
        data_loss : torch.Tensor
            0-d tensor, the weighted mean loss of the batch.
        penalty : torch.Tensor
            0-d tensor, the L2 penalty ``0.5 * alpha * sum ||W||**2 / sw_sum``.
            Neither is synchronised to the host.
        """
        n = X.shape[0]
        buf = self._get_buffers(n, X)
        gWs, gbs = self._grads()
        self._check_views()
        z = self._forward(X, buf)
        D = buf.deltas[-1]
        data_loss, penalty, pen_beta, pen_coef = self._loss_and_output_delta(z, Y, sw, D, buf)

        for i in range(len(self.weights) - 1, -1, -1):
            W = self.weights[i]
            a_prev = X if i == 0 else buf.outs[i - 1]
            gW = gWs[i]
            D_t = buf.deltas_t[i]
            if pen_coef is None:
                # gW = D^T a_prev + (alpha / n) W in one BLAS call.
                torch.addmm(W, D_t, a_prev, beta=pen_beta, out=gW)
            else:
                torch.mm(D_t, a_prev, out=gW)
                if self.alpha != 0.0:
                    gW.addcmul_(W, pen_coef)
            torch.sum(D, 0, out=gbs[i])
            if i > 0:
                D = self._delta_below(i, D, W, buf)
        return data_loss, penalty

    def _delta_below(self, i, D, W, buf):
        """``dLoss/dz`` of layer ``i - 1`` (into ``buf.deltas[i - 1]``) from layer ``i``'s ``D``."""
        D_prev = buf.deltas[i - 1]
        torch.mm(D, W, out=D_prev)
        drop = self.dropouts[i - 1]
        if drop is not None:
            D_prev.mul_(buf.masks[i - 1].mask)
        act_bwd = buf.act_bwd
        leaky = self.leaky_relus[i - 1]
        if leaky is not None:
            leaky.backward(D_prev, self._act_inputs[i - 1])
        elif act_bwd is not None:
            act_bwd(D_prev, self._act_inputs[i - 1], buf.acts[i - 1])
        norm = self.norms[i - 1]
        if norm is not None:
            # Back into the buffer, whose transposed view the next gradient reads.
            D_prev.copy_(norm.backward(D_prev))
        return D_prev

    def _loss_and_output_delta(self, z, Y, sw, D, buf):
        """Losses, and ``dLoss/dz`` in ``D``; with the L2 term's gradient coefficient.

        Returns ``(data_loss, penalty, pen_beta, pen_coef)``: without sample
        weights the coefficient ``alpha / n`` is the Python float ``pen_beta``
        (``pen_coef`` None), with them the 0-d tensor ``pen_coef``.
        """
        n = z.shape[0]
        if sw is None:
            data_loss = self._output_delta_and_loss(z, Y, D, buf, None)
            # dLoss/dz = (out(z) - y) / n. Scaling the (small) output delta
            # once propagates linearly through the whole backward pass.
            D.mul_(buf.inv)
            penalty = self._penalty(buf.pen)
            # A Python float is free as addmm's beta.
            return data_loss, penalty, self.alpha / n, None
        sw = sw.to(dtype=z.dtype)
        sw_sum = weight_sum(sw)
        wn = sw / sw_sum
        data_loss = self._output_delta_and_loss(z, Y, D, buf, wn)
        D.mul_(wn.unsqueeze(1))
        # alpha / sw_sum stays a tensor: turning it into a Python float
        # would force a device sync.
        pen_coef = self.alpha / sw_sum
        return data_loss, self._penalty(pen_coef * 0.5), None, pen_coef

    def _penalty(self, half_coef):
        """Return ``half_coef * sum ||W||**2`` as a 0-d tensor (``half_coef``: 0-d tensor)."""
        if self.alpha == 0.0:
            return torch.zeros((), dtype=half_coef.dtype, device=half_coef.device)
        sq = None
        for W, flat in zip(self.weights, self._w_flat):
            if flat is None:
                flat = W.detach().reshape(-1)
            term = torch.dot(flat, flat)
            sq = term if sq is None else sq.add_(term)
        return sq.mul_(half_coef)

    def _output_delta_and_loss(self, z, Y, D, buf, wn):
        """Write ``out(z) - y`` into ``D``; return the mean (or ``wn``-weighted) loss."""
        out = self.output
        aux = buf.aux
        if self.loss is not None:
            return self._regression_delta_and_loss(z, Y, D, buf, wn)
        cap = self.log_cap
        if out == "softmax":
            logp = torch.log_softmax(z, 1, out=aux)
            torch.exp(logp, out=D)
            D.sub_(Y)
            if cap is not None:
                # -log p capped as scikit-learn clips p: Y is one-hot, so
                # flooring log p (no longer needed for D) caps each sample's term.
                logp.clamp_(min=-cap)
            if wn is None:
                # -sum y log p / n as one dot product over the flattened batch.
                return torch.dot(Y.reshape(-1), buf.aux_flat).mul_(buf.neg_inv)
            return (Y * logp).sum(1).dot(wn).neg_()
        if out == "logistic":
            torch.sigmoid(z, out=D)
            D.sub_(Y)
            # BCE-with-logits is the numerically stable softplus(z) - y z.
            if cap is not None:
                terms = F.binary_cross_entropy_with_logits(z, Y, reduction="none").clamp_(max=cap)
                return terms.sum().mul_(buf.inv) if wn is None else terms.sum(1).dot(wn)
            if wn is None:
                return F.binary_cross_entropy_with_logits(z, Y, reduction="sum").mul_(buf.inv)
            return F.binary_cross_entropy_with_logits(z, Y, weight=wn.unsqueeze(1), reduction="sum")
        if out == "identity":
            torch.sub(z, Y, out=D)
            if wn is None:
                flat = D.reshape(-1)
                return torch.dot(flat, flat).mul_(buf.half_inv)
            return torch.mul(D, D, out=aux).sum(1).dot(wn).mul_(0.5)
        # exp / Poisson: delta = exp(z) - y.
        torch.exp(z, out=D)
        D.sub_(Y)
        # loss terms: xlogy(y, y) - y z - y + exp(z) = xlogy(y, y) - y z + delta
        terms = torch.special.xlogy(Y, Y)
        terms.sub_(Y * z).add_(D)
        if wn is None:
            return terms.sum().mul_(buf.inv)
        return terms.sum(1).dot(wn)

    def _regression_delta_and_loss(self, z, Y, D, buf, wn):
        """The absolute or Huber loss (the mean over the ``k`` outputs), and in
        ``D`` its derivative per sample: ``sign(r) / k`` or
        ``clip(r, -delta, delta) / k``, as autograd takes them."""
        k = z.shape[1]
        torch.sub(z, Y, out=D)
        if self.loss == "absolute_error":
            terms = torch.abs(D, out=buf.aux)
        else:
            terms = F.huber_loss(z, Y, reduction="none", delta=self.huber_delta)
        loss = (terms.sum().mul_(buf.inv) if wn is None else terms.sum(1).dot(wn)).div_(k)
        if self.loss == "absolute_error":
            # NaN stays NaN, as with numpy's sign (sknn._losses._AbsKeepingNaN).
            nan = torch.isnan(D)
            D.sign_().masked_fill_(nan, math.nan)
        else:
            D.clamp_(-self.huber_delta, self.huber_delta)
        D.div_(k)
        return loss


# torch's Adam classes, their twins without compiler guards, and scikit-learn's rule.
_ADAMS = (torch.optim.Adam, torch.optim.AdamW, TWINS[torch.optim.Adam], TWINS[torch.optim.AdamW],
          SklearnAdam)


def init_adam_state(optimizer, params):
    """Create Adam's state for the ``params`` that have none, as torch's fused Adam does.

    A float32 0-d ``step`` on the parameter's device and moments shaped like
    the parameter: the layout ``torch.optim.Adam``/``AdamW`` read and write,
    so either implementation can take the next step.
    """
    state = optimizer.state
    for p in params:
        if not state[p]:
            state[p]["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
            state[p]["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state[p]["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)


def adam_steps_to_device(optimizer) -> None:
    """Move loaded Adam step counts to their parameters' devices, as float32.

    ``Optimizer.load_state_dict`` leaves ``step`` where it was saved (the CPU,
    in a pickle) unless the group is fused or capturable; the fused step
    (:class:`FastAdamStep`, and the update a CUDA graph replays) needs it
    where :func:`init_adam_state` puts it. Other optimizers keep torch's layout.
    """
    if type(optimizer) not in _ADAMS:
        return
    for group in optimizer.param_groups:
        for p in group["params"]:
            state = optimizer.state.get(p)
            step = state.get("step") if state else None
            if torch.is_tensor(step) and step.device != p.device:
                state["step"] = step.to(device=p.device, dtype=torch.float32)


class FastAdamStep:
    """Step a ``torch.optim.Adam``/``AdamW`` with one fused kernel call.

    ``Optimizer.step()`` spends ~80 us per call on CPU in Python bookkeeping
    (hooks, profiler ranges, state lookups, per-step grouping by device and
    dtype) before it reaches the single ``torch._fused_adam_`` kernel. For
    small networks that is more than the gradient computation itself. This
    helper keeps the optimizer as the single source of truth (its
    ``param_groups`` -- so learning-rate schedulers keep working -- and its
    ``state`` in torch's own format, so ``state_dict()``/warm starts keep
    working) and only replaces ``step()``.

    Parameters
    ----------
    optimizer : torch.optim.Adam or torch.optim.AdamW
        Must satisfy :meth:`supports`. The update follows its rule: torch's,
        or scikit-learn's for :class:`sknn._adam_update.SklearnAdam`
        (``solver="adam"`` where torch's machinery is needed).

    Notes
    -----
    Re-create the stepper after ``optimizer.load_state_dict(...)`` (that
    replaces the state tensors this object holds references to). Optimizer
    step hooks (``register_step_pre_hook``/``post_hook``) are not run.
    """

    def __init__(self, optimizer):
        if not self.supports(optimizer):
            raise ValueError("optimizer not supported by FastAdamStep; use optimizer.step()")
        self.optimizer = optimizer
        self.sklearn_rule = uses_sklearn_rule(optimizer)
        self._count = StepCount()
        group = optimizer.param_groups[0]
        self.params = list(group["params"])
        self.decoupled = bool(group.get("decoupled_weight_decay"))  # AdamW
        init_adam_state(optimizer, self.params)
        state = optimizer.state
        self.steps = [state[p]["step"] for p in self.params]
        self.exp_avgs = [state[p]["exp_avg"] for p in self.params]
        self.exp_avg_sqs = [state[p]["exp_avg_sq"] for p in self.params]

    @staticmethod
    def supports(optimizer):
        """Return whether ``optimizer`` can be stepped by :class:`FastAdamStep`.

        Adam/AdamW (torch's classes or their twins in
        :mod:`sknn._lean_optim`, or :class:`sknn._adam_update.SklearnAdam`;
        no other subclass), one parameter group, float scalar
        hyper-parameters, no amsgrad/maximize/differentiable/capturable, all
        parameters dense, of one dtype (float32/float64) on one CPU or CUDA
        device, and any existing state in the standard layout.
        """
        if type(optimizer) not in _ADAMS:
            return False
        if len(optimizer.param_groups) != 1 or not hasattr(torch, "_fused_adam_"):
            return False
        g = optimizer.param_groups[0]
        if g.get("amsgrad") or g.get("maximize") or g.get("differentiable") or g.get("capturable"):
            return False
        if any(isinstance(g[k], torch.Tensor) for k in ("lr", "eps", "weight_decay")):
            return False
        if any(isinstance(b, torch.Tensor) for b in g["betas"]):
            return False
        params = g["params"]
        if not params:
            return False
        p0 = params[0]
        if p0.dtype not in (torch.float32, torch.float64) or p0.device.type not in ("cpu", "cuda"):
            return False
        for p in params:
            if p.is_sparse or p.dtype != p0.dtype or p.device != p0.device:
                return False
            st = optimizer.state.get(p)
            if st and not (
                isinstance(st.get("step"), torch.Tensor)
                and st["step"].dtype == torch.float32
                and st["step"].device == p.device
                and "exp_avg" in st
                and "exp_avg_sq" in st
            ):
                return False
        steps = {int(optimizer.state[p]["step"]) for p in params if optimizer.state.get(p)}
        return len(steps) <= 1

    def step(self, lr=None):
        """Apply one Adam update using the gradients in each ``p.grad``.

        ``lr``, if given, replaces the group's learning rate: a float32
        tensor on the parameters' device, which a CUDA graph can replay
        (:class:`sknn._cuda_graph.GraphedStep` fills it as the schedule moves).
        """
        g = self.optimizer.param_groups[0]
        # LR schedulers check this flag (normally set by their wrapper around
        # optimizer.step) to warn about a scheduler stepping first.
        self.optimizer._opt_called = True
        state = (self.params, self.exp_avgs, self.exp_avg_sqs, self.steps)
        lr = g["lr"] if lr is None else lr
        if self.sklearn_rule:
            sklearn_adam_(*state, lr=lr, betas=g["betas"], eps=g["eps"],
                          weight_decay=g["weight_decay"], decoupled=self.decoupled,
                          count=self._count)
        else:
            fused_adam_(*state, lr=lr, betas=g["betas"], eps=g["eps"],
                        weight_decay=g["weight_decay"], decoupled=self.decoupled)


def _per_layer(modules, n_layers):
    """Per layer (the output layer included) a module or None."""
    modules = list(modules or [])
    return modules + [None] * (n_layers - len(modules))


def per_layer_dropouts(dropouts, n_layers):
    """Per layer (the output layer included, never dropped) a dropout module or None."""
    if len(dropouts or []) > n_layers - 1:
        raise ValueError("dropouts must have one entry per hidden layer at most")
    return [None if d is None or d.p == 0 else d for d in _per_layer(dropouts, n_layers)]


def make_fast_step(weights, biases, activation, output, alpha, report_scale=1.0,
                   dropouts=None, autocast=None, norms=None, leaky_relus=None, loss=None,
                   huber_delta=1.0, log_cap=None):
    """Return an engine-style ``step(X, Y, sw, sw_sum) -> reported_loss``.

    Drop-in for ``sknn._engine.make_autograd_step`` on eligible networks: it
    writes the gradient of ``data_loss + penalty`` into every ``.grad`` and
    returns ``report_scale * data_loss + penalty`` as a 0-d tensor (no host
    sync). ``sw_sum`` is accepted for signature compatibility and recomputed
    from ``sw`` (it equals ``len(X)`` when ``sw`` is None).

    Parameters
    ----------
    weights, biases, activation, output, alpha, dropouts, norms, leaky_relus, loss
        As for :class:`ManualMLPGrad`.
    huber_delta, log_cap
        As for :class:`ManualMLPGrad`.
    report_scale : float, default=1.0
        scikit-learn reports the multi-output squared error averaged over
        outputs while training on its sum: pass ``1 / n_outputs`` there.
    autocast : torch.dtype, optional
        Matmuls in this precision, as under ``torch.autocast``
        (:class:`sknn._fast_mlp_mixed.MixedPrecisionMLPGrad`: plain networks
        only, without ``norms``, ``leaky_relus`` or ``loss``).

    Returns
    -------
    callable
    """
    if autocast is None:
        grad_fn = ManualMLPGrad(weights, biases, activation, output, alpha, dropouts, norms,
                                leaky_relus, loss, huber_delta, log_cap)
    elif loss is not None or any(m is not None for m in [*(norms or []), *(leaky_relus or [])]):
        raise ValueError("the mixed-precision step has no normalisation, PReLU, RReLU "
                         "or other losses")
    else:
        from ._fast_mlp_mixed import MixedPrecisionMLPGrad

        grad_fn = MixedPrecisionMLPGrad(weights, biases, activation, output, alpha, dropouts,
                                        low=autocast, log_cap=log_cap)

    def step(X, Y, sw=None, sw_sum=None):
        data_loss, penalty = grad_fn(X, Y, sw)
        if report_scale != 1.0:
            data_loss = data_loss * report_scale
        return data_loss.add_(penalty)

    step.grad_fn = grad_fn
    return step
