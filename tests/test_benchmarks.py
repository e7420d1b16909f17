"""The benchmark scripts run (tiny settings): a broken script is caught here,
not when someone needs its numbers. Nothing is timed or compared."""

import os
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "benchmarks")


@pytest.fixture(autouse=True)
def benchmarks_on_path(monkeypatch):
    monkeypatch.syspath_prepend(BENCHMARKS)


def test_bench_options(capsys):
    import bench_options

    bench_options.main(["--options", "relu", "--losses", "huber", "--repeats", "1",
                        "--first-fit", "adamw"])
    out = capsys.readouterr().out
    assert "relu" in out and "huber" in out and "adamw" in out and "no / yes" in out


def test_bench_options_large_case(capsys):
    import bench_options

    bench_options.main(["--case", "large", "--quick", "--options", "batchnorm", "--losses",
                        "huber", "--repeats", "1", "--first-fit", ""])
    out = capsys.readouterr().out
    assert "15000 training rows" in out and "synthetic 20000x100" in out
    assert "batchnorm" in out and "huber" in out and "first fit" not in out


def test_bench_autocast(capsys):
    import bench_autocast

    bench_autocast.main(["--nets", "256x256/256", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "CPU bfloat16 instructions" in out and "256x256/256" in out


def test_bench_lbfgs(capsys):
    import bench_lbfgs

    bench_lbfgs.main(["--cases", "tiny", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "tiny" in out and "sknn/sklearn" in out and "sklearn 1-BLAS s" in out


def test_bench_gpu_smoke_on_cpu(capsys):
    import bench_gpu

    assert bench_gpu.main(["--device", "cpu", "--rows", "3000", "--epochs", "2", "--hidden",
                           "32,32", "--batch", "512", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert "fit (float32)" in out and "fit (tf32)" in out and "fit (bfloat16)" in out
    # The Adam update probe: a row per network, a time per rule.
    probe = out.split("Adam update alone")[1].splitlines()
    assert "sklearn rule" in probe[1] and "torch rule" in probe[1]
    assert [row.split()[0] for row in probe[2:5]] == ["100-64-10", "100-256-256-10",
                                                      "100-1024-1024-10"]
    assert all(float(cell) > 0 for row in probe[2:5] for cell in row.split()[2:])
    bench_gpu.main(["--device", "cpu", "--rows", "500", "--epochs", "1", "--hidden", "8",
                    "--batch", "64", "--repeats", "1", "--variants", "float32",
                    "--no-update-probe"])
    out = capsys.readouterr().out
    assert "fit (float32)" in out and "Adam update alone" not in out


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/cpuinfo")
def test_cpu_flags_are_read():
    import bench_autocast

    assert bench_autocast.cpu_bf16_flags() != "unknown (no /proc/cpuinfo)"


def test_bench_threads_restores_the_thresholds(capsys):
    import bench_threads

    import sknn._device as device
    import sknn._estimator_base as estimator_base

    before = (estimator_base.NUMPY_MAX_WORK, device.PARALLEL_WORK)
    bench_threads.main(["--cases", "tiny", "--repeats", "1", "--quick", "--busy"])
    assert (estimator_base.NUMPY_MAX_WORK, device.PARALLEL_WORK) == before
    assert "another process busy: True" in capsys.readouterr().out


def test_bench_activations_restores_the_rules(capsys):
    import bench_activations

    from sknn._pointwise import as_rule

    bench_activations.main(["--threads", "1", "--activations", "tanh,relu", "--fit-activations",
                            "tanh", "--calls", "2", "--repeats", "1", "--quick"])
    out = capsys.readouterr().out
    assert "step uses" in out and "MLPClassifier s" in out
    assert "predict uses" in out
    assert as_rule("tanh").numpy_threads == 2


def test_matmul_floor_times_the_training_flops():
    import torch
    from _common import training_flops
    from _floor import epoch_products, matmul_floor

    # 130 rows in batches of 50: two full batches and a ragged one of 30.
    products = epoch_products(7, (11, 13), 3, 130, 50)
    flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b, _ in products)
    assert flops == training_flops(7, (11, 13), 3, 130, 1)
    assert all(out.shape == (a.shape[0], b.shape[1]) for a, b, out in products)
    before = torch.get_num_threads()
    assert matmul_floor(7, (11, 13), 3, 130, 50, epochs=4, threads=1, repeats=1) > 0
    assert torch.get_num_threads() == before


def test_bench_fit_prints_the_floor(capsys):
    import bench_fit

    bench_fit.main(["--cases", "tiny", "--quick", "--repeats", "1", "--libs", "sknn,sklearn"])
    out = capsys.readouterr().out
    assert "matmul floor (the products alone, float32)" in out and "x sklearn's fit" in out
    assert "sknn's fit is" in out


def test_bench_predict_times_both_estimators(capsys):
    import bench_predict

    bench_predict.main(["--rows", "3000", "--repeats", "1", "--calls", "3"])
    out = capsys.readouterr().out
    for line in ("sknn / MLPClassifier predict_proba:", "sknn / MLPClassifier single_row:",
                 "sknn / MLPRegressor predict:", "sknn / MLPRegressor single_row:",
                 "sknn / MLPClassifier single_row_list:", "sknn / MLPRegressor single_row_list:"):
        assert line in out
    with pytest.raises(SystemExit):
        bench_predict.main(["--estimators", "classifer"])


def test_bench_partial_fit(capsys, tmp_path):
    import json

    import bench_partial_fit

    out_file = tmp_path / "pf.json"
    bench_partial_fit.main(["--cases", "iris-1,diabetes-32,diabetes-1-list", "--repeats", "1",
                            "--json", str(out_file)])
    out = capsys.readouterr().out
    assert "iris-1" in out and "diabetes-32" in out and "diabetes-1-list" in out
    payload = json.loads(out_file.read_text())
    assert payload["iris-1"]["calls"] == 150 and payload["diabetes-32"]["calls"] == 14
    assert payload["diabetes-1-list"]["calls"] == 442
    with pytest.raises(SystemExit):
        bench_partial_fit.main(["--cases", "iris"])


def test_bench_step_with_compile(capsys):
    import bench_step

    before = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    bench_step.main(["--nets", "tiny", "--steps", "3", "--rounds", "1", "--compile"])
    # The empty inductor cache it compiled with is gone, and the setting restored.
    assert os.environ.get("TORCHINDUCTOR_CACHE_DIR") == before
    out = capsys.readouterr().out
    assert "compiled+fused" in out and "numpy+lean" in out
    assert "compiling (20 warm-up steps" in out
    assert out.count("compiled+fused against") == 2


def test_bench_step_inductor_cache_is_temporary_unless_kept(monkeypatch):
    import bench_step

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "/users/own/cache")
    with bench_step._inductor_cache(fresh=True) as root:
        assert os.path.isdir(root)
    assert not os.path.exists(root)
    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == "/users/own/cache"
    with bench_step._inductor_cache(fresh=False) as root:  # --warm-cache
        assert root is None


def test_bench_dask_runs_the_search_on_both_cluster_shapes(capsys, tmp_path):
    import json

    pytest.importorskip("distributed")
    import bench_dask

    out_file = tmp_path / "dask.json"
    bench_dask.main(["--repeats", "1", "--epochs", "2", "--json", str(out_file)])
    out = capsys.readouterr().out
    cpus = os.cpu_count()
    assert f"dask {cpus}x1 s" in out and f"dask 1x{cpus} s" in out
    payload = json.loads(out_file.read_text())
    for lib in ("sknn", "sklearn"):
        assert payload["results"][lib][f"{cpus}x1"]["same"] is True
        assert payload["results"][lib][f"1x{cpus}"]["same"] is True


def test_gpu_checks_stage_limits_fit_one_device_command():
    # A lent GPU machine runs one command for at most 600 s; the stages' own
    # limits must leave the script time to print its summary within that.
    import re

    with open(os.path.join(BENCHMARKS, "gpu_checks.sh")) as f:
        limits = re.findall(r'timeout "\$\{[A-Z_]+_LIMIT:-(\d+)\}"', f.read())
    assert len(limits) == 4 and sum(map(int, limits)) <= 570
