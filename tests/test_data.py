"""Tests for lecture_code.data: the registry, checked fetching (local folder, cache, download) and readers.

Downloads are tested against a real HTTP server on 127.0.0.1 serving a tiny fake dataset, so nothing here
needs the internet. The reader tests use the real files in ``$LECTURE_CODE_DATA`` or ``../shared/data``
and are skipped when neither exists.
"""

from __future__ import annotations

import csv
import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lecture_code import data
from lecture_code.data import ChecksumError, DataError, Dataset, DataUnavailableError, RemoteFile

SHARED = Path(__file__).parents[1].parent / "shared/data"
PAYLOAD = b"to be, or not to be: that is the question\n" * 50


def _shared_data_dir() -> Path | None:
    """The folder holding the real files: $LECTURE_CODE_DATA if set, else ../shared/data, if it exists."""
    env = os.environ.get("LECTURE_CODE_DATA")
    folder = Path(env) if env else SHARED
    return folder if (folder / "MANIFEST.tsv").is_file() else None


# ----------------------------------------------------------------------------- registry


def test_registry_matches_manifest() -> None:
    folder = _shared_data_dir()
    if folder is None:
        pytest.skip("no MANIFEST.tsv in $LECTURE_CODE_DATA or ../shared/data")
    with open(folder / "MANIFEST.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    manifest = [(r["dataset"], r["file"], int(r["bytes"]), r["sha256"], r["canonical_url"]) for r in rows]
    ours = [(d.name, f.name, f.size, f.sha256, f.url) for d in data.REGISTRY.values() for f in d.files]
    assert sorted(ours) == sorted(manifest)
    assert len(ours) == len(manifest) == 17


def test_registry_credits_every_dataset() -> None:
    assert set(data.REGISTRY) == {"tinyshakespeare", "ptb", "rt-polarity", "sst2", "ud_english_ewt",
                                  "wnut17", "timemachine"}
    for name, d in data.REGISTRY.items():
        assert d.name == name
        assert d.license.strip() and d.citation.strip() and d.description.strip()
        for f in d.files:
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0
            assert f.size > 0 and f.url.startswith("https://") and f.url.endswith("/" + f.name)


def test_dataset_file_lookup() -> None:
    ptb = data.REGISTRY["ptb"]
    assert ptb.file("ptb.valid.txt").size == 399_782
    with pytest.raises(KeyError, match=r"ptb\.train\.txt"):
        ptb.file("ptb.nope.txt")


def test_unknown_names_are_value_errors() -> None:
    with pytest.raises(ValueError, match="tinyshakespeare"):
        data.fetch("imagenet", "x")
    with pytest.raises(ValueError, match=r"ptb\.train\.txt"):
        data.fetch("ptb", "ptb.nope.txt")
    with pytest.raises(ValueError, match="valid"):
        data.load_ptb("dev")  # type: ignore[arg-type]


def test_describe_mentions_license_citation_and_urls() -> None:
    text = data.describe("wnut17")
    d = data.REGISTRY["wnut17"]
    assert d.license in text and d.citation in text
    assert all(f.url in text for f in d.files)


def test_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LECTURE_CODE_CACHE", str(tmp_path))
    assert data.cache_dir() == tmp_path
    monkeypatch.delenv("LECTURE_CODE_CACHE")
    assert data.cache_dir() == Path.home() / ".cache" / "lecture_code"


# ----------------------------------------------------------------------------- a fake dataset and server


@dataclass
class Server:
    root: Path  # the folder served
    base: str  # http://127.0.0.1:PORT/
    hits: list[str] = field(default_factory=list)


def _fake_dataset(url: str, payload: bytes = PAYLOAD) -> Dataset:
    rf = RemoteFile("tiny.txt", url, hashlib.sha256(payload).hexdigest(), len(payload))
    return Dataset("tiny", (rf,), license="CC0", citation="Nobody (2024).", description="A test file.")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """An HTTP server on 127.0.0.1 serving tmp_path/www; paths under /truncated/ send half a file and hang up."""
    root = tmp_path / "www"
    root.mkdir()
    srv_state = Server(root, "")

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            srv_state.hits.append(self.path)
            if self.path.startswith("/truncated/"):
                body = (root / self.path.removeprefix("/truncated/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return
            super().do_GET()

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv_state.base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield srv_state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty download cache, and no LECTURE_CODE_DATA."""
    monkeypatch.setenv("LECTURE_CODE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LECTURE_CODE_DATA", raising=False)
    return tmp_path / "cache"


def _serve_tiny(monkeypatch: pytest.MonkeyPatch, server: Server, served: bytes = PAYLOAD,
                path: str = "tiny.txt") -> None:
    """Serve ``served`` as tiny.txt and register the fake dataset (whose hash is PAYLOAD's) at ``path``."""
    (server.root / "tiny.txt").write_bytes(served)
    monkeypatch.setitem(data.REGISTRY, "tiny", _fake_dataset(server.base + path))


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/tiny.txt"


def _files_under(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# ----------------------------------------------------------------------------- LECTURE_CODE_DATA


@pytest.fixture
def local_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A LECTURE_CODE_DATA folder (initially without the file) for the fake dataset."""
    folder = tmp_path / "mydata"
    (folder / "tiny").mkdir(parents=True)
    monkeypatch.setenv("LECTURE_CODE_DATA", str(folder))
    monkeypatch.setenv("LECTURE_CODE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(data.REGISTRY, "tiny", _fake_dataset("https://example.invalid/tiny.txt"))
    return folder


def test_data_dir_good_copy(local_dir: Path, tmp_path: Path) -> None:
    (local_dir / "tiny" / "tiny.txt").write_bytes(PAYLOAD)
    assert data.fetch("tiny", "tiny.txt") == local_dir / "tiny" / "tiny.txt"
    assert not (tmp_path / "cache").exists()  # nothing copied or downloaded


def test_data_dir_corrupt_copy_is_reported_and_left_alone(local_dir: Path) -> None:
    path = local_dir / "tiny" / "tiny.txt"
    bad = PAYLOAD[:-1] + b"!"
    path.write_bytes(bad)
    with pytest.raises(ChecksumError) as err:
        data.fetch("tiny", "tiny.txt")
    msg = str(err.value)
    assert str(path) in msg and data.REGISTRY["tiny"].files[0].sha256 in msg
    assert hashlib.sha256(bad).hexdigest() in msg
    assert path.read_bytes() == bad


def test_data_dir_file_is_hashed_once_until_it_changes(local_dir: Path, monkeypatch) -> None:
    path = local_dir / "tiny" / "tiny.txt"
    path.write_bytes(PAYLOAD)
    data.fetch("tiny", "tiny.txt")
    calls = []
    monkeypatch.setattr(data, "_sha256", lambda p: calls.append(p) or "")
    data.fetch("tiny", "tiny.txt")
    assert calls == []  # remembered
    monkeypatch.undo()
    monkeypatch.setenv("LECTURE_CODE_DATA", str(local_dir))
    monkeypatch.setitem(data.REGISTRY, "tiny", _fake_dataset("https://example.invalid/tiny.txt"))
    path.write_bytes(PAYLOAD + b"tampered")
    with pytest.raises(ChecksumError):
        data.fetch("tiny", "tiny.txt")


def test_data_dir_missing_file(local_dir: Path) -> None:
    with pytest.raises(DataUnavailableError) as err:
        data.fetch("tiny", "tiny.txt")
    msg = str(err.value)
    assert str(local_dir / "tiny" / "tiny.txt") in msg
    assert "tiny" in msg and "https://example.invalid/tiny.txt" in msg


# ----------------------------------------------------------------------------- downloads into the cache


def test_download_lands_in_cache_and_is_reused(monkeypatch, server, cache, capsys) -> None:
    monkeypatch.setenv("LECTURE_CODE_PROGRESS", "1")  # the root conftest turns bars off for the notebooks
    _serve_tiny(monkeypatch, server)
    path = data.fetch("tiny", "tiny.txt")
    assert path == cache / "tiny" / "tiny.txt"
    assert path.read_bytes() == PAYLOAD
    assert _files_under(cache) == ["tiny.txt"]  # no temp file left behind
    assert server.hits == ["/tiny.txt"]
    assert "tiny/tiny.txt" in capsys.readouterr().err  # the tqdm bar
    assert data.fetch("tiny", "tiny.txt") == path
    assert server.hits == ["/tiny.txt"]  # served from the cache the second time


def test_verified_files_are_not_rehashed(monkeypatch, server, cache) -> None:
    _serve_tiny(monkeypatch, server)
    data.fetch("tiny", "tiny.txt", progress=False)
    calls = []
    monkeypatch.setattr(data, "_sha256", lambda p: calls.append(p) or "")
    data.fetch("tiny", "tiny.txt", progress=False)
    assert calls == []


def test_lecture_code_progress_0_is_silent(monkeypatch, server, cache, capsys) -> None:
    monkeypatch.setenv("LECTURE_CODE_PROGRESS", "0")
    _serve_tiny(monkeypatch, server)
    data.fetch("tiny", "tiny.txt")
    assert capsys.readouterr().err == ""


def test_progress_false_is_silent(monkeypatch, server, cache, capsys) -> None:
    _serve_tiny(monkeypatch, server)
    data.fetch("tiny", "tiny.txt", progress=False)
    assert capsys.readouterr().err == ""


def test_wrong_bytes_raise_and_keep_nothing(monkeypatch, server, cache) -> None:
    _serve_tiny(monkeypatch, server, served=PAYLOAD.upper())
    with pytest.raises(ChecksumError) as err:
        data.fetch("tiny", "tiny.txt", progress=False)
    msg = str(err.value)
    assert server.base + "tiny.txt" in msg
    assert data.REGISTRY["tiny"].files[0].sha256 in msg and hashlib.sha256(PAYLOAD.upper()).hexdigest() in msg
    assert _files_under(cache) == []


def test_corrupt_cache_entry_is_downloaded_again(monkeypatch, server, cache) -> None:
    _serve_tiny(monkeypatch, server)
    (cache / "tiny").mkdir(parents=True)
    (cache / "tiny" / "tiny.txt").write_bytes(b"garbage")
    path = data.fetch("tiny", "tiny.txt", progress=False)
    assert path.read_bytes() == PAYLOAD
    assert server.hits == ["/tiny.txt"]
    assert _files_under(cache) == ["tiny.txt"]


def test_http_404_is_data_unavailable(monkeypatch, server, cache) -> None:
    _serve_tiny(monkeypatch, server, path="missing.txt")
    with pytest.raises(DataUnavailableError, match="404") as err:
        data.fetch("tiny", "tiny.txt", progress=False)
    assert server.base + "missing.txt" in str(err.value)
    assert _files_under(cache) == []


def test_server_dying_midway_keeps_no_partial_file(monkeypatch, server, cache) -> None:
    _serve_tiny(monkeypatch, server, path="truncated/tiny.txt")
    with pytest.raises(DataError, match="connection closed after") as err:
        data.fetch("tiny", "tiny.txt", progress=False)
    assert isinstance(err.value, DataUnavailableError)
    assert server.hits == ["/truncated/tiny.txt"]
    assert _files_under(cache) == []


def test_offline_error_explains_what_to_do(monkeypatch, cache) -> None:
    url = _closed_port_url()
    monkeypatch.setitem(data.REGISTRY, "tiny", _fake_dataset(url))
    with pytest.raises(DataUnavailableError) as err:
        data.fetch("tiny", "tiny.txt", progress=False)
    msg = str(err.value)
    assert url in msg and "tiny.txt" in msg and "LECTURE_CODE_DATA" in msg
    assert "tiny/tiny.txt" in msg  # the path expected under the folder
    assert isinstance(err.value.__cause__, OSError)  # chained: URLError is an OSError
    assert _files_under(cache) == []


def test_url_argument_overrides_registry(monkeypatch, server, cache) -> None:
    (server.root / "tiny.txt").write_bytes(PAYLOAD)
    monkeypatch.setitem(data.REGISTRY, "tiny", _fake_dataset(_closed_port_url()))
    path = data.fetch("tiny", "tiny.txt", progress=False, url=server.base + "tiny.txt")
    assert path.read_bytes() == PAYLOAD


def test_fetch_all(monkeypatch, server, cache) -> None:
    _serve_tiny(monkeypatch, server)
    assert data.fetch_all("tiny", progress=False) == {"tiny.txt": cache / "tiny" / "tiny.txt"}


# ----------------------------------------------------------------------------- readers on the real data


@pytest.fixture
def real_data(monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = _shared_data_dir()
    if folder is None:
        pytest.skip("real data not found in $LECTURE_CODE_DATA or ../shared/data")
    monkeypatch.setenv("LECTURE_CODE_DATA", str(folder))
    return folder


def test_ptb_matches_published_counts(real_data: Path) -> None:
    train = data.load_ptb("train")
    assert len(train) == 929_589
    assert len(set(train)) == 10_000
    assert train[:3] == ["aer", "banknote", "berlitz"]
    assert train.count("<eos>") == 42_068
    valid, test = data.load_ptb("valid"), data.load_ptb("test")
    assert (len(valid), len(test)) == (73_760, 82_430)
    assert set(valid) <= set(train) and set(test) <= set(train)  # closed vocabulary


def test_tinyshakespeare(real_data: Path) -> None:
    text = data.load_tinyshakespeare()
    assert len(text) == 1_115_394
    assert len(set(text)) == 65
    assert text.startswith("First Citizen:")


def test_timemachine(real_data: Path) -> None:
    text = data.load_timemachine()
    assert len(text) == 178_979
    assert text.startswith("The Time Machine, by H. G. Wells")


def test_real_files_all_verify(real_data: Path) -> None:
    for name, d in data.REGISTRY.items():
        paths = data.fetch_all(name)
        assert [p.stat().st_size for p in paths.values()] == [f.size for f in d.files]
