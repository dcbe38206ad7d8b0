"""Scoring a LightGBM model through LightGBM's own C library, without its Python package.

Why: ``import lightgbm`` imports scikit-learn, SciPy and pandas (``lightgbm.compat``), about
1.5 s of CPU before the first prediction; ``askwell analyze`` of one question needs
none of them. This module loads the same shared library the Python package ships
(``lightgbm/lib/lib_lightgbm.so``, found without importing the package) and calls its
documented C API (``c_api.h``) for the four things inference needs: load a model, predict
raw scores, predict TreeSHAP contributions, and gain importance. The numbers are LightGBM's
own (same code, same model text), so there is one scoring path for a loaded model.

Training still uses the Python package (:func:`lightgbm.train`); a trained booster is
handed over with :meth:`NativeBooster.from_string`.
"""

from __future__ import annotations

import ctypes
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from askwell.errors import AskwellError

# c_api.h constants
_DTYPE_FLOAT64 = 1
_PREDICT_NORMAL = 0
_PREDICT_RAW_SCORE = 1
_PREDICT_CONTRIB = 3
_IMPORTANCE = {"split": 0, "gain": 1}


class NativeLightGBMError(AskwellError):
    """LightGBM's C library refused a call; the message is LightGBM's own."""


def library_path() -> Path:
    """``lib_lightgbm`` inside the installed ``lightgbm`` package (the package is not imported)."""
    spec = importlib.util.find_spec("lightgbm")
    if spec is None or not spec.submodule_search_locations:
        raise NativeLightGBMError("the lightgbm package is not installed")
    for root in spec.submodule_search_locations:
        for name in ("lib/lib_lightgbm.so", "lib/lib_lightgbm.dylib", "lib/lib_lightgbm.dll",
                     "lib_lightgbm.so"):
            candidate = Path(root) / name
            if candidate.is_file():
                return candidate
    raise NativeLightGBMError("lightgbm is installed without its shared library (lib_lightgbm)")


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL:
    lib = ctypes.cdll.LoadLibrary(str(library_path()))
    lib.LGBM_GetLastError.restype = ctypes.c_char_p
    return lib


def _check(code: int) -> None:
    if code != 0:
        message = _lib().LGBM_GetLastError()
        raise NativeLightGBMError(f"LightGBM: {message.decode('utf-8', 'replace') if message else code}")


class NativeBooster:
    """A loaded LightGBM model: ``predict`` (raw score or contributions), ``feature_name``,
    ``feature_importance``; the subset of :class:`lightgbm.Booster` askwell uses."""

    def __init__(self, handle: ctypes.c_void_p, num_iterations: int) -> None:
        self._handle: ctypes.c_void_p | None = handle
        self.num_iterations = num_iterations
        self._names = self._feature_names()

    @classmethod
    def from_file(cls, path: Path) -> NativeBooster:
        handle, iters = ctypes.c_void_p(), ctypes.c_int(0)
        _check(_lib().LGBM_BoosterCreateFromModelfile(
            str(path).encode(), ctypes.byref(iters), ctypes.byref(handle)))
        return cls(handle, iters.value)

    @classmethod
    def from_string(cls, text: str) -> NativeBooster:
        handle, iters = ctypes.c_void_p(), ctypes.c_int(0)
        _check(_lib().LGBM_BoosterLoadModelFromString(
            text.encode(), ctypes.byref(iters), ctypes.byref(handle)))
        return cls(handle, iters.value)

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and handle.value:
            try:  # at interpreter shutdown the library (and module globals such as
                # contextlib) may be gone already: nothing left to free or to report
                _lib().LGBM_BoosterFree(handle)
            except Exception:
                handle = None
            self._handle = None

    # ---------------------------------------------------------------- model facts
    def num_feature(self) -> int:
        out = ctypes.c_int(0)
        _check(_lib().LGBM_BoosterGetNumFeature(self._handle, ctypes.byref(out)))
        return out.value

    def _feature_names(self) -> list[str]:
        n = self.num_feature()
        size = 256
        while True:
            buffers = [ctypes.create_string_buffer(size) for _ in range(n)]
            pointers = (ctypes.c_char_p * n)(*(ctypes.c_char_p(ctypes.addressof(b)) for b in buffers))
            out_len, needed = ctypes.c_int(0), ctypes.c_size_t(0)
            _check(_lib().LGBM_BoosterGetFeatureNames(
                self._handle, ctypes.c_int(n), ctypes.byref(out_len), ctypes.c_size_t(size),
                ctypes.byref(needed), pointers))
            if needed.value <= size:
                return [b.value.decode() for b in buffers[: out_len.value]]
            size = needed.value

    def feature_name(self) -> list[str]:
        return list(self._names)

    def num_model_per_iteration(self) -> int:
        """Models per boosting round: the number of classes of a multiclass model, else 1."""
        out = ctypes.c_int(0)
        _check(_lib().LGBM_BoosterGetNumClasses(self._handle, ctypes.byref(out)))
        return out.value

    def predict_proba(self, x: np.ndarray, *, num_threads: int = 1) -> np.ndarray:
        """The model's transformed output (class probabilities of a multiclass model),
        shape (n, classes), as ``lightgbm.Booster.predict`` gives it."""
        data = np.ascontiguousarray(x, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != len(self._names):
            raise ValueError(f"expected a matrix with {len(self._names)} columns, got shape {data.shape}")
        k = self.num_model_per_iteration()
        out = np.zeros(data.shape[0] * k, dtype=np.float64)
        if data.shape[0] == 0:
            return out.reshape(0, k)
        out_len = ctypes.c_int64(0)
        _check(_lib().LGBM_BoosterPredictForMat(
            self._handle, data.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(_DTYPE_FLOAT64),
            ctypes.c_int32(data.shape[0]), ctypes.c_int32(data.shape[1]), ctypes.c_int(1),
            ctypes.c_int(_PREDICT_NORMAL), ctypes.c_int(0), ctypes.c_int(-1),
            f"num_threads={int(num_threads)}".encode(),
            ctypes.byref(out_len), out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))))
        if out_len.value != out.size:
            raise NativeLightGBMError(f"LightGBM returned {out_len.value} values, expected {out.size}")
        return out.reshape(data.shape[0], k)

    def feature_importance(self, importance_type: str = "split") -> np.ndarray:
        out = np.zeros(len(self._names), dtype=np.float64)
        _check(_lib().LGBM_BoosterFeatureImportance(
            self._handle, ctypes.c_int(0), ctypes.c_int(_IMPORTANCE[importance_type]),
            out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))))
        return out

    def save_model(self, filename: str, importance_type: str = "split") -> None:
        _check(_lib().LGBM_BoosterSaveModel(
            self._handle, ctypes.c_int(0), ctypes.c_int(-1),
            ctypes.c_int(_IMPORTANCE[importance_type]), str(filename).encode()))

    # ---------------------------------------------------------------- prediction
    def predict(self, x: np.ndarray, *, raw_score: bool = False, pred_contrib: bool = False,
                num_threads: int = 1) -> np.ndarray:
        """Raw scores (``raw_score``, shape (n,)) or contributions (``pred_contrib``, shape
        (n, features + 1), the last column the expected value), as LightGBM computes them."""
        if raw_score == pred_contrib:
            raise ValueError("ask for raw_score or pred_contrib")
        data = np.ascontiguousarray(x, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != len(self._names):
            raise ValueError(f"expected a matrix with {len(self._names)} columns, got shape {data.shape}")
        nrow = data.shape[0]
        width = len(self._names) + 1 if pred_contrib else 1
        out = np.zeros(nrow * width, dtype=np.float64)
        if nrow == 0:
            return out.reshape(0, width) if pred_contrib else out
        out_len = ctypes.c_int64(0)
        # ctypes releases the GIL during the call; LightGBM guards its predictor itself
        # (the Python package calls the same function the same way, without a lock).
        _check(_lib().LGBM_BoosterPredictForMat(
            self._handle, data.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(_DTYPE_FLOAT64),
            ctypes.c_int32(nrow), ctypes.c_int32(data.shape[1]), ctypes.c_int(1),
            ctypes.c_int(_PREDICT_CONTRIB if pred_contrib else _PREDICT_RAW_SCORE),
            ctypes.c_int(0), ctypes.c_int(-1), f"num_threads={int(num_threads)}".encode(),
            ctypes.byref(out_len), out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))))
        if out_len.value != out.size:
            raise NativeLightGBMError(f"LightGBM returned {out_len.value} values, expected {out.size}")
        return out.reshape(nrow, width) if pred_contrib else out
