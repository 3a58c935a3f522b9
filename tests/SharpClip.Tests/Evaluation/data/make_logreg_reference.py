#!/usr/bin/python3
"""Reference numbers for LogisticRegressionTests: scikit-learn's LogisticRegression (lbfgs, multinomial, L2) on
synthetic seeded features.

Regenerate (Debian: apt-get install -y python3-sklearn):
    /usr/bin/python3 tests/SharpClip.Tests/Evaluation/data/make_logreg_reference.py
It overwrites logreg_reference.json next to this script; the output is deterministic for a given scikit-learn.
"""
import json, os
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(20240611)
classes, dim, n_train, n_test = 5, 24, 300, 500
centres = rng.normal(0, 1.0, size=(classes, dim))
scales = rng.uniform(1.0, 2.0, size=classes)

def sample(n):
    y = rng.integers(0, classes, size=n)
    x = centres[y] + rng.normal(0, 1, size=(n, dim)) * scales[y][:, None]
    return np.round(x, 4).astype(np.float32), y

x_train, y_train = sample(n_train)
x_test, y_test = sample(n_test)

fits = []
for c in [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]:
    clf = LogisticRegression(C=c, solver="lbfgs", max_iter=100000, tol=1e-10, multi_class="multinomial")
    clf.fit(x_train.astype(np.float64), y_train)
    logits = x_train.astype(np.float64) @ clf.coef_.T + clf.intercept_
    logp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    objective = c * -logp[np.arange(n_train), y_train].sum() + 0.5 * (clf.coef_ ** 2).sum()
    fits.append({"C": c, "test_accuracy": float(clf.score(x_test, y_test)),
                 "train_accuracy": float(clf.score(x_train, y_train)), "objective": float(objective)})

out = {
    "generator": "make_logreg_reference.py", "sklearn": sklearn.__version__, "classes": classes, "dim": dim,
    "x_train": x_train.round(4).tolist(), "y_train": y_train.tolist(),
    "x_test": x_test.round(4).tolist(), "y_test": y_test.tolist(), "fits": fits,
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "logreg_reference.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))
