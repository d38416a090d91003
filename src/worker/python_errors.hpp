// Turning the pending Python exception into text for stderr, FCGI_STDERR
// and log lines. GIL held for all of these.
#pragma once

#include "src/worker/py_ref.hpp"

#include <string>

namespace pyfpm::worker {

// A fetched (and normalized) exception; the error indicator is clear while
// one of these exists.
struct PythonError {
    PyRef type;
    PyRef value;
    PyRef traceback;

    // Takes the pending exception. Precondition: PyErr_Occurred().
    static PythonError fetch();

    // "ZeroDivisionError: division by zero" (the type's qualified name,
    // then str(value) when it is not empty), on one line.
    std::string summary() const;

    // The whole traceback as Python prints it, ending in '\n'; the summary
    // line alone if the traceback module itself fails.
    std::string formatted() const;

    // True for ModuleNotFoundError whose `name` is `module` or a package
    // containing it: the module is missing, not broken.
    bool isModuleMissing(const std::string& module) const;
};

// str(object) as UTF-8 (invalid characters escaped); "" if str() fails.
std::string toUtf8(PyObject* object);

}  // namespace pyfpm::worker
