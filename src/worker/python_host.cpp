#include "src/worker/python_host.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "src/worker/python_errors.hpp"

namespace pyfpm::worker {

namespace fs = std::filesystem;

namespace {

void checkStatus(PyStatus status, const char* what)
{
    if (PyStatus_Exception(status)) {
        throw std::runtime_error(fmt::format("cannot start Python ({}): {}", what,
                                             status.err_msg != nullptr ? status.err_msg : "unknown error"));
    }
}

// The python a subprocess should run: the virtualenv's, else the one
// libpython belongs to.
std::string interpreterPath(const WorkerOptions& options)
{
    if (!options.virtualenv.empty()) {
        for (const char* name : {"python3", "python"}) {
            const fs::path candidate = fs::absolute(options.virtualenv) / "bin" / name;
            if (fs::exists(candidate)) {
                return candidate.string();
            }
        }
    }
    return PYFPM_WORKER_PYTHON;
}

void throwPythonError(const std::string& what)
{
    throw std::runtime_error(what + ": " + PythonError::fetch().summary());
}

void prependToSysPath(const std::vector<std::string>& entries)
{
    PyObject* path = PySys_GetObject("path");  // borrowed
    if (path == nullptr || !PyList_Check(path)) {
        throw std::runtime_error("sys.path is not a list");
    }
    Py_ssize_t index = 0;
    for (const auto& entry : entries) {
        const std::string absolute = fs::absolute(entry).lexically_normal().string();
        PyRef item(PyUnicode_DecodeFSDefault(absolute.c_str()));
        if (!item || PyList_Insert(path, index++, item.get()) != 0) {
            throwPythonError("cannot extend sys.path");
        }
    }
}

void addVirtualenv(const std::string& virtualenv)
{
    const fs::path sitePackages = fs::absolute(virtualenv) / "lib" /
                                  fmt::format("python{}.{}", PY_MAJOR_VERSION, PY_MINOR_VERSION) /
                                  "site-packages";
    PyRef directory(PyUnicode_DecodeFSDefault(sitePackages.lexically_normal().string().c_str()));
    PyObject* path = PySys_GetObject("path");  // borrowed
    if (!directory || path == nullptr) {
        throwPythonError("cannot read sys.path");
    }
    const int present = PySequence_Contains(path, directory.get());
    if (present < 0) {
        throwPythonError("cannot read sys.path");
    }
    if (present == 1) {
        return;  // site.py found pyvenv.cfg next to sys.executable itself
    }
    PyRef site(PyImport_ImportModule("site"));
    PyRef added(site ? PyObject_CallMethod(site.get(), "addsitedir", "O", directory.get()) : nullptr);
    if (!added) {
        throwPythonError("cannot add the virtualenv's site-packages");
    }
}

}  // namespace

PythonHost::PythonHost(const WorkerOptions& options, const char* argv0)
{
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    config.buffered_stdio = 0;
    // Nothing is put in front of sys.path implicitly (no current
    // directory): the application comes from --python-path.
    config.safe_path = 1;
    try {
        const std::string program = interpreterPath(options);
        checkStatus(PyConfig_SetBytesString(&config, &config.program_name, program.c_str()),
                    "program name");
        char* argv[] = {const_cast<char*>(argv0)};
        checkStatus(PyConfig_SetBytesArgv(&config, 1, argv), "argv");
        checkStatus(Py_InitializeFromConfig(&config), "initialization");
    } catch (...) {
        PyConfig_Clear(&config);
        throw;
    }
    PyConfig_Clear(&config);

    try {
        if (!options.virtualenv.empty()) {
            addVirtualenv(options.virtualenv);
        }
        prependToSysPath(options.pythonPath);
    } catch (...) {
        Py_FinalizeEx();
        throw;
    }
}

PythonHost::~PythonHost()
{
    Py_FinalizeEx();
}

std::variant<PyRef, ImportFailure> PythonHost::importApp(const AppSpec& spec)
{
    PyRef object(PyImport_ImportModule(spec.module.c_str()));
    if (!object) {
        const PythonError error = PythonError::fetch();
        return ImportFailure{error.summary(),
                             error.isModuleMissing(spec.module) ? std::string() : error.formatted()};
    }
    std::string path = spec.module;
    std::size_t start = 0;
    while (start <= spec.callable.size()) {
        const std::size_t dot = std::min(spec.callable.find('.', start), spec.callable.size());
        const std::string name = spec.callable.substr(start, dot - start);
        PyRef next(PyObject_GetAttrString(object.get(), name.c_str()));
        if (!next) {
            const PythonError error = PythonError::fetch();
            // A missing attribute needs no traceback; an exception from a
            // property or module __getattr__ does.
            const bool plain = error.value && PyErr_GivenExceptionMatches(error.value.get(), PyExc_AttributeError);
            return ImportFailure{error.summary(), plain ? std::string() : error.formatted()};
        }
        object = std::move(next);
        path += (start == 0 ? ":" : ".") + name;
        start = dot + 1;
    }
    if (!PyCallable_Check(object.get())) {
        return ImportFailure{fmt::format("{} is a {}, not a callable", path, Py_TYPE(object.get())->tp_name),
                             std::string()};
    }
    return object;
}

}  // namespace pyfpm::worker
