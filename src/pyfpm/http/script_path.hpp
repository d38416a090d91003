// Where a request to a scripts pool (pyfpm.yaml(5), `scripts:`) finds its
// file: the path below the route prefix split at the first segment that
// ends in one of the pool's extensions, as nginx's
// `fastcgi_split_path_info ^(.+?\.py)(/.*)$` splits it. The bridge then sets
// SCRIPT_FILENAME = scripts.root + scriptPath, SCRIPT_NAME = prefix +
// scriptPath and PATH_INFO = pathInfo (RFC 3875 §4.1.5, §4.1.13). The
// worker, not this split, decides whether the file may run.
//
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pyfpm::http {

struct ScriptPath {
    std::string_view scriptPath;  // "/sub/hello.py"; views into the input
    std::string_view pathInfo;    // "/extra/x", or ""
};

// `path` is decoded and normalised ("" or starting with '/'). Without a
// segment ending in an extension, the whole path is the script.
ScriptPath splitScriptPath(std::string_view path, const std::vector<std::string>& extensions);

}  // namespace pyfpm::http
