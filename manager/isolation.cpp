#include "manager/isolation.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace pyfpm::manager {

namespace {

struct User {
    uid_t uid;
    gid_t gid;  // primary group
};

// getpwnam_r/getgrnam_r with a buffer that grows on ERANGE, so long group
// member lists work.
User lookUpUser(const std::string& pool, const char* key, const std::string& name)
{
    std::vector<char> buffer(1024);
    for (;;) {
        passwd entry{};
        passwd* found = nullptr;
        const int rc = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE && buffer.size() < (1U << 20)) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (rc != 0) {
            throw IsolationError(fmt::format("pool {}: {} '{}': getpwnam_r(3): {}", pool, key, name, std::strerror(rc)));
        }
        if (found == nullptr) {
            throw IsolationError(fmt::format("pool {}: {} '{}' does not exist", pool, key, name));
        }
        return User{entry.pw_uid, entry.pw_gid};
    }
}

gid_t lookUpGroup(const std::string& pool, const char* key, const std::string& name)
{
    std::vector<char> buffer(1024);
    for (;;) {
        group entry{};
        group* found = nullptr;
        const int rc = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE && buffer.size() < (1U << 20)) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (rc != 0) {
            throw IsolationError(fmt::format("pool {}: {} '{}': getgrnam_r(3): {}", pool, key, name, std::strerror(rc)));
        }
        if (found == nullptr) {
            throw IsolationError(fmt::format("pool {}: {} '{}' does not exist", pool, key, name));
        }
        return entry.gr_gid;
    }
}

std::vector<gid_t> groupsOf(const std::string& user, gid_t primary)
{
    std::vector<gid_t> groups(32);
    for (;;) {
        int count = static_cast<int>(groups.size());
        if (::getgrouplist(user.c_str(), primary, groups.data(), &count) >= 0) {
            groups.resize(static_cast<std::size_t>(count));
            return groups;
        }
        // -1 with `count` set to the number needed.
        groups.resize(static_cast<std::size_t>(count) > groups.size() ? static_cast<std::size_t>(count)
                                                                        : groups.size() * 2);
    }
}

std::optional<rlim_t> limitOf(long value)
{
    if (value == PoolConfig::kUnchanged) {
        return std::nullopt;
    }
    if (value == PoolConfig::kUnlimited) {
        return RLIM_INFINITY;
    }
    return static_cast<rlim_t>(value);
}

}  // namespace

Isolation resolveIsolation(const PoolConfig& pool, bool daemonIsRoot)
{
    Isolation isolation;
    isolation.rlimitFiles = limitOf(pool.rlimit_files);
    isolation.rlimitCore = limitOf(pool.rlimit_core);
    if (pool.umask >= 0) {
        isolation.umask = static_cast<mode_t>(pool.umask);
    }
    if (!daemonIsRoot) {
        return isolation;
    }
    if (!pool.user.empty()) {
        const User user = lookUpUser(pool.name, "user", pool.user);
        isolation.uid = user.uid;
        isolation.gid = pool.group.empty() ? user.gid : lookUpGroup(pool.name, "group", pool.group);
        isolation.groups = groupsOf(pool.user, *isolation.gid);
    } else if (!pool.group.empty()) {
        isolation.gid = lookUpGroup(pool.name, "group", pool.group);
        isolation.groups = {*isolation.gid};
    }
    return isolation;
}

bool runsWorkersAsRoot(const PoolConfig& pool, bool daemonIsRoot)
{
    return daemonIsRoot && pool.user.empty();
}

const char* applyIsolation(const Isolation& isolation) noexcept
{
    if (isolation.rlimitFiles) {
        const rlimit limit{*isolation.rlimitFiles, *isolation.rlimitFiles};
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            return "setrlimit(2) RLIMIT_NOFILE";
        }
    }
    if (isolation.rlimitCore) {
        const rlimit limit{*isolation.rlimitCore, *isolation.rlimitCore};
        if (::setrlimit(RLIMIT_CORE, &limit) != 0) {
            return "setrlimit(2) RLIMIT_CORE";
        }
    }
    if (isolation.umask) {
        ::umask(*isolation.umask);
    }
    if (isolation.gid) {
        if (::setgroups(isolation.groups.size(), isolation.groups.data()) != 0) {
            return "setgroups(2)";
        }
        if (::setgid(*isolation.gid) != 0) {
            return "setgid(2)";
        }
    }
    if (isolation.uid) {
        if (::setuid(*isolation.uid) != 0) {
            return "setuid(2)";
        }
        if (isolation.rlimitCore && *isolation.rlimitCore != 0 && ::prctl(PR_SET_DUMPABLE, 1) != 0) {
            return "prctl(2) PR_SET_DUMPABLE";
        }
    }
    return nullptr;
}

SocketOwner resolveSocketOwner(const PoolConfig& pool, bool daemonIsRoot)
{
    SocketOwner owner;
    if (!daemonIsRoot) {
        return owner;
    }
    if (!pool.listen_owner.empty()) {
        owner.uid = lookUpUser(pool.name, "listen_owner", pool.listen_owner).uid;
    }
    if (!pool.listen_group.empty()) {
        owner.gid = lookUpGroup(pool.name, "listen_group", pool.listen_group);
    }
    return owner;
}

}  // namespace pyfpm::manager
