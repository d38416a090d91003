#include "src/worker/wsgi_input.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "src/worker/request_context.hpp"

namespace pyfpm::worker {

namespace {

constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();
// First allocation of a large read(); it doubles from there.
constexpr std::size_t kReadStep = 1 << 20;

// The optional size argument: absent, None or negative mean "no limit".
bool parseLimit(PyObject* const* args, Py_ssize_t nargs, const char* name, std::size_t& limit)
{
    limit = kUnlimited;
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most 1 argument (%zd given)", name, nargs);
        return false;
    }
    if (nargs == 0 || args[0] == Py_None) {
        return true;
    }
    const Py_ssize_t value = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
    if (value == -1 && PyErr_Occurred()) {
        return false;
    }
    if (value >= 0) {
        limit = static_cast<std::size_t>(value);
    }
    return true;
}

PyObject* readLineFrom(RequestContext& context, std::size_t limit)
{
    std::string line;
    {
        IoSection io(context);
        context.body.readLine(line, limit);
    }
    return PyBytes_FromStringAndSize(line.data(), static_cast<Py_ssize_t>(line.size()));
}

PyObject* inputRead(PyObject* self, PyObject* const* args, Py_ssize_t nargs)
{
    std::size_t limit = 0;
    if (!parseLimit(args, nargs, "read", limit)) {
        return nullptr;
    }
    RequestContext* context = liveContext(self);
    if (context == nullptr) {
        return nullptr;
    }
    const auto size = static_cast<std::size_t>(std::min<std::uint64_t>(limit, context->body.available()));
    if (size > static_cast<std::size_t>(PY_SSIZE_T_MAX)) {
        return PyErr_NoMemory();
    }
    // CONTENT_LENGTH is the web server's word, but the bytes may never
    // come: grow towards it instead of allocating it all up front.
    std::size_t capacity = std::min(size, kReadStep);
    PyObject* bytes = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(capacity));
    if (bytes == nullptr) {
        return nullptr;
    }
    std::size_t got = 0;
    for (;;) {
        std::size_t arrived = 0;
        {
            IoSection io(*context);
            arrived = context->body.read(PyBytes_AS_STRING(bytes) + got, capacity - got);
        }
        got += arrived;
        if (got < capacity || capacity == size) {
            break;
        }
        capacity = std::min(size, capacity * 2);
        if (_PyBytes_Resize(&bytes, static_cast<Py_ssize_t>(capacity)) != 0) {
            return nullptr;
        }
    }
    if (got < capacity && _PyBytes_Resize(&bytes, static_cast<Py_ssize_t>(got)) != 0) {
        return nullptr;
    }
    return bytes;
}

PyObject* inputReadline(PyObject* self, PyObject* const* args, Py_ssize_t nargs)
{
    std::size_t limit = 0;
    if (!parseLimit(args, nargs, "readline", limit)) {
        return nullptr;
    }
    RequestContext* context = liveContext(self);
    return context == nullptr ? nullptr : readLineFrom(*context, limit);
}

PyObject* inputReadlines(PyObject* self, PyObject* const* args, Py_ssize_t nargs)
{
    std::size_t hint = 0;
    if (!parseLimit(args, nargs, "readlines", hint)) {
        return nullptr;
    }
    // io.IOBase.readlines: hint 0 means no limit, like a negative one.
    if (hint == 0) {
        hint = kUnlimited;
    }
    RequestContext* context = liveContext(self);
    if (context == nullptr) {
        return nullptr;
    }
    PyRef lines(PyList_New(0));
    if (!lines) {
        return nullptr;
    }
    std::size_t total = 0;
    while (total < hint) {
        PyRef line(readLineFrom(*context, kUnlimited));
        if (!line) {
            return nullptr;
        }
        const auto length = static_cast<std::size_t>(PyBytes_GET_SIZE(line.get()));
        if (length == 0) {
            break;
        }
        if (PyList_Append(lines.get(), line.get()) != 0) {
            return nullptr;
        }
        total += length;
    }
    return lines.release();
}

PyObject* inputIter(PyObject* self)
{
    Py_INCREF(self);
    return self;
}

PyObject* inputNext(PyObject* self)
{
    RequestContext* context = liveContext(self);
    if (context == nullptr) {
        return nullptr;
    }
    PyObject* line = readLineFrom(*context, kUnlimited);
    if (line != nullptr && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return nullptr;  // StopIteration
    }
    return line;
}

PyMethodDef kMethods[] = {
    {"read", asPyCFunction(inputRead), METH_FASTCALL,
     "read(size=-1) -> bytes: up to size bytes of the body, all of it when size < 0"},
    {"readline", asPyCFunction(inputReadline), METH_FASTCALL,
     "readline(size=-1) -> bytes: one line including b'\\n', at most size bytes"},
    {"readlines", asPyCFunction(inputReadlines), METH_FASTCALL,
     "readlines(hint=-1) -> list: lines until their total size reaches hint"},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot kSlots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(deallocRequestBound)},
    {Py_tp_iter, reinterpret_cast<void*>(inputIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(inputNext)},
    {Py_tp_methods, kMethods},
    {Py_tp_doc, const_cast<char*>("wsgi.input: the request body (FCGI_STDIN), bounded by CONTENT_LENGTH")},
    {0, nullptr},
};

PyType_Spec kSpec = {
    "pyfpm_worker.Input",
    sizeof(RequestBoundObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    kSlots,
};

}  // namespace

PyTypeObject* createInputType()
{
    return reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&kSpec));
}

}  // namespace pyfpm::worker
