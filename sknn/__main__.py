"""Command line interface: ``python -m sknn compare`` (or ``sknn compare``).

Examples
--------
Compare on the default built-in data sets (iris, wine, diabetes)::

    python -m sknn compare

A CSV file, with a deeper network, JSON results and a chart::

    python -m sknn compare --dataset data.csv --target price --hidden 64,32 \\
        --json results.json --plot results.png
"""

import argparse
import contextlib
import os
import sys

from . import _compare

# sknn's documented options; the sklearn baseline is skipped for the ones
# sklearn's MLPs lack (see _compare.SKLEARN_ACTIVATIONS/SKLEARN_SOLVERS).
ACTIVATIONS = (
    "identity", "logistic", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "rrelu", "elu",
    "selu", "celu", "gelu", "silu", "mish", "softsign", "softplus", "hardtanh", "tanhshrink",
)
SOLVERS = (
    "lbfgs", "sgd", "adam", "adamw", "adamax", "nadam", "radam", "rmsprop", "adagrad",
    "adadelta", "asgd",
)
# Unscaled regression targets (diabetes: ~25..350) need many more Adam epochs
# than classification to get anywhere; 1000 is still a few seconds there.
DEFAULT_MAX_ITER = {"classification": 200, "regression": 1000}


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line: ``sknn compare: error: ...``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser():
    """Return the ``sknn`` argument parser.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = _Parser(prog="sknn", description="sknn command line tools.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    cmp = sub.add_parser(
        "compare",
        help="cross-validate sknn's MLPs against scikit-learn's",
        description=(
            "Cross-validate TorchMLPClassifier/TorchMLPRegressor against sklearn's "
            "MLPClassifier/MLPRegressor with the same hyper-parameters, standard "
            "scaling and folds, and print scores and timings."
        ),
    )
    cmp.add_argument(
        "--dataset", action="append", metavar="NAME_OR_CSV",
        help=(f"built-in data set ({', '.join(_compare.BUILTIN_DATASETS)}) or CSV path; "
              f"repeatable (default: {', '.join(_compare.DEFAULT_DATASETS)})"),
    )
    cmp.add_argument("--target", metavar="COLUMN", help="target column of a CSV file")
    cmp.add_argument(
        "--task", choices=("classification", "regression"),
        help="default: inferred (non-numeric or few integer values: classification)",
    )
    cmp.add_argument("--cv", type=int, default=5, help="number of folds (default: 5)")
    cmp.add_argument("--hidden", default="100",
                     help="hidden layer sizes, e.g. 100 or 64,32 (default: 100)")
    cmp.add_argument("--activation", default="relu", choices=ACTIVATIONS, metavar="NAME",
                     help="hidden activation (default: relu)")
    cmp.add_argument("--solver", default="adam", choices=SOLVERS, metavar="NAME",
                     help="optimizer (default: adam)")
    cmp.add_argument("--max-iter", type=_positive_int, metavar="N",
                     help="epochs (default: 200 for classification, 1000 for regression)")
    cmp.add_argument("--random-state", type=int, default=0, metavar="SEED",
                     help="seed for both models and the folds (default: 0)")
    cmp.add_argument("--device", default="auto", help="torch device for sknn (default: auto)")
    cmp.add_argument(
        "--threads", type=_positive_int, metavar="N",
        help=("CPU threads for both libraries (torch and BLAS); 1 is often fastest for "
              "small networks (default: the libraries' own choice)"),
    )
    cmp.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    cmp.add_argument("--plot", metavar="OUT.png", help="also save a bar chart (needs matplotlib)")
    return parser


def _check_output_path(path, option):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise _compare.CompareError(f"{option}: folder {folder} does not exist")


def _check_image_format(path):
    # Fail before minutes of cross-validation, not when saving the figure.
    from matplotlib.backend_bases import FigureCanvasBase

    extension = os.path.splitext(path)[1][1:].lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if extension and extension not in formats:
        raise _compare.CompareError(
            f"--plot: matplotlib cannot write .{extension} files; use one of "
            + ", ".join(f".{f}" for f in sorted(formats))
        )


def _check_device(device):
    # Fail before minutes of cross-validation, not in the first torch fit.
    if device == "auto":
        return
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise _compare.CompareError(f"invalid --device {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise _compare.CompareError(f"--device {device}: CUDA is not available")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise _compare.CompareError(f"--device {device}: MPS is not available")


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    import sklearn
    import torch

    try:
        sknn_version = version("sknn")
    except PackageNotFoundError:  # not installed, e.g. run from a source checkout
        sknn_version = getattr(sys.modules.get("sknn"), "__version__", "unknown")
    return {"sknn": sknn_version, "scikit-learn": sklearn.__version__, "torch": torch.__version__}


@contextlib.contextmanager
def _thread_limit(threads):
    """Limit torch's and the BLAS/OpenMP thread pools for the ``with`` block."""
    if threads is None:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    # On a small or busy machine, idle-spinning worker threads can make tiny
    # networks many times slower; the timings should reflect the user's choice.
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)


def _compare_one(dataset, hidden, args):
    params = {
        "hidden_layer_sizes": hidden,
        "activation": args.activation,
        "solver": args.solver,
        "max_iter": args.max_iter or DEFAULT_MAX_ITER[dataset.task],
        "random_state": args.random_state,
    }
    return _compare.run_comparison(dataset, params, cv=args.cv, device=args.device)


def run_compare(args):
    """Run the ``compare`` subcommand.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        Exit code (0).

    Raises
    ------
    sknn._compare.CompareError
        For bad input.
    """
    hidden = _compare.parse_hidden(args.hidden)
    if args.cv < 2:
        raise _compare.CompareError(f"--cv must be at least 2, got {args.cv}")
    for path, option in ((args.json, "--json"), (args.plot, "--plot")):
        if path:
            _check_output_path(path, option)
    if args.plot:
        from .plotting import _import_matplotlib

        try:
            _import_matplotlib()
        except ImportError as exc:
            raise _compare.CompareError(f"--plot: {exc}") from exc
        _check_image_format(args.plot)
    _check_device(args.device)
    # Load everything first so a bad second file fails before any training.
    names = args.dataset or list(_compare.DEFAULT_DATASETS)
    data = [_compare.load_dataset(name, args.target, args.task) for name in names]

    results = []
    with _thread_limit(args.threads):
        for i, dataset in enumerate(data):
            results.append(_compare_one(dataset, hidden, args))
            print(("\n" if i else "") + _compare.format_table(results[-1]), flush=True)

    if args.json or args.plot:
        print()
    try:
        if args.json:
            header = {"versions": _versions(), "cv": args.cv, "device": args.device,
                      "threads": args.threads}
            with open(args.json, "w", encoding="utf-8") as fh:
                fh.write(_compare.to_json(results, header) + "\n")
            print(f"wrote {args.json}")
        if args.plot:
            _compare.plot_results(results, args.plot)
            print(f"wrote {args.plot}")
    except (OSError, ValueError) as exc:
        # e.g. no write permission, or an image format matplotlib lacks.
        raise _compare.CompareError(f"cannot write output: {exc}") from exc
    return 0


def main(argv=None):
    """Entry point of the ``sknn`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        Exit code: 0 on success, 2 for bad input.
    """
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:
        # --help or a usage error, already printed; return the code, as promised.
        return exc.code
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if extra:
        # Reported by the top-level parser, this would read "sknn: error".
        print(f"sknn {args.command}: error: unrecognized arguments: {' '.join(extra)}",
              file=sys.stderr)
        return 2
    try:
        return run_compare(args)
    except _compare.CompareError as exc:
        print(f"sknn compare: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Output piped into e.g. `head`, which quit early: not an error worth
        # a traceback. Point stdout at devnull so the exit flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
