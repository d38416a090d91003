// The state of the request being served, shared by the Python objects the
// application receives for it (wsgi.input, wsgi.errors, start_response,
// write). Those objects may outlive the request (an application can keep a
// reference); at the end of the request they are detached and then raise
// ValueError instead of touching a finished FCGX_Request.
//
// Everything here runs on the main thread with the GIL held, except the
// I/O inside an IoSection.
#pragma once

#include "src/worker/py_ref.hpp"

#include <fcgiapp.h>

#include <cstdint>
#include <vector>

#include "src/worker/body_reader.hpp"
#include "src/worker/response_writer.hpp"

namespace pyfpm::worker {

class CgiOutput;

class RequestContext {
public:
    RequestContext(FCGX_Request& request, std::uint64_t contentLength);
    ~RequestContext();  // detaches every bound object
    RequestContext(const RequestContext&) = delete;
    RequestContext& operator=(const RequestContext&) = delete;

    FCGX_Request& request;
    BodyReader body;
    ResponseWriter response;
    PyTypeObject* writeType = nullptr;  // what start_response returns instances of
    PyObject* write = nullptr;  // start_response's write callable, once created (borrowed from bound_)
    bool ioBusy = false;        // an IoSection is running
    // The response of the CGI script running for this request
    // (cgi_output.hpp), while it runs; nullptr otherwise.
    CgiOutput* cgiOutput = nullptr;

    // Creates an object of `type` (whose layout is RequestBoundObject)
    // bound to this request; returns a new reference, or nullptr with an
    // exception set.
    PyObject* bind(PyTypeObject* type);

private:
    std::vector<PyObject*> bound_;  // strong references
};

// Instance layout of the request-bound types.
struct RequestBoundObject {
    PyObject_HEAD
    RequestContext* context;
};

// The request of a bound object, or nullptr with an exception set:
// ValueError once the request has ended, RuntimeError while another thread
// is blocked in I/O on it (PEP 3333 gives each request to one thread).
RequestContext* liveContext(PyObject* self);

// tp_dealloc of the request-bound (heap) types.
void deallocRequestBound(PyObject* self);

// Releases the GIL around blocking socket I/O of the request so the
// application's own threads keep running, and marks the request busy.
class IoSection {
public:
    explicit IoSection(RequestContext& context);
    ~IoSection();
    IoSection(const IoSection&) = delete;
    IoSection& operator=(const IoSection&) = delete;

private:
    RequestContext& context_;
    PyThreadState* state_;
};

}  // namespace pyfpm::worker
