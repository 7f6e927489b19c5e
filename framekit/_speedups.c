/* framekit._speedups: optional compiled fast paths. Pure-Python code does the same work
 * when this module is missing (no compiler at install, or FRAMEKIT_NO_EXTENSIONS=1).
 *
 * Each function here takes only the common, well-formed case and stops at the first byte
 * that needs a decision (a line it does not recognise, a limit, the end of its input); the
 * Python decoder goes on from there, so every error, limit and offset stays in one place.
 * Nothing here raises on bad input.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The chunked decoder's states (framekit/codecs/chunked.py). */
enum { SIZE = 0, DATA = 1, DATA_END = 2 };

static int
hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* An int argument as Py_ssize_t; 0 with *ok cleared if it does not fit (no error set). */
static Py_ssize_t
ssize_arg(PyObject *obj, int *ok)
{
    int overflow = 0;
    long long value = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow || (value == -1 && PyErr_Occurred())
        || value > PY_SSIZE_T_MAX || value < -PY_SSIZE_T_MAX) {
        PyErr_Clear();
        *ok = 0;
        return 0;
    }
    return (Py_ssize_t)value;
}

/* Append the offset ``pos`` to the list ``ends``; -1 with an error set on failure. */
static int
append_offset(PyObject *ends, Py_ssize_t pos)
{
    PyObject *at = PyLong_FromSsize_t(pos);
    if (at == NULL) return -1;
    int failed = PyList_Append(ends, at);
    Py_DECREF(at);
    return failed;
}

PyDoc_STRVAR(scan_chunked_doc,
"scan_chunked(data, state, remaining, excess, budget, max_overhead, max_chunk_size, window)\n"
"\n"
"Decode the plain part of an HTTP chunked body from the start of ``data``: chunk data,\n"
"the CRLF after it, and chunk-size lines of 1 to 15 hex digits and CRLF for a size of at\n"
"least 1. Stops before anything else (a longer or other line, a last chunk, a bare LF or\n"
"CR, a size over ``max_chunk_size``, overhead over ``max_overhead``), at the end of\n"
"``data``, or when ``budget`` bytes were written.\n"
"\n"
"Returns None if an argument is out of range, else ``(consumed, state, remaining, excess,\n"
"output, marks, more)``: ``output`` is the chunk data found, as one bytes object (b\"\" if\n"
"none), ``marks`` the offsets in it where a chunk's data ended, and ``more`` is True if it\n"
"stopped only because the input ran out (short of the budget, in a plain line or data).");

static PyObject *
scan_chunked(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "scan_chunked() takes 8 arguments");
        return NULL;
    }
    int ok = 1;
    long state = PyLong_AsLong(args[1]);
    if (state == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t remaining = ssize_arg(args[2], &ok);
    Py_ssize_t excess = ssize_arg(args[3], &ok);
    Py_ssize_t budget = ssize_arg(args[4], &ok);
    Py_ssize_t max_overhead = ssize_arg(args[5], &ok);
    Py_ssize_t max_chunk_size = ssize_arg(args[6], &ok);
    Py_ssize_t window = ssize_arg(args[7], &ok);
    /* Bounds that keep the overhead sum below from overflowing (sizes here are < 2**60). */
    const Py_ssize_t bound = (Py_ssize_t)1 << 62;
    if (!ok || remaining < 0 || excess < 0 || excess > bound || budget < 0 || max_overhead < 0
        || max_chunk_size < 0 || window < 3
        || (state != SIZE && state != DATA && state != DATA_END)) {
        Py_RETURN_NONE;
    }

    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *data = (const unsigned char *)view.buf;
    const Py_ssize_t end = view.len;

    /* Spans of chunk data (start, length) and chunk ends, gathered before copying. */
    Py_ssize_t span_room = 16, nspans = 0;
    Py_ssize_t *spans = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * span_room);
    PyObject *marks = PyList_New(0);
    PyObject *output = NULL, *result = NULL;
    if (spans == NULL || marks == NULL) {
        if (spans == NULL) PyErr_NoMemory();
        goto done;
    }

    Py_ssize_t pos = 0, produced = 0;
    int more = 0; /* stopped only because the input ran out, short of the budget */
    for (;;) {
        if (state == DATA) {
            Py_ssize_t n = end - pos;
            if (n > remaining) n = remaining;
            if (n > budget - produced) n = budget - produced;
            if (n <= 0) {
                more = pos == end;
                break;
            }
            if (nspans == span_room) {
                span_room *= 2;
                Py_ssize_t *grown = PyMem_Realloc(spans, sizeof(Py_ssize_t) * 2 * span_room);
                if (grown == NULL) {
                    PyErr_NoMemory();
                    goto done;
                }
                spans = grown;
            }
            spans[2 * nspans] = pos;
            spans[2 * nspans + 1] = n;
            nspans++;
            pos += n;
            produced += n;
            remaining -= n;
            if (remaining) {
                more = pos == end;
                break;
            }
            PyObject *mark = PyLong_FromSsize_t(produced);
            if (mark == NULL) goto done;
            int failed = PyList_Append(marks, mark);
            Py_DECREF(mark);
            if (failed) goto done;
            state = DATA_END;
        }
        if (state == DATA_END) {
            if (end - pos < 2 || data[pos] != '\r' || data[pos + 1] != '\n') {
                more = pos == end || (pos + 1 == end && data[pos] == '\r');
                break;
            }
            pos += 2;
            state = SIZE;
        }
        /* state == SIZE: a chunk-size line of hex digits and CRLF, within the window. */
        Py_ssize_t limit = end - pos < window ? end - pos : window;
        Py_ssize_t digits = 0;
        unsigned long long size = 0;
        int value;
        while (digits < limit && (value = hex_value(data[pos + digits])) >= 0) {
            if (digits == 15) goto stop;  /* a long size (or many leading zeros): Python's */
            size = (size << 4) | (unsigned long long)value;
            digits++;
        }
        if (digits == 0 || digits + 2 > limit || data[pos + digits] != '\r'
            || data[pos + digits + 1] != '\n') {
            /* A plain line cut short by the end of the input (the window has room for
             * the rest of it): more input decides. */
            more = (pos + digits == end && digits < window)
                   || (digits && pos + digits + 1 == end && data[pos + digits] == '\r'
                       && digits + 2 <= window);
            break;
        }
        if (size == 0 || size > (unsigned long long)max_chunk_size) break;
        /* Go's overhead rule, as the Python decoder counts it (sizes here are < 2**60). */
        long long added = (long long)excess + (digits + 2) + 2 - 16 - 2 * (long long)size;
        if (added < 0) added = 0;
        if (added > (long long)max_overhead) break;
        excess = (Py_ssize_t)added;
        pos += digits + 2;
        remaining = (Py_ssize_t)size;
        state = DATA;
    }
stop:
    more = more && produced < budget;
    output = PyBytes_FromStringAndSize(NULL, produced);
    if (output == NULL) goto done;
    {
        char *at = PyBytes_AS_STRING(output);
        for (Py_ssize_t i = 0; i < nspans; i++) {
            memcpy(at, data + spans[2 * i], (size_t)spans[2 * i + 1]);
            at += spans[2 * i + 1];
        }
    }
    result = Py_BuildValue("(nlnnOOO)", pos, state, remaining, excess, output, marks,
                           more ? Py_True : Py_False);

done:
    Py_XDECREF(output);
    Py_XDECREF(marks);
    PyMem_Free(spans);
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(split_fixed_doc,
"split_fixed(data, pos, field_offset, width, big_endian, span, low, high, frames, ends)\n"
"\n"
"Take whole length-prefixed frames from ``data`` at ``pos``: a header of ``field_offset``\n"
"bytes, then a ``width``-byte unsigned length ``value`` (1 to 8 bytes, big- or\n"
"little-endian), then the body, which ends at ``pos + span + value``. Appends each body\n"
"(header stripped) to ``frames`` as bytes, and its end to ``ends`` unless that is None.\n"
"Stops before a frame not all in ``data`` or whose value is outside ``low..high``; the\n"
"Python decoder takes it from there. Returns where it stopped. ``span``, ``low`` and\n"
"``high`` must be within 2**62 of 0.");

static PyObject *
split_fixed(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 10) {
        PyErr_SetString(PyExc_TypeError, "split_fixed() takes 10 arguments");
        return NULL;
    }
    const long long bound = 1LL << 62;
    Py_ssize_t pos, field_offset;
    long width;
    int big;
    long long span, low, high;
    if ((pos = PyLong_AsSsize_t(args[1])) == -1 && PyErr_Occurred()) return NULL;
    if ((field_offset = PyLong_AsSsize_t(args[2])) == -1 && PyErr_Occurred()) return NULL;
    if ((width = PyLong_AsLong(args[3])) == -1 && PyErr_Occurred()) return NULL;
    if ((big = PyObject_IsTrue(args[4])) < 0) return NULL;
    if ((span = PyLong_AsLongLong(args[5])) == -1 && PyErr_Occurred()) return NULL;
    if ((low = PyLong_AsLongLong(args[6])) == -1 && PyErr_Occurred()) return NULL;
    if ((high = PyLong_AsLongLong(args[7])) == -1 && PyErr_Occurred()) return NULL;
    PyObject *frames = args[8];
    PyObject *ends = args[9];
    if (pos < 0 || field_offset < 0 || field_offset > bound || width < 1 || width > 8
        || span < -bound || span > bound || low < -bound || low > bound
        || high < -bound || high > bound || !PyList_Check(frames)
        || (ends != Py_None && !PyList_Check(ends))) {
        PyErr_SetString(PyExc_ValueError, "split_fixed(): an argument is out of range");
        return NULL;
    }

    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *data = (const unsigned char *)view.buf;
    const Py_ssize_t n = view.len;
    const Py_ssize_t header = field_offset + width;
    int failed = 0;

    /* With n and every value taken at most 2**60, and |span| at most 2**62, the sums below
     * cannot overflow. (A longer buffer is left to the Python loop.) */
    while (n <= (Py_ssize_t)1 << 60 && pos <= n - header) {
        const unsigned char *field = data + pos + field_offset;
        unsigned long long value = 0;
        if (big) {
            for (long i = 0; i < width; i++) value = (value << 8) | field[i];
        }
        else {
            for (long i = width - 1; i >= 0; i--) value = (value << 8) | field[i];
        }
        /* A frame longer than what is left is not all here (whatever ``span`` is, a
         * frame it shortens is taken by the Python loop). */
        if (value > (unsigned long long)(n - pos)) break;
        long long v = (long long)value;
        long long end = (long long)pos + span + v;
        if (end > (long long)n || v > high || v < low || end < (long long)(pos + header)) break;
        PyObject *frame = PyBytes_FromStringAndSize(
            (const char *)data + pos + header, (Py_ssize_t)(end - (pos + header)));
        if (frame == NULL) {
            failed = 1;
            break;
        }
        failed = PyList_Append(frames, frame);
        Py_DECREF(frame);
        if (failed) break;
        pos = (Py_ssize_t)end;
        if (ends != Py_None && append_offset(ends, pos) < 0) {
            failed = 1;
            break;
        }
    }
    PyBuffer_Release(&view);
    if (failed) return NULL;
    return PyLong_FromSsize_t(pos);
}

/* -- RESP ------------------------------------------------------------------------------- */

/* A strict RESP length or integer (hiredis's string2ll: an optional '-', no '+', spaces or
 * leading zeros, and "-0" refused) in [p, e); 0 if it is not one or does not fit 63 bits. */
static int
resp_int(const unsigned char *p, const unsigned char *e, long long *out)
{
    int negative = 0;
    if (p < e && *p == '-') {
        negative = 1;
        p++;
    }
    Py_ssize_t n = e - p;
    if (n < 1 || n > 18) return 0;  /* 18 digits always fit; longer: Python decides */
    if (*p == '0' && (n > 1 || negative)) return 0;
    long long value = 0;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9') return 0;
        value = value * 10 + (*p - '0');
    }
    *out = negative ? -value : value;
    return 1;
}

/* The value of the one element at data[pos], for the shapes taken here; NULL with no error
 * set when it is not one of them or not complete, NULL with an error set on a memory error.
 * *next is the offset after it. When NULL with no error, *need says why: -1 not taken
 * (something for the Python decoder to look at), 0 its line has not all arrived, n > 0 the
 * element needs n bytes from pos (a bulk whose payload has not all arrived). */
static PyObject *
resp_scalar(const unsigned char *data, Py_ssize_t pos, Py_ssize_t size, Py_ssize_t max_bulk,
            Py_ssize_t max_line, Py_ssize_t *next, Py_ssize_t *need)
{
    *need = -1;
    if (pos >= size) {
        *need = 0;
        return NULL;
    }
    Py_ssize_t limit = size - pos;
    if (limit > max_line + 2) limit = max_line + 2;
    const unsigned char *start = data + pos;
    const unsigned char *lf = memchr(start, '\n', (size_t)limit);
    if (lf == NULL) {
        if (size - pos <= max_line + 1) *need = 0;  /* else too long: Python says so */
        return NULL;
    }
    if (lf - start < 2 || lf[-1] != '\r') return NULL;
    const unsigned char *content = start + 1, *cr = lf - 1;
    Py_ssize_t after = (lf - data) + 1;
    long long number;
    switch (*start) {
    case '$':
        if (cr - content == 2 && content[0] == '-' && content[1] == '1') {
            *next = after;
            Py_RETURN_NONE;
        }
        if (!resp_int(content, cr, &number) || number < 0 || number > max_bulk) return NULL;
        if (size - after < number + 2) {
            *need = (after - pos) + (Py_ssize_t)number + 2;
            return NULL;
        }
        if (data[after + number] != '\r' || data[after + number + 1] != '\n') return NULL;
        *next = after + (Py_ssize_t)number + 2;
        return PyBytes_FromStringAndSize((const char *)data + after, (Py_ssize_t)number);
    case ':':
        if (!resp_int(content, cr, &number)) return NULL;
        *next = after;
        return PyLong_FromLongLong(number);
    case '+':
        if (memchr(content, '\r', (size_t)(cr - content)) != NULL) return NULL;
        *next = after;
        return PyUnicode_DecodeUTF8((const char *)content, cr - content, "surrogateescape");
    case '_':
        if (cr != content) return NULL;
        *next = after;
        Py_RETURN_NONE;
    case '#':
        if (cr - content != 1 || (content[0] != 't' && content[0] != 'f')) return NULL;
        *next = after;
        if (content[0] == 't') Py_RETURN_TRUE;
        Py_RETURN_FALSE;
    default:
        return NULL;
    }
}

PyDoc_STRVAR(scan_resp_doc,
"scan_resp(data, pos, out, ends, left, max_bulk, max_line, max_count, maps)\n"
"\n"
"Decode the common shapes of RESP from ``data[pos:]`` as the Python decoder would: the\n"
"scalars ``+`` (no CR inside), ``:``, ``$`` (with ``$-1``), ``_``, ``#t``/``#f``, all\n"
"strict, a bulk at most ``max_bulk`` bytes and its CRLF checked, a line at most\n"
"``max_line``. With ``left`` -1, whole top-level replies: such scalars and arrays (``*``,\n"
"``*-1``) or, when ``maps``, maps (``%``) of at most ``max_count`` of them (dicts, the\n"
"last of duplicate keys kept); each appended to ``out``, and\n"
"the offset after it to ``ends`` when it is a list. With ``left`` > 0, up to ``left``\n"
"scalars of an array being read, appended to ``out``. Stops before anything else, an\n"
"incomplete element or reply, and anything bad (the Python decoder says what is wrong).\n"
"\n"
"Returns ``(pos, left, need)``: the offset it stopped at, the elements still to read (-1\n"
"at top level), and why it stopped: -1 at something it does not take (the Python decoder\n"
"looks), 0 in a line that has not all arrived, n > 0 at a bulk that needs n bytes from\n"
"``pos``; None if an argument is out of range.");

static PyObject *
scan_resp(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "scan_resp() takes 9 arguments");
        return NULL;
    }
    PyObject *out = args[2], *ends = args[3];
    if (!PyList_Check(out) || (ends != Py_None && !PyList_Check(ends))) {
        PyErr_SetString(PyExc_TypeError, "scan_resp(): out must be a list, ends a list or None");
        return NULL;
    }
    int ok = 1;
    Py_ssize_t pos = ssize_arg(args[1], &ok), left = ssize_arg(args[4], &ok);
    Py_ssize_t max_bulk = ssize_arg(args[5], &ok), max_line = ssize_arg(args[6], &ok);
    Py_ssize_t max_count = ssize_arg(args[7], &ok);
    int maps = PyObject_IsTrue(args[8]);
    if (maps < 0) return NULL;
    if (!ok || pos < 0 || max_bulk < 0 || max_line < 1 || max_count < 0 || left < -1) Py_RETURN_NONE;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *data = view.buf;
    Py_ssize_t size = view.len;
    int failed = 0;
    Py_ssize_t need = -1;
    if (pos > size) pos = size;
    if (left > 0) {
        while (left > 0) {
            Py_ssize_t next;
            PyObject *value = resp_scalar(data, pos, size, max_bulk, max_line, &next, &need);
            if (value == NULL) {
                failed = PyErr_Occurred() != NULL;
                break;
            }
            failed = PyList_Append(out, value);
            Py_DECREF(value);
            if (failed) break;
            pos = next;
            left--;
        }
    }
    else if (left == -1) {
        while (pos < size) {
            Py_ssize_t next;
            PyObject *value = NULL;
            unsigned char t = data[pos];
            if (t == '*' || (t == '%' && maps)) {
                Py_ssize_t limit = size - pos;
                if (limit > max_line + 2) limit = max_line + 2;
                const unsigned char *lf = memchr(data + pos, '\n', (size_t)limit);
                long long count;
                need = -1;
                if (lf == NULL && size - pos <= max_line + 1) need = 0;
                if (lf == NULL || lf - (data + pos) < 2 || lf[-1] != '\r') break;
                const unsigned char *content = data + pos + 1, *cr = lf - 1;
                next = (lf - data) + 1;
                if (t == '*' && cr - content == 2 && content[0] == '-' && content[1] == '1') {
                    value = Py_None;
                    Py_INCREF(value);
                }
                else {
                    if (!resp_int(content, cr, &count) || count < 0 || count > max_count) break;
                    Py_ssize_t elements = (Py_ssize_t)count * (t == '%' ? 2 : 1);
                    /* Complete before anything is built: the last byte must be there. */
                    PyObject *items = PyList_New(0);
                    if (items == NULL) {
                        failed = 1;
                        break;
                    }
                    Py_ssize_t at = next, ignored;
                    for (Py_ssize_t i = 0; i < elements; i++) {
                        /* Not all there (or not all scalars): the Python decoder builds it. */
                        PyObject *item = resp_scalar(data, at, size, max_bulk, max_line, &at,
                                                     &ignored);
                        if (item == NULL || PyList_Append(items, item) < 0) {
                            Py_XDECREF(item);
                            Py_CLEAR(items);
                            break;
                        }
                        Py_DECREF(item);
                    }
                    if (items == NULL) {
                        failed = PyErr_Occurred() != NULL;
                        break;
                    }
                    next = at;
                    if (t == '*') {
                        value = items;
                    }
                    else {
                        value = PyDict_New();
                        for (Py_ssize_t i = 0; value != NULL && i < elements; i += 2) {
                            if (PyDict_SetItem(value, PyList_GET_ITEM(items, i),
                                               PyList_GET_ITEM(items, i + 1)) < 0) {
                                Py_CLEAR(value);
                            }
                        }
                        Py_DECREF(items);
                        if (value == NULL) {
                            /* An unhashable key cannot be: keys here are scalars. */
                            failed = 1;
                            break;
                        }
                    }
                }
            }
            else {
                value = resp_scalar(data, pos, size, max_bulk, max_line, &next, &need);
                if (value == NULL) {
                    failed = PyErr_Occurred() != NULL;
                    break;
                }
            }
            failed = PyList_Append(out, value);
            Py_DECREF(value);
            if (failed) break;
            pos = next;
            if (ends != Py_None && append_offset(ends, pos) < 0) {
                failed = 1;
                break;
            }
        }
    }
    PyBuffer_Release(&view);
    if (failed) return NULL;
    return Py_BuildValue("(nnn)", pos, left, need);
}

PyDoc_STRVAR(scan_dot_lines_doc,
"scan_dot_lines(data, pos, budget, max_line, room)\n"
"\n"
"Un-stuff the plain lines of an SMTP DATA body from ``data[pos]`` (a line start): each line\n"
"ending in CRLF with no other CR or LF in it, at most ``max_line`` bytes with its CRLF and\n"
"without its stuffing dot, is written without that dot. Stops at the end of the body\n"
"(``.CRLF`` at a line start, consumed), or before a line it cannot take so: one not all in\n"
"``data``, with a lone CR or LF, too long, or that would take the output past ``budget`` or\n"
"``room`` bytes.\n"
"\n"
"Returns None if an argument is out of range, else ``(stop, output, end)``: where it\n"
"stopped in ``data`` (always a line start, or just past the end), the un-stuffed bytes, and\n"
"whether the end of the body was consumed.");

static PyObject *
scan_dot_lines(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "scan_dot_lines() takes 5 arguments");
        return NULL;
    }
    int ok = 1;
    Py_ssize_t pos = ssize_arg(args[1], &ok);
    Py_ssize_t budget = ssize_arg(args[2], &ok);
    Py_ssize_t max_line = ssize_arg(args[3], &ok);
    Py_ssize_t room = ssize_arg(args[4], &ok);
    if (!ok || pos < 0 || budget < 0 || max_line < 2 || room < 0) Py_RETURN_NONE;
    if (room < budget) budget = room;

    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *data = (const unsigned char *)view.buf;
    const Py_ssize_t n = view.len;
    if (pos > n) {
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    Py_ssize_t size = n - pos < budget ? n - pos : budget; /* output <= input */
    PyObject *output = PyBytes_FromStringAndSize(NULL, size);
    if (output == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(output);
    Py_ssize_t written = 0;
    int end = 0;
    while (pos < n) {
        Py_ssize_t start = pos;
        if (data[pos] == '.') {
            if (n - pos < 3) break; /* ".", ".\r": the Python decoder decides */
            if (data[pos + 1] == '\r' && data[pos + 2] == '\n') {
                pos += 3;
                end = 1;
                break;
            }
            start = pos + 1; /* the stuffing dot */
        }
        Py_ssize_t window = n - start < max_line ? n - start : max_line;
        const unsigned char *lf = memchr(data + start, '\n', (size_t)window);
        if (lf == NULL) break; /* not all here, or too long */
        Py_ssize_t stop = (lf - data) + 1;
        Py_ssize_t length = stop - start;
        if (length < 2 || lf[-1] != '\r') break; /* a lone LF */
        if (memchr(data + start, '\r', (size_t)(length - 2)) != NULL) break; /* a lone CR */
        if (written + length > budget) break;
        memcpy(out + written, data + start, (size_t)length);
        written += length;
        pos = stop;
    }
    PyBuffer_Release(&view);
    if (written != size && _PyBytes_Resize(&output, written) < 0) return NULL;
    PyObject *result = Py_BuildValue("(nNO)", pos, output, end ? Py_True : Py_False);
    return result;
}

PyDoc_STRVAR(split_crlf_lines_doc,
"split_crlf_lines(buf)\n"
"\n"
"The lines of the bytes object ``buf`` before its last CRLF, each without its CRLF, and\n"
"where the bytes after it start, if every one of them ends in CRLF and no CR or LF is in\n"
"them or in the bytes after the last CRLF (a CR at the very end aside: an LF may follow\n"
"it): ``(lines, rest)``. None otherwise (no CRLF, a lone CR or LF, or ``buf`` not bytes):\n"
"the Python decoder decides. framekit.codecs.lines._crlf_lines, in one pass.");

/* In a section of its own: placed among the other functions, it moved them and made
 * scan_resp ~2.5% slower (code alignment), for no difference to itself. */
#if defined(__GNUC__) && defined(__ELF__)
__attribute__((section(".text.framekit_split_crlf")))
#endif
static PyObject *
split_crlf_lines(PyObject *module, PyObject *buf)
{
    (void)module;
    if (!PyBytes_CheckExact(buf)) Py_RETURN_NONE;
    const char *data = PyBytes_AS_STRING(buf);
    const Py_ssize_t n = PyBytes_GET_SIZE(buf);
    PyObject *lines = PyList_New(0);
    if (lines == NULL) return NULL;
    Py_ssize_t start = 0;
    for (;;) {
        const char *lf = memchr(data + start, '\n', (size_t)(n - start));
        if (lf == NULL) break;
        Py_ssize_t k = lf - data; /* the LF; its line is data[start:k - 1] */
        if (k == start || data[k - 1] != '\r'
            || memchr(data + start, '\r', (size_t)(k - 1 - start)) != NULL) {
            goto decline; /* a lone LF, or a lone CR in the line */
        }
        PyObject *line = PyBytes_FromStringAndSize(data + start, k - 1 - start);
        if (line == NULL) goto fail;
        int failed = PyList_Append(lines, line);
        Py_DECREF(line);
        if (failed) goto fail;
        start = k + 1;
    }
    /* After the last CRLF: no LF (none was found), and a CR only as the last byte. */
    if (start == 0
        || (n - start > 1 && memchr(data + start, '\r', (size_t)(n - 1 - start)) != NULL)) {
        goto decline;
    }
    return Py_BuildValue("(Nn)", lines, start);
decline:
    Py_DECREF(lines);
    Py_RETURN_NONE;
fail:
    Py_DECREF(lines);
    return NULL;
}

/* clear_vector_upper(): VZEROUPPER on an x86 CPU with AVX, nothing elsewhere. python-isal's
 * inflate returns with the upper halves of the AVX registers dirty, which makes every SSE
 * instruction the process runs afterwards slower until they are cleared (a pure-Python parse
 * took 2.8x its time after one isal call on an AVX-512 Xeon); the decoders on isal call this
 * when each call returns. The ABI keeps no vector register across a call, so clearing the
 * upper halves here changes nothing a caller can see. */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
__attribute__((target("avx"))) static void
vzeroupper(void)
{
    __builtin_ia32_vzeroupper();
}

static int has_avx = -1;
#endif

PyDoc_STRVAR(clear_vector_upper_doc,
             "clear_vector_upper()\n--\n\n"
             "Clear the upper halves of the AVX registers (VZEROUPPER) where the CPU has AVX.");

static PyObject *
clear_vector_upper(PyObject *module, PyObject *Py_UNUSED(ignored))
{
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    if (has_avx < 0) {
        __builtin_cpu_init();
        has_avx = __builtin_cpu_supports("avx") ? 1 : 0;
    }
    if (has_avx) vzeroupper();
#endif
    Py_RETURN_NONE;
}

static PyMethodDef speedups_methods[] = {
    {"clear_vector_upper", (PyCFunction)clear_vector_upper, METH_NOARGS, clear_vector_upper_doc},
    {"split_fixed", (PyCFunction)(void (*)(void))split_fixed, METH_FASTCALL, split_fixed_doc},
    {"scan_chunked", (PyCFunction)(void (*)(void))scan_chunked, METH_FASTCALL, scan_chunked_doc},
    {"scan_resp", (PyCFunction)(void (*)(void))scan_resp, METH_FASTCALL, scan_resp_doc},
    {"scan_dot_lines", (PyCFunction)(void (*)(void))scan_dot_lines, METH_FASTCALL,
     scan_dot_lines_doc},
    {"split_crlf_lines", (PyCFunction)split_crlf_lines, METH_O, split_crlf_lines_doc},
    {NULL, NULL, 0, NULL},
};

#ifndef FRAMEKIT_SOURCE_SHA256
#define FRAMEKIT_SOURCE_SHA256 ""
#endif

/* SOURCE_SHA256: the sha256 of this file as setup.py hashed it (framekit.speedups compares). */
static int
speedups_exec(PyObject *module)
{
    return PyModule_AddStringConstant(module, "SOURCE_SHA256", FRAMEKIT_SOURCE_SHA256);
}

static PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, (void *)speedups_exec},
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "framekit._speedups",
    "framekit's optional compiled fast paths (pure Python does the same without them).",
    0,
    speedups_methods,
    speedups_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
