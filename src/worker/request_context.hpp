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

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "src/worker/body_reader.hpp"
#include "src/worker/response_writer.hpp"

namespace pyfpm::worker {

class CgiOutput;

// Request-bound objects that nobody kept past their request, for later
// requests to reuse instead of allocating and freeing three or four
// objects per request. One per WsgiApplication; GIL held throughout.
class BoundObjectCache {
public:
    BoundObjectCache() = default;
    ~BoundObjectCache();  // drops the objects (GIL held)
    BoundObjectCache(const BoundObjectCache&) = delete;
    BoundObjectCache& operator=(const BoundObjectCache&) = delete;

    // A detached object of exactly `type` (a new reference), or nullptr.
    PyObject* take(PyTypeObject* type);
    // Takes over the only reference to a detached `object`; false (the
    // caller keeps the reference) when the cache is full.
    bool keep(PyObject* object);

private:
    std::array<PyObject*, 8> objects_{};
    std::size_t count_ = 0;
};

class RequestContext {
public:
    // `contentLength` is CONTENT_LENGTH in bytes (0 when absent);
    // `nameWorker` says the web server asked for the X-Pyfpm-Worker header
    // (param PYFPM_WORKER_HEADER, ResponseWriter::nameWorker).
    RequestContext(FCGX_Request& request, std::uint64_t contentLength, bool nameWorker);
    // The same, looking PYFPM_WORKER_HEADER up in the request's params.
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
    // Where bind() takes objects from and the destructor gives back the
    // ones nobody else holds; nullptr = allocate and free each time.
    BoundObjectCache* cache = nullptr;

    // Creates an object of `type` (whose layout is RequestBoundObject)
    // bound to this request; returns a new reference, or nullptr with an
    // exception set. `call` is the object's vectorcall entry (PEP 590) for
    // a type that declares one (start_response.hpp), nullptr otherwise.
    PyObject* bind(PyTypeObject* type, vectorcallfunc call = nullptr);

private:
    // Strong references to the bound objects: a WSGI request binds four
    // (input, errors, start_response, write), held in place; more spill.
    std::array<PyObject*, 4> bound_{};
    std::size_t boundCount_ = 0;
    std::vector<PyObject*> moreBound_;
};

// Instance layout of the request-bound types.
struct RequestBoundObject {
    PyObject_HEAD
    RequestContext* context;
    // Where a type with Py_TPFLAGS_HAVE_VECTORCALL finds its call
    // (__vectorcalloffset__); unused by the others.
    vectorcallfunc vectorcall;
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
