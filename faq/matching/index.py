"""A small sparse TF-IDF index over numpy arrays: cosine similarity of a query to every doc.

Postings are stored per feature (CSR by feature), so a query touches only the docs that
share a feature with it: a question of ten words against 100,000 products costs a few
array slices and one ``bincount``, not a scan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def tf_weight(count: float) -> float:
    """Sublinear term frequency: a word said three times is not three times the topic."""
    return 1.0 + math.log(count) if count > 0 else 0.0


class SparseIndex:
    """Cosine similarity between a bag of features and each indexed document.

    Args:
        docs: one bag of features (feature -> count) per document.
        df_groups: for each document, the group it belongs to (an FAQ entry). Document
            frequency counts groups, not documents: a word repeated in all ten variants
            of one entry is specific to that entry, not common.
    """

    def __init__(
        self, docs: Sequence[Mapping[str, float]], df_groups: Sequence[int] | None = None
    ) -> None:
        self.size = len(docs)
        vocab: dict[str, int] = {}
        feature_list: list[int] = []
        doc_list: list[int] = []
        count_list: list[float] = []
        # One flat pass in Python to number the features; everything after is numpy,
        # so a 100,000-product catalog indexes in seconds.
        for doc_id, doc in enumerate(docs):
            for feature, count in doc.items():
                feature_list.append(vocab.setdefault(feature, len(vocab)))
                doc_list.append(doc_id)
                count_list.append(count)
        n_features = len(vocab)
        feature_ids = np.asarray(feature_list, dtype=np.int64)
        doc_ids = np.asarray(doc_list, dtype=np.int64)
        counts = np.asarray(count_list, dtype=np.float64)
        if df_groups is None:
            n_groups = max(self.size, 1)
            df = np.bincount(feature_ids, minlength=n_features).astype(np.float64)
        else:
            groups = np.asarray(df_groups, dtype=np.int64)
            n_groups = max(len(np.unique(groups)), 1)
            pairs = np.unique(groups[doc_ids] * max(n_features, 1) + feature_ids)
            df = np.bincount(pairs % max(n_features, 1), minlength=n_features).astype(np.float64)
        # Smoothed IDF (never zero, so a feature in every group still counts a little).
        self.idf: FloatArray = np.log((n_groups + 1.0) / (df + 1.0)) + 1.0
        self.vocab = vocab
        weights = (1.0 + np.log(np.maximum(counts, 1e-12))) * self.idf[feature_ids]
        weights[counts <= 0] = 0.0
        norms = np.sqrt(np.bincount(doc_ids, weights=weights * weights, minlength=self.size))
        norms[norms == 0] = 1.0
        weights = weights / norms[doc_ids]
        order = np.argsort(feature_ids, kind="stable")
        self._docs: IntArray = doc_ids[order]
        self._weights: FloatArray = weights[order]
        per_feature = np.bincount(feature_ids, minlength=n_features)
        self._indptr: IntArray = np.concatenate(([0], np.cumsum(per_feature))).astype(np.int64)

    def query_vector(self, features: Mapping[str, float]) -> tuple[list[int], list[float], float]:
        """Known feature ids with their TF-IDF weights, and the query's full norm.

        The norm includes features the index has never seen (weighted as the rarest
        known feature): a question full of unknown words is far from every document.
        """
        ids: list[int] = []
        weights: list[float] = []
        total = 0.0
        unknown_idf = float(self.idf.max()) if self.idf.size else 1.0
        for feature, count in features.items():
            fid = self.vocab.get(feature)
            idf = float(self.idf[fid]) if fid is not None else unknown_idf
            w = tf_weight(count) * idf
            total += w * w
            if fid is not None:
                ids.append(fid)
                weights.append(w)
        return ids, weights, math.sqrt(total)

    def similarity(self, features: Mapping[str, float]) -> FloatArray:
        """Cosine similarity of the query to every document (zeros where nothing is shared)."""
        ids, weights, norm = self.query_vector(features)
        if not ids or norm == 0.0:
            return np.zeros(self.size, dtype=np.float64)
        starts = self._indptr[ids]
        ends = self._indptr[np.asarray(ids, dtype=np.int64) + 1]
        if len(ids) == 1:
            docs = self._docs[starts[0] : ends[0]]
            vals = self._weights[starts[0] : ends[0]] * weights[0]
        else:
            docs = np.concatenate([self._docs[s:e] for s, e in zip(starts, ends, strict=True)])
            vals = np.concatenate(
                [self._weights[s:e] * w for s, e, w in zip(starts, ends, weights, strict=True)]
            )
        scores = np.bincount(docs, weights=vals, minlength=self.size)
        return scores / norm

    def similarity_to(self, features: Mapping[str, float], doc: Mapping[str, float]) -> float:
        """Cosine of the query to one bag of features weighted by this index's IDF, as if
        it were one of the documents (a document changed on the fly: an FAQ entry's
        centroid without one of its variants)."""
        ids, weights, norm = self.query_vector(features)
        if not ids or norm == 0.0:
            return 0.0
        unknown_idf = float(self.idf.max()) if self.idf.size else 1.0
        doc_weights: dict[int, float] = {}
        doc_norm = 0.0
        for feature, count in doc.items():
            fid = self.vocab.get(feature)
            idf = float(self.idf[fid]) if fid is not None else unknown_idf
            w = tf_weight(count) * idf
            doc_norm += w * w
            if fid is not None:
                doc_weights[fid] = w
        if doc_norm == 0.0:
            return 0.0
        dot = sum(w * doc_weights.get(fid, 0.0) for fid, w in zip(ids, weights, strict=True))
        return dot / (norm * math.sqrt(doc_norm))
