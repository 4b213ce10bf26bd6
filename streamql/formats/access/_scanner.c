/* streamql.formats.access._scanner: check every line of a block of Apache log lines in one pass.

   scan(block, format, fields, needles=()) -> (lines, column, ..., rows) or None

   The same test as streamql.formats.access.apache.block_pattern(format, ...) with
   re.MULTILINE, where a block is good when the pattern matches every one of
   its lines: a line is host ident user [timestamp] "request" status bytes, with
   ` "referer" "agent"` after it in combined lines, then spaces or tabs. The
   timestamp is checked in full (month names, days per month, leap years,
   hours, offsets). Quoted fields hold no newline, and no '"' or '\' other
   than escaped as \x (x not a newline). Hosts, idents and users hold no
   whitespace as str.isspace() sees it, which is what the regex's \S means.

   `format` is 0 (common or combined, line by line), 1 (common) or 2
   (combined). `fields` is a bit mask over streamql.formats.access.apache.BLOCK_FIELDS: one
   list per bit set follows the line count, in that order. status and bytes
   are ints (bytes "-" is 0), the other fields str.

   With `needles` (a tuple of str), every line is still checked, but only the
   lines holding one of the needles give their fields, and one more list, the
   0-based numbers of those lines in the block, ends the tuple. The needles
   are found by CPython's own substring search over the whole block, so
   lines without them cost nothing more than their check.

   It returns None at the first line the test refuses, so the caller parses
   that block line by line, as it does when the regex refuses a block. The
   pure-Python path (streamql.formats.access.scan) is the regex; the tests compare the two. */

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

/* The 26 characters of "24/Feb/2008:00:08:59 -0600": ASCII copied as char,
   or Latin-1 as it is (a byte past 127 fails every test below). */
static int
good_stamp(const char *t)
{
    static const char shape[] = "00/Aaa/0000:00:00:00 +0000";
    for (int i = 0; i < 26; i++) {
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
        if (memcmp(t + 3, MONTHS[m], 3) == 0) {
            month = m;
            break;
        }
    }
    if (month < 0)
        return 0;
    int day = two(t);
    int year = two(t + 7) * 100 + two(t + 9);
    if (year == 0 || day == 0)
        return 0;
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    int last = DAYS[month] + (month == 1 && leap);
    if (day > last)
        return 0;
    return two(t + 12) <= 23 && two(t + 15) <= 59 && two(t + 18) <= 59 && two(t + 22) <= 23 &&
           two(t + 24) <= 59;
}

/* The 28 characters of "[24/Feb/2008:00:08:59 -0600]", copied as ASCII. */
static int
good_timestamp(const char *t)
{
    return t[0] == '[' && t[27] == ']' && good_stamp(t + 1);
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

   Build the records streamql.formats.access.apache.parse_apache yields for up to max_lines
   lines of block from offset start: the same dicts, keys in the same order,
   the datetime aware. `requests` maps a request text to its (method,
   request, proto) (a streamql.formats.access.apache.RequestParts); `timezone` turns an
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

/* ------------------------------------------------------------------------
   compile_program(ops) -> program
   program_scan(block, program, capture, needles=()) -> columns, (columns, rows) or None

   The line program of a log format (the op tuple streamql.formats.access.cprogram
   describes: lit, run, int, status, float, stamp, opt, end), compiled once
   into a C array held by a capsule, then run over every line of a block.
   A run ends at its stop character, the line's end or the block's end,
   whichever comes first (with `escaped`, a backslash takes the character
   after it, but not a newline); the op after it then decides. Numbers take
   every ASCII digit there is: an int of 19 or more, a status of other than
   3, refuse the line. Nothing is ever tried twice, so a line costs one pass.

   `capture` names the columns wanted; the answer maps each to a list, one
   value per line (str for run and stamp, int or None for int and status,
   float or None for float; None too where an opt left the column out).
   With needles, as in scan: only the lines holding one are cut, and the
   list of their 0-based numbers comes with the columns. None at the first
   line that does not fit. */

enum { OP_LIT, OP_RUN, OP_INT, OP_STATUS, OP_FLOAT, OP_STAMP, OP_OPT, OP_END, NOPS };
static const char *const OP_NAMES[NOPS] = {"lit", "run", "int", "status", "float", "stamp", "opt", "end"};
static const Py_ssize_t OP_SIZES[NOPS] = {2, 5, 3, 3, 3, 2, 1, 1};

typedef struct {
    int code;
    int col;               /* its column's number, in the program's order; ncols: none */
    int escaped, nonempty, dash;
    Py_UCS4 stop;          /* run */
    uint64_t stop8, escape8; /* run: its stop and backslash in every byte, for Latin-1 */
    Py_ssize_t before;     /* opt: the number of columns before it */
    Py_ssize_t len;        /* the literal text after the op (a lit's own text) */
    Py_UCS4 *text;
} Op;

typedef struct {
    Py_ssize_t nops, ncols;
    Op *ops;
    PyObject **names;      /* each column's name */
    int *codes;            /* each column's op code */
} Program;

#define PROGRAM_CAPSULE "streamql.formats.access._scanner.program"

/* Eight Latin-1 characters at once: whether any byte of x is that of b8. */
#define BYTES8 0x0101010101010101ULL
#define HAS_BYTE(x, b8) ((((x) ^ (b8)) - BYTES8) & ~((x) ^ (b8)) & (BYTES8 << 7))

static void
program_free(Program *p)
{
    if (p == NULL)
        return;
    for (Py_ssize_t k = 0; p->ops != NULL && k < p->nops; k++)
        PyMem_Free(p->ops[k].text);
    for (Py_ssize_t k = 0; p->names != NULL && k < p->nops; k++)
        Py_XDECREF(p->names[k]);
    PyMem_Free(p->ops);
    PyMem_Free(p->names);
    PyMem_Free(p->codes);
    PyMem_Free(p);
}

static void
program_destroy(PyObject *capsule)
{
    program_free(PyCapsule_GetPointer(capsule, PROGRAM_CAPSULE));
}

static int
bad_op(Py_ssize_t k, PyObject *op, const char *why)
{
    PyErr_Format(PyExc_ValueError, "compile_program: op %zd, %R: %s", k, op, why);
    return -1;
}

/* Read one op into o; new columns go in p. 0, or -1 with an exception set. */
static int
take_op(Program *p, Py_ssize_t k, PyObject *op, Op *o)
{
    if (!PyTuple_Check(op) || PyTuple_GET_SIZE(op) == 0 || !PyUnicode_Check(PyTuple_GET_ITEM(op, 0)))
        return bad_op(k, op, "an op is a tuple whose first item is its name");
    o->code = -1;
    for (int c = 0; c < NOPS; c++)
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(op, 0), OP_NAMES[c]) == 0)
            o->code = c;
    if (o->code < 0)
        return bad_op(k, op, "unknown op");
    if (PyTuple_GET_SIZE(op) != OP_SIZES[o->code])
        return bad_op(k, op, "wrong number of items");
    o->col = -1;
    if (o->code == OP_LIT) {
        PyObject *text = PyTuple_GET_ITEM(op, 1);
        if (!PyUnicode_Check(text) || PyUnicode_GET_LENGTH(text) == 0 ||
            PyUnicode_FindChar(text, '\n', 0, PyUnicode_GET_LENGTH(text), 1) != -1)
            return bad_op(k, op, "the text must be a non-empty str without a newline");
        o->len = PyUnicode_GET_LENGTH(text);
        if ((o->text = PyUnicode_AsUCS4Copy(text)) == NULL)
            return -1;
        return 0;
    }
    if (o->code == OP_OPT) {
        o->before = p->ncols;
        return 0;
    }
    if (o->code == OP_END)
        return k == p->nops - 1 ? 0 : bad_op(k, op, "end must be the last op");
    PyObject *col = PyTuple_GET_ITEM(op, 1);
    if (col != Py_None) {
        if (!PyUnicode_Check(col))
            return bad_op(k, op, "the column must be a str or None");
        for (Py_ssize_t c = 0; c < p->ncols; c++)
            if (PyUnicode_Compare(p->names[c], col) == 0)
                return bad_op(k, op, "a column of that name comes earlier");
        o->col = (int)p->ncols;
        p->names[p->ncols] = Py_NewRef(col);
        p->codes[p->ncols++] = o->code;
    }
    if (o->code == OP_STAMP)
        return 0;
    if (o->code == OP_RUN) {
        PyObject *stop = PyTuple_GET_ITEM(op, 2);
        if (!PyUnicode_Check(stop) || PyUnicode_GET_LENGTH(stop) != 1)
            return bad_op(k, op, "the stop must be a str of one character");
        o->stop = PyUnicode_READ_CHAR(stop, 0);
        PyObject *escaped = PyTuple_GET_ITEM(op, 3), *nonempty = PyTuple_GET_ITEM(op, 4);
        if (!PyBool_Check(escaped) || !PyBool_Check(nonempty))
            return bad_op(k, op, "escaped and nonempty must be bools");
        o->escaped = escaped == Py_True, o->nonempty = nonempty == Py_True;
        if (o->escaped && o->stop == '\\')
            return bad_op(k, op, "an escaped run cannot stop at a backslash");
        /* a stop past Latin-1 is in no Latin-1 block; a byte test on '\n' twice costs nothing */
        o->stop8 = BYTES8 * (o->stop < 256 ? o->stop : '\n');
        o->escape8 = BYTES8 * (o->escaped ? '\\' : '\n');
        return 0;
    }
    PyObject *dash = PyTuple_GET_ITEM(op, 2);
    if (!PyBool_Check(dash))
        return bad_op(k, op, "dash must be a bool");
    o->dash = dash == Py_True;
    return 0;
}

/* Fold each lit into the op before it (a field or a lit; not an opt), so
   that a line costs one dispatch per field; mark the ops with no column. */
static int
fold_literals(Program *p)
{
    Py_ssize_t m = 0;
    for (Py_ssize_t k = 0; k < p->nops; k++) {
        Op *o = &p->ops[k];
        if (o->code == OP_LIT && m > 0 && p->ops[m - 1].code != OP_OPT) {
            Op *prev = &p->ops[m - 1];
            Py_UCS4 *text = PyMem_Realloc(prev->text, (prev->len + o->len) * sizeof(Py_UCS4));
            if (text == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            memcpy(text + prev->len, o->text, o->len * sizeof(Py_UCS4));
            prev->text = text, prev->len += o->len;
            PyMem_Free(o->text);
            o->text = NULL;
            continue;
        }
        if (m != k) {
            p->ops[m] = *o;
            memset(o, 0, sizeof(Op));
        }
        m++;
    }
    p->nops = m;
    for (Py_ssize_t k = 0; k < m; k++)
        if (p->ops[k].col < 0)
            p->ops[k].col = (int)p->ncols;
    return 0;
}

static PyObject *
compile_program(PyObject *module, PyObject *ops)
{
    if (!PyTuple_Check(ops) || PyTuple_GET_SIZE(ops) == 0) {
        PyErr_SetString(PyExc_TypeError, "compile_program: ops must be a non-empty tuple");
        return NULL;
    }
    Py_ssize_t nops = PyTuple_GET_SIZE(ops);
    Program *p = PyMem_Calloc(1, sizeof(Program));
    if (p == NULL)
        return PyErr_NoMemory();
    p->nops = nops;
    p->ops = PyMem_Calloc(nops, sizeof(Op));
    p->names = PyMem_Calloc(nops, sizeof(PyObject *));
    p->codes = PyMem_Calloc(nops, sizeof(int));
    if (p->ops == NULL || p->names == NULL || p->codes == NULL) {
        program_free(p);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t k = 0; k < nops; k++) {
        if (take_op(p, k, PyTuple_GET_ITEM(ops, k), &p->ops[k]) < 0) {
            program_free(p);
            return NULL;
        }
    }
    if (p->ops[nops - 1].code != OP_END) {
        bad_op(nops - 1, PyTuple_GET_ITEM(ops, nops - 1), "the last op must be end");
        program_free(p);
        return NULL;
    }
    if (fold_literals(p) < 0) {
        program_free(p);
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(p, PROGRAM_CAPSULE, program_destroy);
    if (capsule == NULL)
        program_free(p);
    return capsule;
}

/* Run program p over the line of a block from i; return the offset of the
   line's end (its newline, or n), or -1 if the line does not fit. Each
   column's span goes in start/end; *seen is set to the number of columns
   the line holds (the later ones are left out by an opt). */
ALWAYS_INLINE Py_ssize_t
program_line(int kind, const void *data, Py_ssize_t n, Py_ssize_t i, const Program *p,
             Py_ssize_t *start, Py_ssize_t *end, Py_ssize_t *seen)
{
#define AT(k) PyUnicode_READ(kind, data, (k))
#define DIGIT(c) ((c) >= '0' && (c) <= '9')
    for (const Op *o = p->ops, *last = p->ops + p->nops; o < last; o++) {
        Py_ssize_t s = i;
        switch (o->code) {
        case OP_LIT:
            break;
        case OP_RUN:
            if (kind == PyUnicode_1BYTE_KIND) { /* skip the plain part 8 at a time */
                const uint64_t stop8 = o->stop8, escape8 = o->escape8;
                while (n - i >= 8) {
                    uint64_t x;
                    memcpy(&x, (const Py_UCS1 *)data + i, 8);
                    if (HAS_BYTE(x, stop8) | HAS_BYTE(x, BYTES8 * '\n') | HAS_BYTE(x, escape8))
                        break;
                    i += 8;
                }
            }
            if (o->escaped) {
                while (i < n) {
                    Py_UCS4 c = AT(i);
                    if (c == o->stop || c == '\n')
                        break;
                    if (c == '\\') {
                        if (i + 1 >= n || AT(i + 1) == '\n')
                            break;
                        i++;
                    }
                    i++;
                }
            }
            else {
                const Py_UCS4 stop = o->stop;
                while (i < n) {
                    Py_UCS4 c = AT(i);
                    if (c == stop || c == '\n')
                        break;
                    i++;
                }
            }
            if (o->nonempty && i == s)
                return -1;
            break;
        case OP_INT:
        case OP_STATUS:
        case OP_FLOAT:
            if (o->dash && i < n && AT(i) == '-') {
                i++;
                break;
            }
            while (i < n && DIGIT(AT(i)))
                i++;
            if (o->code == OP_INT) {
                if (i == s || i - s > 18)
                    return -1;
            }
            else if (o->code == OP_STATUS) {
                if (i - s != 3)
                    return -1;
            }
            else {
                if (i == s)
                    return -1;
                if (i + 1 < n && AT(i) == '.' && DIGIT(AT(i + 1))) {
                    i += 2;
                    while (i < n && DIGIT(AT(i)))
                        i++;
                }
            }
            break;
        case OP_STAMP: {
            if (n - i < 26)
                return -1;
            if (kind == PyUnicode_1BYTE_KIND) {
                if (!good_stamp((const char *)data + i))
                    return -1;
            }
            else {
                char t[26];
                for (int k = 0; k < 26; k++) {
                    Py_UCS4 c = AT(i + k);
                    if (c > 127)
                        return -1;
                    t[k] = (char)c;
                }
                if (!good_stamp(t))
                    return -1;
            }
            i += 26;
            break;
        }
        case OP_OPT: {
            Py_ssize_t j = i;
            while (j < n && (AT(j) == ' ' || AT(j) == '\t'))
                j++;
            if (j < n && AT(j) != '\n')
                continue;
            *seen = o->before;
            return j;
        }
        default: /* OP_END */
            while (i < n && (AT(i) == ' ' || AT(i) == '\t'))
                i++;
            if (i < n && AT(i) != '\n')
                return -1;
            *seen = p->ncols;
            return i;
        }
        start[o->col] = s, end[o->col] = i; /* ncols: a slot no one reads */
        if (o->len) {
            if (n - i < o->len)
                return -1;
            for (Py_ssize_t k = 0; k < o->len; k++)
                if (AT(i + k) != o->text[k])
                    return -1;
            i += o->len;
        }
    }
    return -1; /* not reached: the last op is end */
#undef DIGIT
#undef AT
}

/* The value of a column of op `code` over block[s:e], a new reference. */
static PyObject *
column_value(PyObject *block, int kind, const void *data, int code, Py_ssize_t s, Py_ssize_t e)
{
    if (code == OP_RUN || code == OP_STAMP)
        return PyUnicode_Substring(block, s, e);
    if (PyUnicode_READ(kind, data, s) == '-') /* the dash: the number fields have no other */
        Py_RETURN_NONE;
    if (code != OP_FLOAT)
        return digits_to_int(block, kind, data, s, e);
    if (e - s < 64) {
        char digits[64];
        for (Py_ssize_t k = s; k < e; k++)
            digits[k - s] = (char)PyUnicode_READ(kind, data, k); /* ASCII: checked */
        digits[e - s] = '\0';
        double value = PyOS_string_to_double(digits, NULL, NULL);
        if (value == -1.0 && PyErr_Occurred())
            return NULL;
        return PyFloat_FromDouble(value);
    }
    PyObject *text = PyUnicode_Substring(block, s, e);
    if (text == NULL)
        return NULL;
    PyObject *value = PyFloat_FromString(text);
    Py_DECREF(text);
    return value;
}

/* Run p over every line of block; append the captured values (columns
   slot[q] into lists[q]) and, with needles, the numbers of the lines cut.
   1 if every line fits, 0 if one does not, -1 on error. */
ALWAYS_INLINE int
program_block(PyObject *block, int kind, const Program *p, const int *slot, Py_ssize_t nslots,
              PyObject **lists, PyObject *rows, Needles *nd, Py_ssize_t *start, Py_ssize_t *end)
{
    const void *data = PyUnicode_DATA(block);
    Py_ssize_t n = PyUnicode_GET_LENGTH(block), i = 0, line = 0;
    while (i < n) {
        Py_ssize_t seen = 0;
        Py_ssize_t stop = program_line(kind, data, n, i, p, start, end, &seen);
        if (stop < 0)
            return 0;
        int wanted = 1;
        if (nd != NULL && (wanted = holds_needle(nd, i, stop == n ? n : stop + 1)) < 0)
            return -1;
        if (wanted) {
            for (Py_ssize_t q = 0; q < nslots; q++) {
                int c = slot[q];
                PyObject *value = c < seen
                                      ? column_value(block, kind, data, p->codes[c], start[c], end[c])
                                      : Py_NewRef(Py_None);
                if (set_append(lists[q], value))
                    return -1;
            }
            if (nd != NULL && set_append(rows, PyLong_FromSsize_t(line)))
                return -1;
        }
        line++;
        i = stop + 1;
    }
    return 1;
}

static PyObject *
program_scan(PyObject *module, PyObject *args)
{
    PyObject *block, *capsule, *capture, *needles = NULL;
    if (!PyArg_ParseTuple(args, "UOO!|O!:program_scan", &block, &capsule, &PyTuple_Type, &capture,
                          &PyTuple_Type, &needles))
        return NULL;
    if (!PyCapsule_IsValid(capsule, PROGRAM_CAPSULE)) {
        PyErr_SetString(PyExc_TypeError, "program_scan: program must come from compile_program");
        return NULL;
    }
    const Program *p = PyCapsule_GetPointer(capsule, PROGRAM_CAPSULE);
    Needles nd;
    int has = take_needles(block, needles, &nd);
    if (has < 0)
        return NULL;
    Py_ssize_t nslots = PyTuple_GET_SIZE(capture);
    int *slot = PyMem_Malloc((nslots + 1) * sizeof(int));
    Py_ssize_t *spans = PyMem_Malloc(2 * (p->ncols + 1) * sizeof(Py_ssize_t));
    PyObject **lists = PyMem_Calloc(nslots + 1, sizeof(PyObject *));
    PyObject *rows = NULL, *result = NULL, *columns = NULL;
    if (slot == NULL || spans == NULL || lists == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t q = 0; q < nslots; q++) {
        PyObject *name = PyTuple_GET_ITEM(capture, q);
        slot[q] = -1;
        for (Py_ssize_t c = 0; PyUnicode_Check(name) && c < p->ncols; c++)
            if (p->names[c] == name || PyUnicode_Compare(p->names[c], name) == 0)
                slot[q] = (int)c;
        for (Py_ssize_t r = 0; r < q; r++)
            if (slot[r] == slot[q])
                slot[q] = -1;
        if (slot[q] < 0) {
            PyErr_Format(PyExc_ValueError,
                         "program_scan: capture %R is not a column of the program, or comes twice",
                         name);
            goto done;
        }
        if ((lists[q] = PyList_New(0)) == NULL)
            goto done;
    }
    if (has && (rows = PyList_New(0)) == NULL)
        goto done;
    Needles *ndp = has ? &nd : NULL;
    Py_ssize_t *start = spans, *end = spans + p->ncols + 1;
    int fits;
    switch (PyUnicode_KIND(block)) {
    case PyUnicode_1BYTE_KIND:
        fits = program_block(block, PyUnicode_1BYTE_KIND, p, slot, nslots, lists, rows, ndp, start, end);
        break;
    case PyUnicode_2BYTE_KIND:
        fits = program_block(block, PyUnicode_2BYTE_KIND, p, slot, nslots, lists, rows, ndp, start, end);
        break;
    default:
        fits = program_block(block, PyUnicode_4BYTE_KIND, p, slot, nslots, lists, rows, ndp, start, end);
        break;
    }
    if (fits <= 0) {
        result = fits < 0 ? NULL : Py_NewRef(Py_None);
        goto done;
    }
    if ((columns = PyDict_New()) == NULL)
        goto done;
    for (Py_ssize_t q = 0; q < nslots; q++)
        if (PyDict_SetItem(columns, PyTuple_GET_ITEM(capture, q), lists[q]) < 0)
            goto done;
    result = has ? PyTuple_Pack(2, columns, rows) : Py_NewRef(columns);
done:
    for (Py_ssize_t q = 0; lists != NULL && q < nslots; q++)
        Py_XDECREF(lists[q]);
    Py_XDECREF(columns);
    Py_XDECREF(rows);
    PyMem_Free(lists);
    PyMem_Free(spans);
    PyMem_Free(slot);
    return result;
}

static PyMethodDef methods[] = {
    {"compile_program", compile_program, METH_O,
     "compile_program(ops) -> program\n\n"
     "Check a line program (a tuple of ops) and compile it; see streamql.formats.access.cprogram."},
    {"program_scan", program_scan, METH_VARARGS,
     "program_scan(block, program, capture, needles=()) -> columns, (columns, rows) or None\n\n"
     "Run a compiled line program over every line of a block; see streamql.formats.access.cprogram."},
    {"scan", scan, METH_VARARGS,
     "scan(block, format, fields, needles=()) -> (lines, column, ..., rows) or None\n\n"
     "Check every line of a block of Apache log lines; see streamql.formats.access.scan."},
    {"records", records, METH_VARARGS,
     "records(block, start, max_lines, format, requests, timezone, needles=())\n"
     "-> (records, lines, end) or None\n\n"
     "Build the records of up to max_lines lines; see streamql.ops.blocks."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "streamql.formats.access._scanner", "Apache log blocks checked in C.", -1, methods,
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
