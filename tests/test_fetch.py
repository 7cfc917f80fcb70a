"""`python -m nnlab.data fetch mnist` against a real HTTP server on 127.0.0.1.

The server (http.server in a thread, ephemeral port) serves small synthetic IDX files
built here, and can misbehave on request: cut the body short, flip a byte, answer 404.
The checksum table is the test's own. Nothing is downloaded from the internet.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest

import nnlab.data.mnist as mnist
from nnlab.data import ChecksumError, DownloadError, fetch_mnist, load_mnist
from nnlab.data.__main__ import main

N_TRAIN, N_TEST = 6, 4


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


def _synthetic_mnist():
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TRAIN, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(N_TRAIN) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (N_TEST, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": (np.arange(N_TEST) + 3) % 10,
    }
    return arrays, {name: _idx(a) for name, a in arrays.items()}


ARRAYS, BLOBS = _synthetic_mnist()
TABLE = {name: (len(b), hashlib.sha256(b).hexdigest()) for name, b in BLOBS.items()}
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        server = self.server
        name = self.path.rsplit("/", 1)[-1]
        server.requests.append(name)
        mode = server.modes.get(name, "ok")
        if name not in BLOBS or mode == "404":
            self.send_error(404, "Not Found")
            return
        body = BLOBS[name]
        if mode == "corrupt":
            body = bytearray(body)
            body[len(body) // 2] ^= 0xFF
            body = bytes(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "truncate":
            # Announce the full length, send half, close the connection.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.requests, httpd.modes = [], {}
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/mnist/"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def refused_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


def _fetch(tmp_path, *mirrors, **kw):
    return fetch_mnist(data_dir=tmp_path, mirrors=list(mirrors), files=TABLE,
                       progress=False, timeout=5, **kw)


def _files(tmp_path):
    folder = tmp_path / "mnist"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_fetch_downloads_verifies_and_caches(tmp_path, server):
    cache = _fetch(tmp_path, server.url)
    assert cache == tmp_path / "mnist" / "mnist.npz"
    assert _files(tmp_path) == sorted([*BLOBS, "mnist.npz"])
    assert sorted(server.requests) == sorted(BLOBS)
    X_train, y_train, X_test, y_test = load_mnist(data_dir=tmp_path)
    assert X_train.shape == (N_TRAIN, 784) and X_test.shape == (N_TEST, 784)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_array_equal(np.rint(X_train * 255).reshape(N_TRAIN, 28, 28),
                                  ARRAYS[TRAIN_IMAGES])
    np.testing.assert_array_equal(y_test, ARRAYS["t10k-labels-idx1-ubyte.gz"])


def test_second_fetch_makes_no_request(tmp_path, server):
    _fetch(tmp_path, server.url)
    before = (tmp_path / "mnist" / "mnist.npz").stat().st_mtime_ns
    server.requests.clear()
    _fetch(tmp_path, server.url)
    assert server.requests == []
    assert (tmp_path / "mnist" / "mnist.npz").stat().st_mtime_ns == before


def test_a_damaged_cached_file_is_downloaded_again(tmp_path, server):
    _fetch(tmp_path, server.url)
    (tmp_path / "mnist" / TRAIN_IMAGES).write_bytes(b"rubbish")
    server.requests.clear()
    _fetch(tmp_path, server.url)
    assert server.requests == [TRAIN_IMAGES]
    assert (tmp_path / "mnist" / TRAIN_IMAGES).read_bytes() == BLOBS[TRAIN_IMAGES]


def test_truncated_response_is_refused_and_removed(tmp_path, server):
    server.modes[TRAIN_IMAGES] = "truncate"
    with pytest.raises(DownloadError, match=r"truncated download, got \d+ of the \d+") as err:
        _fetch(tmp_path, server.url)
    assert TRAIN_IMAGES in str(err.value) and "--mirror" in str(err.value)
    assert not isinstance(err.value, ChecksumError)
    assert TRAIN_IMAGES not in _files(tmp_path)
    assert not [f for f in _files(tmp_path) if f.startswith(".") or f.endswith(".part")]


def test_corrupted_bytes_fail_the_checksum_and_are_removed(tmp_path, server):
    server.modes[TRAIN_IMAGES] = "corrupt"
    with pytest.raises(ChecksumError) as err:
        _fetch(tmp_path, server.url)
    message = str(err.value)
    assert f"expected {TABLE[TRAIN_IMAGES][1]}" in message
    assert "got " in message and "removed" in message
    corrupt = bytearray(BLOBS[TRAIN_IMAGES])
    corrupt[len(corrupt) // 2] ^= 0xFF
    assert hashlib.sha256(bytes(corrupt)).hexdigest() in message
    assert TRAIN_IMAGES not in _files(tmp_path)
    assert "mnist.npz" not in _files(tmp_path)
    assert not [f for f in _files(tmp_path) if f.endswith(".part")]


def test_http_404_names_the_url(tmp_path, server):
    server.modes[TRAIN_IMAGES] = "404"
    with pytest.raises(DownloadError, match=r"HTTP 404") as err:
        _fetch(tmp_path, server.url)
    assert server.url + TRAIN_IMAGES in str(err.value)
    assert "--mirror" in str(err.value)
    assert TRAIN_IMAGES not in _files(tmp_path)
    assert not [f for f in _files(tmp_path) if f.endswith(".part")]


def test_connection_refused_names_the_url_and_suggests_a_mirror(tmp_path, refused_url):
    with pytest.raises(DownloadError, match=r"cannot connect") as err:
        _fetch(tmp_path, refused_url)
    assert refused_url in str(err.value) and "--mirror URL" in str(err.value)
    assert _files(tmp_path) == []


def test_falls_back_to_the_next_mirror(tmp_path, server, refused_url):
    _fetch(tmp_path, refused_url, server.url)
    assert sorted(server.requests) == sorted(BLOBS)
    assert load_mnist(data_dir=tmp_path)[0].shape == (N_TRAIN, 784)


def test_every_mirror_failing_lists_each_one(tmp_path, server, refused_url):
    server.modes[TRAIN_IMAGES] = "corrupt"
    with pytest.raises(DownloadError) as err:
        _fetch(tmp_path, refused_url, server.url)
    message = str(err.value)
    assert "any of 2 mirrors" in message
    assert refused_url in message and "SHA-256 mismatch" in message
    assert TRAIN_IMAGES not in _files(tmp_path)


def test_wrong_size_from_the_table_is_refused(tmp_path, server):
    table = dict(TABLE)
    table[TRAIN_IMAGES] = (TABLE[TRAIN_IMAGES][0] + 1, TABLE[TRAIN_IMAGES][1])
    with pytest.raises(ChecksumError, match=r"\d+ bytes, expected \d+\).*different file"):
        fetch_mnist(data_dir=tmp_path, mirrors=[server.url], files=table, progress=False)
    assert TRAIN_IMAGES not in _files(tmp_path)


def test_progress_bar_goes_to_stderr(tmp_path, server, capsys):
    fetch_mnist(data_dir=tmp_path, mirrors=[server.url], files=TABLE, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert TRAIN_IMAGES in captured.err


@pytest.mark.parametrize("mirrors", [[], ["not a url"], "http://x/"])
def test_bad_mirrors_are_rejected(tmp_path, mirrors):
    with pytest.raises(ValueError, match="base URLs"):
        fetch_mnist(data_dir=tmp_path, mirrors=mirrors, files=TABLE)


def test_unknown_keyword_is_rejected(tmp_path):
    with pytest.raises(TypeError):
        fetch_mnist(data_dir=tmp_path, url="http://x/")


def test_read_idx_refuses_a_file_whose_header_lies(tmp_path):
    header = bytes([0, 0, 0x08, 1]) + (10).to_bytes(4, "big")
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(header + bytes(7)))
    with pytest.raises(ValueError, match=r"header says shape \(10,\).*7 data bytes"):
        mnist.read_idx(path)
    path.write_bytes(gzip.compress(b"\x00\x00\x0d\x01" + bytes(8)))
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        mnist.read_idx(path)


def test_load_mnist_builds_its_cache_from_verified_files_only(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name, blob in BLOBS.items():
        (folder / name).write_bytes(blob)
    monkeypatch.setattr(mnist, "MNIST_FILES", TABLE)
    assert load_mnist(data_dir=tmp_path)[0].shape == (N_TRAIN, 784)
    (folder / "mnist.npz").unlink()
    (folder / TRAIN_IMAGES).write_bytes(BLOBS[TRAIN_IMAGES][:-1] + b"x")
    with pytest.raises(ChecksumError, match=r"expected .*python -m nnlab\.data fetch mnist"):
        load_mnist(data_dir=tmp_path)
    assert not (folder / "mnist.npz").exists()


def test_cli_fetches_into_data_dir(tmp_path, server, monkeypatch, capsys):
    monkeypatch.setattr(mnist, "MNIST_FILES", TABLE)
    code = main(["fetch", "mnist", "--mirror", server.url, "--data-dir", str(tmp_path),
                 "--quiet"])
    assert code == 0
    assert "MNIST ready" in capsys.readouterr().out
    assert load_mnist(data_dir=tmp_path)[3].shape == (N_TEST,)


def test_cli_exits_1_on_checksum_mismatch_with_the_real_table(tmp_path, server):
    # A fresh interpreter, the real MNIST checksums, our synthetic files: every file
    # fails verification, the command says so and exits 1, and nothing is left.
    result = subprocess.run(
        [sys.executable, "-m", "nnlab.data", "fetch", "mnist", "--mirror", server.url,
         "--data-dir", str(tmp_path), "--quiet"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "SHA-256 mismatch" in result.stderr
    assert mnist.MNIST_FILES[TRAIN_IMAGES][1] in result.stderr
    assert _files(tmp_path) == []


def test_cli_rejects_an_unknown_data_set(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fetch", "cifar10"])
    assert exit_.value.code == 2
    assert "invalid choice: 'cifar10'" in capsys.readouterr().err
