#include "src/worker/wsgi_environ.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <strings.h>

#include "src/worker/python_errors.hpp"

namespace pyfpm::worker {

namespace {

// Distinct param names kept between requests. A web server sends a few
// dozen; clients choose the HTTP_* ones, so the set is cleared when it
// grows past this rather than growing without bound.
constexpr std::size_t kMaxNames = 512;
// Longest value whose str and entry are kept for later requests: long
// ones (a cookie, a query string) rarely repeat and would only be copied
// and compared.
constexpr std::size_t kMaxKeptValue = 256;

void check(bool ok)
{
    if (!ok) {
        throw std::runtime_error("cannot build the WSGI environ: " + PythonError::fetch().summary());
    }
}

PyRef intern(const char* text)
{
    return PyRef(PyUnicode_InternFromString(text));
}

}  // namespace

bool isHttps(const char* httpsParam, const char* requestScheme)
{
    if (httpsParam != nullptr) {
        return ::strcasecmp(httpsParam, "on") == 0 || std::strcmp(httpsParam, "1") == 0;
    }
    return requestScheme != nullptr && ::strcasecmp(requestScheme, "https") == 0;
}

EnvironBuilder::EnvironBuilder(PyTypeObject* fileWrapperType)
    : inputKey_(intern("wsgi.input")),
      errorsKey_(intern("wsgi.errors")),
      schemeKey_(intern("wsgi.url_scheme")),
      http_(intern("http")),
      https_(intern("https")),
      versionKey_(intern("wsgi.version")),
      multithreadKey_(intern("wsgi.multithread")),
      multiprocessKey_(intern("wsgi.multiprocess")),
      runOnceKey_(intern("wsgi.run_once")),
      fileWrapperKey_(intern("wsgi.file_wrapper")),
      version_(Py_BuildValue("(ii)", 1, 0)),
      fileWrapperType_(reinterpret_cast<PyObject*>(fileWrapperType))
{
    check(inputKey_ && errorsKey_ && schemeKey_ && http_ && https_ && versionKey_ && multithreadKey_ &&
          multiprocessKey_ && runOnceKey_ && fileWrapperKey_ && version_);
}

EnvironBuilder::Name* EnvironBuilder::lookup(std::string_view name)
{
    if (auto found = names_.find(name); found != names_.end()) {
        return &found->second;
    }
    PyObject* key = PyUnicode_DecodeLatin1(name.data(), static_cast<Py_ssize_t>(name.size()), nullptr);
    if (key == nullptr) {
        return nullptr;
    }
    // Interned, so the application's own "PATH_INFO" constants find it by
    // identity, and its hash is computed once.
    PyUnicode_InternInPlace(&key);
    const auto node = names_.try_emplace(std::string(name)).first;
    Name& added = node->second;
    added.text = node->first;  // a node's key never moves
    added.key = PyRef(key);
    if (name == "CONTENT_LENGTH") {
        added.role = Role::ContentLength;
    } else if (name == "HTTPS") {
        added.role = Role::Https;
    } else if (name == "REQUEST_SCHEME") {
        added.role = Role::RequestScheme;
    } else if (name == "PYFPM_WORKER_HEADER") {
        added.role = Role::WorkerHeader;
    }
    return &added;
}

PyObject* EnvironBuilder::valueOf(Name& name, const char* entry)
{
    if (name.valueObject && std::strcmp(entry, name.entry.c_str()) == 0) {
        Py_INCREF(name.valueObject.get());
        return name.valueObject.get();
    }
    const char* value = entry + name.text.size() + 1;
    const std::size_t length = std::strlen(value);
    PyObject* object = PyUnicode_DecodeLatin1(value, static_cast<Py_ssize_t>(length), nullptr);
    if (object == nullptr) {
        return nullptr;
    }
    if (length <= kMaxKeptValue) {
        name.entry.assign(entry, name.text.size() + 1 + length);
        name.valueObject = PyRef::borrow(object);
    } else {
        name.entry.clear();
        name.valueObject.reset();
    }
    return object;
}

void EnvironBuilder::note(Role role, const char* value, Seen& seen)
{
    switch (role) {
    case Role::Other:
        break;
    case Role::ContentLength:
        seen.found.contentLength = value;
        break;
    case Role::Https:
        seen.https = value;
        break;
    case Role::RequestScheme:
        seen.requestScheme = value;
        break;
    case Role::WorkerHeader:
        seen.found.workerHeader = value;
        break;
    }
}

namespace {

// What a Slot keeps of `entry`: all of it, or "" when the value is too
// long to be worth comparing next time.
void keepEntry(std::string& kept, const char* entry, std::size_t nameSize)
{
    const std::size_t size = std::strlen(entry);
    if (size - nameSize - 1 <= kMaxKeptValue) {
        kept.assign(entry, size);
    } else {
        kept.clear();
    }
}

}  // namespace

EnvironBuilder::Refresh EnvironBuilder::refresh(Template& model, char** params, std::size_t count, Seen& seen)
{
    for (std::size_t index = 0; index < count; ++index) {
        Slot& slot = model.slots[index];
        Name& name = *slot.name;
        const char* text = params[index];
        // The same entry as last time (the common case): the dict holds
        // its str already. Otherwise the name must still match.
        if (slot.entry.empty() || std::strcmp(text, slot.entry.c_str()) != 0) {
            // strncmp stops at the end of a shorter entry; then text[size]
            // is at most its terminator.
            if (std::strncmp(text, name.text.data(), name.text.size()) != 0 || text[name.text.size()] != '=') {
                return Refresh::Differs;
            }
            PyRef value(valueOf(name, text));
            if (!value || PyDict_SetItem(model.dict.get(), name.key.get(), value.get()) != 0) {
                return Refresh::Failed;
            }
            keepEntry(slot.entry, text, name.text.size());
        }
        if (name.role != Role::Other) {
            note(name.role, text + name.text.size() + 1, seen);
        }
    }
    // No name of a refreshed template repeats wsgi.url_scheme (rebuild),
    // so the scheme is always ours to set.
    const bool secure = isHttps(seen.https, seen.requestScheme);
    if (secure != model.https) {
        if (PyDict_SetItem(model.dict.get(), schemeKey_.get(), secure ? https_.get() : http_.get()) != 0) {
            return Refresh::Failed;
        }
        model.https = secure;
    }
    return Refresh::Matched;
}

bool EnvironBuilder::rebuild(Template& model, char** params, std::size_t count, Seen& seen)
{
    model.dict = PyRef(PyDict_New());
    model.slots.clear();
    model.slots.reserve(count);
    PyObject* environ = model.dict.get();
    // wsgi.input and wsgi.errors hold None here so that setting them in a
    // copy replaces an entry instead of growing the table.
    if (environ == nullptr ||
        PyDict_SetItem(environ, versionKey_.get(), version_.get()) != 0 ||
        PyDict_SetItem(environ, schemeKey_.get(), http_.get()) != 0 ||
        PyDict_SetItem(environ, multithreadKey_.get(), Py_False) != 0 ||
        PyDict_SetItem(environ, multiprocessKey_.get(), Py_True) != 0 ||
        PyDict_SetItem(environ, runOnceKey_.get(), Py_False) != 0 ||
        PyDict_SetItem(environ, fileWrapperKey_.get(), fileWrapperType_) != 0 ||
        PyDict_SetItem(environ, inputKey_.get(), Py_None) != 0 ||
        PyDict_SetItem(environ, errorsKey_.get(), Py_None) != 0) {
        return false;
    }
    // A param without '=', or one whose name is already in the dict (sent
    // twice, or named like a wsgi.* key), breaks refresh()'s one entry per
    // name: such a template is used once.
    bool reusable = true;
    for (std::size_t index = 0; index < count; ++index) {
        const char* text = params[index];
        const char* equals = std::strchr(text, '=');
        if (equals == nullptr) {
            reusable = false;
            continue;
        }
        Name* name = lookup(std::string_view(text, static_cast<std::size_t>(equals - text)));
        if (name == nullptr) {
            return false;
        }
        PyRef value(valueOf(*name, text));
        const Py_ssize_t size = PyDict_GET_SIZE(environ);
        if (!value || PyDict_SetItem(environ, name->key.get(), value.get()) != 0) {
            return false;
        }
        reusable = reusable && PyDict_GET_SIZE(environ) > size;
        model.slots.push_back({name, {}});
        keepEntry(model.slots.back().entry, text, name->text.size());
        if (name->role != Role::Other) {
            note(name->role, equals + 1, seen);
        }
    }
    // Only "https" is set here: a param named wsgi.url_scheme (which makes
    // the template not reusable) keeps its value otherwise, as before.
    model.https = isHttps(seen.https, seen.requestScheme);
    if (model.https && PyDict_SetItem(environ, schemeKey_.get(), https_.get()) != 0) {
        return false;
    }
    if (!reusable) {
        model.slots.clear();
    }
    return true;
}

PyObject* EnvironBuilder::build(char** params, RequestParams& found)
{
    std::size_t count = 0;
    if (params != nullptr) {
        while (params[count] != nullptr) {
            ++count;
        }
    }
    Seen seen;
    for (auto model = templates_.begin(); model != templates_.end() && count > 0; ++model) {
        if (!model->dict || model->slots.size() != count) {
            continue;
        }
        switch (refresh(*model, params, count, seen)) {
        case Refresh::Matched:
            std::rotate(templates_.begin(), model, model + 1);
            found = seen.found;
            return PyDict_Copy(templates_.front().dict.get());
        case Refresh::Differs:
            seen = {};  // it may have noted some params before the names differed
            break;
        case Refresh::Failed:
            *model = Template{};
            return nullptr;
        }
    }

    // Slots point into names_: clear both, while nothing else refers to them.
    if (names_.size() > kMaxNames) {
        templates_ = {};
        names_.clear();
    }
    Template fresh;
    if (!rebuild(fresh, params, count, seen)) {
        return nullptr;
    }
    found = seen.found;
    if (fresh.slots.empty()) {
        return fresh.dict.release();  // used once: no copy needed
    }
    // The least recently used template makes way.
    std::rotate(templates_.begin(), templates_.end() - 1, templates_.end());
    templates_.front() = std::move(fresh);
    return PyDict_Copy(templates_.front().dict.get());
}

bool EnvironBuilder::setStreams(PyObject* environ, PyObject* input, PyObject* errors) const
{
    return PyDict_SetItem(environ, inputKey_.get(), input) == 0 &&
           PyDict_SetItem(environ, errorsKey_.get(), errors) == 0;
}

}  // namespace pyfpm::worker
