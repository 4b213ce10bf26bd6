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
#include <datetime.h>

enum { HOST, IDENT, USER, REQ, STATUS, BYTES, REFERER, AGENT, NFIELDS };
enum { AUTO, COMMON, COMBINED };

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* One line's fields, as [start, end) offsets into the block; where its
   timestamp starts (at the '['); whether it has referer and agent. */
typedef struct {
    Py_ssize_t start[NFIELDS], end[NFIELDS];
    Py_ssize_t stamp;
    int combined;
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
    sp->stamp = i;
    sp->combined = 0;
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
            sp->combined = 1;
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

/* Append a new reference to a list, and let it go (it may be NULL: an error). */
static int
set_append(PyObject *list, PyObject *value)
{
    if (value == NULL)
        return -1;
    int failed = PyList_Append(list, value);
    Py_DECREF(value);
    return failed;
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
            if (set_append(columns[c++], value))
                return NULL;
        }
        if (wanted && nd != NULL && set_append(columns[c], PyLong_FromSsize_t(lines)))
            return NULL;
        lines++;
        i = end + 1;
    }
    return PyLong_FromSsize_t(lines);
}

/* Check the needles argument of scan and records; fill nd. 0 if there are none. */
static int
take_needles(PyObject *block, PyObject *needles, Needles *nd)
{
    if (needles == NULL || PyTuple_GET_SIZE(needles) == 0)
        return 0;
    if (PyTuple_GET_SIZE(needles) > MAX_NEEDLES) {
        PyErr_Format(PyExc_ValueError, "scan: at most %d needles, got %zd", MAX_NEEDLES,
                     PyTuple_GET_SIZE(needles));
        return -1;
    }
    nd->block = block, nd->needles = needles, nd->n = PyUnicode_GET_LENGTH(block);
    nd->count = PyTuple_GET_SIZE(needles);
    for (Py_ssize_t k = 0; k < nd->count; k++) {
        PyObject *needle = PyTuple_GET_ITEM(needles, k);
        if (!PyUnicode_Check(needle) || PyUnicode_GET_LENGTH(needle) == 0) {
            PyErr_SetString(PyExc_TypeError, "scan: needles must be non-empty str");
            return -1;
        }
        nd->next[k] = -1;
    }
    return 1;
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
    switch (take_needles(block, needles, &nd)) {
    case -1:
        return NULL;
    case 1:
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


/* ------------------------------------------------------------------------
   records(block, start, max_lines, format, requests, timezone, needles=())
     -> (records, starts, lines, end) or None

   Build the records streamql.apache.parse_apache yields for up to max_lines
   lines of block from offset start: the same dicts, keys in the same order,
   the datetime aware. `requests` maps a request text to its (method,
   request, proto) (a streamql.apache.RequestParts); `timezone` turns an
   offset such as "-0600" into a tzinfo. With needles, only the lines holding
   one become records. Returns the records, the offset where each one's line
   starts, the lines passed (records or not) and the offset after them; None
   if one of them is refused, so that the caller parses them one by one. */

enum { K_HOST, K_IDENT, K_USER, K_DATETIME, K_METHOD, K_REQUEST, K_PROTO, K_STATUS, K_BYTES,
       K_REFERER, K_AGENT, NKEYS };
static const char *const KEY_NAMES[NKEYS] = {
    "host", "ident", "user", "datetime", "method", "request", "proto", "status", "bytes",
    "referer", "agent",
};
static PyObject *KEYS[NKEYS];

/* The last timezone met, by its offset text: lines of a log share one. */
typedef struct {
    PyObject *requests, *timezone, *tz;
    char offset[5];
} Maker;

static int
set_new(PyObject *record, int key, PyObject *value)
{
    if (value == NULL)
        return -1;
    int failed = PyDict_SetItem(record, KEYS[key], value);
    Py_DECREF(value);
    return failed;
}

static PyObject *
when(PyObject *block, int kind, const void *data, Py_ssize_t at, Maker *mk)
{
    char t[28];
    for (int k = 0; k < 28; k++)
        t[k] = (char)PyUnicode_READ(kind, data, at + k); /* ASCII: checked by scan_line */
    if (mk->tz == NULL || memcmp(mk->offset, t + 22, 5) != 0) {
        PyObject *text = PyUnicode_FromStringAndSize(t + 22, 5);
        if (text == NULL)
            return NULL;
        PyObject *tz = PyObject_CallOneArg(mk->timezone, text);
        Py_DECREF(text);
        if (tz == NULL)
            return NULL;
        if (tz == Py_None) {
            Py_DECREF(tz);
            PyErr_Format(PyExc_ValueError, "records: no timezone for %.5s", t + 22);
            return NULL;
        }
        Py_XSETREF(mk->tz, tz);
        memcpy(mk->offset, t + 22, 5);
    }
    int month = 0;
    while (memcmp(t + 4, MONTHS[month], 3) != 0)
        month++;
    return PyDateTimeAPI->DateTime_FromDateAndTime(
        two(t + 8) * 100 + two(t + 10), month + 1, two(t + 1), two(t + 13), two(t + 16),
        two(t + 19), 0, mk->tz, PyDateTimeAPI->DateTimeType);
}

static PyObject *
make_record(PyObject *block, int kind, const void *data, const Spans *sp, Maker *mk)
{
    PyObject *req = PyUnicode_Substring(block, sp->start[REQ], sp->end[REQ]);
    if (req == NULL)
        return NULL;
    PyObject *parts = PyObject_GetItem(mk->requests, req);
    Py_DECREF(req);
    if (parts == NULL)
        return NULL;
    if (!PyTuple_Check(parts) || PyTuple_GET_SIZE(parts) != 3) {
        Py_DECREF(parts);
        PyErr_SetString(PyExc_TypeError, "records: requests must give 3-tuples");
        return NULL;
    }
    PyObject *record = PyDict_New();
    if (record == NULL) {
        Py_DECREF(parts);
        return NULL;
    }
    int failed = set_new(record, K_HOST, PyUnicode_Substring(block, sp->start[HOST], sp->end[HOST])) ||
                 set_new(record, K_IDENT, PyUnicode_Substring(block, sp->start[IDENT], sp->end[IDENT])) ||
                 set_new(record, K_USER, PyUnicode_Substring(block, sp->start[USER], sp->end[USER])) ||
                 set_new(record, K_DATETIME, when(block, kind, data, sp->stamp, mk)) ||
                 PyDict_SetItem(record, KEYS[K_METHOD], PyTuple_GET_ITEM(parts, 0)) ||
                 PyDict_SetItem(record, KEYS[K_REQUEST], PyTuple_GET_ITEM(parts, 1)) ||
                 PyDict_SetItem(record, KEYS[K_PROTO], PyTuple_GET_ITEM(parts, 2)) ||
                 set_new(record, K_STATUS,
                         digits_to_int(block, kind, data, sp->start[STATUS], sp->end[STATUS])) ||
                 set_new(record, K_BYTES,
                         digits_to_int(block, kind, data, sp->start[BYTES], sp->end[BYTES]));
    if (!failed && sp->combined)
        failed = set_new(record, K_REFERER,
                         PyUnicode_Substring(block, sp->start[REFERER], sp->end[REFERER])) ||
                 set_new(record, K_AGENT,
                         PyUnicode_Substring(block, sp->start[AGENT], sp->end[AGENT]));
    Py_DECREF(parts);
    if (failed) {
        Py_DECREF(record);
        return NULL;
    }
    return record;
}

ALWAYS_INLINE PyObject *
records_block(PyObject *block, int kind, Py_ssize_t i, Py_ssize_t most, int format, Maker *mk,
              Needles *nd)
{
    const void *data = PyUnicode_DATA(block);
    Py_ssize_t n = PyUnicode_GET_LENGTH(block), lines = 0;
    PyObject *out = PyList_New(0), *starts = PyList_New(0);
    if (out == NULL || starts == NULL)
        goto fail;
    Spans sp;
    while (i < n && lines < most) {
        Py_ssize_t end = scan_line(kind, data, n, i, format, &sp);
        if (end < 0) {
            Py_DECREF(out);
            Py_DECREF(starts);
            Py_RETURN_NONE;
        }
        int wanted = nd == NULL ? 1 : holds_needle(nd, i, end == n ? n : end + 1);
        if (wanted < 0)
            goto fail;
        if (wanted) {
            if (set_append(out, make_record(block, kind, data, &sp, mk)) ||
                set_append(starts, PyLong_FromSsize_t(i)))
                goto fail;
        }
        lines++;
        i = end < n ? end + 1 : n;
    }
    return Py_BuildValue("NNnn", out, starts, lines, i);
fail:
    Py_XDECREF(out);
    Py_XDECREF(starts);
    return NULL;
}

static PyObject *
records(PyObject *module, PyObject *args)
{
    PyObject *block, *requests, *timezone, *needles = NULL;
    Py_ssize_t start, most;
    int format;
    if (!PyArg_ParseTuple(args, "UnniOO|O!:records", &block, &start, &most, &format, &requests,
                          &timezone, &PyTuple_Type, &needles))
        return NULL;
    if (format < AUTO || format > COMBINED) {
        PyErr_Format(PyExc_ValueError, "records: format must be 0, 1 or 2, got %d", format);
        return NULL;
    }
    if (start < 0 || start > PyUnicode_GET_LENGTH(block) || most < 0) {
        PyErr_SetString(PyExc_ValueError, "records: start must be in the block, max_lines >= 0");
        return NULL;
    }
    Needles nd;
    int has = take_needles(block, needles, &nd);
    if (has < 0)
        return NULL;
    Maker mk = {requests, timezone, NULL, {0}};
    PyObject *result;
    switch (PyUnicode_KIND(block)) {
    case PyUnicode_1BYTE_KIND:
        result = records_block(block, PyUnicode_1BYTE_KIND, start, most, format, &mk, has ? &nd : NULL);
        break;
    case PyUnicode_2BYTE_KIND:
        result = records_block(block, PyUnicode_2BYTE_KIND, start, most, format, &mk, has ? &nd : NULL);
        break;
    default:
        result = records_block(block, PyUnicode_4BYTE_KIND, start, most, format, &mk, has ? &nd : NULL);
        break;
    }
    Py_XDECREF(mk.tz);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(block, format, fields, needles=()) -> (lines, column, ..., rows) or None\n\n"
     "Check every line of a block of Apache log lines; see streamql.scan."},
    {"records", records, METH_VARARGS,
     "records(block, start, max_lines, format, requests, timezone, needles=())\n"
     "-> (records, lines, end) or None\n\n"
     "Build the records of up to max_lines lines; see streamql.blocks."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "streamql._scanner", "Apache log blocks checked in C.", -1, methods,
};

PyMODINIT_FUNC
PyInit__scanner(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    for (int k = 0; k < NKEYS; k++) {
        if (KEYS[k] == NULL && (KEYS[k] = PyUnicode_InternFromString(KEY_NAMES[k])) == NULL)
            return NULL;
    }
    return PyModule_Create(&module);
}
