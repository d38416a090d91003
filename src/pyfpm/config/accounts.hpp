// Users and groups named in pyfpm.yaml(5) (`user`, `group`, `listen_owner`,
// `listen_group`), looked up in the system's account database when the file
// is loaded, so that a typo is a load error and not a worker that fails at
// every spawn. Internal to the loader; thread-safe (the _r functions).
#pragma once

#include <optional>
#include <string>

namespace pyfpm::config {

// An account name or a numeric id, resolved. A numeric id ("33") is taken as
// it is, without a lookup: setuid(2) needs no passwd entry, and php-fpm
// accepts one too.
struct AccountLookup {
    std::optional<unsigned> id;  // set when found (or numeric)
    // errno of getpwnam_r(3) / getgrnam_r(3) when the lookup itself failed
    // (not "no such name", which leaves id empty and error 0).
    int error = 0;
};

AccountLookup lookupUser(const std::string& nameOrId);
AccountLookup lookupGroup(const std::string& nameOrId);

}  // namespace pyfpm::config
