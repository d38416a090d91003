// Every key path pyfpm.yaml(5) accepts, for the man page's completeness test
// and for anyone who wants the list. Found by asking the loader itself, so
// the list follows the key tables (keys.cpp) without a copy to keep in step.
#pragma once

#include <string>
#include <vector>

namespace pyfpm::config {

// Dotted key paths in the loader's table order, a mapping before its keys:
// "stop_timeout", "http", "http.listen", "http.routes",
// "http.routes[].prefix", "pools", "pools.*.app", ... `*` stands for a name
// the user chooses (a pool's), `[]` for any element of a list. Keys whose
// value is a free-form mapping (a pool's env) are listed, their contents
// are not. Synchronous; loads small documents in memory, reads no file.
std::vector<std::string> allKeyPaths();

}  // namespace pyfpm::config
