#include "src/worker/script_host.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "manager/unique_fd.hpp"
#include "src/worker/body_reader.hpp"
#include "src/worker/cgi_output.hpp"
#include "src/worker/python_errors.hpp"
#include "src/worker/request_context.hpp"

namespace pyfpm::worker {

namespace fs = std::filesystem;

namespace {

const char* param(const FCGX_Request& request, const char* name, const char* fallback)
{
    const char* value = FCGX_GetParam(name, request.envp);
    return value != nullptr ? value : fallback;
}

PyObject* decodePath(const std::string& path)
{
    return PyUnicode_DecodeFSDefaultAndSize(path.data(), static_cast<Py_ssize_t>(path.size()));
}

// The script's folder in front of sys.path while it runs; removed by
// identity afterwards, so whatever else the script did to sys.path stays.
class ScriptFolder {
public:
    explicit ScriptFolder(const fs::path& folder) : entry_(decodePath(folder.string()))
    {
        PyObject* path = PySys_GetObject("path");  // borrowed
        if (!entry_ || path == nullptr || !PyList_Check(path) || PyList_Insert(path, 0, entry_.get()) != 0) {
            // The script runs without it, as under `python3 -P`.
            PyErr_Clear();
            entry_.reset();
        }
    }
    // May run with the script's exception pending; it stays pending.
    ~ScriptFolder()
    {
        PyObject* path = PySys_GetObject("path");  // borrowed
        if (!entry_ || path == nullptr || !PyList_Check(path)) {
            return;
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(path); ++i) {
            if (PyList_GET_ITEM(path, i) == entry_.get()) {
                PyObject* type = nullptr;
                PyObject* value = nullptr;
                PyObject* traceback = nullptr;
                PyErr_Fetch(&type, &value, &traceback);
                if (PyList_SetSlice(path, i, i + 1, nullptr) != 0) {
                    PyErr_Clear();
                }
                PyErr_Restore(type, value, traceback);
                return;
            }
        }
    }
    ScriptFolder(const ScriptFolder&) = delete;
    ScriptFolder& operator=(const ScriptFolder&) = delete;

private:
    PyRef entry_;
};

// The file's bytes, read through one descriptor whose fstat(2) gives the
// identity the cache keeps: what was compiled is that version of the file.
// nullptr with OSError set.
PyObject* readScript(const ScriptFile& file, FileIdentity& identity)
{
    const char* path = file.path.c_str();
    // The path is a realpath and was a regular file at the check: a
    // symlink (O_NOFOLLOW) or a FIFO (O_NONBLOCK, then S_ISREG) in its place
    // now was put there since, and is not followed or waited on.
    const manager::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    struct stat info = {};
    if (!fd || ::fstat(fd.get(), &info) != 0) {
        return PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
    }
    if (!S_ISREG(info.st_mode)) {
        errno = EINVAL;
        return PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
    }
    identity = FileIdentity{info.st_dev, info.st_ino, info.st_size,
                            static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec};
    std::string source;
    char buffer[65536];
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
        }
        if (got == 0) {
            break;
        }
        source.append(buffer, static_cast<std::size_t>(got));
    }
    return PyBytes_FromStringAndSize(source.data(), static_cast<Py_ssize_t>(source.size()));
}

// The request's params as (bytes, bytes) pairs for os.environ.
PyObject* environItems(char** params)
{
    PyRef items(PyList_New(0));
    if (!items) {
        return nullptr;
    }
    for (char** entry = params; entry != nullptr && *entry != nullptr; ++entry) {
        const char* equals = std::strchr(*entry, '=');
        if (equals == nullptr) {
            continue;
        }
        PyRef pair(Py_BuildValue("(y#y)", *entry, static_cast<Py_ssize_t>(equals - *entry), equals + 1));
        if (!pair || PyList_Append(items.get(), pair.get()) != 0) {
            return nullptr;
        }
    }
    return items.release();
}

// SystemExit with code None, 0 or False: a CGI script's normal end, as
// `python3 script.py` exits 0 for it.
bool isCleanExit(const PythonError& error)
{
    if (!error.value || !PyErr_GivenExceptionMatches(error.value.get(), PyExc_SystemExit)) {
        return false;
    }
    PyRef code(PyObject_GetAttrString(error.value.get(), "code"));
    if (!code) {
        PyErr_Clear();
        return false;
    }
    if (code.get() == Py_None) {
        return true;
    }
    if (!PyLong_Check(code.get())) {
        return false;
    }
    int overflow = 0;
    return PyLong_AsLongAndOverflow(code.get(), &overflow) == 0 && overflow == 0;
}

}  // namespace

std::string scriptModuleName(const std::string& path)
{
    // FNV-1a, 64 bits: stable across runs (std::hash need not be).
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (char c : path) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    return fmt::format("_pyfpm_script_{:016x}", hash);
}

ScriptHost::ScriptHost(fs::path root, std::vector<std::string> extensions, std::string pool)
    : root_(std::move(root)),
      extensions_(std::move(extensions)),
      pool_(pool),
      wsgi_(PyRef(), std::move(pool)),
      cgiStdoutType_(reinterpret_cast<PyObject*>(createCgiStdoutType()))
{
    if (!cgiStdoutType_) {
        throw std::runtime_error("cannot set up scripts: " + PythonError::fetch().summary());
    }
}

ScriptHost::~ScriptHost() = default;

void ScriptHost::forget(const std::string& path)
{
    const auto found = scripts_.find(path);
    if (found == scripts_.end()) {
        return;
    }
    if (found->second.module) {
        // The module of the old version leaves sys.modules with it; a new
        // version gets a module of its own.
        PyObject* modules = PyImport_GetModuleDict();  // borrowed
        const std::string name = scriptModuleName(path);
        PyObject* registered = PyDict_GetItemString(modules, name.c_str());  // borrowed
        if (registered == found->second.module.get() && PyDict_DelItemString(modules, name.c_str()) != 0) {
            PyErr_Clear();
        }
    }
    scripts_.erase(found);
}

ScriptHost::Script* ScriptHost::current(const ScriptFile& file)
{
    const std::string key = file.path.string();
    if (const auto found = scripts_.find(key); found != scripts_.end()) {
        if (found->second.identity == file.identity) {
            return &found->second;
        }
        forget(key);
    }
    FileIdentity identity;
    PyRef source(readScript(file, identity));
    PyRef path(source ? decodePath(key) : nullptr);
    PyRef loaded(path ? glue_.load(source.get(), path.get()) : nullptr);
    if (!loaded) {
        return nullptr;
    }
    Script script;
    script.identity = identity;
    script.code = PyRef::borrow(PyTuple_GET_ITEM(loaded.get(), 0));
    script.wsgi = PyObject_IsTrue(PyTuple_GET_ITEM(loaded.get(), 1)) == 1;
    return &scripts_.insert_or_assign(key, std::move(script)).first->second;
}

bool ScriptHost::executeModule(Script& script, const ScriptFile& file)
{
    const std::string nameText = scriptModuleName(file.path.string());
    PyRef name(PyUnicode_FromStringAndSize(nameText.data(), static_cast<Py_ssize_t>(nameText.size())));
    PyRef path(name ? decodePath(file.path.string()) : nullptr);
    PyRef module(path ? glue_.newModule(name.get(), path.get()) : nullptr);
    PyObject* modules = PyImport_GetModuleDict();  // borrowed
    // In sys.modules while it executes, as an import would have it: a
    // Flask(__name__) finds its folder through it.
    if (!module || PyDict_SetItem(modules, name.get(), module.get()) != 0) {
        return false;
    }
    PyObject* globals = PyModule_GetDict(module.get());  // borrowed
    PyRef result;
    {
        ScriptFolder folder(file.path.parent_path());
        result = PyRef(PyEval_EvalCode(script.code.get(), globals, globals));
    }
    PyRef application;
    if (result) {
        application = PyRef::borrow(PyDict_GetItemString(globals, "application"));
        if (!application) {
            PyErr_Format(PyExc_NameError, "%U: `application` is bound only in a branch that did not run",
                         path.get());
        } else if (!PyCallable_Check(application.get())) {
            PyErr_Format(PyExc_TypeError, "%U: `application` is a %s, not a WSGI callable", path.get(),
                         Py_TYPE(application.get())->tp_name);
            application.reset();
        }
    }
    if (!application) {
        PythonError error = PythonError::fetch();
        if (PyDict_GetItem(modules, name.get()) == module.get() && PyDict_DelItem(modules, name.get()) != 0) {
            PyErr_Clear();
        }
        PyErr_Restore(error.type.release(), error.value.release(), error.traceback.release());
        return false;
    }
    script.module = std::move(module);
    script.application = std::move(application);
    return true;
}

void ScriptHost::serve(FCGX_Request& request)
{
    const auto checked = checkScript(FCGX_GetParam("SCRIPT_FILENAME", request.envp), root_, extensions_);
    if (const auto* refused = std::get_if<ScriptRefused>(&checked)) {
        refuse(request, *refused);
        return;
    }
    const ScriptFile& file = std::get<ScriptFile>(checked);
    Script* script = current(file);
    if (script != nullptr && script->wsgi && !script->application && !executeModule(*script, file)) {
        // Executed again by the next request: the failure may have been
        // the moment's (a database down at import).
        script = nullptr;
    }
    if (script == nullptr) {
        const PythonError error = PythonError::fetch();
        RequestContext context(request, 0);
        report(context, nullptr, error);
        return;
    }
    if (script->wsgi) {
        ScriptFolder folder(file.path.parent_path());
        wsgi_.serve(request, script->application.get());
        return;
    }
    runCgi(request, *script, file);
}

void ScriptHost::runCgi(FCGX_Request& request, const Script& script, const ScriptFile& file)
{
    RequestContext context(request, parseContentLength(FCGX_GetParam("CONTENT_LENGTH", request.envp)));
    CgiOutput output(request.out, FCGX_GetParam("PYFPM_WORKER_HEADER", request.envp) != nullptr);
    context.cgiOutput = &output;

    std::optional<PythonError> failure;
    {
        PyRef body(context.bind(wsgi_.inputType()));
        PyRef errors(body ? context.bind(wsgi_.errorsType()) : nullptr);
        PyRef stdoutRaw(errors ? context.bind(reinterpret_cast<PyTypeObject*>(cgiStdoutType_.get())) : nullptr);
        PyRef params(stdoutRaw ? environItems(request.envp) : nullptr);
        PyRef path(params ? decodePath(file.path.string()) : nullptr);
        std::optional<ScriptFolder> folder;
        PyRef entered;
        if (path) {
            folder.emplace(file.path.parent_path());
            entered = PyRef(glue_.enterCgi(path.get(), params.get(), body.get(), stdoutRaw.get(), errors.get()));
        }
        if (!entered) {
            failure = PythonError::fetch();
        } else {
            PyObject* globals = PyTuple_GET_ITEM(entered.get(), 0);  // borrowed
            PyRef result(PyEval_EvalCode(script.code.get(), globals, globals));
            if (!result) {
                PythonError error = PythonError::fetch();
                if (!isCleanExit(error)) {
                    failure = std::move(error);
                }
            }
            PyRef left(glue_.leaveCgi(PyTuple_GET_ITEM(entered.get(), 1)));
            if (!left) {
                // The worker's own state may now be off (its working
                // directory, os.environ): say so, whatever the script did.
                PythonError error = PythonError::fetch();
                spdlog::error("[pool {}] worker {}: restoring the worker after {}: {}", pool_, ::getpid(),
                              file.path.string(), error.summary());
                if (!failure) {
                    failure = std::move(error);
                }
            }
        }
    }
    if (!failure && output.empty() && !output.broken()) {
        PyErr_SetString(PyExc_RuntimeError, "the CGI script wrote no response on sys.stdout");
        failure = PythonError::fetch();
    }
    if (failure) {
        report(context, &output, *failure);
    } else {
        IoSection io(context);
        output.finish();
    }
    if (output.broken() && !failure) {
        spdlog::info("[pool {}] worker {}: {} {}: the web server closed the connection; response abandoned",
                     pool_, ::getpid(), param(request, "REQUEST_METHOD", "-"), param(request, "REQUEST_URI", "-"));
    }
    context.cgiOutput = nullptr;
}

void ScriptHost::refuse(FCGX_Request& request, const ScriptRefused& refused)
{
    const std::string_view status = statusLine(refused.refusal);
    const std::string_view reason = status.substr(4);
    std::string response;
    if (FCGX_GetParam("PYFPM_WORKER_HEADER", request.envp) != nullptr) {
        response += fmt::format("X-Pyfpm-Worker: {}\r\n", ::getpid());
    }
    response += fmt::format("Status: {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{}\n",
                            status, reason.size() + 1, reason);
    {
        GilRelease io;
        FCGX_PutStr(response.data(), static_cast<int>(response.size()), request.out);
    }
    const char* scriptFilename = param(request, "SCRIPT_FILENAME", "-");
    const std::string line = fmt::format("[pool {}] worker {}: {} {}: script {}: {}; answered {}", pool_, ::getpid(),
                                         param(request, "REQUEST_METHOD", "-"), param(request, "REQUEST_URI", "-"),
                                         scriptFilename, refused.detail, status.substr(0, 3));
    // A missing file is what scanners ask for all day; a refusal of a file
    // that exists says something is misconfigured or probed.
    if (status.starts_with("404")) {
        spdlog::info("{}", line);
    } else {
        spdlog::warn("{}", line);
    }
}

void ScriptHost::report(RequestContext& context, const CgiOutput* output, const PythonError& error)
{
    const FCGX_Request& request = context.request;
    const char* method = param(request, "REQUEST_METHOD", "-");
    const char* uri = param(request, "REQUEST_URI", "-");
    const char* scriptFilename = param(request, "SCRIPT_FILENAME", "-");
    const std::string summary = error.summary();
    if (output != nullptr && output->broken()) {
        spdlog::info("[pool {}] worker {}: {} {}: the web server closed the connection ({})", pool_, ::getpid(),
                     method, uri, summary);
        return;
    }
    const std::string traceback = error.formatted();
    const char* outcome = "answered 500";
    {
        IoSection io(context);
        FCGX_PutStr(traceback.data(), static_cast<int>(traceback.size()), request.err);
        if (output == nullptr || !output->started()) {
            context.response.sendInternalError();
        } else {
            outcome = "response cut short";
            FCGX_SetExitStatus(1, request.out);
        }
    }
    spdlog::error("[pool {}] worker {}: {} {}: script {}: {}; {}", pool_, ::getpid(), method, uri, scriptFilename,
                  summary, outcome);
}

}  // namespace pyfpm::worker
