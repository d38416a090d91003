#include "manager/pool_config.hpp"

#include <fmt/format.h>

namespace pyfpm::manager {

std::string ListenAddress::toString() const
{
    switch (kind) {
    case Kind::Unix:
        return "unix:" + path.string();
    case Kind::Tcp:
        // RFC 3986 §3.2.2: an IPv6 literal needs brackets before ":port".
        if (host.find(':') != std::string::npos) {
            return fmt::format("[{}]:{}", host, port);
        }
        return fmt::format("{}:{}", host, port);
    }
    return {};
}

std::string_view toString(ProcessManager pm)
{
    switch (pm) {
    case ProcessManager::Static:
        return "static";
    case ProcessManager::Dynamic:
        return "dynamic";
    case ProcessManager::Ondemand:
        return "ondemand";
    }
    return "?";
}

}  // namespace pyfpm::manager
