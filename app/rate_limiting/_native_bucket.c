/* The in-memory limiter's per-request path in one native call (optional; see native.py).
 *
 * Why native: with the bucket arithmetic written in Python, a check walks through the limiter,
 * the throttling, the store, the observer and the header formatting, and in a busy server each
 * of those Python frames evicts the application's own code from the CPU caches: ~8 us a request
 * where the arithmetic alone is ~0.1 us (bench/middleware_stack.py, bench/middleware_instructions.py).
 *
 * Two types:
 *   Bucket     the per-key state the Python store (memory.py) keeps in its dict: tokens, at_ms,
 *              expires_ms. The Python path and `AdmitNow` share the same dict and the same objects.
 *   AdmitNow   .admit(key) -> the three X-RateLimit-* headers of an ADMITTED request, or None when
 *              anything is unusual (no tokens left, burst grants exist, an odd key, an error in a
 *              callback): then it has changed nothing and the caller takes the Python path, which
 *              decides (and refuses) exactly as before.
 *
 * It is the same arithmetic as MemoryBucketStore.take_now + TokenBucketRateLimiter._decided +
 * rate_limit_headers, operation for operation in IEEE doubles (built with -ffp-contract=off so
 * no fused multiply-add changes a rounding); tests/app/rate_limiting/test_native.py holds
 * both to the same answers on scripted clocks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <time.h>

#define MAX_KEY_LENGTH 256

/* -- Bucket -------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    double tokens;
    double at_ms;
    double expires_ms;
} Bucket;

static int Bucket_init(Bucket *self, PyObject *args, PyObject *kwds) {
    static char *names[] = {"tokens", "at_ms", "expires_ms", NULL};
    return PyArg_ParseTupleAndKeywords(args, kwds, "ddd", names, &self->tokens, &self->at_ms,
                                       &self->expires_ms) ? 0 : -1;
}

static PyObject *Bucket_repr(Bucket *self) {
    char text[160];
    PyOS_snprintf(text, sizeof text, "Bucket(tokens=%.17g, at_ms=%.17g, expires_ms=%.17g)",
                  self->tokens, self->at_ms, self->expires_ms);
    return PyUnicode_FromString(text);
}

static PyMemberDef Bucket_members[] = {
    {"tokens", T_DOUBLE, offsetof(Bucket, tokens), 0, "tokens left at at_ms"},
    {"at_ms", T_DOUBLE, offsetof(Bucket, at_ms), 0, "when tokens was computed (epoch ms)"},
    {"expires_ms", T_DOUBLE, offsetof(Bucket, expires_ms), 0, "when the bucket is full again"},
    {NULL},
};

static PyTypeObject BucketType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "app.rate_limiting._native_bucket.Bucket",
    .tp_doc = "Bucket(tokens, at_ms, expires_ms): one client's token bucket.",
    .tp_basicsize = sizeof(Bucket),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Bucket_init,
    .tp_repr = (reprfunc)Bucket_repr,
    .tp_members = Bucket_members,
};

/* -- AdmitNow ------------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    PyObject *buckets;    /* dict[str, Bucket], write order (the Python store's `_buckets`) */
    PyObject *extras;     /* dict of burst grants: any entry sends every check to Python */
    PyObject *capacity;   /* callable(limit) -> (int, valid until) (throttling), or None */
    PyObject *capacity_clock; /* the throttling's clock, or None for the monotonic clock */
    long long capacity_now;   /* what `capacity` answered last ... */
    double capacity_until;    /* ... valid while capacity_clock() < this */
    PyObject *counts;     /* dict[str, int] of decisions, or None */
    PyObject *clock;      /* callable() -> epoch seconds, or None for the system clock */
    long long limit;
    double window_ms;
    double next_prune_ms;
    long long limit_cached; /* the capacity limit_header is for */
    PyObject *limit_header; /* (b"x-ratelimit-limit", its decimal bytes) */
} AdmitNow;

static PyObject *LIMIT_NAME, *REMAINING_NAME, *RESET_NAME, *ALLOWED, *ONE;

static int AdmitNow_init(AdmitNow *self, PyObject *args, PyObject *kwds) {
    static char *names[] = {"buckets", "extras", "limit", "window_ms", "capacity", "counts",
                            "clock", "capacity_clock", NULL};
    PyObject *buckets, *extras, *capacity = Py_None, *counts = Py_None, *clock = Py_None;
    PyObject *capacity_clock = Py_None;
    long long limit, window_ms;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!LL|OOOO", names, &PyDict_Type, &buckets,
                                     &PyDict_Type, &extras, &limit, &window_ms, &capacity,
                                     &counts, &clock, &capacity_clock))
        return -1;
    if (limit < 1 || window_ms < 1) {
        PyErr_SetString(PyExc_ValueError, "limit and window_ms must be at least 1");
        return -1;
    }
    if (counts != Py_None && !PyDict_Check(counts)) {
        PyErr_SetString(PyExc_TypeError, "counts must be a dict or None");
        return -1;
    }
    Py_INCREF(buckets); Py_XSETREF(self->buckets, buckets);
    Py_INCREF(extras); Py_XSETREF(self->extras, extras);
    Py_INCREF(capacity); Py_XSETREF(self->capacity, capacity);
    Py_INCREF(counts); Py_XSETREF(self->counts, counts);
    Py_INCREF(clock); Py_XSETREF(self->clock, clock);
    Py_INCREF(capacity_clock); Py_XSETREF(self->capacity_clock, capacity_clock);
    self->capacity_now = 0;
    self->capacity_until = -INFINITY;
    self->limit = limit;
    self->window_ms = (double)window_ms;
    self->next_prune_ms = 0.0;
    self->limit_cached = -1;
    Py_CLEAR(self->limit_header);
    return 0;
}

static int AdmitNow_traverse(AdmitNow *self, visitproc visit, void *arg) {
    Py_VISIT(self->buckets); Py_VISIT(self->extras); Py_VISIT(self->capacity);
    Py_VISIT(self->counts); Py_VISIT(self->clock); Py_VISIT(self->capacity_clock);
    return 0;
}

static int AdmitNow_clear(AdmitNow *self) {
    Py_CLEAR(self->buckets); Py_CLEAR(self->extras); Py_CLEAR(self->capacity);
    Py_CLEAR(self->counts); Py_CLEAR(self->clock); Py_CLEAR(self->limit_header);
    Py_CLEAR(self->capacity_clock);
    return 0;
}

static void AdmitNow_dealloc(AdmitNow *self) {
    PyObject_GC_UnTrack(self);
    AdmitNow_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* (name, decimal bytes of number): a header. Digits written by hand: snprintf and
 * Py_BuildValue parse a format string on every call, ~1,500 instructions of a request's ~5,000. */
static PyObject *header(PyObject *name, long long number) {
    char text[24];
    char *start = text + sizeof text;
    unsigned long long rest = number < 0 ? 0ULL - (unsigned long long)number
                                         : (unsigned long long)number;
    do {
        *--start = (char)('0' + rest % 10);
        rest /= 10;
    } while (rest != 0);
    if (number < 0) *--start = '-';
    PyObject *value = PyBytes_FromStringAndSize(start, text + sizeof text - start);
    if (value == NULL) return NULL;
    PyObject *pair = PyTuple_New(2);
    if (pair == NULL) {
        Py_DECREF(value);
        return NULL;
    }
    Py_INCREF(name);
    PyTuple_SET_ITEM(pair, 0, name);
    PyTuple_SET_ITEM(pair, 1, value);
    return pair;
}

/* Seconds on `clock` (a Python callable), or on the system clock `system` when it is None
 * (CLOCK_REALTIME is what time.time() reads, CLOCK_MONOTONIC time.monotonic()); 0 on error. */
static int read_clock(PyObject *clock, clockid_t system, double *seconds) {
    if (clock == Py_None) {
        struct timespec ts;
        clock_gettime(system, &ts);
        *seconds = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
        return 1;
    }
    PyObject *value = PyObject_CallNoArgs(clock);
    if (value == NULL) return 0;
    *seconds = PyFloat_AsDouble(value);
    Py_DECREF(value);
    return !(*seconds == -1.0 && PyErr_Occurred());
}

/* Epoch milliseconds, whole, as memory.py's take_now computes them; -1 on a clock error. */
static double now_ms(AdmitNow *self) {
    double seconds;
    if (!read_clock(self->clock, CLOCK_REALTIME, &seconds)) return -1.0;
    return floor(seconds * 1000.0);
}

/* memory.py `_drop_expired` on the buckets: expired entries off the front (write order). */
static int drop_expired(PyObject *table, double now) {
    PyObject *key, *value;
    Py_ssize_t position = 0;
    while (PyDict_Next(table, &position, &key, &value)) {
        if (Py_TYPE(value) != &BucketType || ((Bucket *)value)->expires_ms > now) return 0;
        Py_INCREF(key);
        int failed = PyDict_DelItem(table, key);
        Py_DECREF(key);
        if (failed) return -1;
        position = 0;
    }
    return 0;
}

/* The throttled capacity: `capacity(limit)` answers (limit now, valid until) on the
 * throttling's clock, so it is asked again only once that time has come (DynamicThrottling
 * re-samples its load at most once per interval and answers the same in between); -1 on error. */
static long long throttled_capacity(AdmitNow *self) {
    double now;
    if (!read_clock(self->capacity_clock, CLOCK_MONOTONIC, &now)) return -1;
    if (now < self->capacity_until) return self->capacity_now;
    PyObject *limit = PyLong_FromLongLong(self->limit);
    if (limit == NULL) return -1;
    PyObject *answer = PyObject_CallOneArg(self->capacity, limit);
    Py_DECREF(limit);
    if (answer == NULL) return -1;
    long long capacity;
    double until;
    int parsed = PyArg_ParseTuple(answer, "Ld;capacity must answer (int, float)", &capacity,
                                  &until);
    Py_DECREF(answer);
    if (!parsed) return -1;
    if (capacity < 0) capacity = 0;
    self->capacity_now = capacity;
    self->capacity_until = until;
    return capacity;
}

/* The headers of an admitted request, or None (nothing changed: ask the Python path). */
static PyObject *AdmitNow_admit(AdmitNow *self, PyObject *key) {
    if (PyDict_GET_SIZE(self->extras) != 0 || !PyUnicode_CheckExact(key)) Py_RETURN_NONE;
    Py_ssize_t key_length = PyUnicode_GET_LENGTH(key);
    if (key_length == 0 || key_length > MAX_KEY_LENGTH) Py_RETURN_NONE;

    double now = now_ms(self);
    if (now < 0) return NULL;
    if (now >= self->next_prune_ms) {  /* as memory.py `_prune`: at most once per millisecond */
        self->next_prune_ms = now + 1.0;
        if (drop_expired(self->buckets, now) < 0) return NULL;
    }
    long long capacity = self->limit;
    if (self->capacity != Py_None) {
        capacity = throttled_capacity(self);
        if (capacity < 0) return NULL;
        if (capacity < 1) Py_RETURN_NONE;
    }

    double size = (double)capacity;
    double rate = size / self->window_ms;
    double tokens;
    Bucket *bucket = (Bucket *)PyDict_GetItemWithError(self->buckets, key);  /* borrowed */
    if (bucket == NULL && PyErr_Occurred()) return NULL;
    if (bucket != NULL && Py_TYPE(bucket) != &BucketType) Py_RETURN_NONE;
    if (bucket == NULL || bucket->expires_ms <= now) {
        tokens = size;
    } else {
        tokens = bucket->tokens + fmax(0.0, now - bucket->at_ms) * rate;
        if (size < tokens) tokens = size;
    }
    if (tokens < 1.0) Py_RETURN_NONE;  /* refused: the Python path answers 429 */
    tokens -= 1.0;
    double full_after = ceil((size - tokens) / rate);

    if (self->limit_cached != capacity || self->limit_header == NULL) {
        PyObject *limit_header = header(LIMIT_NAME, capacity);
        if (limit_header == NULL) return NULL;
        Py_XSETREF(self->limit_header, limit_header);
        self->limit_cached = capacity;
    }
    PyObject *headers = PyList_New(3);
    if (headers == NULL) return NULL;
    Py_INCREF(self->limit_header);
    PyList_SET_ITEM(headers, 0, self->limit_header);
    PyObject *remaining = header(REMAINING_NAME, (long long)floor(tokens));
    if (remaining == NULL) goto fail;
    PyList_SET_ITEM(headers, 1, remaining);
    PyObject *reset = header(RESET_NAME, (long long)ceil((now + full_after) / 1000.0));
    if (reset == NULL) goto fail;
    PyList_SET_ITEM(headers, 2, reset);

    /* From here on the request is admitted: write the bucket, count the decision. */
    if (bucket == NULL) {
        bucket = PyObject_New(Bucket, &BucketType);
        if (bucket == NULL) goto fail;
    } else {  /* moved to the end: dict order = write order (what drop_expired relies on) */
        Py_INCREF(bucket);
        if (PyDict_DelItem(self->buckets, key) < 0) { Py_DECREF(bucket); goto fail; }
    }
    bucket->tokens = tokens;
    bucket->at_ms = now;
    bucket->expires_ms = now + full_after + 1.0;
    int stored = PyDict_SetItem(self->buckets, key, (PyObject *)bucket);
    Py_DECREF(bucket);
    if (stored < 0) goto fail;
    if (self->counts != Py_None) {
        PyObject *count = PyDict_GetItemWithError(self->counts, ALLOWED);  /* borrowed */
        if (count == NULL && PyErr_Occurred()) goto fail;
        PyObject *next = count == NULL ? PyLong_FromLong(1)
                                       : PyNumber_Add(count, ONE);
        if (next == NULL) goto fail;
        stored = PyDict_SetItem(self->counts, ALLOWED, next);
        Py_DECREF(next);
        if (stored < 0) goto fail;
    }
    return headers;
fail:
    Py_DECREF(headers);
    return NULL;
}

static PyMethodDef AdmitNow_methods[] = {
    {"admit", (PyCFunction)AdmitNow_admit, METH_O,
     "admit(key): the X-RateLimit-* headers of an admitted request, or None (nothing changed)."},
    {NULL},
};

static PyTypeObject AdmitNowType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "app.rate_limiting._native_bucket.AdmitNow",
    .tp_doc = "AdmitNow(buckets, extras, limit, window_ms, capacity=None, counts=None, "
              "clock=None, capacity_clock=None)",
    .tp_basicsize = sizeof(AdmitNow),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)AdmitNow_init,
    .tp_dealloc = (destructor)AdmitNow_dealloc,
    .tp_traverse = (traverseproc)AdmitNow_traverse,
    .tp_clear = (inquiry)AdmitNow_clear,
    .tp_methods = AdmitNow_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "app.rate_limiting._native_bucket",
    "The in-memory limiter's per-request path, native (see native.py).", -1, NULL,
};

PyMODINIT_FUNC PyInit__native_bucket(void) {
    if (PyType_Ready(&BucketType) < 0 || PyType_Ready(&AdmitNowType) < 0) return NULL;
    LIMIT_NAME = PyBytes_FromString("x-ratelimit-limit");
    REMAINING_NAME = PyBytes_FromString("x-ratelimit-remaining");
    RESET_NAME = PyBytes_FromString("x-ratelimit-reset");
    ALLOWED = PyUnicode_InternFromString("allowed");
    ONE = PyLong_FromLong(1);
    if (!LIMIT_NAME || !REMAINING_NAME || !RESET_NAME || !ALLOWED || !ONE) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddType(m, &BucketType) < 0 || PyModule_AddType(m, &AdmitNowType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
