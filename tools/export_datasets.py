#!/usr/bin/env python3
"""Export scikit-learn's bundled digits and breast-cancer data sets to assets/datasets/ (run once).

Both ship inside the scikit-learn package, so this needs no network:
    python3 -m venv /tmp/flvenv && /tmp/flvenv/bin/pip install scikit-learn
    /tmp/flvenv/bin/python tools/export_datasets.py
Format: one CSV row per example, the integer class label first, then the features; no header.
Values are written with the shortest repr that round-trips, so the files equal sklearn's arrays.
"""
import os
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits

OUT = os.path.join(os.path.dirname(__file__), "..", "assets", "datasets")


def fmt(x):
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def export(name, bunch):
    path = os.path.join(OUT, name + ".csv")
    with open(path, "w") as f:
        for row, label in zip(bunch.data, bunch.target):
            f.write(",".join([str(int(label))] + [fmt(v) for v in row]) + "\n")
    print(f"{path}: {bunch.data.shape[0]} x {bunch.data.shape[1]} (scikit-learn {sklearn.__version__})")


os.makedirs(OUT, exist_ok=True)
export("digits", load_digits())
export("breast_cancer", load_breast_cancer())
