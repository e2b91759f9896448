"""voxenc: Voxtral-style audio embeddings (and Whisper encoder states) in-process, numpy out.

    import voxenc
    m = voxenc.Model("Weights/models/whisper-tiny.en")
    e = m.embed("speech.wav")     # e.array: float32 [rows, width], the same bits as `voxenc embed speech.wav`

A Model may be shared by threads: the GIL is released while voxenc computes, and each call has its own workspace.
Errors raise VoxencError subclasses carrying the CLI's message (naming the file) and exit code.
"""
from __future__ import annotations

import ctypes
import json
import os
from typing import Any, Dict, Optional, Union

import numpy as np

from . import _library as _c

__all__ = ["Model", "Embedding", "VoxencError", "UsageError", "AudioDataError", "InputNotFoundError",
           "ReadError", "version", "build_info"]

PathLike = Union[str, "os.PathLike[str]"]


# ---- Errors: voxenc_status codes (the CLI's exit statuses) as exception classes ----

class VoxencError(Exception):
    """A voxenc failure: `message` is the CLI's line (naming the file, with a hint), `code` its exit status."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.message, self.code = message, code


class UsageError(VoxencError, ValueError):
    """64: a bad argument, or an option this CPU or build cannot run (e.g. precision="bf16" without bf16)."""


class AudioDataError(VoxencError, ValueError):
    """65: the input is there but bad (undecodable audio, damaged weights)."""


class InputNotFoundError(VoxencError, FileNotFoundError):
    """66: a missing or unreadable file or model directory."""


class ReadError(VoxencError, OSError):
    """74: reading failed part way."""


_ERRORS = {64: UsageError, 65: AudioDataError, 66: InputNotFoundError, 74: ReadError}


def _raise(error: ctypes.c_void_p) -> None:
    code = _c.lib.voxenc_error_code(error)
    message = (_c.lib.voxenc_error_message(error) or b"unknown error").decode("utf-8", "replace")
    _c.lib.voxenc_error_free(error)
    raise _ERRORS.get(code, VoxencError)(message, code)


def _call(function, *arguments):
    """Calls a voxenc function that returns a result or NULL + error; returns the result pointer or raises."""
    error = ctypes.c_void_p()
    result = function(*arguments, ctypes.byref(error))
    if not result:
        _raise(error)
    return result


# ---- Results: numpy arrays over the library's buffer (no copy), freed with the array ----

_TYPESTR = {"float32": "<f4", "float16": "<f2", "bfloat16": "<u2"}


def _bfloat16():
    """ml_dtypes' bfloat16 numpy type, or None when ml_dtypes is not installed (bfloat16 arrays are then uint16 bits)."""
    try:
        import ml_dtypes
    except ImportError:
        return None
    return ml_dtypes.bfloat16


class _Buffer:
    """Owns one voxenc_result; numpy arrays made from it keep it alive (`base`), and it frees the result last."""

    def __init__(self, result):
        self._result = result
        r = result.contents
        dtype = (r.dtype or b"float32").decode()
        self.__array_interface__ = {"shape": (int(r.rows), int(r.width)), "typestr": _TYPESTR[dtype], "version": 3,
                                    "data": (r.values or 0, False)}

    def __del__(self):
        if self._result:
            _c.lib.voxenc_result_free(self._result)
            self._result = None


class Embedding:
    """An array voxenc computed, with what it covers.

    array         numpy float32 [rows, width], zero-copy over the library's buffer (writable; freed with the array)
    frame_rate    rows per second of audio: 12.5 (adapter), 50 (encoder states), 100 (mel frames)
    valid_frames  rows that cover the audio (the rest cover the last chunk's zero padding)
    chunks        30 s chunks
    duration      the audio's duration in seconds (0 for encode/adapt on arrays)
    precision     "f32", "bf16" or "int8"
    kind          "adapter", "encoder" or "mel"
    dtype         "float32", "float16" or "bfloat16" (the array's element type: ml_dtypes.bfloat16 when ml_dtypes is
                  installed, else uint16 bit patterns)
    pooled        True for Model(pool="mean"): `array` is one vector [width], the mean of the valid rows
    """

    __slots__ = ("array", "frame_rate", "valid_frames", "chunks", "duration", "precision", "kind", "dtype", "pooled")

    def __init__(self, result, pooled: bool = False):
        r = result.contents
        self.frame_rate, self.valid_frames, self.chunks = float(r.frame_rate), int(r.valid_rows), int(r.chunks)
        self.duration, self.precision, self.kind = float(r.duration_s), r.precision.decode(), r.kind.decode()
        self.dtype, self.pooled = r.dtype.decode(), pooled
        array = np.asarray(_Buffer(result))
        if self.dtype == "bfloat16" and _bfloat16() is not None:
            array = array.view(_bfloat16())
        self.array: np.ndarray = array[0] if pooled else array

    @property
    def shape(self):
        return self.array.shape

    def __repr__(self) -> str:
        return (f"Embedding({self.kind}, shape={self.array.shape}, frame_rate={self.frame_rate:g}, "
                f"valid_frames={self.valid_frames}, chunks={self.chunks}, precision={self.precision!r})")


def _floats(values: Any) -> np.ndarray:
    """A C-contiguous float32 view or copy (copied only when the input is not one already)."""
    return np.ascontiguousarray(values, dtype=np.float32)


def _pointer(array: np.ndarray):
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


# ---- The model ----

class _Closing:
    """A handle freed by close(): as a context manager, and when garbage-collected."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        if getattr(self, "_handle", None):
            self.close()


class Model(_Closing):
    """A model loaded once (Hugging Face Voxtral or Whisper, Mistral native, CTranslate2 Whisper directories).

    threads           threads each call uses (0: all cores)
    precision         "f32" (the reference's arithmetic), "bf16" or "int8" (docs/precision.md)
    encoder_only      encoder states instead of the adapter's output
    chunks_per_batch  30 s chunks encoded together (0: the default, 2)
    dtype             "float32" (default), "float16" or "bfloat16": the arrays embed* return, rounded to nearest even
                      from float32 (bfloat16 as ml_dtypes.bfloat16 when installed, else uint16 bits)
    pool              "none" (default: every row) or "mean": embed* return one vector [width], the mean of the valid rows
    """

    def __init__(self, directory: PathLike, *, threads: int = 0, precision: str = "f32", encoder_only: bool = False,
                 chunks_per_batch: int = 0, dtype: str = "float32", pool: str = "none"):
        options = _c.Options()
        _c.lib.voxenc_options_init(ctypes.byref(options))
        options.threads, options.precision = threads, precision.encode()
        options.encoder_only, options.chunks_per_batch = int(bool(encoder_only)), chunks_per_batch
        options.dtype, options.pool = str(dtype).encode(), str(pool).encode()
        self._pooled = pool == "mean"
        error = ctypes.c_void_p()
        handle = _c.lib.voxenc_model_load(os.fsencode(directory), ctypes.byref(options), ctypes.byref(error))
        if not handle:
            _raise(error)
        self._handle: Optional[int] = handle
        self.info: Dict[str, Any] = json.loads(_c.lib.voxenc_model_describe(handle).decode())

    def _live(self) -> int:
        if not self._handle:
            raise UsageError("the model was closed", 64)
        return self._handle

    def embed(self, path: PathLike) -> Embedding:
        """Decodes, resamples and embeds an audio file: `voxenc embed path`'s array."""
        return Embedding(_call(_c.lib.voxenc_embed_file, self._live(), os.fsencode(path)), self._pooled)

    def embed_bytes(self, data: Union[bytes, bytearray, memoryview], name: str = "<memory>") -> Embedding:
        """Embeds an encoded audio file held in memory (WAV, FLAC, OGG, MP3 … bytes); `name` appears in errors."""
        view = bytes(data)
        return Embedding(_call(_c.lib.voxenc_embed_bytes, self._live(), view, len(view), name.encode()), self._pooled)

    def embed_samples(self, samples: Any, sample_rate: int) -> Embedding:
        """Embeds mono samples (any float array, 1-D) at `sample_rate` Hz, resampled to 16 kHz when needed."""
        array = _floats(samples)
        if array.ndim != 1:
            raise UsageError(f"samples must be 1-D (mono), not of shape {array.shape}", 64)
        return Embedding(_call(_c.lib.voxenc_embed_samples, self._live(), _pointer(array), array.size, sample_rate),
                         self._pooled)

    def mel(self, samples: Any, sample_rate: int) -> np.ndarray:
        """Mono samples → log-mel chunks [chunks, mel_bins, 3000], over the whole audio (the reference's)."""
        array = _floats(samples)
        if array.ndim != 1:
            raise UsageError(f"samples must be 1-D (mono), not of shape {array.shape}", 64)
        e = Embedding(_call(_c.lib.voxenc_mel, self._live(), _pointer(array), array.size, sample_rate))
        return e.array.reshape(e.chunks, -1, e.array.shape[1])

    def encode(self, mel: Any) -> Embedding:
        """Log-mel chunks [chunks, mel_bins, 3000] → encoder states [chunks · 1500, width]."""
        array = _floats(mel)
        if array.ndim != 3 or array.shape[1:] != (self.info["mel_bins"], 3000):
            raise UsageError(f"mel must be [chunks, {self.info['mel_bins']}, 3000], not {array.shape}", 64)
        return Embedding(_call(_c.lib.voxenc_encode, self._live(), _pointer(array), array.shape[0]))

    def adapt(self, states: Any) -> Embedding:
        """Encoder states [chunks · 1500, D] → the adapter's output [chunks · 375, width] (Voxtral models)."""
        array = _floats(states)
        if array.ndim != 2:
            raise UsageError(f"states must be 2-D [rows, D], not of shape {array.shape}", 64)
        return Embedding(_call(_c.lib.voxenc_adapt, self._live(), _pointer(array), array.shape[0]))

    def stream(self, step_ms: int = 480) -> "Stream":
        """A live stream through a causal model (Voxtral Realtime; docs/live.md): push samples, pull rows as soon as
        they are final, finish at the end. Everything pulled equals embed_samples of the same audio bit for bit."""
        error = ctypes.c_void_p()
        handle = _c.lib.voxenc_stream_open(self._live(), step_ms, ctypes.byref(error))
        if not handle:
            _raise(error)
        return Stream(handle, self)

    def close(self) -> None:
        """Frees the model (also done when it is garbage-collected). No call may be running on it."""
        if self._handle:
            _c.lib.voxenc_model_free(self._handle)
            self._handle = None


    def __repr__(self) -> str:
        return f"voxenc.Model({self.info})"


class Stream(_Closing):
    """A live stream (Model.stream). Use as a context manager, or call close().

    push(samples, sample_rate=16000)  appends mono samples (any rate, fixed for the stream; resampled as they come)
    pull() -> ndarray [rows, width]   the rows final so far and not yet pulled (rows may be 0)
    flush() -> ndarray                runs the encoder now on every final token, then pulls
    finish() -> ndarray               ends the audio (the offline right pad) and returns the remaining rows
    info                              width, rows_per_token, frame_rate, leading_pad_rows, step_ms, rows_pulled, …
    """

    def __init__(self, handle: int, model: "Model"):
        self._handle, self._model = handle, model  # the model stays alive while the stream is

    def _live(self) -> int:
        if not self._handle:
            raise UsageError("the stream was closed", 64)
        return self._handle

    @property
    def info(self) -> Dict[str, Any]:
        return json.loads(_c.lib.voxenc_stream_describe(self._live()).decode())

    def push(self, samples: Any, sample_rate: int = 16000) -> None:
        array = _floats(samples)
        if array.ndim != 1:
            raise UsageError(f"samples must be 1-D (mono), not of shape {array.shape}", 64)
        error = ctypes.c_void_p()
        if _c.lib.voxenc_stream_push(self._live(), _pointer(array), array.size, sample_rate, ctypes.byref(error)) != 0:
            _raise(error)

    def pull(self) -> np.ndarray:
        return Embedding(_call(_c.lib.voxenc_stream_pull, self._live())).array

    def flush(self) -> np.ndarray:
        """Runs the encoder now on every final token (no waiting for the step); returns the rows not yet pulled."""
        return Embedding(_call(_c.lib.voxenc_stream_flush, self._live())).array

    def finish(self) -> np.ndarray:
        return Embedding(_call(_c.lib.voxenc_stream_finish, self._live())).array

    def close(self) -> None:
        if self._handle:
            _c.lib.voxenc_stream_free(self._handle)
            self._handle = None



def version() -> str:
    """voxenc's version."""
    return _c.lib.voxenc_version().decode()


def build_info() -> Dict[str, Any]:
    """This build on this CPU: version, ABI, CPU, vector level, float32 GEMM route, fast precisions."""
    return json.loads(_c.lib.voxenc_build_info().decode())
