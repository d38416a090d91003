#include "src/worker/request_context.hpp"

namespace pyfpm::worker {

RequestContext::RequestContext(FCGX_Request& request, std::uint64_t contentLength)
    : request(request), body(request.in, contentLength), response(request.out)
{
    if (FCGX_GetParam("PYFPM_WORKER_HEADER", request.envp) != nullptr) {
        response.nameWorker();
    }
}

RequestContext::~RequestContext()
{
    for (PyObject* object : bound_) {
        reinterpret_cast<RequestBoundObject*>(object)->context = nullptr;
        Py_DECREF(object);
    }
}

PyObject* RequestContext::bind(PyTypeObject* type)
{
    auto* object = PyObject_New(RequestBoundObject, type);
    if (object == nullptr) {
        return nullptr;
    }
    object->context = this;
    auto* result = reinterpret_cast<PyObject*>(object);
    bound_.push_back(result);
    Py_INCREF(result);
    return result;
}

RequestContext* liveContext(PyObject* self)
{
    RequestContext* context = reinterpret_cast<RequestBoundObject*>(self)->context;
    if (context == nullptr) {
        PyErr_SetString(PyExc_ValueError, "the request this object belongs to has ended");
        return nullptr;
    }
    if (context->ioBusy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the request is busy with I/O in another thread (wsgi.multithread is False)");
        return nullptr;
    }
    return context;
}

void deallocRequestBound(PyObject* self)
{
    PyTypeObject* type = Py_TYPE(self);
    PyObject_Free(self);
    Py_DECREF(type);
}

IoSection::IoSection(RequestContext& context) : context_(context)
{
    context_.ioBusy = true;
    state_ = PyEval_SaveThread();
}

IoSection::~IoSection()
{
    PyEval_RestoreThread(state_);
    context_.ioBusy = false;
}

}  // namespace pyfpm::worker
