#include "src/worker/wsgi_environ.hpp"

#include <cstring>
#include <stdexcept>
#include <strings.h>

#include "src/worker/python_errors.hpp"

namespace pyfpm::worker {

namespace {

void check(bool ok)
{
    if (!ok) {
        throw std::runtime_error("cannot build the WSGI environ: " + PythonError::fetch().summary());
    }
}

}  // namespace

bool isHttps(const char* httpsParam, const char* requestScheme)
{
    if (httpsParam != nullptr) {
        return ::strcasecmp(httpsParam, "on") == 0 || std::strcmp(httpsParam, "1") == 0;
    }
    return requestScheme != nullptr && ::strcasecmp(requestScheme, "https") == 0;
}

EnvironBuilder::EnvironBuilder(PyTypeObject* fileWrapperType)
    : template_(PyDict_New()),
      inputKey_(PyUnicode_InternFromString("wsgi.input")),
      errorsKey_(PyUnicode_InternFromString("wsgi.errors")),
      schemeKey_(PyUnicode_InternFromString("wsgi.url_scheme")),
      https_(PyUnicode_InternFromString("https"))
{
    check(template_ && inputKey_ && errorsKey_ && schemeKey_ && https_);
    PyRef version(Py_BuildValue("(ii)", 1, 0));
    PyRef http(PyUnicode_InternFromString("http"));
    check(version && http);
    PyObject* dict = template_.get();
    check(PyDict_SetItemString(dict, "wsgi.version", version.get()) == 0 &&
          PyDict_SetItem(dict, schemeKey_.get(), http.get()) == 0 &&
          PyDict_SetItemString(dict, "wsgi.multithread", Py_False) == 0 &&
          PyDict_SetItemString(dict, "wsgi.multiprocess", Py_True) == 0 &&
          PyDict_SetItemString(dict, "wsgi.run_once", Py_False) == 0 &&
          PyDict_SetItemString(dict, "wsgi.file_wrapper",
                               reinterpret_cast<PyObject*>(fileWrapperType)) == 0);
}

PyObject* EnvironBuilder::build(char** params, PyObject* input, PyObject* errors) const
{
    PyRef environ(PyDict_Copy(template_.get()));
    if (!environ) {
        return nullptr;
    }
    const char* httpsParam = nullptr;
    const char* requestScheme = nullptr;
    for (char** entry = params; entry != nullptr && *entry != nullptr; ++entry) {
        const char* text = *entry;
        const char* equals = std::strchr(text, '=');
        if (equals == nullptr) {
            continue;
        }
        const std::string_view name(text, static_cast<std::size_t>(equals - text));
        const char* value = equals + 1;
        PyRef key(PyUnicode_DecodeLatin1(text, static_cast<Py_ssize_t>(name.size()), nullptr));
        PyRef item(key ? PyUnicode_DecodeLatin1(value, static_cast<Py_ssize_t>(std::strlen(value)), nullptr)
                       : nullptr);
        if (!item || PyDict_SetItem(environ.get(), key.get(), item.get()) != 0) {
            return nullptr;
        }
        if (name == "HTTPS") {
            httpsParam = value;
        } else if (name == "REQUEST_SCHEME") {
            requestScheme = value;
        }
    }
    if (PyDict_SetItem(environ.get(), inputKey_.get(), input) != 0 ||
        PyDict_SetItem(environ.get(), errorsKey_.get(), errors) != 0) {
        return nullptr;
    }
    if (isHttps(httpsParam, requestScheme) &&
        PyDict_SetItem(environ.get(), schemeKey_.get(), https_.get()) != 0) {
        return nullptr;
    }
    return environ.release();
}

}  // namespace pyfpm::worker
