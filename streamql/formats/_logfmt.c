/* logfmt lines cut in C: streamql.formats.logfmt's rules, one pass over a line.
 *
 * record(line, keys) returns the line's record as a dict, a str naming why
 * the line breaks the rules (a bad escape), or None when text outside any
 * pair makes it a reject (streamql.formats.logfmt words that reason in Python; it is
 * the rare path). keys is None (every key, in first-seen order, the last
 * value winning) or a tuple of keys: then the dict holds exactly those, in
 * that order, None where absent.
 *
 * The rules are the regular expression's in streamql/formats/logfmt.py, which stays
 * the reference (the tests check both on the same lines):
 *   space   what str.isspace() calls space;
 *   key     a run of characters other than space, '=' and '"';
 *   pair    key, key=bare or key="quoted", then a space or the end;
 *   bare    a run of characters other than space and '"' (may be empty);
 *   quoted  '"', then characters other than '"' and '\', or '\' and any
 *           character but '\n', then '"'.
 * In a quoted value \" \\ \n \r \t \/ and \uXXXX are escapes; another one
 * makes the line a reject, whichever key it belongs to.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* str.isspace() for one code point; ASCII from a table. */
static const unsigned char ASCII_SPACE[128] = {
    ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, [' '] = 1,
};

static inline int
is_space(Py_UCS4 c)
{
    return c < 128 ? ASCII_SPACE[c] : Py_UNICODE_ISSPACE(c);
}

/* One pair's place in the line. */
typedef struct {
    Py_ssize_t key, key_end; /* the key */
    Py_ssize_t value, value_end; /* the value's text, quotes excluded; value < 0: a bare key */
    int escaped; /* a quoted value holding a backslash */
} Pair;

static int
hex_digit(Py_UCS4 c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* Unescape a quoted value into a new str; on a bad escape set *bad to its
 * character and return NULL with no exception; NULL with *bad == 0 is an error. */
static PyObject *
unescape(int kind, const void *data, Py_ssize_t start, Py_ssize_t end, Py_UCS4 *bad)
{
    Py_UCS4 *buffer = PyMem_Malloc(sizeof(Py_UCS4) * (size_t)(end - start + 1));
    Py_ssize_t n = 0;
    PyObject *result = NULL;
    *bad = 0;
    if (buffer == NULL)
        return PyErr_NoMemory();
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c != '\\') {
            buffer[n++] = c;
            continue;
        }
        c = PyUnicode_READ(kind, data, ++i); /* the quoted scan saw a character here */
        switch (c) {
        case '"': case '\\': case '/': buffer[n++] = c; break;
        case 'n': buffer[n++] = '\n'; break;
        case 'r': buffer[n++] = '\r'; break;
        case 't': buffer[n++] = '\t'; break;
        case 'u': {
            int code = 0;
            if (i + 4 < end) {
                for (int k = 1; k <= 4 && code >= 0; k++) {
                    int d = hex_digit(PyUnicode_READ(kind, data, i + k));
                    code = d < 0 ? -1 : code * 16 + d;
                }
            } else {
                code = -1;
            }
            if (code < 0) {
                *bad = 'u';
                goto done;
            }
            buffer[n++] = (Py_UCS4)code;
            i += 4;
            break;
        }
        default:
            *bad = c;
            goto done;
        }
    }
    result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buffer, n);
done:
    PyMem_Free(buffer);
    return result;
}

/* Cut a line into pairs; return their number, -1 for text outside a pair
 * (a reject), -2 on memory error. *pairs starts as the caller's stack array
 * and moves to the heap if the line has more pairs than it holds. */
static Py_ssize_t
cut(int kind, const void *data, Py_ssize_t n, Pair **pairs, Py_ssize_t *room, Pair *stack)
{
    Py_ssize_t count = 0, pos = 0;
    for (;;) {
        while (pos < n && is_space(PyUnicode_READ(kind, data, pos)))
            pos++;
        if (pos == n)
            return count;
        if (count == *room) {
            Py_ssize_t bigger = *room * 2;
            Pair *grown;
            if (*pairs == stack) {
                grown = PyMem_Malloc(sizeof(Pair) * (size_t)bigger);
                if (grown != NULL)
                    memcpy(grown, stack, sizeof(Pair) * (size_t)*room);
            } else {
                grown = PyMem_Realloc(*pairs, sizeof(Pair) * (size_t)bigger);
            }
            if (grown == NULL)
                return -2;
            *pairs = grown;
            *room = bigger;
        }
        Pair *p = &(*pairs)[count];
        Py_UCS4 c = 0;
        p->key = pos;
        while (pos < n) {
            c = PyUnicode_READ(kind, data, pos);
            if (c == '=' || c == '"' || is_space(c))
                break;
            pos++;
        }
        if (pos == p->key)
            return -1; /* '=' or '"' where a key starts */
        p->key_end = pos;
        p->escaped = 0;
        if (pos == n || is_space(c)) {
            p->value = p->value_end = -1; /* a bare key */
            count++;
            continue;
        }
        if (c == '"')
            return -1;
        pos++; /* '=' */
        if (pos < n && PyUnicode_READ(kind, data, pos) == '"') {
            p->value = ++pos;
            for (;;) {
                if (pos == n)
                    return -1; /* unterminated */
                c = PyUnicode_READ(kind, data, pos);
                if (c == '"')
                    break;
                if (c == '\\') {
                    if (pos + 1 == n || PyUnicode_READ(kind, data, pos + 1) == '\n')
                        return -1;
                    p->escaped = 1;
                    pos += 2;
                } else {
                    pos++;
                }
            }
            p->value_end = pos++;
            if (pos < n && !is_space(PyUnicode_READ(kind, data, pos)))
                return -1; /* text straight after the closing quote */
        } else {
            p->value = pos;
            while (pos < n) {
                c = PyUnicode_READ(kind, data, pos);
                if (c == '"')
                    return -1; /* a quote inside a bare value */
                if (is_space(c))
                    break;
                pos++;
            }
            p->value_end = pos;
        }
        count++;
    }
}

/* A pair's value as a new object (True for a bare key); NULL with *bad set
 * for a bad escape, NULL with *bad == 0 on error. */
static PyObject *
value_of(PyObject *line, int kind, const void *data, const Pair *p, Py_UCS4 *bad)
{
    *bad = 0;
    if (p->value < 0)
        Py_RETURN_TRUE;
    if (p->escaped)
        return unescape(kind, data, p->value, p->value_end, bad);
    return PyUnicode_Substring(line, p->value, p->value_end);
}

/* The index in keys of the pair's key, or -1. */
static Py_ssize_t
wanted(PyObject *keys, int kind, const void *data, const Pair *p)
{
    Py_ssize_t length = p->key_end - p->key;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(keys); k++) {
        PyObject *key = PyTuple_GET_ITEM(keys, k);
        if (PyUnicode_GET_LENGTH(key) != length)
            continue;
        int key_kind = PyUnicode_KIND(key);
        const void *key_data = PyUnicode_DATA(key);
        if (key_kind == kind) {
            if (memcmp(key_data, (const char *)data + p->key * kind, (size_t)(length * kind)) == 0)
                return k;
            continue;
        }
        Py_ssize_t i = 0;
        while (i < length && PyUnicode_READ(key_kind, key_data, i) == PyUnicode_READ(kind, data, p->key + i))
            i++;
        if (i == length)
            return k;
    }
    return -1;
}

static PyObject *
bad_escape(Py_UCS4 c)
{
    return PyUnicode_FromFormat("unknown escape \\%c", (int)c);
}

static PyObject *
record(PyObject *self, PyObject *args)
{
    PyObject *line, *keys, *result = NULL, *dict = NULL;
    PyObject **slots = NULL;
    Pair stack[32];
    Pair *pairs = stack;
    Py_ssize_t room = 32, count;
    Py_UCS4 bad;
    (void)self;
    if (!PyArg_ParseTuple(args, "UO:record", &line, &keys))
        return NULL;
    if (keys != Py_None && !PyTuple_Check(keys)) {
        PyErr_SetString(PyExc_TypeError, "record: keys must be None or a tuple of str");
        return NULL;
    }
    int kind = PyUnicode_KIND(line);
    const void *data = PyUnicode_DATA(line);
    count = cut(kind, data, PyUnicode_GET_LENGTH(line), &pairs, &room, stack);
    if (count == -2) {
        PyErr_NoMemory();
        goto done;
    }
    if (count == -1) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (count == 0) {
        result = PyUnicode_FromString("blank line");
        goto done;
    }
    if (keys == Py_None) {
        if ((dict = PyDict_New()) == NULL)
            goto done;
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *value = value_of(line, kind, data, &pairs[i], &bad);
            if (value == NULL) {
                if (bad)
                    result = bad_escape(bad);
                goto done;
            }
            PyObject *key = PyUnicode_Substring(line, pairs[i].key, pairs[i].key_end);
            int failed = key == NULL || PyDict_SetItem(dict, key, value) < 0;
            Py_XDECREF(key);
            Py_DECREF(value);
            if (failed)
                goto done;
        }
        result = Py_NewRef(dict);
        goto done;
    }
    Py_ssize_t nkeys = PyTuple_GET_SIZE(keys);
    for (Py_ssize_t k = 0; k < nkeys; k++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(keys, k))) {
            PyErr_SetString(PyExc_TypeError, "record: keys must be None or a tuple of str");
            goto done;
        }
    }
    if ((slots = PyMem_Calloc((size_t)nkeys + 1, sizeof(PyObject *))) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t k = wanted(keys, kind, data, &pairs[i]);
        if (k < 0) {
            if (pairs[i].escaped) { /* a value not kept must still be well escaped */
                PyObject *value = value_of(line, kind, data, &pairs[i], &bad);
                if (value == NULL) {
                    if (bad)
                        result = bad_escape(bad);
                    goto done;
                }
                Py_DECREF(value);
            }
            continue;
        }
        PyObject *value = value_of(line, kind, data, &pairs[i], &bad);
        if (value == NULL) {
            if (bad)
                result = bad_escape(bad);
            goto done;
        }
        Py_XSETREF(slots[k], value);
    }
    if ((dict = PyDict_New()) == NULL)
        goto done;
    for (Py_ssize_t k = 0; k < nkeys; k++) {
        if (PyDict_SetItem(dict, PyTuple_GET_ITEM(keys, k), slots[k] ? slots[k] : Py_None) < 0)
            goto done;
    }
    result = Py_NewRef(dict);
done:
    if (slots != NULL) {
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(keys); k++)
            Py_XDECREF(slots[k]);
        PyMem_Free(slots);
    }
    Py_XDECREF(dict);
    if (pairs != stack)
        PyMem_Free(pairs);
    return result;
}

static PyMethodDef methods[] = {
    {"record", record, METH_VARARGS,
     "record(line, keys) -> dict, str (why the line is a reject) or None (text outside a pair)\n\n"
     "Cut one logfmt line into its record; see streamql.formats.logfmt."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "streamql.formats._logfmt", "logfmt lines cut in C.", -1, methods,
};

PyMODINIT_FUNC
PyInit__logfmt(void)
{
    return PyModule_Create(&module);
}
