"""ctypes declarations of libvoxenc.so (Sources/CVoxEncABI/include/voxenc.h in the repository; keep in step).

ctypes.CDLL releases the GIL for the duration of every foreign call, so Python threads run while voxenc computes.
"""
import ctypes
import ctypes.util
import os

ABI_VERSION = 2


class Options(ctypes.Structure):
    _fields_ = [("threads", ctypes.c_int32), ("precision", ctypes.c_char_p), ("encoder_only", ctypes.c_int32),
                ("chunks_per_batch", ctypes.c_int32), ("dtype", ctypes.c_char_p), ("pool", ctypes.c_char_p)]


class Result(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_float)), ("rows", ctypes.c_int64), ("width", ctypes.c_int64),
                ("frame_rate", ctypes.c_double), ("valid_rows", ctypes.c_int64), ("chunks", ctypes.c_int64),
                ("duration_s", ctypes.c_double), ("precision", ctypes.c_char_p), ("kind", ctypes.c_char_p),
                ("values", ctypes.c_void_p), ("dtype", ctypes.c_char_p)]


ResultPointer = ctypes.POINTER(Result)
ErrorOut = ctypes.POINTER(ctypes.c_void_p)


def _find():
    """VOXENC_LIBRARY, else the copy installed with this package, else the system's (ldconfig's) libvoxenc.so."""
    given = os.environ.get("VOXENC_LIBRARY")
    if given:
        return given
    bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libvoxenc.so")
    if os.path.exists(bundled):
        return bundled
    found = ctypes.util.find_library("voxenc")
    if found:
        return found
    raise ImportError("voxenc: libvoxenc.so not found: reinstall the package from a voxenc checkout "
                      "(pip install ./python) or set VOXENC_LIBRARY to the library's path")


def _declare(lib):
    def function(name, restype, *argtypes):
        f = getattr(lib, name)
        f.restype, f.argtypes = restype, list(argtypes)

    function("voxenc_version", ctypes.c_char_p)
    function("voxenc_build_info", ctypes.c_char_p)
    function("voxenc_options_init", None, ctypes.POINTER(Options))
    function("voxenc_model_load", ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(Options), ErrorOut)
    function("voxenc_model_free", None, ctypes.c_void_p)
    function("voxenc_model_describe", ctypes.c_char_p, ctypes.c_void_p)
    function("voxenc_embed_file", ResultPointer, ctypes.c_void_p, ctypes.c_char_p, ErrorOut)
    function("voxenc_embed_bytes", ResultPointer, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
             ErrorOut)
    function("voxenc_embed_samples", ResultPointer, ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t,
             ctypes.c_int32, ErrorOut)
    function("voxenc_mel", ResultPointer, ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t,
             ctypes.c_int32, ErrorOut)
    function("voxenc_encode", ResultPointer, ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_int64, ErrorOut)
    function("voxenc_adapt", ResultPointer, ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_int64, ErrorOut)
    function("voxenc_result_free", None, ResultPointer)
    function("voxenc_error_code", ctypes.c_int, ctypes.c_void_p)
    function("voxenc_error_message", ctypes.c_char_p, ctypes.c_void_p)
    function("voxenc_error_free", None, ctypes.c_void_p)
    function("voxenc_stream_open", ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, ErrorOut)
    function("voxenc_stream_push", ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t,
             ctypes.c_int32, ErrorOut)
    function("voxenc_stream_pull", ResultPointer, ctypes.c_void_p, ErrorOut)
    function("voxenc_stream_flush", ResultPointer, ctypes.c_void_p, ErrorOut)
    function("voxenc_stream_finish", ResultPointer, ctypes.c_void_p, ErrorOut)
    function("voxenc_stream_describe", ctypes.c_char_p, ctypes.c_void_p)
    function("voxenc_stream_free", None, ctypes.c_void_p)
    return lib


path = _find()
lib = _declare(ctypes.CDLL(path))
