/*
 * voxenc.h: the C ABI of voxenc (C99). Audio → Voxtral-style audio embeddings (or Whisper encoder states),
 * in-process, exactly as `voxenc embed` computes them (the same values, bit for bit).
 *
 * Link: -lvoxenc (libvoxenc.so; the Swift runtime and Foundation are linked into it statically). At run time the
 * library needs only the system libraries voxenc computes with: libsndfile, libsoxr, libfftw3f, libopenblas,
 * libcrypto, and libdnnl + libgomp where it was built with oneDNN (Debian 12: libsndfile1 libsoxr0 libfftw3-single3
 * libopenblas0 libssl3 libdnnl2). `ldd libvoxenc.so` lists them.
 *
 *     voxenc_error *error = NULL;
 *     voxenc_model *model = voxenc_model_load("Weights/models/whisper-tiny.en", NULL, &error);
 *     if (!model) { fprintf(stderr, "%s\n", voxenc_error_message(error)); voxenc_error_free(error); return 1; }
 *     voxenc_result *e = voxenc_embed_file(model, "speech.wav", &error);
 *     if (e) { use(e->data, e->rows, e->width); voxenc_result_free(e); }
 *     voxenc_model_free(model);
 *
 * Conventions:
 * - Every call that can fail returns NULL (or a status) and, when `error` is not NULL, stores a new voxenc_error
 *   there that the caller frees with voxenc_error_free. Its code is the CLI's exit status for the same failure
 *   (sysexits.h); its message is the CLI's line, naming the file and the problem, with a hint.
 *   No exception, signal or abort crosses this boundary for bad input, bad files or NULL arguments.
 * - Strings are UTF-8, NUL-terminated. Strings returned by the library are owned by it: by the result or model
 *   they come from, or static.
 * - Thread safety: one model handle may be used from any number of threads at once (each call borrows its own
 *   workspace). Each call uses `options.threads` threads of its own; threads × concurrent callers should not exceed
 *   the cores. Results and errors belong to the caller and are not shared.
 * - Shapes are row-major float32. A 30 s chunk gives 375 adapter rows (12.5 Hz) or 1500 encoder rows (50 Hz).
 */
#ifndef VOXENC_H
#define VOXENC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a declaration below changes incompatibly. */
#define VOXENC_ABI_VERSION 2  /* 2: options.dtype and options.pool; result.values and result.dtype */

/* Error codes: the CLI's exit statuses (sysexits.h) for the same failure. */
typedef enum voxenc_status {
    VOXENC_OK = 0,
    VOXENC_ERROR_OTHER = 1,     /* cancelled, or a failure from outside the library */
    VOXENC_ERROR_USAGE = 64,    /* a bad argument (NULL, a bad shape or name) or an option this CPU/build cannot run */
    VOXENC_ERROR_DATA = 65,     /* the input is there but bad: undecodable audio, damaged weights */
    VOXENC_ERROR_NO_INPUT = 66, /* a missing or unreadable file or model directory */
    VOXENC_ERROR_IO = 74        /* reading failed part way */
} voxenc_status;

/* A loaded model (opaque). Made by voxenc_model_load, freed by voxenc_model_free. */
typedef struct voxenc_model voxenc_model;

/* A failure (opaque): voxenc_error_code, voxenc_error_message, voxenc_error_free. */
typedef struct voxenc_error voxenc_error;

/* How a model runs; fixed at load. Start from voxenc_options_init, then set fields. */
typedef struct voxenc_options {
    int32_t threads;          /* threads each call uses; 0: the online cores (the CLI's default) */
    const char *precision;    /* "f32" (NULL: f32, the reference's arithmetic), "bf16" or "int8" (docs/precision.md) */
    int32_t encoder_only;     /* nonzero: encoder states [1500·chunks, D] instead of the adapter's output */
    int32_t chunks_per_batch; /* 30 s chunks encoded together; 0: the default (2) */
    const char *dtype;        /* element type of the embed calls' results: "float32" (NULL: float32), "float16" or
                                 "bfloat16", rounded to nearest even from float32 (bit-identical to numpy's
                                 astype(float16) and to standard bf16 rounding) */
    const char *pool;         /* "none" (NULL: every row) or "mean": one row, the mean of the valid rows (float64 sums) */
} voxenc_options;

/* An array computed by the library. Freed (with its data and strings) by voxenc_result_free. */
typedef struct voxenc_result {
    const float *data;     /* rows × width float32, row-major */
    int64_t rows;
    int64_t width;
    double frame_rate;     /* rows per second of audio: 12.5 (adapter), 50 (encoder), 100 (mel frames) */
    int64_t valid_rows;    /* rows that cover the audio, the rest cover the last chunk's zero padding (stage calls on
                              arrays: every row) */
    int64_t chunks;        /* 30 s chunks */
    double duration_s;     /* the audio's duration (0 for stage calls on arrays) */
    const char *precision; /* "f32", "bf16" or "int8" */
    const char *kind;      /* "adapter", "encoder" or "mel" */
    const void *values;    /* rows × width elements of `dtype`, row-major (the same address as `data` for float32) */
    const char *dtype;     /* "float32", "float16" or "bfloat16" (IEEE half / bf16 as uint16 bit patterns); `data` is
                              NULL for the 16-bit types. Stage calls and streams always give float32. */
} voxenc_result;

/* ---- Library ---- */

/* "0.1.0": voxenc's version. Static. */
const char *voxenc_version(void);

/* One line of JSON about this build on this CPU: version, ABI version, CPU and its vector level, the float32 GEMM
 * route, and the precisions that run fast here, e.g. {"version":"0.1.0","abi":1,"cpu":"AMD EPYC …",
 * "vector_level":"avx512","float32_gemm":"oneDNN matmul, packed weights","precisions":["f32","bf16","int8"]}.
 * Static. */
const char *voxenc_build_info(void);

/* Sets the defaults: all cores, f32, adapter output when the model has an adapter, 2 chunks per batch. */
void voxenc_options_init(voxenc_options *options);

/* ---- Model ---- */

/* Loads the model in `directory` (Hugging Face Voxtral or Whisper, Mistral native, CTranslate2 Whisper; see
 * Weights/README.md). `options` may be NULL (the defaults). NULL on failure, with *error set. */
voxenc_model *voxenc_model_load(const char *directory, const voxenc_options *options, voxenc_error **error);

/* Frees the model. NULL is ignored. No call may be running on it. */
void voxenc_model_free(voxenc_model *model);

/* One line of JSON about the loaded model: name, kind ("adapter"/"encoder"), width, rows_per_chunk, frame_rate,
 * mel_bins, precision, threads. Owned by the model. */
const char *voxenc_model_describe(const voxenc_model *model);

/* ---- Embedding: decode, resample to 16 kHz mono (soxr HQ), log-mel over the whole audio, 30 s chunks, encoder,
 * adapter. The output equals `voxenc embed FILE` with the same options, bit for bit. ---- */

/* From an audio file (WAV, FLAC, OGG Vorbis, Opus, MP3; any rate; channels averaged). */
voxenc_result *voxenc_embed_file(voxenc_model *model, const char *path, voxenc_error **error);

/* From an encoded audio file held in memory (the bytes of a WAV, FLAC, … file; no temporary file is written).
 * `name` stands for the path in error messages; NULL: "<memory>". */
voxenc_result *voxenc_embed_bytes(voxenc_model *model, const void *bytes, size_t size, const char *name,
                                  voxenc_error **error);

/* From mono float32 samples at `sample_rate` Hz (1000 to 1536000), resampled to 16 kHz when needed. */
voxenc_result *voxenc_embed_samples(voxenc_model *model, const float *samples, size_t count, int32_t sample_rate,
                                    voxenc_error **error);

/* ---- Stages, for callers that bring their own front end or keep encoder states ---- */

/* Mono samples → log-mel chunks: [chunks · mel_bins, 3000] (chunk-major: chunk c is rows c·mel_bins …), the mel
 * computed over the whole audio, then cut into 30 s chunks, as the reference's WhisperFeatureExtractor does. */
voxenc_result *voxenc_mel(voxenc_model *model, const float *samples, size_t count, int32_t sample_rate,
                          voxenc_error **error);

/* Log-mel chunks [chunks, mel_bins, 3000] → encoder states [chunks · 1500, D] (the chunks on the batch axis). */
voxenc_result *voxenc_encode(voxenc_model *model, const float *mel, int64_t chunks, voxenc_error **error);

/* Encoder states [rows, D] (whole chunks: rows a multiple of 1500) → adapter output [rows / 4, width]. A model
 * without an adapter (Whisper) fails with VOXENC_ERROR_USAGE. */
voxenc_result *voxenc_adapt(voxenc_model *model, const float *states, int64_t rows, voxenc_error **error);

/* Frees a result. NULL is ignored. */
void voxenc_result_free(voxenc_result *result);

/* ---- Errors ---- */

voxenc_status voxenc_error_code(const voxenc_error *error);
/* The CLI's line: "<file>: <problem> (hint: …)". Owned by the error. */
const char *voxenc_error_message(const voxenc_error *error);
/* Frees an error. NULL is ignored. */
void voxenc_error_free(voxenc_error *error);

/* ---- Live streams (causal models: Voxtral Realtime; docs/live.md) ----
 * Push samples as they arrive, pull each row as soon as it is final (80 ms of audio plus 2.5 ms), finish at the end.
 * Everything pulled, concatenated, equals voxenc_embed_samples of the same audio bit for bit, whatever the push
 * sizes and the step. The first rows are the model's silent left pad (voxenc_stream_describe: leading_pad_rows).
 * A stream is used by one thread at a time (calls on one stream are serialised); streams of one model may run on
 * different threads at once. */
typedef struct voxenc_stream voxenc_stream;

/* Opens a stream on a causal model. step_ms: audio pending before the encoder runs, a positive multiple of 80
   (0: 480, the model's delay). NULL (USAGE) for a model that is not causal. */
voxenc_stream *voxenc_stream_open(voxenc_model *model, int32_t step_ms, voxenc_error **error);
/* Appends `count` mono samples at `sample_rate` Hz (the same for the whole stream; resampled to 16 kHz as they come).
   NaN or infinity, a changed rate, or a finished stream: DATA or USAGE, and the stream is unchanged. */
voxenc_status voxenc_stream_push(voxenc_stream *stream, const float *samples, size_t count, int32_t sample_rate,
                                 voxenc_error **error);
/* The rows final so far and not yet pulled ([rows, width], rows may be 0). `chunks` holds the index of the first
   row in the stream; `valid_rows` the rows. */
voxenc_result *voxenc_stream_pull(voxenc_stream *stream, voxenc_error **error);
/* Runs the encoder now on every final token, step or not (a speaker paused: get the rows without waiting for the
   step), and returns the rows not yet pulled, as voxenc_stream_pull. The rows stay bit for bit the same. */
voxenc_result *voxenc_stream_flush(voxenc_stream *stream, voxenc_error **error);
/* Ends the audio (the offline right pad is added) and returns the remaining rows, as voxenc_stream_pull. */
voxenc_result *voxenc_stream_finish(voxenc_stream *stream, voxenc_error **error);
/* A JSON line: width, rows_per_token, frame_rate, leading_pad_rows, step_ms, rows_pulled, finished, state_bytes.
   Owned by the stream, valid until the next call on it. */
const char *voxenc_stream_describe(voxenc_stream *stream);
/* Frees a stream. NULL is ignored. */
void voxenc_stream_free(voxenc_stream *stream);

#ifdef __cplusplus
}
#endif

#endif /* VOXENC_H */
