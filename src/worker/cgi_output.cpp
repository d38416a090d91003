#include "src/worker/cgi_output.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>

#include "src/worker/request_context.hpp"
#include "src/worker/response_writer.hpp"

namespace pyfpm::worker {

bool CgiOutput::put(std::string_view data)
{
    return putAll(out_, data, broken_);
}

void CgiOutput::start()
{
    if (started_) {
        return;
    }
    started_ = true;
    if (nameWorker_) {
        // Header order carries no meaning (RFC 3875 §6.3): in front of the
        // script's own head is as good as anywhere in it.
        char line[48];
        const int length = std::snprintf(line, sizeof line, "X-Pyfpm-Worker: %d\r\n", static_cast<int>(::getpid()));
        put(std::string_view(line, static_cast<std::size_t>(length)));
    }
    put(held_);
    held_.clear();
    held_.shrink_to_fit();
}

bool CgiOutput::write(std::string_view data)
{
    if (broken_) {
        return false;
    }
    if (holds(data.size())) {
        held_.append(data);
        return true;
    }
    start();
    return put(data);
}

bool CgiOutput::flush()
{
    start();
    if (!broken_ && FCGX_FFlush(out_) != 0) {
        broken_ = true;
    }
    return !broken_;
}

bool CgiOutput::finish()
{
    start();
    return !broken_;
}

namespace {

CgiOutput* liveOutput(PyObject* self, RequestContext*& context)
{
    context = liveContext(self);
    if (context == nullptr) {
        return nullptr;
    }
    if (context->cgiOutput == nullptr) {
        PyErr_SetString(PyExc_ValueError, "the CGI script this output belongs to has ended");
        return nullptr;
    }
    return context->cgiOutput;
}

PyObject* brokenPipe()
{
    PyErr_SetObject(PyExc_BrokenPipeError,
                    PyRef(Py_BuildValue("(is)", EPIPE, "the web server closed the connection")).get());
    return nullptr;
}

PyObject* stdoutWrite(PyObject* self, PyObject* data)
{
    RequestContext* context = nullptr;
    CgiOutput* output = liveOutput(self, context);
    if (output == nullptr) {
        return nullptr;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0) {
        return nullptr;
    }
    // The view pins the buffer (a bytearray cannot be resized while it is
    // exported), so it stays valid while the GIL is released.
    const std::string_view bytes(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len));
    bool written = false;
    if (output->holds(bytes.size())) {
        written = output->write(bytes);
    } else {
        IoSection io(*context);
        written = output->write(bytes);
    }
    PyBuffer_Release(&view);
    if (!written) {
        return brokenPipe();
    }
    return PyLong_FromSsize_t(static_cast<Py_ssize_t>(bytes.size()));
}

PyObject* stdoutFlush(PyObject* self, PyObject*)
{
    RequestContext* context = nullptr;
    CgiOutput* output = liveOutput(self, context);
    if (output == nullptr) {
        return nullptr;
    }
    bool flushed = false;
    {
        IoSection io(*context);
        flushed = output->flush();
    }
    if (!flushed) {
        return brokenPipe();
    }
    Py_RETURN_NONE;
}

PyMethodDef kMethods[] = {
    {"write", stdoutWrite, METH_O, "write(data) -> int: add bytes to the CGI response"},
    {"flush", stdoutFlush, METH_NOARGS, "flush(): send what the response holds back now"},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot kSlots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(deallocRequestBound)},
    {Py_tp_methods, kMethods},
    {Py_tp_doc, const_cast<char*>("the FCGI_STDOUT of a CGI script's request")},
    {0, nullptr},
};

PyType_Spec kSpec = {
    "pyfpm_worker.CgiStdout",
    sizeof(RequestBoundObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    kSlots,
};

}  // namespace

PyTypeObject* createCgiStdoutType()
{
    return reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&kSpec));
}

}  // namespace pyfpm::worker
