// The embedded CPython interpreter: one per worker process, started before
// the first accept and finalized at exit.
#pragma once

#include "src/worker/py_ref.hpp"

#include <string>
#include <variant>

#include "src/worker/options.hpp"

namespace pyfpm::worker {

struct ImportFailure {
    std::string reason;     // one line: "ModuleNotFoundError: No module named 'x'"
    std::string traceback;  // the full traceback, or "" when it adds nothing
};

class PythonHost {
public:
    // Starts CPython with PyConfig:
    //  * no Python signal handlers (install_signal_handlers = 0): SIGTERM,
    //    SIGINT and SIGPIPE belong to the worker (stop_signal.hpp);
    //  * unbuffered stdout/stderr, so the application's prints reach the
    //    daemon's log at once;
    //  * sys.executable = the virtualenv's python, or the interpreter
    //    libpython was built for (not pyfpm-worker), so that subprocess
    //    and multiprocessing start Python;
    //  * the virtualenv's site-packages on sys.path (site.addsitedir);
    //  * options.pythonPath prepended to sys.path, first entry first,
    //    made absolute against the current directory.
    // PYTHONPATH and the other PYTHON* variables keep their usual meaning.
    // The calling thread holds the GIL afterwards. Throws
    // std::runtime_error with a one-line reason.
    PythonHost(const WorkerOptions& options, const char* argv0);
    // Py_FinalizeEx: runs atexit handlers and waits for non-daemon
    // threads. The calling thread must hold the GIL.
    ~PythonHost();
    PythonHost(const PythonHost&) = delete;
    PythonHost& operator=(const PythonHost&) = delete;

    // Imports spec.module and resolves spec.callable (dotted attributes)
    // on it. Fails when the import raises (any exception, SystemExit
    // included), an attribute is missing, or the result is not callable.
    std::variant<PyRef, ImportFailure> importApp(const AppSpec& spec);
};

}  // namespace pyfpm::worker
