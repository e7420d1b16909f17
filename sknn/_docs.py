"""Parameter and attribute documentation shared by both estimators.

scikit-learn repeats these paragraphs in each class; here they are written
once and assembled into each docstring, so the two cannot drift apart.
"""

HIDDEN = """\
hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
    The ith element is the number of neurons in the ith hidden layer. An
    empty tuple gives a linear model.
"""

ACTIVATION = """\
activation : str, torch.nn.Module subclass or list, default='relu'
    Activation of the hidden layers: scikit-learn's 'identity', 'logistic',
    'tanh', 'relu', and 'sigmoid' (= 'logistic'), 'leaky_relu', 'prelu',
    'rrelu', 'elu', 'selu', 'celu', 'gelu', 'silu', 'mish', 'softsign',
    'softplus', 'hardtanh', 'tanhshrink'; or a module class, instantiated
    once per hidden layer with ``activation_kwargs``; or a list of them, one
    per hidden layer (most mixes train through autograd). 'rrelu' draws random
    slopes while training, so ``solver='lbfgs'`` refuses it.
"""

COMMON = """\
solver : str or torch.optim.Optimizer subclass, default='adam'
    'lbfgs' (scikit-learn's full-batch L-BFGS-B), 'sgd', 'adam', 'adamw',
    'adamax', 'nadam', 'radam', 'rmsprop', 'adagrad', 'adadelta', 'asgd', or
    an optimizer class (constructed with ``lr=learning_rate_init`` and
    ``optimizer_kwargs`` only, so with PyTorch's defaults otherwise). Named
    solvers take the scikit-learn parameters they have a use for (see
    ``momentum``, ``beta_1``, ``epsilon``). 'lbfgs' takes neither
    ``optimizer_kwargs`` nor ``lr_scheduler``.
alpha : float, default=0.0001
    Strength of the L2 penalty on the weights (not the biases), added to the
    loss as ``0.5 * alpha * ||W||^2 / batch_weight_sum`` as scikit-learn does.
batch_size : int or 'auto', default='auto'
    Size of minibatches for stochastic optimizers; 'auto' is
    ``min(200, n_samples)``. Larger values are clipped with a warning.
learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
    scikit-learn's learning-rate schedule for ``solver='sgd'`` (used when
    ``lr_scheduler`` is None).
learning_rate_init : float, default=0.001
    Initial learning rate of the stochastic solvers.
power_t : float, default=0.5
    Exponent of 'invscaling'.
max_iter : int, default=200
    Epochs for stochastic solvers, iterations for 'lbfgs'.
shuffle : bool, default=True
    Shuffle samples at every epoch (stochastic solvers).
random_state : int, RandomState instance or None, default=None
    Seeds every random draw: initial weights, the early-stopping split,
    shuffling, dropout masks. The global torch RNG is never used.
tol : float, default=1e-4
    Tolerance of the stopping rule (see ``n_iter_no_change``).
verbose : bool or int, default=False
    Report progress: a progress bar on a terminal, scikit-learn's
    "Iteration N, loss = ..." lines otherwise.
warm_start : bool, default=False
    Reuse the previous solution as initialisation of ``fit``.
momentum : float, default=0.9
    Momentum of 'sgd'.
nesterovs_momentum : bool, default=True
    Use Nesterov's momentum with 'sgd' and ``momentum > 0``.
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the training data and stop when its
    score stops improving; the best weights are restored.
validation_fraction : float, default=0.1
    Share of the training data held out for early stopping.
beta_1, beta_2 : float, default=0.9, 0.999
    Decay rates of Adam's moment estimates (and of the other Adam variants).
epsilon : float, default=1e-8
    Numerical stability term of Adam (and its variants, RMSProp). 'adam'
    adds it to ``sqrt(v)`` before the bias correction, as scikit-learn does;
    the variants as PyTorch does.
n_iter_no_change : int or np.inf, default=10
    Stop after ``n_iter_no_change + 1`` epochs without an improvement of at
    least ``tol`` (training loss, or validation score with early stopping).
max_fun : int, default=15000
    Maximum number of loss evaluations of 'lbfgs'.
activation_kwargs : dict or list, default=None
    Keyword arguments of the activation, e.g. ``{"negative_slope": 0.1}``;
    a list gives one dict (or None) per hidden layer.
init : str, callable or list, default='sklearn'
    Weight initialisation: 'sklearn' (scikit-learn's Glorot uniform, the same
    initial network as MLPClassifier for the same ``random_state``),
    'pytorch', 'xavier_uniform', 'xavier_normal', 'kaiming_uniform',
    'kaiming_normal', 'uniform', 'normal', 'trunc_normal', 'orthogonal',
    'zeros', 'ones', 'constant'; or a callable applied to each weight
    tensor; or a list of them, one per layer, the output layer last.
    Schemes with a gain use the gain of the activation after the layer
    (the output layer: the last hidden layer's).
init_kwargs : dict or list, default=None
    Keyword arguments of the scheme, e.g. ``{"val": 0.5}`` for 'constant';
    a list gives one dict (or None) per layer.
    A callable is applied to every layer's weights, the output layer's too;
    it may draw from torch's global RNG, which sknn seeds from
    ``random_state`` for the call and then restores.
optimizer_kwargs : dict, default=None
    Extra keyword arguments of the optimizer (``weight_decay``, ``alpha``,
    ``amsgrad`` ...); they override the mapped scikit-learn parameters.
lr_scheduler : str, torch scheduler class or None, default=None
    None keeps scikit-learn's ``learning_rate``; 'step', 'multistep',
    'exponential', 'cosine', 'plateau', 'onecycle' (stepped per batch), or a
    ``torch.optim.lr_scheduler`` class, stepped once per epoch. The stopping
    rule still applies: ``n_iter_no_change=np.inf`` runs every epoch.
lr_scheduler_kwargs : dict, default=None
    Keyword arguments of the scheduler; override the defaults. Ignored
    without a scheduler (so one grid can search ``lr_scheduler`` over None
    and a scheduler).
dropout : float or list of float, default=0.0
    Dropout probability after each hidden activation (one value, or one per
    hidden layer). Active while training only; not with ``solver='lbfgs'``,
    whose line search needs the same loss for the same weights.
normalization : {None, 'batch', 'layer'}, default=None
    Batch or layer normalisation between each hidden layer's linear map and
    its activation. 'batch' needs at least 2 samples per batch.
"""

DEVICE = """\
device : str or torch.device, default='auto'
    'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N'.
compute_dtype : {'float32', 'float64'}, default='float32'
    Precision of training with the stochastic solvers ('lbfgs' always uses
    float64). Predictions follow scikit-learn's dtype rules either way:
    float32 only for float32 input to a model fitted on float32 data.
autocast : {None, 'bfloat16'}, default=None
    Mixed-precision training with the stochastic solvers: the forward and
    backward matmuls run in bfloat16 under ``torch.autocast``, while the
    weights, gradients, optimizer state, loss and predictions stay float32
    (needs ``compute_dtype='float32'``). Pays off for wide layers (about 512
    units and more) on hardware with native bfloat16 matmuls (recent GPUs;
    CPUs with AVX512-BF16 or AMX); elsewhere it gains little or is slower.
    bfloat16 keeps 8 bits of mantissa, so the fitted model differs from a
    float32 fit by more than rounding.
matmul_precision : {'highest', 'high', 'medium'}, default='highest'
    Internal precision of the float32 matmuls while training with the
    stochastic solvers, as :func:`torch.set_float32_matmul_precision`, which
    sknn sets for the duration of ``fit``/``partial_fit`` and restores after
    (the process-wide setting does not apply to sknn's training). 'high' lets
    NVIDIA GPUs from Ampere on use TensorFloat-32 (10 bits of mantissa) on
    their tensor cores; 'medium' allows bfloat16 products too, where the
    hardware has them. Weights, optimizer state, loss and predictions stay
    float32/float64 as with 'highest'. Other than 'highest' it needs
    ``compute_dtype='float32'`` and trains through torch on the CPU too (the
    numpy step computes at full precision).
cuda_graphs : bool, default=False
    Replay each full-size batch's training step (the batch's gather, forward,
    backward and Adam update) from a CUDA graph: one launch instead of a few
    dozen. Pays off on a GPU when launching kernels takes longer than running
    them, as with TensorFloat-32 or bfloat16 matmuls. Needs a CUDA
    device, ``solver='adam'`` or ``'adamw'`` (or ``torch.optim.Adam`` /
    ``AdamW``) without ``amsgrad``, ``maximize``, ``capturable`` or
    ``differentiable`` in ``optimizer_kwargs``, and no dropout or RReLU (a
    replay would repeat their random draws). A ragged last batch runs as
    usual. Results equal those of ``cuda_graphs=False`` up to round-off.
"""

ATTRIBUTES = """\
coefs_ : list of ndarray of shape (n_fan_in, n_fan_out)
    Weight matrices, scikit-learn's layout; always read from (and written to)
    ``module_``. Each read gives read-only copies: assign a list to change
    the network (an in-place edit raises).
intercepts_ : list of ndarray of shape (n_fan_out,)
    Bias vectors, read and written as ``coefs_``.
n_layers_ : int
    Number of layers, input and output included.
n_outputs_ : int
    Number of output units.
out_activation_ : str
    Output activation.
n_features_in_ : int
    Number of features seen during fit.
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during fit, when X has string column names.
n_iter_ : int
    Epochs (or lbfgs iterations) run by the last call.
loss_ : float
    Training loss at the end of the last call.
t_ : int
    Training samples seen by the stochastic solvers, across calls.
loss_curve_ : list of numpy.float64
    Training loss per epoch (stochastic solvers).
best_loss_ : float or None
    Lowest training loss (None with early stopping).
validation_scores_ : list of float or None
    Validation score per epoch with early stopping.
best_validation_score_ : float or None
    Best validation score with early stopping.
history_ : list of dict
    One entry per epoch (lbfgs: per iteration), across warm starts and
    partial_fit calls: ``epoch``, ``loss``, ``val_loss``, ``val_score``,
    ``lr`` and ``time`` (seconds).
module_ : MLPModule
    The trained network (returns raw scores; no output activation).
device_ : torch.device
    Where ``module_`` lives.
"""
