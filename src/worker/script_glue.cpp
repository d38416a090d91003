#include "src/worker/script_glue.hpp"

#include <stdexcept>

#include "src/worker/python_errors.hpp"

namespace pyfpm::worker {

namespace {

// The glue itself. Its frames never show in a script's traceback: the
// worker runs the script's code object directly (PyEval_EvalCode).
constexpr const char* kGlueSource = R"py(
import ast
import builtins
import io
import os
import sys

# Nested scopes: a name bound inside them is not the module's.
_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _binds_application(node):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == "application"
    if isinstance(node, _SCOPES):
        return False
    if isinstance(node, ast.Name):
        return node.id == "application" and isinstance(node.ctx, ast.Store)
    if isinstance(node, ast.alias):
        return (node.asname or node.name.partition(".")[0]) == "application"
    return any(_binds_application(child) for child in ast.iter_child_nodes(node))


def load(source, path):
    tree = ast.parse(source, path)
    return compile(tree, path, "exec", dont_inherit=True), _binds_application(tree)


class _Stdin(io.RawIOBase):
    def __init__(self, body):
        self._body = body

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._body.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


class _Stdout(io.BufferedIOBase):
    # What the script writes goes to the worker's CgiOutput. Once the
    # request is over, writes fail and flush does nothing (the text stream
    # above flushes when it is garbage-collected).
    def __init__(self, raw):
        self._raw = raw

    def writable(self):
        return True

    def write(self, data):
        if self._raw is None:
            raise ValueError("write to the stdout of a CGI request that has ended")
        return self._raw.write(data)

    def flush(self):
        if self._raw is not None:
            self._raw.flush()


class _Stderr(io.TextIOBase):
    encoding = "utf-8"
    errors = "backslashreplace"

    def __init__(self, target):
        self._target = target

    def writable(self):
        return True

    def write(self, text):
        target = self._target
        if target is None:
            target = sys.__stderr__
        return target.write(text)

    def flush(self):
        if self._target is not None:
            self._target.flush()


def enter_cgi(path, params, body, stdout_raw, errors):
    main = type(sys)("__main__")
    main.__file__ = path
    main.__builtins__ = builtins
    main.__cached__ = None
    stdout = _Stdout(stdout_raw)
    stderr = _Stderr(errors)
    state = (sys.stdin, sys.stdout, sys.stderr, sys.argv, sys.modules.get("__main__"),
             os.environ, dict(os.environ), os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC),
             stdout, stderr)
    try:
        environb = os.environb
        for name, value in params:
            if name and name != b"HTTP_PROXY":
                environb[name] = value
        os.chdir(os.path.dirname(path))
        sys.stdin = io.TextIOWrapper(io.BufferedReader(_Stdin(body)), encoding="utf-8",
                                     errors="surrogateescape")
        sys.stdout = io.TextIOWrapper(stdout, encoding="utf-8", errors="surrogateescape",
                                      write_through=True)
        sys.stderr = stderr
        sys.argv = [path]
        sys.modules["__main__"] = main
    except BaseException:
        leave_cgi(state)
        raise
    return main.__dict__, state


def leave_cgi(state):
    stdin, stdout, stderr, argv, main, environ, saved, cwd, raw_stdout, raw_stderr = state
    raw_stdout._raw = None
    raw_stderr._target = None
    sys.stdin, sys.stdout, sys.stderr, sys.argv = stdin, stdout, stderr, argv
    if main is None:
        sys.modules.pop("__main__", None)
    else:
        sys.modules["__main__"] = main
    os.environ = environ
    for name in [name for name in environ if name not in saved]:
        del environ[name]
    for name, value in saved.items():
        if environ.get(name) != value:
            environ[name] = value
    try:
        os.fchdir(cwd)
    finally:
        os.close(cwd)


def new_module(name, path):
    module = type(sys)(name)
    module.__file__ = path
    module.__builtins__ = builtins
    return module
)py";

PyRef attribute(const PyRef& module, const char* name)
{
    PyRef value(PyObject_GetAttrString(module.get(), name));
    if (!value) {
        throw std::runtime_error(std::string("cannot set up scripts: ") + PythonError::fetch().summary());
    }
    return value;
}

}  // namespace

ScriptGlue::ScriptGlue()
{
    PyRef code(Py_CompileString(kGlueSource, "<pyfpm-worker scripts>", Py_file_input));
    PyRef module(code ? PyModule_New("_pyfpm_scripts") : nullptr);
    PyObject* globals = module ? PyModule_GetDict(module.get()) : nullptr;  // borrowed
    if (globals != nullptr && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) != 0) {
        globals = nullptr;
    }
    PyRef result(globals != nullptr ? PyEval_EvalCode(code.get(), globals, globals) : nullptr);
    if (!result) {
        throw std::runtime_error("cannot set up scripts: " + PythonError::fetch().summary());
    }
    module_ = std::move(module);
    load_ = attribute(module_, "load");
    enterCgi_ = attribute(module_, "enter_cgi");
    leaveCgi_ = attribute(module_, "leave_cgi");
    newModule_ = attribute(module_, "new_module");
}

PyObject* ScriptGlue::load(PyObject* source, PyObject* path) const
{
    PyObject* arguments[] = {source, path};
    return PyObject_Vectorcall(load_.get(), arguments, 2, nullptr);
}

PyObject* ScriptGlue::enterCgi(PyObject* path, PyObject* params, PyObject* body, PyObject* stdoutRaw,
                               PyObject* errors) const
{
    PyObject* arguments[] = {path, params, body, stdoutRaw, errors};
    return PyObject_Vectorcall(enterCgi_.get(), arguments, 5, nullptr);
}

PyObject* ScriptGlue::leaveCgi(PyObject* state) const
{
    return PyObject_CallOneArg(leaveCgi_.get(), state);
}

PyObject* ScriptGlue::newModule(PyObject* name, PyObject* path) const
{
    PyObject* arguments[] = {name, path};
    return PyObject_Vectorcall(newModule_.get(), arguments, 2, nullptr);
}

}  // namespace pyfpm::worker
