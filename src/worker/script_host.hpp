// A scripts pool (pyfpm.yaml(5) `scripts:`, pyfpm-worker --scripts):
// php-fpm's model for Python files. Each request runs the file its
// SCRIPT_FILENAME param names (the bridge sets it, or nginx's
// `fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name`).
//
// * Refused (script_check.hpp), with a CGI "Status: 404 Not Found" or
//   "403 Forbidden" and one log line: no SCRIPT_FILENAME, a missing file,
//   a file outside the root after resolving symlinks, a wrong extension,
//   not a regular file.
// * A file whose top level binds `application` (script_glue.hpp, load) is
//   a WSGI script: it is executed once as a module of its own
//   ("_pyfpm_script_" and a hash of its path, in sys.modules; not
//   "__main__", so a `if __name__ == "__main__":` test server does not
//   start), and its `application` serves the request exactly as an `app:`
//   pool's does (wsgi_app.hpp).
// * Any other file is a CGI script (RFC 3875), run in-process on every
//   request with fresh globals (__name__ "__main__", __file__): the
//   request's params in os.environ, the body on sys.stdin (bytes on
//   sys.stdin.buffer), its output on sys.stdout as the CGI response
//   (cgi_output.hpp), sys.stderr to FCGI_STDERR, the script's folder as the
//   working directory; all of it put back afterwards. sys.exit() or
//   SystemExit with code 0 or None ends it normally; another code is a
//   failure. A script that writes nothing is a failure too.
//
// Code is compiled once per file (keyed by its realpath) and compiled
// again when the file's device, inode, size or mtime (in ns) changes; a
// WSGI script is then executed again into a new module. The script's folder
// is sys.path[0] while it runs (and while a WSGI script's application is
// called), as `python3 script.py` has it.
//
// A failure (a compile error included) answers 500 when nothing has gone
// out yet, else cuts the response short (FCGI_END_REQUEST appStatus 1); the
// traceback goes to FCGI_STDERR, one line to the worker's log, and the
// worker serves on.
//
// Modules a script imports stay in sys.modules for the worker's life, as
// in any Python process: an edited helper module is seen after a reload.
#pragma once

#include "src/worker/py_ref.hpp"

#include <fcgiapp.h>

#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "src/worker/script_check.hpp"
#include "src/worker/script_glue.hpp"
#include "src/worker/wsgi_app.hpp"

namespace pyfpm::worker {

class CgiOutput;

class ScriptHost {
public:
    // `root` and `extensions` as script_check.hpp takes them; `pool` names
    // the worker in log lines. GIL held. Throws std::runtime_error when
    // Python cannot set up the types or the glue.
    ScriptHost(std::filesystem::path root, std::vector<std::string> extensions, std::string pool);
    ~ScriptHost();  // GIL held
    ScriptHost(const ScriptHost&) = delete;
    ScriptHost& operator=(const ScriptHost&) = delete;

    // Serves the request FCGX_Accept_r has just read. GIL held; releases it
    // around socket I/O. Never throws; leaves the request for the caller
    // to drain and finish.
    void serve(FCGX_Request& request);

private:
    struct Script {
        FileIdentity identity;
        PyRef code;
        bool wsgi = false;
        PyRef module;       // a WSGI script's namespace, once executed
        PyRef application;  // its `application`
    };

    // The cached script for `file`, compiled again if it changed; nullptr
    // with an exception set when it cannot be read or compiled.
    Script* current(const ScriptFile& file);
    // Executes a WSGI script's module (once per version of the file).
    // False with an exception set.
    bool executeModule(Script& script, const ScriptFile& file);
    void runCgi(FCGX_Request& request, const Script& script, const ScriptFile& file);
    void refuse(FCGX_Request& request, const ScriptRefused& refused);
    void report(RequestContext& context, const CgiOutput* output, const PythonError& error);
    void forget(const std::string& path);

    std::filesystem::path root_;
    std::vector<std::string> extensions_;
    std::string pool_;
    WsgiApplication wsgi_;
    ScriptGlue glue_;
    PyRef cgiStdoutType_;
    std::unordered_map<std::string, Script> scripts_;  // by realpath
};

// The sys.modules name of a WSGI script's module: "_pyfpm_script_" and 16
// hex digits of a hash of `path`. Pure.
std::string scriptModuleName(const std::string& path);

}  // namespace pyfpm::worker
