// Answers a request on a static route (pyfpm.yaml(5), http.routes with
// `root`) from the file system, as nginx's static module does: the file is
// found by lookupStaticFile (static_files.hpp: index files, the directory
// redirect, the root checks), the answer chosen by decideStaticAnswer
// (static_policy.hpp: ETag/Last-Modified, 304, Range/206/416, 405), a
// precompressed FILE.gz sent when the route has gzip_static and the client
// accepts gzip, and the body written with sendfile(2) (never read into
// memory).
//
// On the daemon's event loop thread.
#pragma once

#include <string_view>

#include "src/pyfpm/config/config.hpp"
#include "src/pyfpm/http/connection.hpp"
#include "src/pyfpm/http/mime_types.hpp"

namespace pyfpm::http {

struct StaticServe {
    ClientConnection& connection;
    const config::Route& route;       // a Static route
    std::string_view relativePath;    // below route.root, decoded, normalised
    std::string_view decodedPath;     // the whole decoded path (for a redirect)
    std::string_view query;           // undecoded, without '?'
    const MimeTypes& mimeTypes;
    std::string_view logName;         // "GET /static/x.css" for log lines
};

enum class StaticOutcome {
    Answered,  // the connection has the whole response
    Fallback,  // nothing to serve and the route has a fallback pool: proxy
};

StaticOutcome serveStaticFile(const StaticServe& serve);

}  // namespace pyfpm::http
