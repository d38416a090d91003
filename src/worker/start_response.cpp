#include "src/worker/start_response.hpp"

#include <array>
#include <cerrno>
#include <cstddef>
#include <string>
#include <utility>

#include <structmember.h>

#include "src/worker/request_context.hpp"
#include "src/worker/response_head.hpp"

namespace pyfpm::worker {

namespace {

bool raiseValueError(const std::string& message)
{
    PyErr_SetString(PyExc_ValueError, message.c_str());
    return false;
}

// A latin-1 str argument; returns nullopt with an exception set.
std::optional<std::string_view> nativeString(PyObject* object, const char* what)
{
    if (!PyUnicode_Check(object)) {
        PyErr_Format(PyExc_TypeError, "start_response: %s must be str, not %.100s", what,
                     Py_TYPE(object)->tp_name);
        return std::nullopt;
    }
    auto view = latin1View(object);
    if (!view) {
        PyErr_Format(PyExc_ValueError,
                     "start_response: %s %R is not latin-1 (PEP 3333: encode it, e.g. RFC 2047)",
                     what, object);
    }
    return view;
}

bool buildHead(PyObject* status, PyObject* headers, ResponseHead& head)
{
    const auto statusText = nativeString(status, "status");
    if (!statusText) {
        return false;
    }
    if (auto problem = checkStatus(*statusText); !problem.empty()) {
        return raiseValueError("start_response: " + problem);
    }
    if (!PyList_Check(headers)) {
        PyErr_Format(PyExc_TypeError,
                     "start_response: headers must be a list of (name, value) tuples, not %.100s",
                     Py_TYPE(headers)->tp_name);
        return false;
    }
    ResponseHeadBuilder builder(*statusText);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(headers); ++i) {
        PyObject* item = PyList_GET_ITEM(headers, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_Format(PyExc_TypeError,
                         "start_response: header %zd must be a (name, value) tuple, not %R", i, item);
            return false;
        }
        const auto name = nativeString(PyTuple_GET_ITEM(item, 0), "header name");
        if (!name) {
            return false;
        }
        const auto value = nativeString(PyTuple_GET_ITEM(item, 1), "header value");
        if (!value) {
            return false;
        }
        if (auto problem = checkHeaderName(*name); !problem.empty()) {
            return raiseValueError("start_response: " + problem);
        }
        if (auto problem = checkHeaderValue(*value); !problem.empty()) {
            return raiseValueError("start_response: " + problem);
        }
        builder.add(*name, *value);
    }
    head = std::move(builder).finish();
    return true;
}

// Sorts a vectorcall's arguments (PEP 590) into `slots`, by position then
// by keyword, as PyArg_ParseTupleAndKeywords would, without the tuple and
// dict that needs. `slots` starts all null; the first `required` must be
// given. Returns false with TypeError set.
template <std::size_t N>
bool parseArguments(const char* function, const std::array<const char*, N>& names, std::size_t required,
                    PyObject* const* args, std::size_t nargsf, PyObject* kwnames,
                    std::array<PyObject*, N>& slots)
{
    const Py_ssize_t given = PyVectorcall_NARGS(nargsf);
    if (given > static_cast<Py_ssize_t>(N)) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zu arguments (%zd given)", function, N, given);
        return false;
    }
    for (Py_ssize_t i = 0; i < given; ++i) {
        slots[static_cast<std::size_t>(i)] = args[i];
    }
    const Py_ssize_t keywords = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < keywords; ++k) {
        PyObject* keyword = PyTuple_GET_ITEM(kwnames, k);
        std::size_t index = 0;
        while (index < N && PyUnicode_CompareWithASCIIString(keyword, names[index]) != 0) {
            ++index;
        }
        if (index == N) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", function, keyword);
            return false;
        }
        if (slots[index] != nullptr) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", function, names[index]);
            return false;
        }
        slots[index] = args[given + k];
    }
    for (std::size_t i = 0; i < required; ++i) {
        if (slots[i] == nullptr) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s' (pos %zu)", function, names[i],
                         i + 1);
            return false;
        }
    }
    return true;
}

}  // namespace

PyObject* callStartResponse(PyObject* self, PyObject* const* args, std::size_t nargsf, PyObject* kwnames)
{
    static constexpr std::array<const char*, 3> kNames = {"status", "headers", "exc_info"};
    std::array<PyObject*, 3> slots{};
    if (!parseArguments("start_response", kNames, 2, args, nargsf, kwnames, slots)) {
        return nullptr;
    }
    PyObject* status = slots[0];
    PyObject* headers = slots[1];
    PyObject* excInfo = slots[2] != nullptr ? slots[2] : Py_None;
    RequestContext* context = liveContext(self);
    if (context == nullptr) {
        return nullptr;
    }
    if (excInfo != Py_None) {
        if (!PyTuple_Check(excInfo) || PyTuple_GET_SIZE(excInfo) != 3) {
            PyErr_SetString(PyExc_TypeError,
                            "start_response: exc_info must be a (type, value, traceback) tuple");
            return nullptr;
        }
        if (context->response.headSent()) {
            // Too late to change the status: the application's error
            // continues as an exception, as PEP 3333 asks.
            PyObject* type = PyTuple_GET_ITEM(excInfo, 0);
            PyObject* value = PyTuple_GET_ITEM(excInfo, 1);
            PyObject* traceback = PyTuple_GET_ITEM(excInfo, 2);
            Py_INCREF(type);
            Py_INCREF(value);
            if (traceback == Py_None) {
                traceback = nullptr;
            } else {
                Py_INCREF(traceback);
            }
            PyErr_Restore(type, value, traceback);
            return nullptr;
        }
    } else if (context->response.hasHead()) {
        PyErr_SetString(PyExc_RuntimeError,
                        "start_response() called a second time without exc_info");
        return nullptr;
    }

    ResponseHead head;
    if (!buildHead(status, headers, head)) {
        return nullptr;
    }
    context->response.setHead(std::move(head));

    if (context->write == nullptr) {
        PyRef write(context->bind(context->writeType, callWrite));
        if (!write) {
            return nullptr;
        }
        context->write = write.get();  // the context holds its own reference
    }
    Py_INCREF(context->write);
    return context->write;
}

PyObject* callWrite(PyObject* self, PyObject* const* args, std::size_t nargsf, PyObject* kwnames)
{
    static constexpr std::array<const char*, 1> kNames = {"data"};
    std::array<PyObject*, 1> slots{};
    if (!parseArguments("write", kNames, 1, args, nargsf, kwnames, slots)) {
        return nullptr;
    }
    PyObject* data = slots[0];
    RequestContext* context = liveContext(self);
    if (context == nullptr) {
        return nullptr;
    }
    if (!PyBytes_Check(data)) {
        PyErr_Format(PyExc_TypeError, "write() argument must be bytes, not %.100s",
                     Py_TYPE(data)->tp_name);
        return nullptr;
    }
    if (!context->response.hasHead()) {
        PyErr_SetString(PyExc_RuntimeError, "write() called before start_response()");
        return nullptr;
    }
    const std::string_view bytes(PyBytes_AS_STRING(data),
                                 static_cast<std::size_t>(PyBytes_GET_SIZE(data)));
    bool sent = false;
    {
        IoSection io(*context);
        sent = context->response.write(bytes, true);
    }
    if (!sent) {
        PyErr_SetObject(PyExc_BrokenPipeError,
                        PyRef(Py_BuildValue("(is)", EPIPE, "the web server closed the connection")).get());
        return nullptr;
    }
    Py_RETURN_NONE;
}

namespace {

// Calls go through RequestBoundObject::vectorcall; tp_call (a call with
// a tuple and a dict) is CPython's adapter to it.
PyMemberDef kVectorcallMembers[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(RequestBoundObject, vectorcall), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot kWriteSlots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(deallocRequestBound)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_members, kVectorcallMembers},
    {Py_tp_doc, const_cast<char*>("write(data): send bytes of the response body now (PEP 3333)")},
    {0, nullptr},
};

PyType_Spec kWriteSpec = {
    "pyfpm_worker.Write",
    sizeof(RequestBoundObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_HAVE_VECTORCALL,
    kWriteSlots,
};

PyType_Slot kStartResponseSlots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(deallocRequestBound)},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_members, kVectorcallMembers},
    {Py_tp_doc, const_cast<char*>("start_response(status, headers, exc_info=None) -> write (PEP 3333)")},
    {0, nullptr},
};

PyType_Spec kStartResponseSpec = {
    "pyfpm_worker.StartResponse",
    sizeof(RequestBoundObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_HAVE_VECTORCALL,
    kStartResponseSlots,
};

}  // namespace

std::optional<std::string_view> latin1View(PyObject* text)
{
    if (PyUnicode_READY(text) != 0) {
        PyErr_Clear();
        return std::nullopt;
    }
    // CPython stores a str with one byte per character exactly when every
    // character is at most U+00FF: those bytes are its latin-1 encoding.
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND) {
        return std::nullopt;
    }
    return std::string_view(reinterpret_cast<const char*>(PyUnicode_1BYTE_DATA(text)),
                            static_cast<std::size_t>(PyUnicode_GET_LENGTH(text)));
}

PyTypeObject* createStartResponseType()
{
    return reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&kStartResponseSpec));
}

PyTypeObject* createWriteType()
{
    return reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&kWriteSpec));
}

}  // namespace pyfpm::worker
