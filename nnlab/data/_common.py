"""What the loaders and the downloader share: where data lives, the errors, hashing.

Paths come from `$NNLAB_DATA` or from this package's location, never the working
directory.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np


class DownloadError(OSError):
    """A download failed: network error, HTTP error, or a response cut short."""


class ChecksumError(DownloadError):
    """A file's SHA-256 differs from the one recorded for it."""


def data_dir() -> Path:
    """The folder holding the course's data files.

    `$NNLAB_DATA` when set, else `data/` at the root of the repository this package sits
    in (the layout of a checkout installed with `pip install -e .`). Never the working
    directory.
    """
    env = os.environ.get("NNLAB_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parents[2] / "data"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def float_dtype(dtype) -> type:
    """`np.float32` or `np.float64` from anything numpy reads as one; else a clear error."""
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype={dtype!r} is not a numpy dtype; use np.float32 or "
                        "np.float64") from err
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype={dt} is not supported for pixels; use np.float32 or "
                         "np.float64")
    return dt.type
