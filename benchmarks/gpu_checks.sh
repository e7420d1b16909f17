#!/usr/bin/env bash
# Every check that needs a GPU, in one run (a lent GPU machine is held by the minute):
#   1. versions and the card;
#   2. the replayed Adam update and graphed fits on CUDA (tests/test_sklearn_adam.py,
#      tests/test_cuda_graphs.py: never run on a GPU since solver="adam" became
#      scikit-learn's update), first, so that they report even if a later stage runs long;
#   3. benchmarks/bench_gpu.py: Adam's replayed update alone by rule (what scikit-learn's
#      step size costs a graph replay), float32, TF32 and bfloat16 fits, and the eager vs
#      CUDA-graph step probe; then the same for a small (128, 128) network, batch 512;
#   4. the test suite with device="auto", i.e. on CUDA (docs builds deselected, and
#      tests/test_benchmarks.py: smoke runs of the CPU benchmarks, 4 of a run's 12 workers'
#      minutes on an H100, which CI runs anyway).
# Run from the repository root:  bash benchmarks/gpu_checks.sh
# Logs go to $OUT (default /tmp/sknn_gpu_checks). Each stage has its own time limit,
# so one stage running long still leaves the others their say; together they stay
# under 570 s, within a 600 s device command. On an H100 the stages before the suite
# took about 80 s; the suite's first 93% took 180 s on 8 workers, hence 12 and 330 s.
set -u
OUT=${OUT:-/tmp/sknn_gpu_checks}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
PY=${PYTHON:-python3}

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
$PY -c "import sys, torch, sklearn, numpy, scipy; print('python', sys.version.split()[0],
'torch', torch.__version__, 'cuda', torch.version.cuda, 'sklearn', sklearn.__version__,
'numpy', numpy.__version__, 'scipy', scipy.__version__)"

echo "== scikit-learn's Adam and CUDA graphs on the GPU"
timeout "${ADAM_LIMIT:-60}" $PY -m pytest -q -p no:cacheprovider -o addopts="-rfE" \
    tests/test_sklearn_adam.py tests/test_cuda_graphs.py 2>&1 | tee "$OUT/adam_graphs.txt" | tail -15

echo "== bench_gpu"
timeout "${BENCH_LIMIT:-120}" $PY benchmarks/bench_gpu.py 2>&1 | tee "$OUT/bench_gpu.txt"

echo "== bench_gpu, a small network (launch-bound: where CUDA graphs should pay most)"
timeout "${SMALL_LIMIT:-60}" $PY benchmarks/bench_gpu.py --rows 200000 --hidden 128,128 \
    --batch 512 --epochs 2 --no-update-probe 2>&1 | tee "$OUT/bench_gpu_small.txt"

echo "== tests on CUDA"
# -v names each test as it ends, so a run cut short by its limit still says which failed.
timeout "${TEST_LIMIT:-330}" $PY -m pytest -v -n "${WORKERS:-12}" -m "not docs" \
    -p no:cacheprovider --durations=15 -o addopts="-rfE" --tb=short \
    --ignore=tests/test_benchmarks.py ${TESTS:-tests} > "$OUT/pytest.txt" 2>&1
echo "pytest exit: $? (124: cut short by its limit)"
grep -E "^(FAILED|ERROR)|(FAILED|ERROR) +tests/|^=+ .*(passed|failed|error)" "$OUT/pytest.txt" | sort -u | cut -c1-300 | tail -60
