/*
 * bench_codec.c - encode + decode of two messages, a WorkRequest (16 floats as
 * a LIST, a short string) and a Tensor (a 16x16 float32 ARRAY, a short
 * string): ringmesh's rk_msg_serialize / rk_msg_deserialize_as against
 * hand-written msgpack-c.
 *
 * The baseline is what a careful C programmer writes without ringmesh: the
 * same fields in a plain struct, msgpack_packer into a reused msgpack_sbuffer
 * with the same map keys (so the bytes are identical, checked at start), and
 * msgpack_unpack into a reused zone followed by a walk of the object tree that
 * builds the same fields into one malloc'd block (ringmesh's decode also builds
 * one block). Both sides reuse their output buffer across iterations.
 */
#include "bench_types.h"
#include "bench_util.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFLOATS 16
static const char OPERATION[] = "matmul";

/* ---- the hand-written msgpack-c baseline -------------------------------- */

typedef struct base_wr { /* the baseline's in-memory message */
    uint8_t message_id[16];
    uint8_t correlation_id[16];
    int has_correlation;
    int priority;
    uint32_t ndata;
    double *data;    /* inside the same block */
    char *operation; /* inside the same block, NUL-terminated */
} base_wr_t;

typedef struct base_codec {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_zone zone;
} base_codec_t;

static void pack_key(msgpack_packer *pk, const char *k)
{
    size_t n = strlen(k);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, k, n);
}

static void pack_uuid(msgpack_packer *pk, const uint8_t *u)
{
    msgpack_pack_map(pk, 1);
    pack_key(pk, "__uuid_bin__");
    msgpack_pack_bin(pk, 16);
    msgpack_pack_bin_body(pk, u, 16);
}

static void base_encode(base_codec_t *c, const base_wr_t *w)
{
    msgpack_packer *pk = &c->pk;
    size_t oplen = strlen(w->operation);

    msgpack_sbuffer_clear(&c->sbuf);
    msgpack_pack_map(pk, 6);
    pack_key(pk, "data");
    msgpack_pack_array(pk, w->ndata);
    for (uint32_t i = 0; i < w->ndata; i++) msgpack_pack_double(pk, w->data[i]);
    pack_key(pk, "operation");
    msgpack_pack_str(pk, oplen);
    msgpack_pack_str_body(pk, w->operation, oplen);
    pack_key(pk, "message_id");
    pack_uuid(pk, w->message_id);
    pack_key(pk, "priority");
    msgpack_pack_int(pk, w->priority);
    pack_key(pk, "correlation_id");
    if (w->has_correlation) pack_uuid(pk, w->correlation_id);
    else msgpack_pack_nil(pk);
    pack_key(pk, "__type__");
    pack_key(pk, "WorkRequest");
}

static int key_is(const msgpack_object *k, const char *s)
{
    size_t n = strlen(s);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && memcmp(k->via.str.ptr, s, n) == 0;
}

static int uuid_of(const msgpack_object *o, uint8_t *out)
{
    if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size != 1) return -1;
    const msgpack_object_kv *kv = o->via.map.ptr;
    if (!key_is(&kv->key, "__uuid_bin__") || kv->val.type != MSGPACK_OBJECT_BIN || kv->val.via.bin.size != 16)
        return -1;
    memcpy(out, kv->val.via.bin.ptr, 16);
    return 0;
}

/* Decode into one malloc'd block; NULL on malformed input. */
static base_wr_t *base_decode(base_codec_t *c, const char *data, size_t len)
{
    msgpack_object root;
    const msgpack_object *arr = NULL, *op = NULL;
    size_t off = 0;
    base_wr_t *w;
    uint8_t mid[16] = {0}, cid[16] = {0};
    int has_cid = 0, prio = 128, type_ok = 0;

    msgpack_zone_clear(&c->zone);
    if (msgpack_unpack(data, len, &off, &c->zone, &root) != MSGPACK_UNPACK_SUCCESS) return NULL;
    if (root.type != MSGPACK_OBJECT_MAP) return NULL;
    for (uint32_t i = 0; i < root.via.map.size; i++) {
        const msgpack_object_kv *kv = &root.via.map.ptr[i];
        if (key_is(&kv->key, "data")) {
            if (kv->val.type != MSGPACK_OBJECT_ARRAY) return NULL;
            arr = &kv->val;
        } else if (key_is(&kv->key, "operation")) {
            if (kv->val.type != MSGPACK_OBJECT_STR) return NULL;
            op = &kv->val;
        } else if (key_is(&kv->key, "message_id")) {
            if (uuid_of(&kv->val, mid)) return NULL;
        } else if (key_is(&kv->key, "priority")) {
            if (kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER || kv->val.via.u64 > 255) return NULL;
            prio = (int)kv->val.via.u64;
        } else if (key_is(&kv->key, "correlation_id")) {
            if (kv->val.type != MSGPACK_OBJECT_NIL) {
                if (uuid_of(&kv->val, cid)) return NULL;
                has_cid = 1;
            }
        } else if (key_is(&kv->key, "__type__")) {
            type_ok = key_is(&kv->val, "WorkRequest");
        }
    }
    if (!type_ok) return NULL;
    uint32_t n = arr ? arr->via.array.size : 0;
    size_t oplen = op ? op->via.str.size : 0;
    w = malloc(sizeof *w + n * sizeof(double) + oplen + 1);
    if (!w) return NULL;
    w->data = (double *)(w + 1);
    w->operation = (char *)(w->data + n);
    w->ndata = n;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *e = &arr->via.array.ptr[i];
        if (e->type == MSGPACK_OBJECT_FLOAT64 || e->type == MSGPACK_OBJECT_FLOAT32) w->data[i] = e->via.f64;
        else if (e->type == MSGPACK_OBJECT_POSITIVE_INTEGER) w->data[i] = (double)e->via.u64;
        else if (e->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) w->data[i] = (double)e->via.i64;
        else {
            free(w);
            return NULL;
        }
    }
    if (op) memcpy(w->operation, op->via.str.ptr, oplen);
    w->operation[oplen] = '\0';
    memcpy(w->message_id, mid, 16);
    memcpy(w->correlation_id, cid, 16);
    w->has_correlation = has_cid;
    w->priority = prio;
    return w;
}

/* ---- the Tensor baseline: numpy's {"__ndarray__", "dtype", "shape"} map ---------- */

#define TENSOR_N 16

typedef struct base_tensor { /* the baseline's in-memory Tensor */
    uint8_t message_id[16];
    int priority;
    uint64_t shape[2];
    float *data;     /* inside the same block */
    char *name;      /* inside the same block, NUL-terminated */
} base_tensor_t;

static void base_tensor_encode(base_codec_t *c, const base_tensor_t *t)
{
    msgpack_packer *pk = &c->pk;
    size_t nlen = strlen(t->name), nbytes = sizeof(float) * TENSOR_N * TENSOR_N;

    msgpack_sbuffer_clear(&c->sbuf);
    msgpack_pack_map(pk, 6);
    pack_key(pk, "grid");
    msgpack_pack_map(pk, 3);
    pack_key(pk, "__ndarray__");
    msgpack_pack_bin(pk, nbytes);
    msgpack_pack_bin_body(pk, t->data, nbytes);
    pack_key(pk, "dtype");
    pack_key(pk, "float32");
    pack_key(pk, "shape");
    msgpack_pack_array(pk, 2);
    msgpack_pack_uint64(pk, t->shape[0]);
    msgpack_pack_uint64(pk, t->shape[1]);
    pack_key(pk, "name");
    msgpack_pack_str(pk, nlen);
    msgpack_pack_str_body(pk, t->name, nlen);
    pack_key(pk, "message_id");
    pack_uuid(pk, t->message_id);
    pack_key(pk, "priority");
    msgpack_pack_int(pk, t->priority);
    pack_key(pk, "correlation_id");
    msgpack_pack_nil(pk);
    pack_key(pk, "__type__");
    pack_key(pk, "Tensor");
}

/* The array map's parts, checked as the reference decoder would need them. */
static int base_ndarray(const msgpack_object *o, const msgpack_object **bin, uint64_t shape[2])
{
    int seen = 0;
    if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size != 3) return -1;
    for (uint32_t i = 0; i < 3; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (key_is(&kv->key, "__ndarray__") && kv->val.type == MSGPACK_OBJECT_BIN) {
            *bin = &kv->val;
            seen |= 1;
        } else if (key_is(&kv->key, "dtype") && key_is(&kv->val, "float32")) {
            seen |= 2;
        } else if (key_is(&kv->key, "shape") && kv->val.type == MSGPACK_OBJECT_ARRAY && kv->val.via.array.size == 2) {
            for (int d = 0; d < 2; d++) {
                if (kv->val.via.array.ptr[d].type != MSGPACK_OBJECT_POSITIVE_INTEGER) return -1;
                shape[d] = kv->val.via.array.ptr[d].via.u64;
            }
            seen |= 4;
        }
    }
    return seen == 7 && (*bin)->via.bin.size == shape[0] * shape[1] * sizeof(float) ? 0 : -1;
}

static base_tensor_t *base_tensor_decode(base_codec_t *c, const char *data, size_t len)
{
    msgpack_object root;
    const msgpack_object *bin = NULL, *name = NULL;
    uint64_t shape[2] = {0, 0};
    size_t off = 0;
    base_tensor_t *t;
    uint8_t mid[16] = {0};
    int prio = 128, type_ok = 0;

    msgpack_zone_clear(&c->zone);
    if (msgpack_unpack(data, len, &off, &c->zone, &root) != MSGPACK_UNPACK_SUCCESS) return NULL;
    if (root.type != MSGPACK_OBJECT_MAP) return NULL;
    for (uint32_t i = 0; i < root.via.map.size; i++) {
        const msgpack_object_kv *kv = &root.via.map.ptr[i];
        if (key_is(&kv->key, "grid")) {
            if (base_ndarray(&kv->val, &bin, shape)) return NULL;
        } else if (key_is(&kv->key, "name")) {
            if (kv->val.type != MSGPACK_OBJECT_STR) return NULL;
            name = &kv->val;
        } else if (key_is(&kv->key, "message_id")) {
            if (uuid_of(&kv->val, mid)) return NULL;
        } else if (key_is(&kv->key, "priority")) {
            if (kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER || kv->val.via.u64 > 255) return NULL;
            prio = (int)kv->val.via.u64;
        } else if (key_is(&kv->key, "__type__")) {
            type_ok = key_is(&kv->val, "Tensor");
        }
    }
    if (!type_ok || !bin) return NULL;
    size_t nbytes = bin->via.bin.size, nlen = name ? name->via.str.size : 0;
    t = malloc(sizeof *t + nbytes + nlen + 1);
    if (!t) return NULL;
    t->data = (float *)(t + 1);
    t->name = (char *)t->data + nbytes;
    memcpy(t->data, bin->via.bin.ptr, nbytes);
    if (name) memcpy(t->name, name->via.str.ptr, nlen);
    t->name[nlen] = '\0';
    memcpy(t->message_id, mid, 16);
    t->priority = prio;
    t->shape[0] = shape[0];
    t->shape[1] = shape[1];
    return t;
}

/* ---- timing blocks -------------------------------------------------------- */

typedef struct codec_state {
    int tensor;           /* 0: WorkRequest, 1: Tensor */
    rk_msg_t *msg;        /* the ringmesh message */
    rk_buf_t buf;         /* ringmesh's reused encode buffer */
    base_wr_t *base_msg;  /* the baseline's message (same values) */
    base_tensor_t *base_tensor;
    base_codec_t bc;
    volatile double sink; /* defeats dead-code elimination */
} codec_state_t;

enum { DO_ENC = 1, DO_DEC = 2 };

static double time_rk(codec_state_t *s, long iters, int what)
{
    double acc = 0;
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < iters; i++) {
        if (what & DO_ENC) BENCH_CHECK(rk_msg_serialize(s->msg, &s->buf));
        if (what & DO_DEC && s->tensor) {
            rk_msg_t *out;
            rk_array_t a;
            BENCH_CHECK(rk_msg_deserialize_as(Tensor_type(), s->buf.data, s->buf.len, 0, &out));
            const Tensor *t = Tensor_cast(out);
            acc += Tensor_get_grid(t, &a)[a.count - 1] + (double)t->name.len;
            rk_msg_free(out);
        } else if (what & DO_DEC) {
            rk_msg_t *out;
            BENCH_CHECK(rk_msg_deserialize_as(WorkRequest_type(), s->buf.data, s->buf.len, 0, &out));
            const WorkRequest *w = WorkRequest_cast(out);
            acc += RK_LIST(w, data, double)[w->data.len - 1] + (double)w->operation.len;
            rk_msg_free(out);
        }
    }
    int64_t t1 = bench_now_ns();
    s->sink += acc;
    return (double)(t1 - t0) / (double)iters;
}

static double time_base(codec_state_t *s, long iters, int what)
{
    double acc = 0;
    int64_t t0 = bench_now_ns();
    for (long i = 0; i < iters; i++) {
        if (s->tensor) {
            if (what & DO_ENC) base_tensor_encode(&s->bc, s->base_tensor);
            if (what & DO_DEC) {
                base_tensor_t *t = base_tensor_decode(&s->bc, s->bc.sbuf.data, s->bc.sbuf.size);
                if (!t) bench_die("baseline msgpack decode", RK_ERR_DECODE);
                acc += t->data[t->shape[0] * t->shape[1] - 1] + (double)strlen(t->name);
                free(t);
            }
            continue;
        }
        if (what & DO_ENC) base_encode(&s->bc, s->base_msg);
        if (what & DO_DEC) {
            base_wr_t *w = base_decode(&s->bc, s->bc.sbuf.data, s->bc.sbuf.size);
            if (!w) bench_die("baseline msgpack decode", RK_ERR_DECODE);
            acc += w->data[w->ndata - 1] + (double)strlen(w->operation);
            free(w);
        }
    }
    int64_t t1 = bench_now_ns();
    s->sink += acc;
    return (double)(t1 - t0) / (double)iters;
}

static void tensor_setup(codec_state_t *s)
{
    static const char name[] = "frame-0";
    const uint64_t shape[2] = {TENSOR_N, TENSOR_N};
    size_t nbytes = sizeof(float) * TENSOR_N * TENSOR_N;
    float vals[TENSOR_N * TENSOR_N];
    Tensor *t;

    for (int i = 0; i < TENSOR_N * TENSOR_N; i++) vals[i] = 0.25f * (float)i - 7;
    BENCH_CHECK(Tensor_new_sized(&t, nbytes + 128));
    BENCH_CHECK(Tensor_set_grid(&t, vals, 2, shape));
    BENCH_CHECK(Tensor_set_name(&t, name));
    s->msg = &t->hdr;
    s->base_tensor = malloc(sizeof *s->base_tensor + nbytes + sizeof name);
    if (!s->base_tensor) bench_die("codec setup", RK_ERR_NOMEM);
    s->base_tensor->data = (float *)(s->base_tensor + 1);
    s->base_tensor->name = (char *)s->base_tensor->data + nbytes;
    memcpy(s->base_tensor->data, vals, nbytes);
    memcpy(s->base_tensor->name, name, sizeof name);
    memcpy(s->base_tensor->message_id, s->msg->message_id.bytes, 16);
    s->base_tensor->priority = s->msg->priority;
    s->base_tensor->shape[0] = s->base_tensor->shape[1] = TENSOR_N;
}

static void codec_setup(codec_state_t *s, int tensor)
{
    double vals[NFLOATS];
    rk_msg_t *m;
    WorkRequest *w;

    memset(s, 0, sizeof *s);
    s->tensor = tensor;
    rk_buf_init(&s->buf);
    msgpack_sbuffer_init(&s->bc.sbuf);
    msgpack_packer_init(&s->bc.pk, &s->bc.sbuf, msgpack_sbuffer_write);
    msgpack_zone_init(&s->bc.zone, 2048);
    if (tensor) {
        tensor_setup(s);
        return;
    }
    for (int i = 0; i < NFLOATS; i++) vals[i] = 0.5 + i * 1.25;
    BENCH_CHECK(rk_msg_create(WorkRequest_type(), 256, &m));
    w = (WorkRequest *)m;
    BENCH_CHECK(RK_SET_LIST(&w, WorkRequest, data, vals, NFLOATS));
    BENCH_CHECK(RK_SET_STR(&w, WorkRequest, operation, OPERATION));
    s->msg = &w->hdr;

    s->base_msg = malloc(sizeof *s->base_msg + sizeof vals + sizeof OPERATION);
    if (!s->base_msg) bench_die("codec setup", RK_ERR_NOMEM);
    memset(s->base_msg, 0, sizeof *s->base_msg);
    s->base_msg->data = (double *)(s->base_msg + 1);
    s->base_msg->operation = (char *)(s->base_msg->data + NFLOATS);
    s->base_msg->ndata = NFLOATS;
    memcpy(s->base_msg->data, vals, sizeof vals);
    memcpy(s->base_msg->operation, OPERATION, sizeof OPERATION);
    memcpy(s->base_msg->message_id, s->msg->message_id.bytes, 16);
    s->base_msg->priority = s->msg->priority;
}

static void codec_teardown(codec_state_t *s)
{
    rk_msg_free(s->msg);
    rk_buf_free(&s->buf);
    free(s->base_msg);
    free(s->base_tensor);
    msgpack_sbuffer_destroy(&s->bc.sbuf);
    msgpack_zone_destroy(&s->bc.zone);
}

/* One message's three measurements (encode + decode, encode, decode), interleaved with the baseline. */
static void codec_case(int tensor)
{
    static const struct {
        int what;
        const char *metric, *tensor_metric;
    } kinds[] = {{DO_ENC | DO_DEC, "encode_decode_ns", "tensor_encode_decode_ns"},
                 {DO_ENC, "encode_ns", "tensor_encode_ns"},
                 {DO_DEC, "decode_ns", "tensor_decode_ns"}};
    codec_state_t s;
    int reps = bench_reps(9, 3);
    long iters = bench_iters(20000, 2000) / (tensor ? 4 : 1);
    int same;
    char extra[96];

    codec_setup(&s, tensor);
    BENCH_CHECK(rk_msg_serialize(s.msg, &s.buf));
    if (tensor) base_tensor_encode(&s.bc, s.base_tensor);
    else base_encode(&s.bc, s.base_msg);
    same = s.buf.len == s.bc.sbuf.size && memcmp(s.buf.data, s.bc.sbuf.data, s.buf.len) == 0;
    if (!same) bench_progress("codec: note: baseline bytes differ from ringmesh's (%zu vs %zu bytes)", s.buf.len,
                              s.bc.sbuf.size);
    snprintf(extra, sizeof extra, "\"encoded_bytes\":%zu,\"same_bytes\":%s", s.buf.len, same ? "true" : "false");

    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        double *rk = calloc((size_t)reps, sizeof *rk), *base = calloc((size_t)reps, sizeof *base);
        if (!rk || !base) bench_die("codec", RK_ERR_NOMEM);
        time_rk(&s, iters / 4 + 1, kinds[k].what); /* warm-up */
        time_base(&s, iters / 4 + 1, kinds[k].what);
        for (int r = 0; r < reps; r++) { /* interleaved, alternating who goes first */
            if (r % 2 == 0) {
                rk[r] = time_rk(&s, iters, kinds[k].what);
                base[r] = time_base(&s, iters, kinds[k].what);
            } else {
                base[r] = time_base(&s, iters, kinds[k].what);
                rk[r] = time_rk(&s, iters, kinds[k].what);
            }
        }
        bench_result_t res = {
            .name = "codec", .metric = tensor ? kinds[k].tensor_metric : kinds[k].metric, .unit = "ns/op",
            .value = bench_median(rk, (size_t)reps), .baseline = "msgpack-c (hand-written)",
            .baseline_value = bench_median(base, (size_t)reps), .better = BENCH_LOWER_IS_BETTER,
            .size = (long)s.buf.len, .ranks = 1, .iterations = iters, .reps = reps,
            .extra_params = tensor ? "\"message\":\"Tensor: 16x16 float32 ARRAY, 7-char STR, header\""
                                   : "\"message\":\"WorkRequest: 16 FLOAT list, 6-char STR, header\"",
            .extra = extra, .samples = rk, .baseline_samples = base};
        bench_emit(&res);
        bench_progress("codec %s: ringmesh %.0f ns, msgpack-c %.0f ns", res.metric, res.value, res.baseline_value);
        free(rk);
        free(base);
    }
    codec_teardown(&s);
}

int bench_codec(void)
{
    if (g_mpi.rank != 0) return 0;
    codec_case(0);
    codec_case(1);
    return 0;
}
