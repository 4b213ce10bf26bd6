/* streamql._scanner: check every line of a block of Apache log lines in one pass.

   scan(block, format, fields, needles=()) -> (lines, column, ..., rows) or None

   The same test as streamql.apache.block_pattern(format, ...) with
   re.MULTILINE, where a block is good when the pattern matches every one of
   its lines: a line is host ident user [timestamp] "request" status bytes, with
   ` "referer" "agent"` after it in combined lines, then spaces or tabs. The
   timestamp is checked in full (month names, days per month, leap years,
   hours, offsets). Quoted fields hold no newline, and no '"' or '\' other
   than escaped as \x (x not a newline). Hosts, idents and users hold no
   whitespace as str.isspace() sees it, which is what the regex's \S means.

   `format` is 0 (common or combined, line by line), 1 (common) or 2
   (combined). `fields` is a bit mask over streamql.apache.BLOCK_FIELDS: one
   list per bit set follows the line count, in that order. status and bytes
   are ints (bytes "-" is 0), the other fields str.

   With `needles` (a tuple of str), every line is still checked, but only the
   lines holding one of the needles give their fields, and one more list, the
   0-based numbers of those lines in the block, ends the tuple. The needles
   are found by CPython's own substring search over the whole block, so
   lines without them cost nothing more than their check.

   It returns None at the first line the test refuses, so the caller parses
   that block line by line, as it does when the regex refuses a block. The
   pure-Python path (streamql.scan) is the regex; the tests compare the two. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

enum { HOST, IDENT, USER, REQ, STATUS, BYTES, REFERER, AGENT, NFIELDS };
enum { AUTO, COMMON, COMBINED };

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* One line's fields, as [start, end) offsets into the block. */
typedef struct {
    Py_ssize_t start[NFIELDS], end[NFIELDS];
} Spans;

static const char *const MONTHS[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

static int
two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* The 28 characters of "[24/Feb/2008:00:08:59 -0600]", copied as ASCII. */
static int
good_timestamp(const char *t)
{
    static const char shape[] = "[00/Aaa/0000:00:00:00 +0000]";
    for (int i = 0; i < 28; i++) {
        char want = shape[i], c = t[i];
        if (want == '0') {
            if (c < '0' || c > '9')
                return 0;
        }
        else if (want == 'A' || want == 'a') {
            continue; /* the month, checked below */
        }
        else if (want == '+') {
            if (c != '+' && c != '-')
                return 0;
        }
        else if (c != want) {
            return 0;
        }
    }
    int month = -1;
    for (int m = 0; m < 12; m++) {
        if (memcmp(t + 4, MONTHS[m], 3) == 0) {
            month = m;
            break;
        }
    }
    if (month < 0)
        return 0;
    int day = two(t + 1);
    int year = two(t + 8) * 100 + two(t + 10);
    if (year == 0 || day == 0)
        return 0;
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    int last = DAYS[month] + (month == 1 && leap);
    if (day > last)
        return 0;
    return two(t + 13) <= 23 && two(t + 16) <= 59 && two(t + 19) <= 59 && two(t + 23) <= 23 &&
           two(t + 25) <= 59;
}

/* Scan one line of a block of `kind` from `i`; return the offset of its end
   (its newline, or the end of the block), or -1 if the pattern refuses it.
   Inlined into one copy per kind, so PyUnicode_READ costs no switch. */
ALWAYS_INLINE Py_ssize_t
scan_line(int kind, const void *data, Py_ssize_t n, Py_ssize_t i, int format, Spans *sp)
{
#define AT(k) PyUnicode_READ(kind, data, (k))
    /* host, ident, user: \S+ and one space */
    for (int f = HOST; f <= USER; f++) {
        sp->start[f] = i;
        while (i < n && !Py_UNICODE_ISSPACE(AT(i)))
            i++;
        if (i == sp->start[f] || i >= n || AT(i) != ' ')
            return -1;
        sp->end[f] = i++;
    }
    if (n - i < 30) /* the timestamp, a space and at least '""' */
        return -1;
    char stamp[28];
    for (int k = 0; k < 28; k++) {
        Py_UCS4 c = AT(i + k);
        if (c > 127)
            return -1;
        stamp[k] = (char)c;
    }
    if (!good_timestamp(stamp))
        return -1;
    i += 28;
    /* the request; then status and bytes; then referer and agent, if any */
    static const int quoted[3] = {REQ, REFERER, AGENT};
    for (int q = 0; q < 3; q++) {
        if (q == 1) {
            /* status: three digits; bytes: digits or "-" */
            if (n - i < 6 || AT(i) != ' ')
                return -1;
            Py_ssize_t s = ++i;
            for (; i < s + 3; i++)
                if (AT(i) < '0' || AT(i) > '9')
                    return -1;
            sp->start[STATUS] = s, sp->end[STATUS] = i;
            if (AT(i) != ' ')
                return -1;
            s = ++i;
            if (AT(i) == '-') {
                i++;
            }
            else {
                while (i < n && AT(i) >= '0' && AT(i) <= '9')
                    i++;
                if (i == s)
                    return -1;
            }
            sp->start[BYTES] = s, sp->end[BYTES] = i;
            int tail = n - i >= 2 && AT(i) == ' ' && AT(i + 1) == '"';
            if (format == COMMON || (format == AUTO && !tail))
                break;
            if (!tail)
                return -1;
        }
        /* ' "', then [^"\\\n]* (\\. [^"\\\n]*)* and '"' */
        if (n - i < 2 || AT(i) != ' ' || AT(i + 1) != '"')
            return -1;
        i += 2;
        sp->start[quoted[q]] = i;
        for (;;) {
            if (i >= n)
                return -1;
            Py_UCS4 c = AT(i);
            if (c == '"')
                break;
            if (c == '\n')
                return -1;
            if (c == '\\') {
                if (i + 1 >= n || AT(i + 1) == '\n')
                    return -1;
                i++;
            }
            i++;
        }
        sp->end[quoted[q]] = i++;
    }
    while (i < n && (AT(i) == ' ' || AT(i) == '\t'))
        i++;
    if (i < n && AT(i) != '\n')
        return -1;
    return i;
#undef AT
}

/* An int from the digits of block[start:end] ("-" is 0). */
static PyObject *
digits_to_int(PyObject *block, int kind, const void *data, Py_ssize_t start, Py_ssize_t end)
{
    if (end - start > 18) {
        PyObject *text = PyUnicode_Substring(block, start, end);
        if (text == NULL)
            return NULL;
        PyObject *value = PyLong_FromUnicodeObject(text, 10);
        Py_DECREF(text);
        return value;
    }
    long long value = 0;
    for (Py_ssize_t k = start; k < end; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, k);
        if (c == '-')
            return PyLong_FromLong(0);
        value = value * 10 + (c - '0');
    }
    return PyLong_FromLongLong(value);
}

#define MAX_NEEDLES 16

/* Where each needle is found next in the block, from one line on. */
typedef struct {
    PyObject *block;
    PyObject *needles;
    Py_ssize_t count, n, next[MAX_NEEDLES];
} Needles;

/* Tell whether the line [start, end) holds a needle (one that starts in it:
   a needle running past the line's end makes it a candidate too, which the
   caller's exact test then drops). -1 on error. */
static int
holds_needle(Needles *nd, Py_ssize_t start, Py_ssize_t end)
{
    int hit = 0;
    for (Py_ssize_t k = 0; k < nd->count; k++) {
        if (nd->next[k] < start) {
            Py_ssize_t at = PyUnicode_Find(nd->block, PyTuple_GET_ITEM(nd->needles, k), start, nd->n, 1);
            if (at == -2)
                return -1;
            nd->next[k] = at < 0 ? nd->n : at;
        }
        if (nd->next[k] < end)
            hit = 1;
    }
    return hit;
}

ALWAYS_INLINE PyObject *
scan_block(PyObject *block, int kind, int format, unsigned fields, PyObject **columns, Needles *nd)
{
    const void *data = PyUnicode_DATA(block);
    Py_ssize_t n = PyUnicode_GET_LENGTH(block);
    Py_ssize_t i = 0, lines = 0;
    Spans sp;
    while (i < n) {
        Py_ssize_t end = scan_line(kind, data, n, i, format, &sp);
        if (end < 0)
            Py_RETURN_NONE;
        int wanted = 1;
        if (nd != NULL) {
            wanted = holds_needle(nd, i, end == n ? n : end + 1);
            if (wanted < 0)
                return NULL;
        }
        int c = 0;
        for (int f = 0; wanted && f < NFIELDS; f++) {
            if (!(fields & (1u << f)))
                continue;
            PyObject *value;
            if (f == STATUS || f == BYTES)
                value = digits_to_int(block, kind, data, sp.start[f], sp.end[f]);
            else
                value = PyUnicode_Substring(block, sp.start[f], sp.end[f]);
            if (value == NULL)
                return NULL;
            int failed = PyList_Append(columns[c++], value);
            Py_DECREF(value);
            if (failed)
                return NULL;
        }
        if (wanted && nd != NULL) {
            PyObject *row = PyLong_FromSsize_t(lines);
            if (row == NULL)
                return NULL;
            int failed = PyList_Append(columns[c], row);
            Py_DECREF(row);
            if (failed)
                return NULL;
        }
        lines++;
        i = end + 1;
    }
    return PyLong_FromSsize_t(lines);
}

static PyObject *
scan(PyObject *module, PyObject *args)
{
    PyObject *block, *needles = NULL;
    int format;
    unsigned int fields;
    if (!PyArg_ParseTuple(args, "UiI|O!:scan", &block, &format, &fields, &PyTuple_Type, &needles))
        return NULL;
    if (format < AUTO || format > COMBINED) {
        PyErr_Format(PyExc_ValueError, "scan: format must be 0, 1 or 2, got %d", format);
        return NULL;
    }
    if (fields >= (1u << NFIELDS)) {
        PyErr_Format(PyExc_ValueError, "scan: fields is a mask of %d bits, got %u", NFIELDS, fields);
        return NULL;
    }
    if (format != COMBINED && (fields & ((1u << REFERER) | (1u << AGENT)))) {
        PyErr_SetString(PyExc_ValueError, "scan: referer and agent are in combined lines only");
        return NULL;
    }
    Needles nd, *ndp = NULL;
    if (needles != NULL && PyTuple_GET_SIZE(needles) > 0) {
        if (PyTuple_GET_SIZE(needles) > MAX_NEEDLES) {
            PyErr_Format(PyExc_ValueError, "scan: at most %d needles, got %zd", MAX_NEEDLES,
                         PyTuple_GET_SIZE(needles));
            return NULL;
        }
        nd.block = block, nd.needles = needles, nd.n = PyUnicode_GET_LENGTH(block);
        nd.count = PyTuple_GET_SIZE(needles);
        for (Py_ssize_t k = 0; k < nd.count; k++) {
            PyObject *needle = PyTuple_GET_ITEM(needles, k);
            if (!PyUnicode_Check(needle) || PyUnicode_GET_LENGTH(needle) == 0) {
                PyErr_SetString(PyExc_TypeError, "scan: needles must be non-empty str");
                return NULL;
            }
            nd.next[k] = -1;
        }
        ndp = &nd;
    }
    PyObject *columns[NFIELDS + 1];
    int ncolumns = 0;
    for (int f = 0; f < NFIELDS + 1; f++) {
        if (f < NFIELDS ? (fields & (1u << f)) != 0 : ndp != NULL) {
            columns[ncolumns] = PyList_New(0);
            if (columns[ncolumns] == NULL)
                goto fail;
            ncolumns++;
        }
    }
    PyObject *lines;
    switch (PyUnicode_KIND(block)) {
    case PyUnicode_1BYTE_KIND:
        lines = scan_block(block, PyUnicode_1BYTE_KIND, format, fields, columns, ndp);
        break;
    case PyUnicode_2BYTE_KIND:
        lines = scan_block(block, PyUnicode_2BYTE_KIND, format, fields, columns, ndp);
        break;
    default:
        lines = scan_block(block, PyUnicode_4BYTE_KIND, format, fields, columns, ndp);
        break;
    }
    if (lines == NULL)
        goto fail;
    if (lines == Py_None) {
        for (int c = 0; c < ncolumns; c++)
            Py_DECREF(columns[c]);
        return lines;
    }
    PyObject *result = PyTuple_New(1 + ncolumns);
    if (result == NULL) {
        Py_DECREF(lines);
        goto fail;
    }
    PyTuple_SET_ITEM(result, 0, lines);
    for (int c = 0; c < ncolumns; c++)
        PyTuple_SET_ITEM(result, 1 + c, columns[c]);
    return result;
fail:
    for (int c = 0; c < ncolumns; c++)
        Py_DECREF(columns[c]);
    return NULL;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(block, format, fields, needles=()) -> (lines, column, ..., rows) or None\n\n"
     "Check every line of a block of Apache log lines; see streamql.scan."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "streamql._scanner", "Apache log blocks checked in C.", -1, methods,
};

PyMODINIT_FUNC
PyInit__scanner(void)
{
    return PyModule_Create(&module);
}
