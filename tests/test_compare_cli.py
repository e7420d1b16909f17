"""Tests of ``python -m sknn compare`` (sknn/__main__.py and sknn/_compare.py).

Successful runs go through a real subprocess. Each process pays ~2-3 s of
torch/sklearn imports, so the error cases run in-process through ``main``,
with a few of them also checked end to end as subprocesses.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sknn.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
# Small and fast: the point is the plumbing, not the scores.
FAST = ["--cv", "3", "--max-iter", "30", "--hidden", "8", "--threads", "1"]


def run_cli(*args):
    env = dict(os.environ)
    # Run against this checkout whether or not sknn is installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # Tiny networks gain nothing from threads, and with pytest -n 2 on two
    # cores extra torch threads only oversubscribe the CPU.
    env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.run(
        [sys.executable, "-m", "sknn", "compare", *args],
        check=False, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory):
    """A small mixed-type CSV: two numeric features, one categorical one."""
    rng = np.random.default_rng(0)
    n = 60
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    label = np.where(x1 + (color == "red") > 0.3, "yes", "no")
    price = 3 * x1 - x2 + 2 * (color == "red") + 0.1 * rng.normal(size=n)
    path = tmp_path_factory.mktemp("data") / "mixed.csv"
    lines = ["x1,x2,color,label,price"]
    lines += [f"{a:.4f},{b:.4f},{c},{d},{e:.4f}" for a, b, c, d, e in
              zip(x1, x2, color, label, price)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_builtin_dataset_table_json_and_plot(tmp_path):
    out, chart = tmp_path / "res.json", tmp_path / "chart.png"
    # One process for all three outputs: each start costs seconds of imports.
    with_plot = importlib.util.find_spec("matplotlib") is not None
    plot_args = ["--plot", str(chart)] if with_plot else []
    proc = run_cli("--dataset", "iris", *FAST, "--json", str(out), *plot_args)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stdout
    if with_plot:
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"wrote {chart}" in proc.stdout
    assert "Traceback" not in proc.stderr
    text = proc.stdout
    assert "iris: classification, 150 samples, 4 features, 3-fold CV" in text
    assert "accuracy" in text and "f1_macro" in text and "fit (s)" in text
    assert "predict (ms)" in text and "±" in text
    assert "sknn.TorchMLPClassifier" in text and "sklearn.MLPClassifier" in text
    # max_iter=30 cannot converge: a footnote, not a wall of warnings.
    assert "without converging" in text
    assert "ConvergenceWarning" not in proc.stderr

    report = json.loads(out.read_text())
    assert set(report["versions"]) == {"sknn", "scikit-learn", "torch"}
    assert (report["cv"], report["threads"], report["device"]) == (3, 1, "auto")
    (result,) = report["results"]
    assert result["dataset"] == "iris"
    assert result["task"] == "classification"
    assert (result["n_samples"], result["n_features"], result["cv"]) == (150, 4, 3)
    assert [m["name"] for m in result["models"]] == [
        "sknn.TorchMLPClassifier", "sklearn.MLPClassifier"]
    for model in result["models"]:
        assert set(model["scores"]) == {"accuracy", "f1_macro"}
        assert all(len(v) == 3 for v in model["scores"].values())
        assert 0 <= model["mean"]["accuracy"] <= 1
        assert model["mean"]["accuracy"] == pytest.approx(np.mean(model["scores"]["accuracy"]))
        assert model["std"]["f1_macro"] == pytest.approx(np.std(model["scores"]["f1_macro"]))
        assert len(model["fit_time"]) == len(model["predict_time"]) == 3
        assert model["mean_fit_time"] > 0 and model["mean_predict_time"] > 0
        # Same hyper-parameters for both models.
        assert model["params"]["hidden_layer_sizes"] == [8]
        assert model["params"]["max_iter"] == 30
        assert model["params"]["random_state"] == 0
    assert result["models"][0]["params"]["device"] == "auto"


def test_csv_classification_with_categorical_column(csv_path, tmp_path):
    out = tmp_path / "res.json"
    proc = run_cli("--dataset", str(csv_path), "--target", "label", *FAST, "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    # Non-numeric target: classification, and the guess is flagged.
    assert "classification (inferred; see --task)" in proc.stdout
    assert "60 samples, 4 features" in proc.stdout  # x1, x2, color, price
    result = json.loads(out.read_text())["results"][0]
    assert result["task"] == "classification" and result["task_inferred"]
    assert result["categorical_features"] == ["color"]


def test_csv_regression_inferred_and_forced(csv_path, tmp_path):
    out = tmp_path / "res.json"
    proc = run_cli("--dataset", str(csv_path), "--target", "price", *FAST,
                   "--task", "regression", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "regression, 60 samples, 4 features" in proc.stdout
    for metric in ("r2", "mae", "rmse"):
        assert metric in proc.stdout
    result = json.loads(out.read_text())["results"][0]
    assert result["metrics"] == ["r2", "mae", "rmse"]
    assert [m["name"] for m in result["models"]] == [
        "sknn.TorchMLPRegressor", "sklearn.MLPRegressor"]
    for model in result["models"]:
        # Errors are reported as positive numbers, unlike sklearn's scorers.
        assert model["mean"]["mae"] > 0 and model["mean"]["rmse"] >= model["mean"]["mae"]


def test_torch_only_option_skips_sklearn_baseline(capsys, tmp_path):
    out = tmp_path / "res.json"
    code = main(["compare", "--dataset", "iris", *FAST, "--activation", "gelu",
                 "--json", str(out)])
    assert code == 0
    assert "skipped: activation 'gelu' not in sklearn" in capsys.readouterr().out
    torch_model, sk_model = json.loads(out.read_text())["results"][0]["models"]
    assert torch_model["params"]["activation"] == "gelu"
    assert sk_model == {"name": "sklearn.MLPClassifier",
                        "skipped": "activation 'gelu' not in sklearn"}


def _one_line_error(capsys, argv):
    code = main(["compare", *argv])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("sknn compare: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def test_plot_format_checked_before_training(capsys, tmp_path):
    msg = _one_line_error(capsys, ["--dataset", "iris", "--json", str(tmp_path / "out.json"),
                                   "--plot", str(tmp_path / "out.nope")])
    assert "matplotlib cannot write .nope files" in msg and ".png" in msg
    assert not (tmp_path / "out.json").exists()  # nothing ran, nothing written


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--dataset", "no_such_file.csv", "--target", "y"], "file not found"),
        (["--dataset", "{csv}", "--target", "nope"], "column 'nope' not found"),
        (["--dataset", "{csv}"], "--target COLUMN is required"),
        (["--dataset", "{csv}", "--target", "label", "--task", "regression"], "not numeric"),
        (["--dataset", "{csv}", "--target", "price", "--task", "classification"],
         "continuous"),
        (["--dataset", "{csv}", "--target", "label", "--cv", "100"], "too few"),
        (["--dataset", "iris", "--cv", "1"], "--cv must be at least 2"),
        (["--dataset", "mnist"], "unknown dataset 'mnist'"),
        (["--dataset", "california"], "unknown dataset"),
        (["--dataset", "iris", "--target", "y"], "only applies to CSV"),
        (["--dataset", "diabetes", "--task", "classification"], "continuous target"),
        (["--hidden", "64,x"], "invalid --hidden"),
        (["--hidden", "0"], "invalid --hidden"),
        (["--hidden", ""], "invalid --hidden"),
        (["--cv", "abc"], "invalid int value"),
        (["--max-iter", "0"], "--max-iter"),
        (["--threads", "0"], "--threads"),
        (["--activation", "nope"], "invalid choice"),
        (["--solver", "nope"], "invalid choice"),
        (["--device", "not_a_device"], "--device"),
        (["--json", "/no/such/folder/out.json"], "does not exist"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_input_is_one_line_error(capsys, csv_path, argv, expected):
    argv = [a.replace("{csv}", str(csv_path)) for a in argv]
    assert expected in _one_line_error(capsys, argv)


def test_too_few_rows(capsys, tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("a,b,y\n1,2,3.5\n2,3,4.5\n3,1,0.5\n")
    msg = _one_line_error(capsys, ["--dataset", str(path), "--target", "y", "--cv", "5"])
    assert "3 rows, too few for 5 folds" in msg


def test_unreadable_csv(capsys, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert "cannot read" in _one_line_error(capsys, ["--dataset", str(path), "--target", "y"])


def test_missing_values(capsys, tmp_path):
    path = tmp_path / "holes.csv"
    path.write_text("a,b,y\n1,,0\n2,3,1\n3,1,0\n4,1,1\n")
    assert "missing values" in _one_line_error(
        capsys, ["--dataset", str(path), "--target", "y", "--cv", "2"])


def test_plot_without_matplotlib(capsys, monkeypatch):
    # A None entry in sys.modules makes the import fail, as if not installed.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    msg = _one_line_error(capsys, ["--dataset", "iris", "--plot", "out.png"])
    assert "pip install sknn[plot]" in msg


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--dataset", "no_such_file.csv", "--target", "y"], "file not found"),
        (["--activation", "nope"], "invalid choice"),
    ],
)
def test_bad_input_subprocess(argv, expected):
    proc = run_cli(*argv)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("sknn compare: error: ") and expected in lines[0]
    assert proc.stdout == ""


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "compare" in capsys.readouterr().err


def test_predict_time_times_each_folds_predict_on_its_test_rows():
    """Not cross_validate's score_time, which also counts the scorers' checks."""
    from sknn._compare import _predict_times

    class Recorder:
        def __init__(self):
            self.seen = []

        def predict(self, X):
            self.seen.append(X.copy())

    X = np.arange(20.0).reshape(10, 2)
    folds = [np.array([0, 3]), np.array([5, 9, 1])]
    cv = {"estimator": [Recorder(), Recorder()], "indices": {"test": folds}}
    times = _predict_times(cv, X, repeats=2)
    assert times.shape == (2,) and (times >= 0).all()
    for recorder, rows in zip(cv["estimator"], folds):
        assert len(recorder.seen) == 2
        for seen in recorder.seen:
            np.testing.assert_array_equal(seen, X[rows])
