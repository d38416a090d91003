#include "src/worker/file_wrapper.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <string_view>

#include "src/worker/request_context.hpp"

namespace pyfpm::worker {

namespace {

constexpr Py_ssize_t kDefaultBlockSize = 8192;
// Large enough that a big file costs few system calls, small enough to
// stay out of the way of the rest of the process.
constexpr std::size_t kSendBlock = 256 * 1024;

struct FileWrapperObject {
    PyObject_HEAD
    PyObject* filelike;
    Py_ssize_t blockSize;
};

FileWrapperObject* asWrapper(PyObject* self)
{
    return reinterpret_cast<FileWrapperObject*>(self);
}

int wrapperInit(PyObject* self, PyObject* args, PyObject* kwargs)
{
    static const char* keywords[] = {"filelike", "block_size", nullptr};
    PyObject* filelike = nullptr;
    Py_ssize_t blockSize = kDefaultBlockSize;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|n:file_wrapper", const_cast<char**>(keywords),
                                     &filelike, &blockSize)) {
        return -1;
    }
    if (blockSize <= 0) {
        PyErr_SetString(PyExc_ValueError, "file_wrapper: block_size must be positive");
        return -1;
    }
    Py_INCREF(filelike);
    Py_XSETREF(asWrapper(self)->filelike, filelike);
    asWrapper(self)->blockSize = blockSize;
    return 0;
}

int wrapperTraverse(PyObject* self, visitproc visit, void* arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(asWrapper(self)->filelike);
    return 0;
}

int wrapperClear(PyObject* self)
{
    Py_CLEAR(asWrapper(self)->filelike);
    return 0;
}

void wrapperDealloc(PyObject* self)
{
    PyTypeObject* type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    wrapperClear(self);
    type->tp_free(self);
    Py_DECREF(type);
}

PyObject* wrapperIter(PyObject* self)
{
    Py_INCREF(self);
    return self;
}

PyObject* wrapperNext(PyObject* self)
{
    FileWrapperObject* wrapper = asWrapper(self);
    if (wrapper->filelike == nullptr) {
        return nullptr;
    }
    PyObject* block = PyObject_CallMethod(wrapper->filelike, "read", "n", wrapper->blockSize);
    if (block == nullptr) {
        return nullptr;
    }
    const Py_ssize_t size = PyObject_Length(block);
    if (size == 0) {
        Py_DECREF(block);
        return nullptr;  // StopIteration
    }
    if (size < 0) {
        PyErr_Clear();  // not sized: let the caller's type check report it
    }
    return block;
}

PyObject* wrapperClose(PyObject* self, PyObject*)
{
    FileWrapperObject* wrapper = asWrapper(self);
    if (wrapper->filelike != nullptr && PyObject_HasAttrString(wrapper->filelike, "close")) {
        PyRef result(PyObject_CallMethod(wrapper->filelike, "close", nullptr));
        if (!result) {
            return nullptr;
        }
    }
    Py_RETURN_NONE;
}

PyMethodDef kMethods[] = {
    {"close", wrapperClose, METH_NOARGS, "close(): close the wrapped file"},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot kSlots[] = {
    {Py_tp_new, reinterpret_cast<void*>(PyType_GenericNew)},
    {Py_tp_init, reinterpret_cast<void*>(wrapperInit)},
    {Py_tp_dealloc, reinterpret_cast<void*>(wrapperDealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(wrapperTraverse)},
    {Py_tp_clear, reinterpret_cast<void*>(wrapperClear)},
    {Py_tp_iter, reinterpret_cast<void*>(wrapperIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(wrapperNext)},
    {Py_tp_methods, kMethods},
    {Py_tp_doc, const_cast<char*>("wsgi.file_wrapper(filelike, block_size=8192)")},
    {0, nullptr},
};

PyType_Spec kSpec = {
    "pyfpm_worker.FileWrapper",
    sizeof(FileWrapperObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    kSlots,
};

// An int from calling filelike.<method>(), or -1 (error cleared).
long long callForInt(PyObject* filelike, const char* method)
{
    PyRef result(PyObject_CallMethod(filelike, method, nullptr));
    if (!result || !PyLong_Check(result.get())) {
        PyErr_Clear();
        return -1;
    }
    const long long value = PyLong_AsLongLong(result.get());
    if (value == -1 && PyErr_Occurred()) {
        PyErr_Clear();
    }
    return value;
}

// io's binary files have mode "rb" (or "r+b", ...); text files do not.
bool isBinaryFile(PyObject* filelike)
{
    PyRef mode(PyObject_GetAttrString(filelike, "mode"));
    if (!mode || !PyUnicode_Check(mode.get())) {
        PyErr_Clear();
        return false;
    }
    const char* text = PyUnicode_AsUTF8(mode.get());
    if (text == nullptr) {
        PyErr_Clear();
        return false;
    }
    return std::strchr(text, 'b') != nullptr;
}

}  // namespace

PyTypeObject* createFileWrapperType()
{
    return reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&kSpec));
}

FileSend sendFileWrapper(RequestContext& context, PyObject* result, PyTypeObject* fileWrapperType)
{
    if (!Py_IS_TYPE(result, fileWrapperType) || !context.response.hasHead()) {
        return FileSend::NotApplicable;
    }
    PyObject* filelike = asWrapper(result)->filelike;
    if (filelike == nullptr || !isBinaryFile(filelike)) {
        return FileSend::NotApplicable;
    }
    const long long fd = callForInt(filelike, "fileno");
    struct stat info = {};
    if (fd < 0 || fd > INT_MAX || ::fstat(static_cast<int>(fd), &info) != 0 || !S_ISREG(info.st_mode)) {
        return FileSend::NotApplicable;
    }
    // The Python file object may have read ahead of what it returned;
    // tell() is the position the application sees, pread(2) ignores the
    // descriptor's own offset.
    long long offset = callForInt(filelike, "tell");
    if (offset < 0) {
        return FileSend::NotApplicable;
    }

    int error = 0;
    {
        IoSection io(context);
        auto block = std::make_unique<char[]>(kSendBlock);
        for (;;) {
            const ssize_t got = ::pread(static_cast<int>(fd), block.get(), kSendBlock, offset);
            if (got < 0) {
                if (errno == EINTR) {
                    continue;
                }
                error = errno;
                break;
            }
            if (got == 0 ||
                !context.response.write(std::string_view(block.get(), static_cast<std::size_t>(got)), false)) {
                break;
            }
            offset += got;
        }
    }
    if (error != 0) {
        errno = error;
        PyErr_SetFromErrno(PyExc_OSError);
        return FileSend::Failed;
    }
    return FileSend::Sent;
}

}  // namespace pyfpm::worker
