// wsgi.file_wrapper (PEP 3333, "Optional Platform-Specific File
// Handling"): file_wrapper(filelike, block_size=8192) is an iterable of
// filelike.read(block_size) blocks whose close() closes filelike.
//
// When the application returns one unchanged and the file is a binary
// regular file, the worker skips the Python iteration and sends the file
// from its descriptor with pread(2) in large blocks, from the file's
// current position to its end.
#pragma once

#include "src/worker/py_ref.hpp"

namespace pyfpm::worker {

class RequestContext;

// Creates the type (once per process, GIL held). Returns nullptr with an
// exception set on failure.
PyTypeObject* createFileWrapperType();

enum class FileSend {
    NotApplicable,  // not a file_wrapper over a binary regular file: iterate it
    Sent,           // sent (or the connection broke: see ResponseWriter::broken)
    Failed,         // reading the file failed; a Python exception is set
};

// Sends `result` the fast way if it qualifies. Requires the response head
// to be set (start_response called); otherwise NotApplicable. May block.
FileSend sendFileWrapper(RequestContext& context, PyObject* result, PyTypeObject* fileWrapperType);

}  // namespace pyfpm::worker
