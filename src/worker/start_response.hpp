// PEP 3333's start_response(status, response_headers, exc_info=None) and
// the write(data) callable it returns ("The start_response() Callable",
// "The write() Callable").
//
// start_response checks its arguments when it is called, so that a bad
// header raises inside the application (PEP 3333: "servers should check
// for errors in the headers at the time start_response is called"):
// TypeError for wrong types, ValueError for a status that is not
// "NNN Reason", a header name that is not a token (or is "Status"), a
// value with CR, LF or another control character, or text that is not
// latin-1; RuntimeError when called a second time without exc_info. With
// exc_info after the head went out it re-raises exc_info.
//
// write(bytes) sends the head if needed and the data at once; it raises
// RuntimeError before start_response, BrokenPipeError when the web server
// has closed the connection.
#pragma once

#include "src/worker/py_ref.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace pyfpm::worker {

// Create the two types (once per process, GIL held); instances are made
// with RequestContext::bind, write objects by start_response through
// RequestContext::writeType. Return nullptr with an exception set on
// failure.
PyTypeObject* createStartResponseType();
PyTypeObject* createWriteType();

// The calls of the two types (vectorcall, PEP 590), for
// RequestContext::bind.
PyObject* callStartResponse(PyObject* self, PyObject* const* args, std::size_t nargsf, PyObject* kwnames);
PyObject* callWrite(PyObject* self, PyObject* const* args, std::size_t nargsf, PyObject* kwnames);

// The latin-1 bytes of a str (PEP 3333 "native strings"), or nullopt when
// it holds a character above U+00FF. Precondition: PyUnicode_Check(text).
std::optional<std::string_view> latin1View(PyObject* text);

}  // namespace pyfpm::worker
