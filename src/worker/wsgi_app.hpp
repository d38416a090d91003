// Runs one WSGI application (PEP 3333) for the requests the accept loop
// hands over: builds environ, calls the application with start_response,
// streams the iterable it returns to FCGI_STDOUT as a CGI response, and
// always calls the iterable's close().
//
// An exception from the application (or from its iterable, or close())
// is answered with "500 Internal Server Error" and a short body when the
// head has not gone out yet; otherwise the response is cut short and
// FCGI_END_REQUEST carries appStatus 1. Either way the traceback goes to
// the request's FCGI_STDERR, one line goes to the worker's log, and the
// worker serves the next request.
#pragma once

#include "src/worker/py_ref.hpp"

#include <fcgiapp.h>

#include <memory>
#include <string>

namespace pyfpm::worker {

class BoundObjectCache;
class EnvironBuilder;
class RequestContext;
struct PythonError;

class WsgiApplication {
public:
    // `application` is the imported callable (null for a scripts pool,
    // which passes each script's own to serve()); `pool` names the worker
    // in log lines. Creates the Python types the requests use (GIL held).
    // Throws std::runtime_error when Python cannot.
    WsgiApplication(PyRef application, std::string pool);
    ~WsgiApplication();  // GIL held
    WsgiApplication(const WsgiApplication&) = delete;
    WsgiApplication& operator=(const WsgiApplication&) = delete;

    // Serves the request FCGX_Accept_r has just read. GIL held; releases
    // it around socket I/O. Never throws; leaves the request for the
    // caller to drain and finish.
    void serve(FCGX_Request& request);
    // The same with another application callable (a WSGI script's,
    // script_host.hpp), borrowed for the call.
    void serve(FCGX_Request& request, PyObject* application);

    // The request-bound types, for the CGI side of a scripts pool: the
    // request body (wsgi_input.hpp) and FCGI_STDERR (wsgi_errors.hpp).
    PyTypeObject* inputType() const;
    PyTypeObject* errorsType() const;

private:
    bool sendResult(RequestContext& context, PyObject* result);
    void report(RequestContext& context, const PythonError& error);

    std::string pool_;
    PyRef application_;
    PyRef inputType_;
    PyRef errorsType_;
    PyRef startResponseType_;
    PyRef writeType_;
    PyRef fileWrapperType_;
    PyRef closeName_;
    std::unique_ptr<EnvironBuilder> environ_;
    // Declared last: destroyed first, while the types it holds objects of
    // are still referenced above.
    std::unique_ptr<BoundObjectCache> boundCache_;
};

}  // namespace pyfpm::worker
