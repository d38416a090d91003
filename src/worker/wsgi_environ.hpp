// The environ dict (PEP 3333, "environ Variables"): every FastCGI param
// (FastCGI 1.0 §5.2; the CGI/1.1 meta-variables of RFC 3875 §4.1 and the
// web server's HTTP_* ones) as a str decoded from latin-1, plus
//   wsgi.version (1, 0), wsgi.url_scheme ("https" when the param HTTPS is
//   "on" or "1", or when there is no HTTPS param and REQUEST_SCHEME is
//   "https"; "http" otherwise), wsgi.input, wsgi.errors,
//   wsgi.multithread False, wsgi.multiprocess True, wsgi.run_once False,
//   wsgi.file_wrapper.
#pragma once

#include "src/worker/py_ref.hpp"

#include <string_view>

namespace pyfpm::worker {

class EnvironBuilder {
public:
    // Prepares the keys and values that never change (GIL held). Throws
    // std::runtime_error if Python cannot allocate them.
    explicit EnvironBuilder(PyTypeObject* fileWrapperType);

    // A new dict for one request; `params` is FCGX_Request::envp ("NAME=value"
    // strings, NULL-terminated). Returns a new reference, or nullptr with an
    // exception set.
    PyObject* build(char** params, PyObject* input, PyObject* errors) const;

private:
    PyRef template_;  // the constant wsgi.* entries, copied per request
    PyRef inputKey_;
    PyRef errorsKey_;
    PyRef schemeKey_;
    PyRef https_;
};

// The wsgi.url_scheme rule above, on the two params' values (nullptr when
// absent).
bool isHttps(const char* httpsParam, const char* requestScheme);

}  // namespace pyfpm::worker
