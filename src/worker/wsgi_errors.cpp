#include "src/worker/wsgi_errors.hpp"

#include "src/worker/request_context.hpp"

namespace pyfpm::worker {

namespace {

// Writes one str; returns false with an exception set.
bool writeText(RequestContext& context, PyObject* text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "wsgi.errors.write() argument must be str, not %.100s",
                     Py_TYPE(text)->tp_name);
        return false;
    }
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(text, &size);
    PyRef escaped;
    if (data == nullptr) {
        // Lone surrogates (e.g. from surrogateescape) do not encode.
        PyErr_Clear();
        escaped = PyRef(PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace"));
        if (!escaped) {
            return false;
        }
        data = PyBytes_AS_STRING(escaped.get());
        size = PyBytes_GET_SIZE(escaped.get());
    }
    if (size > 0) {
        IoSection io(context);
        FCGX_PutStr(data, static_cast<int>(size), context.request.err);
    }
    return true;
}

PyObject* errorsWrite(PyObject* self, PyObject* text)
{
    RequestContext* context = liveContext(self);
    if (context == nullptr || !writeText(*context, text)) {
        return nullptr;
    }
    return PyLong_FromSsize_t(PyUnicode_GET_LENGTH(text));
}

PyObject* errorsWritelines(PyObject* self, PyObject* lines)
{
    RequestContext* context = liveContext(self);
    if (context == nullptr) {
        return nullptr;
    }
    PyRef iterator(PyObject_GetIter(lines));
    if (!iterator) {
        return nullptr;
    }
    while (PyRef line{PyIter_Next(iterator.get())}) {
        if (!writeText(*context, line.get())) {
            return nullptr;
        }
    }
    if (PyErr_Occurred()) {
        return nullptr;
    }
    Py_RETURN_NONE;
}

PyObject* errorsFlush(PyObject* self, PyObject*)
{
    RequestContext* context = liveContext(self);
    if (context == nullptr) {
        return nullptr;
    }
    {
        IoSection io(*context);
        FCGX_FFlush(context->request.err);
    }
    Py_RETURN_NONE;
}

PyMethodDef kMethods[] = {
    {"write", errorsWrite, METH_O, "write(text) -> int: send text to FCGI_STDERR"},
    {"writelines", errorsWritelines, METH_O, "writelines(lines): write each str in lines"},
    {"flush", errorsFlush, METH_NOARGS, "flush(): push buffered text to the web server"},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot kSlots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(deallocRequestBound)},
    {Py_tp_methods, kMethods},
    {Py_tp_doc, const_cast<char*>("wsgi.errors: text written to the request's FCGI_STDERR")},
    {0, nullptr},
};

PyType_Spec kSpec = {
    "pyfpm_worker.Errors",
    sizeof(RequestBoundObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    kSlots,
};

}  // namespace

PyTypeObject* createErrorsType()
{
    return reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&kSpec));
}

}  // namespace pyfpm::worker
