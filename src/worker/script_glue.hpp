// The Python half of a scripts pool (script_host.hpp): small functions
// written in Python because they are mostly Python's own objects (ast,
// io, os.environ, sys.modules), compiled once per worker from source kept
// in script_glue.cpp. Everything here needs the GIL.
#pragma once

#include "src/worker/py_ref.hpp"

namespace pyfpm::worker {

class ScriptGlue {
public:
    // Compiles the glue. Throws std::runtime_error when Python cannot.
    ScriptGlue();

    // load(source: bytes, path: str) -> (code, binds_application: bool):
    // parses the file (PEP 263 coding cookies honoured), compiles it, and
    // says whether its top level binds the name `application` (def, class,
    // import or assignment, also inside module-level if/try/with/for
    // blocks; not a star import). Raises SyntaxError and friends.
    PyObject* load(PyObject* source, PyObject* path) const;

    // enter_cgi(path, params, body, stdout_raw, errors) -> (globals, state):
    // a fresh __main__ module for the script at `path` (its dict is
    // returned as globals, with __name__ "__main__" and __file__), put in
    // sys.modules["__main__"]; `params` ((bytes, bytes) pairs, HTTP_PROXY
    // left out: httpoxy) added to os.environ; sys.stdin a text stream over
    // `body` (wsgi_input.hpp) with .buffer, sys.stdout a text stream over
    // `stdout_raw` (cgi_output.hpp) with .buffer, sys.stderr a text stream
    // over `errors` (wsgi_errors.hpp), all UTF-8 with surrogateescape;
    // sys.argv [path]; the working directory the script's folder (RFC 3875
    // §7.2). `state` is what leave_cgi restores.
    PyObject* enterCgi(PyObject* path, PyObject* params, PyObject* body, PyObject* stdoutRaw,
                       PyObject* errors) const;
    // leave_cgi(state) -> None: puts back everything enter_cgi changed
    // (os.environ as it was, including what the script changed in it) and
    // detaches the streams, so that a thread the script left behind writes
    // to the worker's stderr and not to the next request.
    PyObject* leaveCgi(PyObject* state) const;

    // new_module(name, path) -> module: an empty module with __file__ for a
    // WSGI script's namespace.
    PyObject* newModule(PyObject* name, PyObject* path) const;

private:
    PyRef module_;
    PyRef load_;
    PyRef enterCgi_;
    PyRef leaveCgi_;
    PyRef newModule_;
};

}  // namespace pyfpm::worker
