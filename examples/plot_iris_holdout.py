"""
=====================================================
Iris: hold-out split, training curves and evaluation
=====================================================

The lecture's first PyTorch network classifies the iris flowers by hand:
standardise the features, split with ``train_test_split(stratify=y)``, write
a training loop that records the loss and accuracy per epoch, plot the
curves, then evaluate with a confusion matrix and accuracy / precision /
recall / F1. With sknn the loop is ``fit``; the curves are in ``history_``.
"""

# %%
# Split, scale, fit
# -----------------
# The scaler goes inside a :class:`~sklearn.pipeline.Pipeline`, so it is fitted
# on the training rows only. ``early_stopping=True`` holds out
# ``validation_fraction`` (here 20%) of the training rows and records the
# validation loss and accuracy at every epoch.
import os

import matplotlib.pyplot as plt
from sklearn.datasets import load_iris
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    accuracy_score,
    classification_report,
    precision_recall_fscore_support,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import TorchMLPClassifier

QUICK = os.environ.get("SKNN_EXAMPLE_QUICK") == "1"

iris = load_iris()
X_train, X_test, y_train, y_test = train_test_split(
    iris.data, iris.target, test_size=0.2, stratify=iris.target, random_state=0
)
model = make_pipeline(
    StandardScaler(),
    TorchMLPClassifier(
        hidden_layer_sizes=(16, 8),
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=20,
        batch_size=16,
        max_iter=40 if QUICK else 300,
        learning_rate_init=0.01,
        random_state=0,
    ),
)
model.fit(X_train, y_train)
clf = model[-1]
print(f"{clf.n_iter_} epochs; last epoch: {clf.history_[-1]}")

# %%
# The network, layer by layer, as ``torchsummary`` would print it:
print(clf.summary())

# %%
# Training curves
# ---------------
# :func:`sknn.plotting.plot_history` draws the training and validation loss
# and the validation accuracy from ``history_``.
from sknn.plotting import plot_history

plot_history(model)
plt.title("iris: loss and validation accuracy per epoch")
plt.show()

# %%
# The lecture's loop: training and test accuracy after every epoch
# ----------------------------------------------------------------
# The lecture trains a 4-10-3 network with Adam at 0.01, the whole training
# set as one batch, for 100 epochs, and scores both sets after each epoch.
# ``partial_fit`` is one epoch over the data it is given, so the loop keeps
# its shape (see :doc:`/user_guide/from_pytorch` for the other pieces).
import numpy as np

scaler = StandardScaler().fit(X_train)
X_train_s, X_test_s = scaler.transform(X_train), scaler.transform(X_test)
lecture = TorchMLPClassifier(hidden_layer_sizes=(10,), learning_rate_init=0.01,
                             batch_size=len(X_train_s), random_state=0)
train_accuracy, test_accuracy = [], []
for _epoch in range(30 if QUICK else 100):
    lecture.partial_fit(X_train_s, y_train, classes=np.unique(iris.target))
    train_accuracy.append(lecture.score(X_train_s, y_train))
    test_accuracy.append(lecture.score(X_test_s, y_test))
print(f"after {len(test_accuracy)} epochs: train {train_accuracy[-1]:.3f}, "
      f"test {test_accuracy[-1]:.3f}")

fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.5))
loss_ax.plot(lecture.loss_curve_)
loss_ax.set(xlabel="epoch", ylabel="training loss")
acc_ax.plot(train_accuracy, label="train")
acc_ax.plot(test_accuracy, label="test")
acc_ax.set(xlabel="epoch", ylabel="accuracy")
acc_ax.legend()
fig.suptitle("iris, the lecture's loop with partial_fit")
plt.show()

# %%
# Evaluation on the held-out test set
# -----------------------------------
# The pipeline fitted above, with early stopping.
y_pred = model.predict(X_test)
precision, recall, f1, _ = precision_recall_fscore_support(y_test, y_pred, average="macro")
print(f"accuracy  {accuracy_score(y_test, y_pred):.3f}")
print(f"precision {precision:.3f} (macro)")
print(f"recall    {recall:.3f} (macro)")
print(f"F1        {f1:.3f} (macro)")
print(classification_report(y_test, y_pred, target_names=iris.target_names))

ConfusionMatrixDisplay.from_estimator(
    model, X_test, y_test, display_labels=iris.target_names, cmap="Blues"
)
plt.title("iris: confusion matrix on the test set")
plt.show()
