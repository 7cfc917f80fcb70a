"""The full MNIST set: download once, verify, cache, load.

`fetch_mnist()` (or `python -m nnlab.data fetch mnist`) downloads the four IDX files
from a public mirror, checks each one's SHA-256, writes it atomically under
`data/mnist/`, and parses them into one cached `mnist.npz`; `load_mnist()` reads that
cache. A failed download never leaves a partial file behind.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from nnlab.data._common import ChecksumError, DownloadError, data_dir, float_dtype, sha256_file

#: Mirrors tried in order. The first is the one torchvision uses, the second TensorFlow's.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: File name -> (size in bytes, SHA-256), as recorded in tensorflow/datasets
#: `tensorflow_datasets/url_checksums/mnist.txt`. Tests override it with their own table.
MNIST_FILES: dict[str, tuple[int, str]] = {
    "train-images-idx3-ubyte.gz": (
        9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train-labels-idx1-ubyte.gz": (
        28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "t10k-images-idx3-ubyte.gz": (
        1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "t10k-labels-idx1-ubyte.gz": (
        4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}

CACHE_NAME = "mnist.npz"
FETCH_COMMAND = "python -m nnlab.data fetch mnist"
_PARTS = {"X_train": "train-images", "y_train": "train-labels",
          "X_test": "t10k-images", "y_test": "t10k-labels"}


def mnist_dir(root: str | os.PathLike | None = None) -> Path:
    """`<root>/mnist`, root defaulting to the course's data folder (`data_dir()`)."""
    return (Path(root) if root is not None else data_dir()) / "mnist"


def load_mnist(*, data_dir: str | os.PathLike | None = None, dtype=np.float32):
    """The full MNIST set from the local cache (notebook 06).

    Returns `X_train (60000, 784)`, `y_train (60000,)`, `X_test (10000, 784)`,
    `y_test (10000,)`: pixels in [0, 1] as `dtype` (float32 unless told), labels int64.
    Raises FileNotFoundError naming `python -m nnlab.data fetch mnist` when the set
    has not been downloaded; `load_mnist_subset()` works offline.
    """
    dtype = float_dtype(dtype)
    folder = mnist_dir(data_dir)
    cache = folder / CACHE_NAME
    if not cache.is_file():
        if all((folder / name).is_file() for name in MNIST_FILES):
            for name, (_, sha) in MNIST_FILES.items():
                got = sha256_file(folder / name)
                if got != sha:
                    raise ChecksumError(f"{folder / name} has SHA-256 {got}, expected {sha}; "
                                        f"run `{FETCH_COMMAND}` to download it again")
            _build_cache(folder, MNIST_FILES)
        else:
            extra = f" --data-dir {data_dir}" if data_dir is not None else ""
            raise FileNotFoundError(
                f"the full MNIST set is not in {folder}. Download it once (about 11 MB) "
                f"with `{FETCH_COMMAND}{extra}`, or use load_mnist_subset(), which ships "
                "with the course and works offline.")
    try:
        with np.load(cache) as npz:
            X_train, y_train, X_test, y_test = (npz[key] for key in _PARTS)
    except (OSError, ValueError, KeyError) as err:
        raise OSError(f"{cache} is unreadable ({err}); delete it and run "
                      f"`{FETCH_COMMAND}` again") from err
    return (X_train.reshape(len(X_train), -1).astype(dtype) / dtype(255),
            y_train.astype(np.int64),
            X_test.reshape(len(X_test), -1).astype(dtype) / dtype(255),
            y_test.astype(np.int64))


def fetch_mnist(*, data_dir: str | os.PathLike | None = None,
                mirrors: Sequence[str] | None = None,
                files: Mapping[str, tuple[int | None, str]] | None = None,
                progress: bool = True, timeout: float = 30.0) -> Path:
    """Download, verify and cache MNIST under `<data_dir>/mnist/`; return the cache path.

    Files already present with the right SHA-256 are not downloaded again; a present
    file with the wrong SHA-256 is downloaded again. `mirrors` are base URLs tried in
    order (default `MNIST_MIRRORS`); `files` maps file name -> (size or None, SHA-256)
    (default `MNIST_FILES`). Raises DownloadError (network, HTTP or truncated response)
    or ChecksumError, in both cases with no partial file left in the folder.
    """
    if isinstance(mirrors, str):
        raise ValueError(f"mirrors={mirrors!r} is one string; give a list of base URLs, "
                         f"e.g. mirrors=[{mirrors!r}]")
    mirrors = list(MNIST_MIRRORS if mirrors is None else mirrors)
    if not mirrors or not all(isinstance(m, str) and "://" in m for m in mirrors):
        raise ValueError(f"mirrors={mirrors!r}: give base URLs such as "
                         f"{MNIST_MIRRORS[0]!r}")
    files = dict(MNIST_FILES if files is None else files)
    folder = mnist_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fresh = False
    for name, (size, sha) in files.items():
        target = folder / name
        if target.is_file() and sha256_file(target) == sha:
            continue
        _download_from_mirrors(name, size, sha, target, mirrors, progress, timeout)
        fresh = True
    cache = folder / CACHE_NAME
    if fresh or not cache.is_file():
        _build_cache(folder, files)
    return cache


def _download_from_mirrors(name, size, sha, target, mirrors, progress, timeout) -> None:
    failures: list[DownloadError] = []
    for base in mirrors:
        url = base if base.endswith("/") else base + "/"
        try:
            _download(url + name, target, size, sha, progress, timeout)
            return
        except DownloadError as err:
            failures.append(err)
    if len(failures) == 1:
        raise failures[0]
    kind = ChecksumError if all(isinstance(f, ChecksumError) for f in failures) else DownloadError
    raise kind(f"could not download {name} from any of {len(failures)} mirrors:\n  "
               + "\n  ".join(str(f) for f in failures))


def _download(url: str, target: Path, size: int | None, sha: str, progress: bool,
              timeout: float) -> None:
    """One URL to `target`, atomically: a temp file in the same folder, fsync, replace."""
    from tqdm.auto import tqdm

    hint = "check your connection, or pass another mirror with --mirror URL"
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                    suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=timeout)
            except urllib.error.HTTPError as err:
                raise DownloadError(f"{url}: HTTP {err.code} {err.reason}; {hint}") from err
            except (urllib.error.URLError, OSError) as err:
                reason = getattr(err, "reason", err)
                raise DownloadError(f"{url}: cannot connect ({reason}); {hint}") from err
            with response:
                length = response.headers.get("Content-Length")
                expected = int(length) if length is not None else size
                digest, got = hashlib.sha256(), 0
                with tqdm(total=expected, unit="B", unit_scale=True, desc=target.name,
                          disable=not progress, leave=False) as bar:
                    while True:
                        try:
                            block = response.read(1 << 16)
                        except (http.client.IncompleteRead, OSError) as err:
                            raise DownloadError(
                                f"{url}: connection lost after {got} bytes ({err}); "
                                f"{hint}") from err
                        if not block:
                            break
                        out.write(block)
                        digest.update(block)
                        got += len(block)
                        bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        if length is not None and got != int(length):
            raise DownloadError(f"{url}: truncated download, got {got} of the {length} "
                                f"bytes the server announced (Content-Length); {hint}")
        if digest.hexdigest() != sha or (size is not None and got != size):
            sizes = f" ({got} bytes, expected {size})" if size is not None else ""
            raise ChecksumError(f"{url}: SHA-256 mismatch for {target.name}: expected {sha}, "
                                f"got {digest.hexdigest()}{sizes}; the mirror serves a "
                                f"different file and the download was removed. {hint}")
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Parse one gzipped IDX file (uint8 images `(n, 28, 28)` or labels `(n,)`)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape}, but the file holds "
                         f"{len(raw) - header} data bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _build_cache(folder: Path, files: Mapping[str, tuple[int | None, str]]) -> None:
    """Parse the four IDX files into `mnist.npz` (uint8), written atomically."""
    arrays = {}
    for key, stem in _PARTS.items():
        name = next((n for n in files if n.startswith(stem)), None)
        if name is None:
            raise ValueError(f"no {stem}* file in {sorted(files)}")
        arrays[key] = read_idx(folder / name)
    for split in ("train", "test"):
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if len(X) != len(y):
            raise ValueError(f"{split}: {len(X)} images but {len(y)} labels in {folder}")
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".mnist.", suffix=".npz.part")
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, folder / CACHE_NAME)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
