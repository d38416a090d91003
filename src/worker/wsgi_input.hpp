// wsgi.input (PEP 3333, "Input and Error Streams"): the request body,
// streamed from FCGI_STDIN and never read past CONTENT_LENGTH. Supports
// read(size=-1), readline(size=-1), readlines(hint=-1) and iteration over
// lines; each returns bytes, b"" at the end of the body.
#pragma once

#include "src/worker/py_ref.hpp"

namespace pyfpm::worker {

// Creates the type (once per process, GIL held); instances are made with
// RequestContext::bind. Returns nullptr with an exception set on failure.
PyTypeObject* createInputType();

}  // namespace pyfpm::worker
