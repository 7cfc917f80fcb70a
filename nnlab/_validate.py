"""Argument checks shared by the reference library.

Each helper either returns a clean value or raises a `TypeError` / `ValueError` whose
message names the bad value and says how to fix it. Nothing here knows about networks.
"""

from __future__ import annotations

import numbers

import numpy as np


def array(value, name: str, *, ndim: int | None = None, float_only: bool = False) -> np.ndarray:
    """`value` as a numpy array (no copy when it already is one), with `ndim` dimensions.

    Integer or boolean arrays are turned into float64 when `float_only` is set.
    """
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric numpy array; converting it failed: "
                        f"{exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}; "
                        f"convert it with np.asarray({name}, dtype=float)")
    if float_only and arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(_ndim_message(name, arr.shape, ndim))
    return arr


def _ndim_message(name: str, shape: tuple, ndim: int) -> str:
    if ndim == 2 and len(shape) == 1:
        return (f"{name} has shape {shape}; expected a 2-D batch (n samples, features). "
                f"For one sample write {name}.reshape(1, -1); for one feature "
                f"{name}.reshape(-1, 1)")
    if ndim == 1 and len(shape) == 2 and 1 in shape:
        return f"{name} has shape {shape}; expected a 1-D array, e.g. {name}.ravel()"
    return f"{name} has shape {shape}; expected {ndim} dimension{'s' * (ndim != 1)}"


def positive_int(value, name: str) -> int:
    """`value` as an int >= 1 (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r} "
                        f"({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def positive_float(value, name: str) -> float:
    """`value` as a finite float > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r} "
                        f"({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return value


def fraction(value, name: str, *, low: float, high: float, high_open: bool = True) -> float:
    """`value` as a float in [low, high) (or [low, high] when `high_open` is False)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    above = value >= high if high_open else value > high
    if not low <= value or above or not np.isfinite(value):
        bracket = ")" if high_open else "]"
        raise ValueError(f"{name} must lie in [{low}, {high}{bracket}, got {value}")
    return value


def seed(value, name: str = "seed"):
    """An int seed (or None, meaning fresh randomness)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a non-negative integer (or None), got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer (or None), got {value}")
    return int(value)


def same_length(X: np.ndarray, y: np.ndarray, xname: str = "X", yname: str = "y") -> None:
    """Raise when `X` and `y` hold different numbers of samples (rows)."""
    if len(X) != len(y):
        raise ValueError(f"{xname} has {len(X)} samples (rows) but {yname} has {len(y)}; "
                         "they must hold one row per sample, in the same order")


def labels(y, n_classes: int | None, name: str = "y") -> np.ndarray:
    """Integer class labels of shape (n,), each in [0, n_classes)."""
    y = array(y, name)
    if y.ndim == 2 and y.shape[1] > 1:
        raise ValueError(f"{name} has shape {y.shape}: that looks one-hot; pass integer "
                         f"labels of shape (n,), e.g. {name}.argmax(axis=1)")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} has shape {y.shape}; expected integer labels of shape (n,)")
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and y.size and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if n_classes is not None and y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0]
        raise ValueError(f"{name} holds the label {bad}, outside 0..{n_classes - 1} "
                         f"(the scores have {n_classes} columns, one per class)")
    return y
