/* Native twins of the runtime's per-request header work (optional; FLOODGATE_NATIVE=0 or no
 * compiler at install time runs the Python twins):
 *   first_header(headers, names)  app/http_headers.py `_first_header`
 *   request_id_of(scope)          app/monitoring/correlation.py `_request_id_of`
 *   fresh_request_id()            app/monitoring/correlation.py `_fresh_request_id`
 *   reseed(seed)                  new random state for fresh ids (at import, and in a forked child)
 *
 * first_header:
 * Why native: every request's headers are searched three times (its X-Request-ID, its API key,
 * whether it announces a body), and a Python loop over a request's headers costs ~15 bytecodes
 * per header per search; this walks the list once per search in C. Same answers as the Python
 * twin (tests/app/test_http_headers.py holds them to it): the value of the first header whose
 * name equals one of `names` ignoring ASCII case, or None; names that are not bytes never match;
 * an item that is not a (name, value) pair raises ValueError, as unpacking it in Python would.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *HEADERS_KEY;  /* "headers" */

static int ascii_lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* name (any case) == wanted (lowercase), both `size` bytes */
static int same_name(const char *name, const char *wanted, Py_ssize_t size) {
    for (Py_ssize_t i = 0; i < size; i++)
        if (ascii_lower((unsigned char)name[i]) != (unsigned char)wanted[i]) return 0;
    return 1;
}

/* The first value of a header named one of `names` (a tuple of bytes, checked by the caller):
 * a new reference, Py_None when there is none, NULL with an exception set. */
static PyObject *find_first(PyObject *headers_in, PyObject *names) {
    Py_ssize_t wanted_count = PyTuple_GET_SIZE(names);
    PyObject *headers = PySequence_Fast(headers_in, "headers must be iterable");
    if (headers == NULL) return NULL;
    PyObject *found = NULL;  /* a new reference once a header matched */
    Py_ssize_t count = PySequence_Fast_GET_SIZE(headers);
    for (Py_ssize_t i = 0; i < count && found == NULL; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(headers, i);
        PyObject *pair;
        if (PyTuple_CheckExact(item)) {  /* what servers send: no call to make */
            pair = item;
            Py_INCREF(pair);
        } else {
            pair = PySequence_Fast(item, "a header must be a (name, value) pair");
            if (pair == NULL) break;
        }
        if (PySequence_Fast_GET_SIZE(pair) != 2) {
            Py_DECREF(pair);
            PyErr_SetString(PyExc_ValueError, "a header must be a (name, value) pair");
            break;
        }
        PyObject *name = PySequence_Fast_GET_ITEM(pair, 0);
        if (PyBytes_Check(name)) {
            Py_ssize_t size = PyBytes_GET_SIZE(name);
            for (Py_ssize_t w = 0; w < wanted_count; w++) {
                PyObject *wanted = PyTuple_GET_ITEM(names, w);
                if (PyBytes_GET_SIZE(wanted) == size &&
                    same_name(PyBytes_AS_STRING(name), PyBytes_AS_STRING(wanted), size)) {
                    found = PySequence_Fast_GET_ITEM(pair, 1);
                    Py_INCREF(found);
                    break;
                }
            }
        }
        Py_DECREF(pair);
    }
    Py_DECREF(headers);
    if (PyErr_Occurred()) {
        Py_XDECREF(found);
        return NULL;
    }
    if (found == NULL) Py_RETURN_NONE;
    return found;
}

static PyObject *first_header(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "first_header(headers, names) takes two arguments");
        return NULL;
    }
    PyObject *names = args[1];
    int valid = PyTuple_Check(names);
    for (Py_ssize_t w = 0; valid && w < PyTuple_GET_SIZE(names); w++)
        valid = PyBytes_Check(PyTuple_GET_ITEM(names, w));
    if (!valid) {
        PyErr_SetString(PyExc_TypeError, "names must be a tuple of lowercase bytes");
        return NULL;
    }
    return find_first(args[0], names);
}


/* -- request ids ---------------------------------------------------------------------------- */

#define MAX_REQUEST_ID_LENGTH 128 /* correlation.py MAX_REQUEST_ID_LENGTH */
static PyObject *REQUEST_ID_NAME;  /* b"x-request-id" */
static PyObject *REQUEST_ID_NAMES; /* (REQUEST_ID_NAME,) */

/* xoshiro256** (Blackman and Vigna): ids must be unique, not unguessable, and drawing 128 bits
 * here costs a few nanoseconds where Python's random + hex + slicing cost ~5,000 instructions an
 * id. Seeded from os.urandom by correlation.py at import and again in every forked child. */
static uint64_t rng[4] = {0x9E3779B97F4A7C15ULL, 0xBF58476D1CE4E5B9ULL, 0x94D049BB133111EBULL, 1};

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_random(void) {
    uint64_t result = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;
    rng[2] ^= rng[0]; rng[3] ^= rng[1]; rng[1] ^= rng[2]; rng[0] ^= rng[3];
    rng[2] ^= t; rng[3] = rotl(rng[3], 45);
    return result;
}

static PyObject *reseed(PyObject *module, PyObject *seed) {
    if (!PyBytes_Check(seed) || PyBytes_GET_SIZE(seed) != 32) {
        PyErr_SetString(PyExc_ValueError, "reseed needs 32 bytes (os.urandom(32))");
        return NULL;
    }
    memcpy(rng, PyBytes_AS_STRING(seed), 32);
    if ((rng[0] | rng[1] | rng[2] | rng[3]) == 0) rng[3] = 1;  /* the one state it cannot leave */
    Py_RETURN_NONE;
}

/* (id, (b"x-request-id", id bytes)) for `length` ASCII bytes at `text` */
static PyObject *id_and_header(const char *text, Py_ssize_t length, PyObject *value) {
    PyObject *id = PyUnicode_DecodeASCII(text, length, NULL);
    if (id == NULL) return NULL;
    if (value == NULL) {
        value = PyBytes_FromStringAndSize(text, length);
        if (value == NULL) { Py_DECREF(id); return NULL; }
    } else {
        Py_INCREF(value);
    }
    PyObject *header = PyTuple_New(2), *pair = PyTuple_New(2);
    if (header == NULL || pair == NULL) {
        Py_XDECREF(header); Py_XDECREF(pair); Py_DECREF(id); Py_DECREF(value);
        return NULL;
    }
    Py_INCREF(REQUEST_ID_NAME);
    PyTuple_SET_ITEM(header, 0, REQUEST_ID_NAME);
    PyTuple_SET_ITEM(header, 1, value);
    PyTuple_SET_ITEM(pair, 0, id);
    PyTuple_SET_ITEM(pair, 1, header);
    return pair;
}

static PyObject *fresh_request_id(PyObject *module, PyObject *unused) {
    static const char hex[] = "0123456789abcdef";
    char text[32];
    for (int half = 0; half < 2; half++) {
        uint64_t bits = next_random();
        for (int i = 0; i < 16; i++, bits >>= 4) text[half * 16 + i] = hex[bits & 15];
    }
    return id_and_header(text, 32, NULL);
}

/* correlation.py _WELL_FORMED: 1 to 128 of A-Z a-z 0-9 . _ : - */
static int well_formed(PyObject *value) {
    if (!PyBytes_Check(value)) return 0;
    Py_ssize_t length = PyBytes_GET_SIZE(value);
    if (length < 1 || length > MAX_REQUEST_ID_LENGTH) return 0;
    const unsigned char *text = (const unsigned char *)PyBytes_AS_STRING(value);
    for (Py_ssize_t i = 0; i < length; i++) {
        unsigned char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

static PyObject *request_id_of(PyObject *module, PyObject *scope) {
    PyObject *headers = PyObject_GetItem(scope, HEADERS_KEY);
    if (headers == NULL) return NULL;
    PyObject *value = find_first(headers, REQUEST_ID_NAMES);
    Py_DECREF(headers);
    if (value == NULL) return NULL;
    PyObject *answer = well_formed(value)
        ? id_and_header(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value), value)
        : fresh_request_id(module, NULL);
    Py_DECREF(value);
    return answer;
}

static PyMethodDef methods[] = {
    {"first_header", (PyCFunction)(void (*)(void))first_header, METH_FASTCALL,
     "first_header(headers, names): the value of the first header named one of `names` "
     "(lowercase bytes; names compared ignoring ASCII case), or None."},
    {"request_id_of", (PyCFunction)request_id_of, METH_O,
     "request_id_of(scope): (id, its response header): the well-formed X-Request-ID or a fresh id."},
    {"fresh_request_id", (PyCFunction)fresh_request_id, METH_NOARGS,
     "fresh_request_id(): (32 hex characters, their response header)."},
    {"reseed", (PyCFunction)reseed, METH_O, "reseed(32 random bytes): new state for fresh ids."},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "app._native_headers",
    "Per-request header work, native (see app/http_headers.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__native_headers(void) {
    REQUEST_ID_NAME = PyBytes_FromString("x-request-id");
    HEADERS_KEY = PyUnicode_InternFromString("headers");
    if (REQUEST_ID_NAME == NULL || HEADERS_KEY == NULL) return NULL;
    REQUEST_ID_NAMES = PyTuple_Pack(1, REQUEST_ID_NAME);
    if (REQUEST_ID_NAMES == NULL) return NULL;
    return PyModule_Create(&module);
}
