"""sknn freezes import-time objects in joblib's loky workers only."""

import subprocess
import sys

from joblib import Parallel, delayed


def _freeze_count_after_import():
    import gc

    import sknn  # noqa: F401

    return gc.get_freeze_count()


def test_loky_workers_freeze_import_time_objects():
    counts = Parallel(n_jobs=2, backend="loky")(
        delayed(_freeze_count_after_import)() for _ in range(2)
    )
    assert all(count > 10_000 for count in counts)


def test_a_users_process_keeps_its_garbage_collector_as_configured():
    # Counted across sknn's own import: a Python or torch build may freeze objects itself.
    code = ("import gc, torch, sklearn; n = gc.get_freeze_count(); import sknn; "
            "print(gc.get_freeze_count() - n)")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "0"
