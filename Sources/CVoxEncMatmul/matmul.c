// oneDNN 2.6 C API (Debian 12's libdnnl-dev): matmul primitives over weights reordered once (format_tag_any).
// Threading: oneDNN follows OpenMP's thread count of the calling thread, set to 1 here before every execution.
// Scratchpad: user mode with a buffer per calling thread (library mode shares one scratchpad between primitives and
// forbids running a primitive on another thread than the one that created it; dnnl_scratchpad_mode_t docs).

#include "voxenc_matmul.h"
#include "voxenc_kernels.h"

#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void omp_set_num_threads(int count);

typedef struct {
    int64_t m, lda, ldc;
    int accumulate;
    dnnl_primitive_t primitive;
    uint64_t id;  // primitive_id(): names the primitive for the per-thread wrappers
    size_t scratchpad_bytes;
} entry;

// A number per primitive made, never reused (unlike a freed primitive's address).
static _Atomic uint64_t primitives_made;
static uint64_t primitive_id(void) { return ++primitives_made; }

struct voxenc_packed {
    int64_t n, k;
    voxenc_matmul_type type;
    dnnl_memory_desc_t weights_md;  // the packed layout, fixed for every m
    dnnl_memory_t weights;
    char implementation[64];
    pthread_mutex_t lock;
    entry *entries;
    int count, capacity;
};

static dnnl_engine_t engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static void make_engine(void) { dnnl_engine_create(&engine, dnnl_cpu, 0); }

// Per calling thread: a stream (streams are not shared between threads) and scratch bytes, grown as needed, so a
// steady state allocates nothing.
static __thread dnnl_stream_t thread_stream;
static __thread void *thread_scratch;
static __thread size_t thread_scratch_bytes;

static void *scratch(size_t bytes) {
    if (bytes > thread_scratch_bytes) {
        free(thread_scratch);
        thread_scratch = aligned_alloc(64, (bytes + 63) / 64 * 64);
        thread_scratch_bytes = thread_scratch ? bytes : 0;
    }
    return thread_scratch;
}

static dnnl_data_type_t source_type(voxenc_matmul_type type) {
    return type == VOXENC_MATMUL_BF16 ? dnnl_bf16 : type == VOXENC_MATMUL_U8S8 ? dnnl_u8 : dnnl_f32;
}
static dnnl_data_type_t weight_type(voxenc_matmul_type type) {
    return type == VOXENC_MATMUL_BF16 ? dnnl_bf16 : type == VOXENC_MATMUL_U8S8 ? dnnl_s8 : dnnl_f32;
}
static dnnl_data_type_t result_type(voxenc_matmul_type type) { return type == VOXENC_MATMUL_U8S8 ? dnnl_s32 : dnnl_f32; }

// A primitive for m rows; weights "any" to learn the preferred layout, else the packed one.
static dnnl_status_t make(const voxenc_packed *p, int64_t m, int64_t lda, int64_t ldc, int accumulate, int any,
                          dnnl_primitive_desc_t *pd) {
    dnnl_memory_desc_t a, w, c;
    dnnl_dims_t da = {m, p->k}, dw = {p->k, p->n}, dc = {m, p->n};
    // bf16 activations are converted into a packed [m, k] buffer; float32 ones are read in place with their stride.
    dnnl_dims_t sa = {p->type == VOXENC_MATMUL_BF16 ? p->k : lda, 1}, sc = {ldc, 1};
    dnnl_status_t s = dnnl_memory_desc_init_by_strides(&a, 2, da, source_type(p->type), sa);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_strides(&c, 2, dc, result_type(p->type), sc);
    if (s != dnnl_success) return s;
    if (any) {
        s = dnnl_memory_desc_init_by_tag(&w, 2, dw, weight_type(p->type), dnnl_format_tag_any);
        if (s != dnnl_success) return s;
    } else {
        w = p->weights_md;
    }
    dnnl_matmul_desc_t desc;
    if ((s = dnnl_matmul_desc_init(&desc, &a, &w, NULL, &c)) != dnnl_success) return s;
    dnnl_primitive_attr_t attr;
    if ((s = dnnl_primitive_attr_create(&attr)) != dnnl_success) return s;
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_post_ops_t ops = NULL;
    if (accumulate) {  // C = 1·C + A·Wᵀ: the residual connections
        dnnl_post_ops_create(&ops);
        dnnl_post_ops_append_sum(ops, 1.0f);
        dnnl_primitive_attr_set_post_ops(attr, ops);
    }
    s = dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
    if (ops) dnnl_post_ops_destroy(ops);
    dnnl_primitive_attr_destroy(attr);
    return s;
}

voxenc_packed *voxenc_packed_create(const void *weight, int64_t n, int64_t k, voxenc_matmul_type type,
                                    int64_t typical_m, char *error, size_t error_size) {
    pthread_once(&engine_once, make_engine);
    if (!engine) { snprintf(error, error_size, "oneDNN has no CPU engine"); return NULL; }
    voxenc_packed *p = calloc(1, sizeof *p);
    if (!p) { snprintf(error, error_size, "out of memory"); return NULL; }
    p->n = n; p->k = k; p->type = type;
    pthread_mutex_init(&p->lock, NULL);
    omp_set_num_threads(1);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = make(p, typical_m, k, n, 0, 1, &pd);
    if (s != dnnl_success) {
        snprintf(error, error_size, "oneDNN has no %s matmul for [%lld, %lld] x [%lld, %lld]ᵀ (status %d)",
                 type == VOXENC_MATMUL_BF16 ? "bf16" : type == VOXENC_MATMUL_U8S8 ? "u8 x s8" : "f32", (long long)typical_m, (long long)k, (long long)n,
                 (long long)k, (int)s);
        voxenc_packed_free(p);
        return NULL;
    }
    const char *impl = "?";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    snprintf(p->implementation, sizeof p->implementation, "%s", impl);
    p->weights_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_primitive_desc_destroy(pd);

    // Reorder W [n, k] row-major (= [k, n] in "ba") into the packed layout, converting to bf16 if asked
    // (oneDNN's f32 → bf16 conversion rounds to nearest even); int8 weights come quantised.
    dnnl_memory_desc_t source_md;
    dnnl_dims_t dw = {k, n};
    dnnl_memory_desc_init_by_tag(&source_md, 2, dw, type == VOXENC_MATMUL_U8S8 ? dnnl_s8 : dnnl_f32, dnnl_ba);
    dnnl_memory_t source = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_stream_t stream = NULL;
    s = dnnl_memory_create(&p->weights, &p->weights_md, engine, DNNL_MEMORY_ALLOCATE);
    if (s == dnnl_success) s = dnnl_memory_create(&source, &source_md, engine, (void *)weight);
    if (s == dnnl_success) s = dnnl_reorder_primitive_desc_create(&rpd, &source_md, engine, &p->weights_md, engine, NULL);
    if (s == dnnl_success) s = dnnl_primitive_create(&reorder, rpd);
    if (s == dnnl_success) s = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, source}, {DNNL_ARG_TO, p->weights}};
        s = dnnl_primitive_execute(reorder, stream, 2, args);
        if (s == dnnl_success) s = dnnl_stream_wait(stream);
    }
    if (stream) dnnl_stream_destroy(stream);
    if (reorder) dnnl_primitive_destroy(reorder);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (source) dnnl_memory_destroy(source);
    if (s != dnnl_success) {
        snprintf(error, error_size, "oneDNN could not pack the weights (status %d)", (int)s);
        voxenc_packed_free(p);
        return NULL;
    }
    return p;
}

void voxenc_packed_free(voxenc_packed *p) {
    if (!p) return;
    for (int i = 0; i < p->count; i++) dnnl_primitive_destroy(p->entries[i].primitive);
    free(p->entries);
    if (p->weights) dnnl_memory_destroy(p->weights);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

size_t voxenc_packed_bytes(const voxenc_packed *p) { return dnnl_memory_desc_get_size(&p->weights_md); }

const char *voxenc_packed_implementation(const voxenc_packed *p) { return p->implementation; }

// The primitive for this call's shape, made on first use; copied out under the lock (the array may move when it
// grows on another thread).
static int lookup(voxenc_packed *p, int64_t m, int64_t lda, int64_t ldc, int accumulate, entry *out) {
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->count; i++) {
        entry *e = &p->entries[i];
        if (e->m == m && e->lda == lda && e->ldc == ldc && e->accumulate == accumulate) {
            *out = *e;
            pthread_mutex_unlock(&p->lock);
            return 0;
        }
    }
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = make(p, m, lda, ldc, accumulate, 0, &pd);
    dnnl_primitive_t primitive = NULL;
    if (s == dnnl_success) s = dnnl_primitive_create(&primitive, pd);
    if (s == dnnl_success && p->count == p->capacity) {
        int capacity = p->capacity ? 2 * p->capacity : 8;
        entry *grown = realloc(p->entries, capacity * sizeof *grown);
        if (grown) { p->entries = grown; p->capacity = capacity; } else s = dnnl_out_of_memory;
    }
    if (s == dnnl_success) {
        entry *e = &p->entries[p->count++];
        *e = (entry){m, lda, ldc, accumulate, primitive, primitive_id(),
                     dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0))};
        *out = *e;
    } else if (primitive) {
        dnnl_primitive_destroy(primitive);
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    pthread_mutex_unlock(&p->lock);
    return (int)s;
}

// The memory objects one call wraps around the caller's pointers, kept per thread and re-pointed on each call
// (dnnl_memory_set_data_handle), so that a steady state allocates nothing and queries nothing. A slot is keyed by the
// primitive's id (ids are never reused, so a slot's objects always fit its primitive's descriptors). The table is
// open-addressed and large enough for every primitive a model holds (a Realtime model: one per panel of each Linear,
// ≈ 4 800): with fewer slots than primitives, each call would destroy and remake its wrappers.
typedef struct {
    uint64_t id;  // 0: free
    dnnl_memory_t src, weights, dst, scratchpad;
} wrappers;
enum { wrapper_slots = 16384, wrapper_probes = 16 };
static __thread wrappers *thread_wrappers;  // [wrapper_slots], made on a thread's first call

static void release(wrappers *w) {
    dnnl_memory_t all[4] = {w->src, w->weights, w->dst, w->scratchpad};
    for (int i = 0; i < 4; i++)
        if (all[i]) dnnl_memory_destroy(all[i]);
    *w = (wrappers){0};
}

// The calling thread's wrappers for the primitive `id`: its slot, else a free one or the home slot (released), made
// for the primitive's descriptors. NULL when out of memory.
static wrappers *wrappers_for(dnnl_primitive_t primitive, uint64_t id, int own_weights, size_t scratchpad_bytes) {
    if (!thread_wrappers && !(thread_wrappers = calloc(wrapper_slots, sizeof *thread_wrappers))) return NULL;
    const size_t home = id % wrapper_slots;
    wrappers *w = NULL;
    for (size_t i = 0; i < wrapper_probes && !w; i++) {  // this primitive's slot, or the first free one
        wrappers *slot = &thread_wrappers[(home + i) % wrapper_slots];
        if (slot->id == id) return slot;
        if (!slot->id) w = slot;
    }
    if (!w) w = &thread_wrappers[home];  // all taken: the home slot changes hands
    release(w);
    const_dnnl_primitive_desc_t pd;
    dnnl_status_t s = dnnl_primitive_get_primitive_desc(primitive, &pd);
    if (s == dnnl_success) s = dnnl_memory_create(&w->src, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), engine, DNNL_MEMORY_NONE);
    if (s == dnnl_success && own_weights)
        s = dnnl_memory_create(&w->weights, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), engine, DNNL_MEMORY_NONE);
    if (s == dnnl_success) s = dnnl_memory_create(&w->dst, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), engine, DNNL_MEMORY_NONE);
    if (s == dnnl_success && scratchpad_bytes)
        s = dnnl_memory_create(&w->scratchpad, dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0), engine, DNNL_MEMORY_NONE);
    if (s != dnnl_success) {
        release(w);
        return NULL;
    }
    w->id = id;
    return w;
}

// Runs `primitive` (number `id`) on the calling thread's stream: src, weights (a memory of ours, or `weights_data` in
// the primitive's own layout), dst, and the scratchpad in `scratchpad` when it needs one.
static dnnl_status_t execute(dnnl_primitive_t primitive, uint64_t id, const void *src, dnnl_memory_t weights,
                             const void *weights_data, void *dst, void *scratchpad, size_t scratchpad_bytes) {
    if (!thread_stream && dnnl_stream_create(&thread_stream, engine, dnnl_stream_default_flags) != dnnl_success)
        return dnnl_runtime_error;
    omp_set_num_threads(1);  // oneDNN follows OpenMP's count of the calling thread
    wrappers *w = wrappers_for(primitive, id, !weights, scratchpad_bytes);
    if (!w) return dnnl_out_of_memory;
    dnnl_status_t s = dnnl_memory_set_data_handle(w->src, (void *)src);
    if (s == dnnl_success && !weights) s = dnnl_memory_set_data_handle(w->weights, (void *)weights_data);
    if (s == dnnl_success) s = dnnl_memory_set_data_handle(w->dst, dst);
    if (s == dnnl_success && scratchpad_bytes) s = dnnl_memory_set_data_handle(w->scratchpad, scratchpad);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, w->src}, {DNNL_ARG_WEIGHTS, weights ? weights : w->weights},
                                   {DNNL_ARG_DST, w->dst}, {DNNL_ARG_SCRATCHPAD, w->scratchpad}};
        s = dnnl_primitive_execute(primitive, thread_stream, scratchpad_bytes ? 4 : 3, args);
        if (s == dnnl_success) s = dnnl_stream_wait(thread_stream);
    }
    if (s != dnnl_success) release(w);
    return s;
}

// The call's primitive and the calling thread's scratch: `converted_bytes` for the bf16 input, then the scratchpad.
static int prepare(voxenc_packed *p, int64_t m, int64_t lda, int64_t ldc, int accumulate, size_t converted_bytes,
                   entry *e, char **buffer) {
    int status = lookup(p, m, lda, ldc, accumulate ? 1 : 0, e);
    if (status) return status;
    *buffer = scratch(converted_bytes + e->scratchpad_bytes + 64);
    return *buffer ? 0 : (int)dnnl_out_of_memory;
}

int voxenc_packed_multiply(voxenc_packed *p, const void *a, int64_t m, int64_t lda, void *c, int64_t ldc,
                           int accumulate) {
    entry e;
    char *buffer;
    size_t converted_bytes = p->type == VOXENC_MATMUL_BF16 ? (size_t)(m * p->k * 2 + 63) / 64 * 64 : 0;
    int status = prepare(p, m, lda, ldc, accumulate, converted_bytes, &e, &buffer);
    if (status) return status;
    const void *source = a;
    if (p->type == VOXENC_MATMUL_BF16) {
        voxenc_round_bf16_rows((const float *)a, (size_t)m, (size_t)p->k, (size_t)lda, (uint16_t *)buffer, (size_t)p->k);
        source = buffer;
    }
    return (int)execute(e.primitive, e.id, source, p->weights, NULL, c, buffer + converted_bytes, e.scratchpad_bytes);
}

int voxenc_packed_multiply_rounded(voxenc_packed *p, const uint16_t *a, int64_t m, void *c, int64_t ldc,
                                   int accumulate) {
    if (p->type != VOXENC_MATMUL_BF16) return (int)dnnl_invalid_arguments;
    entry e;
    char *buffer;
    // The primitive voxenc_packed_multiply makes for a dense float32 input of these rows (its bf16 copy is dense).
    int status = prepare(p, m, p->k, ldc, accumulate, 0, &e, &buffer);
    if (status) return status;
    return (int)execute(e.primitive, e.id, a, p->weights, NULL, c, buffer, e.scratchpad_bytes);
}

// Products of two activations in bf16: one primitive per (transpose, shape, strides), kept for the process.
typedef struct {
    int transpose_b;
    int64_t m, n, k, lda, ldb, ldc;
    dnnl_primitive_t primitive;
    uint64_t id;
    size_t scratchpad_bytes;
} plain_entry;

static pthread_mutex_t plain_lock = PTHREAD_MUTEX_INITIALIZER;
static plain_entry *plain_entries;
static int plain_count, plain_capacity;

static int plain_lookup(int transpose_b, int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc,
                        plain_entry *out) {
    pthread_mutex_lock(&plain_lock);
    for (int i = 0; i < plain_count; i++) {
        plain_entry *e = &plain_entries[i];
        if (e->transpose_b == transpose_b && e->m == m && e->n == n && e->k == k && e->lda == lda && e->ldb == ldb &&
            e->ldc == ldc) {
            *out = *e;
            pthread_mutex_unlock(&plain_lock);
            return 0;
        }
    }
    dnnl_memory_desc_t a, b, c;
    dnnl_dims_t da = {m, k}, db = {k, n}, dc = {m, n};
    dnnl_dims_t sa = {lda, 1}, sc = {ldc, 1};
    // op(B) is [k, n]: B[k, n] row-major has strides (ldb, 1); B[n, k]ᵀ has strides (1, ldb).
    dnnl_dims_t sb = {transpose_b ? 1 : ldb, transpose_b ? ldb : 1};
    dnnl_status_t s = dnnl_memory_desc_init_by_strides(&a, 2, da, dnnl_bf16, sa);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_strides(&b, 2, db, dnnl_bf16, sb);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_strides(&c, 2, dc, dnnl_f32, sc);
    dnnl_matmul_desc_t desc;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t made = NULL;
    if (s == dnnl_success) s = dnnl_matmul_desc_init(&desc, &a, &b, NULL, &c);
    if (s == dnnl_success) s = dnnl_primitive_attr_create(&attr);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s == dnnl_success) s = dnnl_primitive_desc_create(&pd, &desc, attr, engine, NULL);
    if (s == dnnl_success) s = dnnl_primitive_create(&made, pd);
    if (s == dnnl_success && plain_count == plain_capacity) {
        int capacity = plain_capacity ? 2 * plain_capacity : 16;
        plain_entry *grown = realloc(plain_entries, capacity * sizeof *grown);
        if (grown) { plain_entries = grown; plain_capacity = capacity; } else s = dnnl_out_of_memory;
    }
    if (s == dnnl_success) {
        size_t bytes = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
        plain_entries[plain_count] = (plain_entry){transpose_b, m, n, k, lda, ldb, ldc, made, primitive_id(), bytes};
        *out = plain_entries[plain_count++];
    } else if (made) {
        dnnl_primitive_destroy(made);
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    pthread_mutex_unlock(&plain_lock);
    return (int)s;
}

int voxenc_matmul_bf16(int transpose_b, int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda,
                       const uint16_t *b, int64_t ldb, float *c, int64_t ldc) {
    pthread_once(&engine_once, make_engine);
    plain_entry e;
    int status = plain_lookup(transpose_b ? 1 : 0, m, n, k, lda, ldb, ldc, &e);
    if (status) return status;
    void *buffer = e.scratchpad_bytes ? scratch(e.scratchpad_bytes) : NULL;
    if (e.scratchpad_bytes && !buffer) return (int)dnnl_out_of_memory;
    return (int)execute(e.primitive, e.id, a, NULL, b, c, buffer, e.scratchpad_bytes);
}
