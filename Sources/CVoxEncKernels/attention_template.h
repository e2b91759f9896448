// The windowed-attention kernels' bodies, included by kernels_template.h once per element type of the keys and
// values: ATTENTION_ELEMENT (float or uint16_t bf16), ATTENTION_LOAD (W of them as float32), ATTENTION_SCALAR (one),
// ATTENTION_NAME (the kernels' names). Every chain is float32 multiply-adds in order, whatever the element type.

// One query's scores, keys j < count: each lane one key's chain over d in order (the single-vector and scalar tails
// run the same chain), 4·W keys at once so that four independent chains hide the FMA latency.
INLINE void ATTENTION_NAME(key_scores_one)(const float *q, const ATTENTION_ELEMENT *kt, size_t ldk, size_t count,
                                           size_t dh, float *scores) {
    size_t j = 0;
    for (; j + 4 * W <= count; j += 4 * W) {
        vf a0 = splat(0), a1 = splat(0), a2 = splat(0), a3 = splat(0);
        for (size_t d = 0; d < dh; d++) {
            const vf qd = splat(q[d]);
            const ATTENTION_ELEMENT *row = kt + d * ldk + j;
            a0 = FMA(qd, ATTENTION_LOAD(row), a0);
            a1 = FMA(qd, ATTENTION_LOAD(row + W), a1);
            a2 = FMA(qd, ATTENTION_LOAD(row + 2 * W), a2);
            a3 = FMA(qd, ATTENTION_LOAD(row + 3 * W), a3);
        }
        store(scores + j, a0);
        store(scores + j + W, a1);
        store(scores + j + 2 * W, a2);
        store(scores + j + 3 * W, a3);
    }
    for (; j + W <= count; j += W) {
        vf acc = splat(0);
        for (size_t d = 0; d < dh; d++) acc = FMA(splat(q[d]), ATTENTION_LOAD(kt + d * ldk + j), acc);
        store(scores + j, acc);
    }
    for (; j < count; j++) {
        float acc = 0;
        for (size_t d = 0; d < dh; d++) acc = FMA1(q[d], ATTENTION_SCALAR(kt[d * ldk + j]), acc);
        scores[j] = acc;
    }
}

// Four queries' scores against T·W consecutive keys (columns of kt, ldk apart), into s + r·lds + 0 ..< T·W: 4 × T
// vector chains, each the one key_scores_one runs for that (query, key).
INLINE void ATTENTION_NAME(key_scores_tile)(const float *qi, size_t ldq, const ATTENTION_ELEMENT *kt, size_t ldk,
                                            size_t dh, float *s, size_t lds) {
    vf a[4][T];
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < T; t++) a[r][t] = splat(0);
    for (size_t d = 0; d < dh; d++) {
        const ATTENTION_ELEMENT *row = kt + d * ldk;
        vf k[T];
        for (int t = 0; t < T; t++) k[t] = ATTENTION_LOAD(row + t * W);
        for (int r = 0; r < 4; r++) {
            const vf qd = splat(qi[r * ldq + d]);
            for (int t = 0; t < T; t++) a[r][t] = FMA(qd, k[t], a[r][t]);
        }
    }
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < T; t++) store(s + r * lds + t * W, a[r][t]);
}

void KERNEL(ATTENTION_NAME(voxenc_key_scores))(const float *q, size_t ldq, size_t queries, const ATTENTION_ELEMENT *kt,
                                               size_t ldk, size_t count, size_t dh, float *scores, size_t lds) {
    size_t i = 0;
    // Four queries share each load of the keys. The last count mod T·W keys go through the same tile from a
    // zero-padded copy (one-query chains there would run at FMA latency, not throughput: ≈ 40 % of the kernel's time
    // for a 750-key window); only their own scores are kept.
    for (; i + 4 <= queries; i += 4) {
        const float *qi = q + i * ldq;
        float *si = scores + i * lds;
        size_t j = 0;
        for (; j + T * W <= count; j += T * W) ATTENTION_NAME(key_scores_tile)(qi, ldq, kt + j, ldk, dh, si + j, lds);
        if (j < count) {
            const size_t rest = count - j;
            ATTENTION_ELEMENT padded[dh * T * W];
            float tail[4 * T * W];
            memset(padded, 0, sizeof padded);
            for (size_t d = 0; d < dh; d++) memcpy(padded + d * T * W, kt + d * ldk + j, rest * sizeof *padded);
            ATTENTION_NAME(key_scores_tile)(qi, ldq, padded, T * W, dh, tail, T * W);
            for (int r = 0; r < 4; r++) memcpy(si + r * lds + j, tail + r * T * W, rest * sizeof *tail);
        }
    }
    for (; i < queries; i++) ATTENTION_NAME(key_scores_one)(q + i * ldq, kt, ldk, count, dh, scores + i * lds);
}

// One query: out[d] += Σ_j p[j]·v[j·ldv + d], each lane one value's chain over j in order, 4·W values per pass.
INLINE void ATTENTION_NAME(weighted_rows_one)(const float *p, const ATTENTION_ELEMENT *v, size_t ldv, size_t count,
                                              size_t dh, float *out) {
    size_t d = 0;
    for (; d + 4 * W <= dh; d += 4 * W) {
        vf a0 = load(out + d), a1 = load(out + d + W), a2 = load(out + d + 2 * W), a3 = load(out + d + 3 * W);
        for (size_t j = 0; j < count; j++) {
            const vf pj = splat(p[j]);
            const ATTENTION_ELEMENT *row = v + j * ldv + d;
            a0 = FMA(pj, ATTENTION_LOAD(row), a0);
            a1 = FMA(pj, ATTENTION_LOAD(row + W), a1);
            a2 = FMA(pj, ATTENTION_LOAD(row + 2 * W), a2);
            a3 = FMA(pj, ATTENTION_LOAD(row + 3 * W), a3);
        }
        store(out + d, a0);
        store(out + d + W, a1);
        store(out + d + 2 * W, a2);
        store(out + d + 3 * W, a3);
    }
    for (; d + W <= dh; d += W) {
        vf acc = load(out + d);
        for (size_t j = 0; j < count; j++) acc = FMA(splat(p[j]), ATTENTION_LOAD(v + j * ldv + d), acc);
        store(out + d, acc);
    }
    for (; d < dh; d++) {
        float acc = out[d];
        for (size_t j = 0; j < count; j++) acc = FMA1(p[j], ATTENTION_SCALAR(v[j * ldv + d]), acc);
        out[d] = acc;
    }
}

void KERNEL(ATTENTION_NAME(voxenc_weighted_rows))(const float *p, size_t ldp, size_t queries, const ATTENTION_ELEMENT *v,
                                                  size_t ldv, size_t count, size_t dh, float *out, size_t ldo) {
    size_t i = 0;
    // Four queries share each load of the values: 4 × T chains per pass, each the one weighted_rows_one runs.
    for (; i + 4 <= queries; i += 4) {
        const float *pi = p + i * ldp;
        float *oi = out + i * ldo;
        size_t d = 0;
        for (; d + T * W <= dh; d += T * W) {
            vf a[4][T];
            for (int r = 0; r < 4; r++)
                for (int t = 0; t < T; t++) a[r][t] = load(oi + r * ldo + d + t * W);
            for (size_t j = 0; j < count; j++) {
                const ATTENTION_ELEMENT *row = v + j * ldv + d;
                vf x[T];
                for (int t = 0; t < T; t++) x[t] = ATTENTION_LOAD(row + t * W);
                for (int r = 0; r < 4; r++) {
                    const vf pj = splat(pi[r * ldp + j]);
                    for (int t = 0; t < T; t++) a[r][t] = FMA(pj, x[t], a[r][t]);
                }
            }
            for (int r = 0; r < 4; r++)
                for (int t = 0; t < T; t++) store(oi + r * ldo + d + t * W, a[r][t]);
        }
        for (int r = 0; r < 4; r++)
            ATTENTION_NAME(weighted_rows_one)(pi + r * ldp, v + d, ldv, count, dh - d, oi + r * ldo + d);
    }
    for (; i < queries; i++) ATTENTION_NAME(weighted_rows_one)(p + i * ldp, v, ldv, count, dh, out + i * ldo);
}


#undef ATTENTION_ELEMENT
#undef ATTENTION_LOAD
#undef ATTENTION_SCALAR
#undef ATTENTION_NAME
