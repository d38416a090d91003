// wsgi.errors (PEP 3333, "Input and Error Streams"): a text stream whose
// writes go to FCGI_STDERR (FastCGI 1.0 §5.3) of the current request, which
// nginx and pyfpm's bridge put in their error logs. write(str),
// writelines(iterable of str), flush(). Text is sent as UTF-8.
#pragma once

#include "src/worker/py_ref.hpp"

namespace pyfpm::worker {

// Creates the type (once per process, GIL held); instances are made with
// RequestContext::bind. Returns nullptr with an exception set on failure.
PyTypeObject* createErrorsType();

}  // namespace pyfpm::worker
