// The environ dict (PEP 3333, "environ Variables"): every FastCGI param
// (FastCGI 1.0 §5.2; the CGI/1.1 meta-variables of RFC 3875 §4.1 and the
// web server's HTTP_* ones) as a str decoded from latin-1, plus
//   wsgi.version (1, 0), wsgi.url_scheme ("https" when the param HTTPS is
//   "on" or "1", or when there is no HTTPS param and REQUEST_SCHEME is
//   "https"; "http" otherwise), wsgi.input, wsgi.errors,
//   wsgi.multithread False, wsgi.multiprocess True, wsgi.run_once False,
//   wsgi.file_wrapper.
// A name sent twice keeps its last value.
//
// Cost: a web server sends the same param names in the same order on
// every request from the same kind of client, and most values repeat (the
// method, the protocol, the server's address, Host, User-Agent). So the
// builder keeps a few private "template" dicts, one per order of names
// seen lately; for a request whose names match one, it replaces only the
// values that changed and hands out a copy (which clones the dict's table
// in one go). Names are interned once (hash cached) and remember the str
// of their last value. The application always gets its own dict; the
// strs in it are immutable and may be shared with other requests' dicts.
#pragma once

#include "src/worker/py_ref.hpp"

#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pyfpm::worker {

// The params the worker itself acts on, found while building environ.
// Pointers are into FCGX_Request::envp and die at the next accept; nullptr
// when the param is absent.
struct RequestParams {
    const char* contentLength = nullptr;  // CONTENT_LENGTH (RFC 3875 §4.1.2)
    const char* workerHeader = nullptr;   // PYFPM_WORKER_HEADER (response_writer.hpp nameWorker)
};

class EnvironBuilder {
public:
    // Prepares the keys and values that never change (GIL held). Throws
    // std::runtime_error if Python cannot allocate them.
    explicit EnvironBuilder(PyTypeObject* fileWrapperType);

    // A new dict for one request, with wsgi.input and wsgi.errors set to
    // None (see setStreams); `params` is FCGX_Request::envp ("NAME=value"
    // strings, NULL-terminated). Fills `found`. Returns a new reference,
    // or nullptr with an exception set. GIL held; one request at a time.
    PyObject* build(char** params, RequestParams& found);

    // Sets wsgi.input and wsgi.errors in a dict from build(). Returns false
    // with an exception set.
    bool setStreams(PyObject* environ, PyObject* input, PyObject* errors) const;

private:
    enum class Role { Other, ContentLength, Https, RequestScheme, WorkerHeader };
    // A param name seen before, and the str of its last value.
    struct Name {
        std::string_view text;  // names_'s key for it
        Role role = Role::Other;
        PyRef key;              // the interned str
        std::string entry;      // the last "NAME=value" decoded, when its value is kept
        PyRef valueObject;      // the str of that value; null when not kept
    };
    // One param of a template: its name, and the envp entry whose value
    // the template's dict holds ("" when that value was too long to keep).
    struct Slot {
        Name* name;
        std::string entry;
    };
    // A dict for one order of names, kept up to date by refresh().
    struct Template {
        PyRef dict;
        std::vector<Slot> slots;  // in envp order
        bool https = false;       // what its wsgi.url_scheme says
    };
    // What one pass over the params noted.
    struct Seen {
        RequestParams found;
        const char* https = nullptr;
        const char* requestScheme = nullptr;
    };
    enum class Refresh { Matched, Differs, Failed };
    struct TextHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
    };

    // The Name of `name`, added if new; nullptr with an exception set.
    Name* lookup(std::string_view name);
    // The str of the value in `entry` ("NAME=value", NUL-terminated, NAME
    // being `name`), reusing the Name's last one when the entry is the
    // same; a new reference, or nullptr with an exception set.
    PyObject* valueOf(Name& name, const char* entry);
    static void note(Role role, const char* value, Seen& seen);
    // Brings `model` up to date when the `count` params' names come as in
    // its slots: Differs when they do not, Failed with an exception set.
    Refresh refresh(Template& model, char** params, std::size_t count, Seen& seen);
    // Builds a template for the params; false with an exception set. A
    // template whose slots are empty may not be refreshed (a repeated
    // name, or an entry without '=').
    bool rebuild(Template& model, char** params, std::size_t count, Seen& seen);

    PyRef inputKey_;
    PyRef errorsKey_;
    PyRef schemeKey_;
    PyRef http_;
    PyRef https_;
    PyRef versionKey_, multithreadKey_, multiprocessKey_, runOnceKey_, fileWrapperKey_;
    PyRef version_;
    PyObject* fileWrapperType_;  // borrowed: the WsgiApplication owns it

    std::unordered_map<std::string, Name, TextHash, std::equal_to<>> names_;
    // Most recently used first. Four orders of names cover the few kinds
    // of client (with or without cookies, ...) a site mostly sees.
    std::array<Template, 4> templates_;
};

// The wsgi.url_scheme rule above, on the two params' values (nullptr when
// absent).
bool isHttps(const char* httpsParam, const char* requestScheme);

}  // namespace pyfpm::worker
