#include "src/pyfpm/config/accounts.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <vector>

namespace pyfpm::config {

namespace {

std::optional<unsigned> numericId(const std::string& text) {
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    unsigned id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    // (uid_t)-1 means "unchanged" to setreuid(2): never a real id.
    if (ec != std::errc{} || end != text.data() + text.size() || id == static_cast<unsigned>(-1))
        return std::nullopt;
    return id;
}

// getpwnam_r / getgrnam_r with a buffer that grows on ERANGE (a group with
// many members can outgrow sysconf's suggestion).
template <class Entry, class Lookup, class IdOf>
AccountLookup lookup(const std::string& nameOrId, int sizeHint, Lookup call, IdOf idOf) {
    if (auto id = numericId(nameOrId)) return {id, 0};
    long suggested = ::sysconf(sizeHint);
    std::vector<char> buffer(suggested > 0 ? static_cast<std::size_t>(suggested) : 4096);
    for (;;) {
        Entry entry{};
        Entry* found = nullptr;
        int error = call(nameOrId.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < (1U << 24)) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        // "Not found" is 0 with no entry, or one of these, depending on the
        // NSS module (getpwnam_r(3), RETURN VALUE).
        if (error == ENOENT || error == ESRCH || error == EBADF || error == EPERM) error = 0;
        if (found == nullptr) return {std::nullopt, error};
        return {idOf(*found), 0};
    }
}

}  // namespace

AccountLookup lookupUser(const std::string& nameOrId) {
    return lookup<passwd>(nameOrId, _SC_GETPW_R_SIZE_MAX, ::getpwnam_r,
                          [](const passwd& entry) { return static_cast<unsigned>(entry.pw_uid); });
}

AccountLookup lookupGroup(const std::string& nameOrId) {
    return lookup<group>(nameOrId, _SC_GETGR_R_SIZE_MAX, ::getgrnam_r,
                         [](const group& entry) { return static_cast<unsigned>(entry.gr_gid); });
}

}  // namespace pyfpm::config
