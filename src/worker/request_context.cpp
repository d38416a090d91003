#include "src/worker/request_context.hpp"

namespace pyfpm::worker {

RequestContext::RequestContext(FCGX_Request& request, std::uint64_t contentLength, bool nameWorker)
    : request(request), body(request.in, contentLength), response(request.out)
{
    if (nameWorker) {
        response.nameWorker();
    }
}

RequestContext::RequestContext(FCGX_Request& request, std::uint64_t contentLength)
    : RequestContext(request, contentLength, FCGX_GetParam("PYFPM_WORKER_HEADER", request.envp) != nullptr)
{
}

namespace {

// Ends `object`'s tie to its request and drops the context's reference,
// or hands that reference to `cache` when it is the only one left: then no
// application code can reach the object, so a later request may reuse it.
void detach(PyObject* object, BoundObjectCache* cache)
{
    reinterpret_cast<RequestBoundObject*>(object)->context = nullptr;
    if (cache == nullptr || Py_REFCNT(object) != 1 || !cache->keep(object)) {
        Py_DECREF(object);
    }
}

}  // namespace

BoundObjectCache::~BoundObjectCache()
{
    for (std::size_t i = 0; i < count_; ++i) {
        Py_DECREF(objects_[i]);
    }
}

PyObject* BoundObjectCache::take(PyTypeObject* type)
{
    for (std::size_t i = count_; i-- > 0;) {
        PyObject* object = objects_[i];
        if (Py_TYPE(object) == type) {
            objects_[i] = objects_[--count_];
            return object;
        }
    }
    return nullptr;
}

bool BoundObjectCache::keep(PyObject* object)
{
    if (count_ == objects_.size()) {
        return false;
    }
    objects_[count_++] = object;
    return true;
}

RequestContext::~RequestContext()
{
    for (std::size_t i = 0; i < boundCount_; ++i) {
        detach(bound_[i], cache);
    }
    for (PyObject* object : moreBound_) {
        detach(object, cache);
    }
}

PyObject* RequestContext::bind(PyTypeObject* type, vectorcallfunc call)
{
    PyObject* reused = cache != nullptr ? cache->take(type) : nullptr;
    auto* object = reused != nullptr ? reinterpret_cast<RequestBoundObject*>(reused)
                                     : PyObject_New(RequestBoundObject, type);
    if (object == nullptr) {
        return nullptr;
    }
    object->context = this;
    object->vectorcall = call;
    auto* result = reinterpret_cast<PyObject*>(object);
    if (boundCount_ < bound_.size()) {
        bound_[boundCount_++] = result;
    } else {
        moreBound_.push_back(result);
    }
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
