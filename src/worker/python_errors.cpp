#include "src/worker/python_errors.hpp"

namespace pyfpm::worker {

PythonError PythonError::fetch()
{
    PyObject* type = nullptr;
    PyObject* value = nullptr;
    PyObject* traceback = nullptr;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != nullptr && value != nullptr) {
        PyException_SetTraceback(value, traceback);
    }
    return PythonError{PyRef(type), PyRef(value), PyRef(traceback)};
}

std::string toUtf8(PyObject* object)
{
    PyRef text(PyObject_Str(object));
    if (!text) {
        PyErr_Clear();
        return {};
    }
    PyRef encoded(PyUnicode_AsEncodedString(text.get(), "utf-8", "backslashreplace"));
    if (!encoded) {
        PyErr_Clear();
        return {};
    }
    return std::string(PyBytes_AS_STRING(encoded.get()),
                       static_cast<std::size_t>(PyBytes_GET_SIZE(encoded.get())));
}

std::string PythonError::summary() const
{
    std::string line = "unknown error";
    if (type && PyType_Check(type.get())) {
        PyRef name(PyType_GetQualName(reinterpret_cast<PyTypeObject*>(type.get())));
        if (name) {
            line = toUtf8(name.get());
        } else {
            PyErr_Clear();
        }
    }
    if (value) {
        const std::string message = toUtf8(value.get());
        if (!message.empty()) {
            line += ": " + message;
        }
    }
    for (char& c : line) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    return line;
}

std::string PythonError::formatted() const
{
    PyRef module(PyImport_ImportModule("traceback"));
    PyRef lines(module ? PyObject_CallMethod(module.get(), "format_exception", "OOO",
                                             type ? type.get() : Py_None,
                                             value ? value.get() : Py_None,
                                             traceback ? traceback.get() : Py_None)
                       : nullptr);
    PyRef empty(lines ? PyUnicode_FromString("") : nullptr);
    PyRef joined(empty ? PyUnicode_Join(empty.get(), lines.get()) : nullptr);
    if (!joined) {
        PyErr_Clear();
        return summary() + "\n";
    }
    return toUtf8(joined.get());
}

bool PythonError::isModuleMissing(const std::string& module) const
{
    if (!value || !PyErr_GivenExceptionMatches(value.get(), PyExc_ModuleNotFoundError)) {
        return false;
    }
    PyRef name(PyObject_GetAttrString(value.get(), "name"));
    if (!name || !PyUnicode_Check(name.get())) {
        PyErr_Clear();
        return false;
    }
    const std::string missing = toUtf8(name.get());
    return !missing.empty() &&
           (missing == module || module.compare(0, missing.size() + 1, missing + ".") == 0);
}

}  // namespace pyfpm::worker
