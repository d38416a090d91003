// Owning and GIL helpers for the CPython C API.
//
// Every function here must be called with the GIL held, except where a
// comment says otherwise.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <utility>

namespace pyfpm::worker {

// One strong reference to a Python object (or none). Its destructor drops
// the reference, so it must run with the GIL held.
class PyRef {
public:
    PyRef() = default;
    // Takes over a new (strong) reference; nullptr is allowed and means
    // "an exception is set", as the C API returns it.
    explicit PyRef(PyObject* owned) : object_(owned) {}
    // Adds a reference to a borrowed object.
    static PyRef borrow(PyObject* borrowed)
    {
        Py_XINCREF(borrowed);
        return PyRef(borrowed);
    }

    ~PyRef() { Py_XDECREF(object_); }
    PyRef(const PyRef&) = delete;
    PyRef& operator=(const PyRef&) = delete;
    PyRef(PyRef&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
    PyRef& operator=(PyRef&& other) noexcept
    {
        if (this != &other) {
            Py_XDECREF(object_);
            object_ = std::exchange(other.object_, nullptr);
        }
        return *this;
    }

    PyObject* get() const { return object_; }
    // Gives the reference to the caller (e.g. to return it to Python).
    PyObject* release() { return std::exchange(object_, nullptr); }
    void reset() { Py_CLEAR(object_); }
    explicit operator bool() const { return object_ != nullptr; }

private:
    PyObject* object_ = nullptr;
};

// Releases the GIL for a blocking call (socket I/O, waiting for a
// connection) so that threads the application started keep running.
class GilRelease {
public:
    GilRelease() : state_(PyEval_SaveThread()) {}
    ~GilRelease() { PyEval_RestoreThread(state_); }
    GilRelease(const GilRelease&) = delete;
    GilRelease& operator=(const GilRelease&) = delete;

private:
    PyThreadState* state_;
};

// A METH_FASTCALL or METH_VARARGS|METH_KEYWORDS function as the
// PyCFunction a PyMethodDef stores; the flags tell CPython its real type.
template <typename Function>
PyCFunction asPyCFunction(Function function)
{
    return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(function));
}

}  // namespace pyfpm::worker
