"""The reference baseline of issue 13, for the evaluation report only (scikit-learn is in the
`train` extra, never needed at run time).

TF-IDF of words (1-2-grams, sublinear tf, min_df 2) and of characters (char_wb 2-5, min_df 3),
stacked into one logistic regression (C=4, balanced classes), trained on the toxicity label
(target >= 0.5) of the real sources only (not the identity sentences).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def fit_predict(train_texts: Sequence[str], train_toxic: np.ndarray, test_texts: Sequence[str]) -> np.ndarray:
    """Decision values (logits) of the baseline trained on train_texts for test_texts."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3)
    x = sp.hstack([words.fit_transform(train_texts), chars.fit_transform(train_texts)]).tocsr()
    # max_iter above the default 100 only so a slow convergence never cuts the fit short;
    # on the shared sources L-BFGS stops after 50-75 iterations.
    model = LogisticRegression(C=4, class_weight="balanced", max_iter=1000)
    model.fit(x, np.asarray(train_toxic, dtype=int))
    test = sp.hstack([words.transform(test_texts), chars.transform(test_texts)]).tocsr()
    return model.decision_function(test)
