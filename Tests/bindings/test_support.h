/*
 * What the C binding tests share (embed_test.c, stream_test.c): one line per check, files, .npy and safetensors
 * reading, comparisons, and expected failures. Static functions: each test program includes it once.
 */
#ifndef VOXENC_TEST_SUPPORT_H
#define VOXENC_TEST_SUPPORT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voxenc.h"

static int failures = 0, checks = 0;

static inline void check(int ok, const char *what, const char *detail) {
    checks++;
    if (!ok) failures++;
    printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what, detail ? ": " : "", detail ? detail : "");
}

static inline char *join(const char *a, const char *b) {
    char *s = malloc(strlen(a) + strlen(b) + 2);
    sprintf(s, "%s/%s", a, b);
    return s;
}

static inline unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(n > 0 ? n : 1);
    *size = fread(data, 1, n, f);
    fclose(f);
    return data;
}

/* A little-endian float32 .npy written by the CLI: its values and shape. */
static inline float *read_npy(const char *path, long *rows, long *width) {
    size_t size;
    unsigned char *file = read_file(path, &size);
    if (!file || size < 10 || memcmp(file, "\x93NUMPY", 6) != 0) return NULL;
    size_t header = file[8] | (file[9] << 8), offset = 10 + header;
    const char *shape = strstr((const char *)file + 10, "'shape': (");
    if (!shape || sscanf(shape, "'shape': (%ld, %ld)", rows, width) != 2) return NULL;
    float *values = malloc(size - offset);
    memcpy(values, file + offset, size - offset);
    free(file);
    return values;
}

/* One float32 tensor of a safetensors file (the reference fixtures), found by name in the JSON header. */
static inline float *read_tensor(const char *path, const char *name, long *count) {
    size_t size;
    unsigned char *file = read_file(path, &size);
    if (!file) return NULL;
    uint64_t header = 0;
    for (int i = 7; i >= 0; i--) header = (header << 8) | file[i];
    char *json = strndup((const char *)file + 8, header);
    char key[256];
    snprintf(key, sizeof key, "\"%s\"", name);
    char *entry = strstr(json, key);
    long begin, end;
    char *offsets = entry ? strstr(entry, "\"data_offsets\":[") : NULL;
    if (!offsets || sscanf(offsets, "\"data_offsets\":[%ld,%ld]", &begin, &end) != 2) return NULL;
    *count = (end - begin) / 4;
    float *values = malloc(end - begin);
    memcpy(values, file + 8 + header + begin, end - begin);
    free(json);
    free(file);
    return values;
}

static inline double relative_l2(const float *a, const float *b, long n) {
    double diff = 0, norm = 0;
    for (long i = 0; i < n; i++) {
        diff += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        norm += (double)b[i] * b[i];
    }
    return sqrt(diff / norm);
}

static inline int same_bits(const voxenc_result *r, const float *values, long rows, long width) {
    return r && r->rows == rows && r->width == width && memcmp(r->data, values, rows * width * sizeof(float)) == 0;
}

/* A call that must fail: NULL result, the expected code, a message containing `needle`. */
static inline void expect_error(const char *what, voxenc_result *result, voxenc_error *error, voxenc_status code,
                         const char *needle) {
    char detail[1024];
    const char *message = error ? voxenc_error_message(error) : "(no error)";
    snprintf(detail, sizeof detail, "code %d, \"%s\"", error ? (int)voxenc_error_code(error) : -1, message);
    check(!result && error && voxenc_error_code(error) == code && strstr(message, needle), what, detail);
    voxenc_result_free(result);
    voxenc_error_free(error);
}

/* `call` (which stores its error in `error`) runs before its result and error are checked. */
#define EXPECT_ERROR(what, call, code, needle)                \
    do {                                                      \
        voxenc_error *error = NULL;                           \
        voxenc_result *result_ = (call);                      \
        expect_error(what, result_, error, code, needle);     \
    } while (0)

#endif
