"""
====================
Training on a GPU
====================

``device="auto"`` (the default) trains on the first CUDA GPU when PyTorch
sees one and on the CPU otherwise, so the same script runs on a laptop and on
a GPU server. ``device_`` tells where a fitted model lives. This example runs
on whatever the machine has.
"""

# %%
# Which device?
# -------------
import os
import pickle
import time
import warnings

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sknn import TorchMLPClassifier

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"
warnings.filterwarnings("ignore", category=ConvergenceWarning)

print("torch", torch.__version__, "- CUDA available:", torch.cuda.is_available())
if torch.cuda.is_available():
    print("GPU:", torch.cuda.get_device_name(0))

X, y = make_classification(n_samples=2000 if QUICK else 20000, n_features=50,
                           n_informative=20, n_classes=4, random_state=0)
clf = TorchMLPClassifier(hidden_layer_sizes=(256, 256), batch_size=256, max_iter=5,
                         n_iter_no_change=5, random_state=0)
clf.fit(X, y)
print("device='auto' trained on:", clf.device_)
print("the network's parameters are on:", next(clf.module_.parameters()).device)

# %%
# CPU and GPU side by side
# ------------------------
# Each available device trains the same network; ``history_`` records the
# wall time of every epoch. Small networks and small batches gain little from a
# GPU; see ``benchmarks/`` in the repository for measurements.
devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
epoch_times = {}
for device in devices:
    tic = time.perf_counter()
    fitted = TorchMLPClassifier(hidden_layer_sizes=(256, 256), batch_size=256, max_iter=5,
                                n_iter_no_change=5, device=device, random_state=0).fit(X, y)
    epoch_times[device] = [h["time"] for h in fitted.history_]
    print(f"{device}: fit in {time.perf_counter() - tic:.2f} s, "
          f"training accuracy {fitted.score(X, y):.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
for device, times in epoch_times.items():
    ax.plot(range(1, len(times) + 1), times, marker="o", label=device)
ax.set(xlabel="epoch", ylabel="seconds", title="wall time per epoch")
ax.legend()
plt.show()

# %%
# A GPU model on a CPU-only machine
# ---------------------------------
# Pickles (and joblib files) always hold the network on the CPU, so a model
# trained on a GPU loads anywhere. Predictions run where the loaded network
# is; set ``device`` before fitting it again on a machine without a GPU.
restored = pickle.loads(pickle.dumps(clf))
print("restored model's device_:", restored.device_)
print("same predictions:", (restored.predict(X) == clf.predict(X)).all())
restored.set_params(device="cpu", warm_start=True).fit(X, y)
print("trained further on:", restored.device_)

# %%
# Faster settings for a GPU
# -------------------------
# On a GPU two opt-in parameters trade a little precision or generality for
# speed: ``matmul_precision="high"`` runs the float32 matmuls in TensorFloat-32
# on the tensor cores, and ``cuda_graphs=True`` replays each batch's training
# step from a CUDA graph (Adam or AdamW, no dropout). ``autocast="bfloat16"``
# goes further with bfloat16 matmuls. On a CPU-only machine this section only
# says so: ``cuda_graphs=True`` raises a ``ValueError`` without a CUDA device.
if torch.cuda.is_available():
    settings = {
        "float32": {},
        "tf32 + graphs": {"matmul_precision": "high", "cuda_graphs": True},
        "bfloat16 + graphs": {"autocast": "bfloat16", "cuda_graphs": True},
    }
    for name, params in settings.items():
        fitted = TorchMLPClassifier(hidden_layer_sizes=(256, 256), batch_size=256, max_iter=5,
                                    n_iter_no_change=5, random_state=0, **params).fit(X, y)
        later = sorted(h["time"] for h in fitted.history_[1:])
        print(f"{name}: median epoch {later[len(later) // 2]:.3f} s, "
              f"training accuracy {fitted.score(X, y):.3f}")
else:
    try:
        TorchMLPClassifier(cuda_graphs=True, max_iter=1).fit(X, y)
    except ValueError as exc:
        print("without a GPU:", exc)
