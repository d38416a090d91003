#include "src/worker/wsgi_app.hpp"

#include <unistd.h>

#include <stdexcept>
#include <string_view>
#include <utility>

#include <spdlog/spdlog.h>

#include "src/worker/body_reader.hpp"
#include "src/worker/file_wrapper.hpp"
#include "src/worker/python_errors.hpp"
#include "src/worker/request_context.hpp"
#include "src/worker/start_response.hpp"
#include "src/worker/wsgi_environ.hpp"
#include "src/worker/wsgi_errors.hpp"
#include "src/worker/wsgi_input.hpp"

namespace pyfpm::worker {

namespace {

PyRef createType(PyTypeObject* type)
{
    if (type == nullptr) {
        throw std::runtime_error("cannot create the WSGI types: " + PythonError::fetch().summary());
    }
    return PyRef(reinterpret_cast<PyObject*>(type));
}

PyTypeObject* asType(const PyRef& type)
{
    return reinterpret_cast<PyTypeObject*>(type.get());
}

const char* param(const FCGX_Request& request, const char* name, const char* fallback)
{
    const char* value = FCGX_GetParam(name, request.envp);
    return value != nullptr ? value : fallback;
}

// Calls result.close() if it has one (PEP 3333: "must be called ... whether
// the request was completed normally, or terminated early"). Returns false
// with an exception set if close() raised.
bool closeResult(PyObject* result, PyObject* closeName)
{
    if (PyList_CheckExact(result) || PyTuple_CheckExact(result) || PyBytes_CheckExact(result)) {
        return true;
    }
    PyRef close(PyObject_GetAttr(result, closeName));
    if (!close) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            return true;
        }
        return false;
    }
    return bool(PyRef(PyObject_CallNoArgs(close.get())));
}

}  // namespace

WsgiApplication::WsgiApplication(PyRef application, std::string pool)
    : pool_(std::move(pool)),
      application_(std::move(application)),
      inputType_(createType(createInputType())),
      errorsType_(createType(createErrorsType())),
      startResponseType_(createType(createStartResponseType())),
      writeType_(createType(createWriteType())),
      fileWrapperType_(createType(createFileWrapperType())),
      closeName_(PyUnicode_InternFromString("close")),
      environ_(std::make_unique<EnvironBuilder>(asType(fileWrapperType_))),
      boundCache_(std::make_unique<BoundObjectCache>())
{
    if (!closeName_) {
        throw std::runtime_error("cannot start the WSGI layer: " + PythonError::fetch().summary());
    }
}

WsgiApplication::~WsgiApplication() = default;

PyTypeObject* WsgiApplication::inputType() const
{
    return asType(inputType_);
}

PyTypeObject* WsgiApplication::errorsType() const
{
    return asType(errorsType_);
}

void WsgiApplication::serve(FCGX_Request& request)
{
    serve(request, application_.get());
}

void WsgiApplication::serve(FCGX_Request& request, PyObject* application)
{
    // One pass over the params builds environ and finds what the worker
    // itself needs (CONTENT_LENGTH, PYFPM_WORKER_HEADER).
    RequestParams found;
    PyRef built(environ_->build(request.envp, found));
    RequestContext context(request, parseContentLength(found.contentLength), found.workerHeader != nullptr);
    context.writeType = asType(writeType_);
    context.cache = boundCache_.get();

    // Declared after the context, so dropped before it detaches the bound
    // objects: those the application did not keep can then be reused.
    PyRef environ(std::move(built));
    PyRef input(environ ? context.bind(asType(inputType_)) : nullptr);
    PyRef errors(input ? context.bind(asType(errorsType_)) : nullptr);
    PyRef startResponse(errors ? context.bind(asType(startResponseType_), callStartResponse) : nullptr);
    if (!startResponse || !environ_->setStreams(environ.get(), input.get(), errors.get())) {
        report(context, PythonError::fetch());
        return;
    }

    PyObject* arguments[] = {environ.get(), startResponse.get()};
    PyRef result(PyObject_Vectorcall(application, arguments, 2, nullptr));
    if (!result) {
        report(context, PythonError::fetch());
        return;
    }
    const bool sent = sendResult(context, result.get());
    if (!sent) {
        report(context, PythonError::fetch());
    }
    if (!closeResult(result.get(), closeName_.get())) {
        report(context, PythonError::fetch());
        return;
    }
    if (!sent) {
        return;
    }
    if (context.response.broken()) {
        spdlog::info("[pool {}] worker {}: {} {}: the web server closed the connection; response abandoned",
                     pool_, ::getpid(), param(request, "REQUEST_METHOD", "-"),
                     param(request, "REQUEST_URI", "-"));
        return;
    }
    if (!context.response.hasHead()) {
        PyErr_SetString(PyExc_RuntimeError, "the application returned without calling start_response()");
        report(context, PythonError::fetch());
        return;
    }
    if (context.response.headSent() || context.response.buffers(0)) {
        context.response.finish();  // nothing to send, or a copy into the buffer
    } else {
        IoSection io(context);
        context.response.finish();
    }
}

bool WsgiApplication::sendResult(RequestContext& context, PyObject* result)
{
    switch (sendFileWrapper(context, result, asType(fileWrapperType_))) {
    case FileSend::Sent:
        return true;
    case FileSend::Failed:
        return false;
    case FileSend::NotApplicable:
        break;
    }
    // A list or tuple exists in full already: flushing after each item
    // would only cost records. Anything else may be a generator that
    // streams (PEP 3333, "Buffering and Streaming"): each block goes out
    // as soon as it is produced.
    const bool streaming = !(PyList_CheckExact(result) || PyTuple_CheckExact(result));
    PyRef iterator(PyObject_GetIter(result));
    if (!iterator) {
        return false;
    }
    while (PyRef chunk{PyIter_Next(iterator.get())}) {
        if (!PyBytes_Check(chunk.get())) {
            PyErr_Format(PyExc_TypeError, "the application's iterable yielded %.100s, not bytes",
                         Py_TYPE(chunk.get())->tp_name);
            return false;
        }
        const auto size = static_cast<std::size_t>(PyBytes_GET_SIZE(chunk.get()));
        if (size == 0) {
            continue;  // PEP 3333: the head waits for the first non-empty block
        }
        if (!context.response.hasHead()) {
            PyErr_SetString(PyExc_RuntimeError,
                            "the application's iterable yielded data before start_response() was called");
            return false;
        }
        const std::string_view data(PyBytes_AS_STRING(chunk.get()), size);
        bool written = false;
        if (!streaming && context.response.buffers(size)) {
            written = context.response.write(data, false);  // a copy: the GIL can stay
        } else {
            IoSection io(context);
            written = context.response.write(data, streaming);
        }
        if (!written) {
            return true;  // the web server is gone: stop pulling from the application
        }
    }
    return !PyErr_Occurred();
}

void WsgiApplication::report(RequestContext& context, const PythonError& error)
{
    const FCGX_Request& request = context.request;
    const char* method = param(request, "REQUEST_METHOD", "-");
    const char* uri = param(request, "REQUEST_URI", "-");
    const std::string summary = error.summary();
    if (context.response.broken()) {
        spdlog::info("[pool {}] worker {}: {} {}: the web server closed the connection ({})", pool_,
                     ::getpid(), method, uri, summary);
        return;
    }
    const std::string traceback = error.formatted();
    const char* outcome = "answered 500";
    {
        IoSection io(context);
        FCGX_PutStr(traceback.data(), static_cast<int>(traceback.size()), request.err);
        if (!context.response.headSent()) {
            context.response.sendInternalError();
        } else if (context.response.answeredInternalError()) {
            outcome = "after answering 500";
        } else {
            outcome = "response cut short";
            FCGX_SetExitStatus(1, request.out);
        }
    }
    spdlog::error("[pool {}] worker {}: {} {}: {}; {}", pool_, ::getpid(), method, uri, summary, outcome);
}

}  // namespace pyfpm::worker
