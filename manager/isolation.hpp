// Per-pool isolation of workers (php-fpm's user, group, rlimit_files,
// rlimit_core; plus umask): resolved by the daemon, applied in the child
// between fork and exec.
//
// Names are resolved before fork: getpwnam(3), getgrnam(3) and
// getgrouplist(3) read files and are not async-signal-safe, so the child
// only gets numbers and calls setrlimit, umask, setgroups, setgid and
// setuid.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "manager/pool_config.hpp"

namespace pyfpm::manager {

// A user or group name that does not exist, or a lookup that failed.
// what() names the pool and the key: "pool web: user 'www' does not exist".
class IsolationError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Isolation {
    // Set when the daemon runs as root and the pool names a user or a group.
    std::optional<uid_t> uid;
    std::optional<gid_t> gid;
    // The supplementary groups (with `user`: the user's groups, as
    // initgroups(3) would set them; with only `group`: that group alone).
    // Applied whenever gid is.
    std::vector<gid_t> groups;
    // Soft and hard limit alike, as php-fpm sets them; RLIM_INFINITY for
    // "unlimited".
    std::optional<rlim_t> rlimitFiles;
    std::optional<rlim_t> rlimitCore;
    std::optional<mode_t> umask;
};

// `daemonIsRoot`: geteuid() == 0. Without root, user and group are not
// applied (the caller warns). Throws IsolationError.
Isolation resolveIsolation(const PoolConfig& pool, bool daemonIsRoot);

// True when a root daemon will run this pool's workers as root: it has
// neither `user` nor `group`, or only a group. The pool warns once at start.
bool runsWorkersAsRoot(const PoolConfig& pool, bool daemonIsRoot);

// In the child between fork and exec: only async-signal-safe calls.
// Returns nullptr on success, or the failed step for the error message
// ("setuid(2)") with errno set. Order: limits and umask first (raising a
// hard limit needs root), then groups, gid and uid last. After a uid
// switch the kernel clears PR_SET_PDEATHSIG and the dumpable flag: the
// caller sets the parent-death signal after this, and rlimit_core above 0
// turns dumpable back on here so the core it asks for can be written.
const char* applyIsolation(const Isolation& isolation) noexcept;

// The owner of a pool's unix socket file (listen_owner, listen_group),
// resolved like user and group; empty when the daemon is not root or the
// keys are not set. -1 stands for "unchanged", as chown(2) takes it.
struct SocketOwner {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    bool empty() const { return uid == static_cast<uid_t>(-1) && gid == static_cast<gid_t>(-1); }
};
SocketOwner resolveSocketOwner(const PoolConfig& pool, bool daemonIsRoot);

}  // namespace pyfpm::manager
