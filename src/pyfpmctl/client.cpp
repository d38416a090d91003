#include "src/pyfpmctl/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace pyfpm::ctl {

namespace {

std::string systemError(const char* call)
{
    return fmt::format("{}: {}", call, std::strerror(errno));
}

}  // namespace

std::variant<Connection, ClientError> Connection::open(const std::filesystem::path& path)
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.native().size() >= sizeof(address.sun_path)) {
        return ClientError{ExitCode::Usage, fmt::format("socket path {} is too long for a unix socket", path.string())};
    }
    std::memcpy(address.sun_path, path.c_str(), path.native().size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return ClientError{ExitCode::Failed, systemError("socket(2)")};
    }
    Connection connection(fd, path);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        const int saved = errno;
        ClientError error;
        switch (saved) {
        case ENOENT:
            error = {ExitCode::NotRunning,
                     fmt::format("pyfpm is not running: no control socket at {}", path.string())};
            break;
        case ECONNREFUSED:
            error = {ExitCode::NotRunning,
                     fmt::format("pyfpm is not running: nothing listens on {} (a stale socket file)",
                                 path.string())};
            break;
        case EACCES:
        case EPERM:
            error = {ExitCode::NoAccess,
                     fmt::format("cannot use the control socket {}: {}; run pyfpmctl as the daemon's user or "
                                 "root",
                                 path.string(), std::strerror(saved))};
            break;
        default:
            error = {ExitCode::NotRunning,
                     fmt::format("cannot connect to {}: connect(2): {}", path.string(), std::strerror(saved))};
            break;
        }
        return error;
    }
    return connection;
}

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), buffer_(std::move(other.buffer_))
{
}

Connection::~Connection()
{
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool Connection::waitReadable(std::chrono::steady_clock::time_point deadline) const
{
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd entry{fd_, POLLIN, 0};
        const int ready = ::poll(&entry, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
        if (ready > 0) {
            return true;
        }
        if (ready < 0 && errno != EINTR) {
            return true;  // let read(2) report it
        }
    }
}

std::optional<nlohmann::json> Connection::ask(const nlohmann::json& request,
                                              std::chrono::steady_clock::time_point deadline, ClientError& error)
{
    const std::string line = request.dump() + "\n";
    std::size_t sent = 0;
    while (sent < line.size()) {
        // MSG_NOSIGNAL: a daemon gone meanwhile is an error, not SIGPIPE.
        const ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            error = {ExitCode::NoAnswer, fmt::format("{}: {}", path_.string(), systemError("send(2)"))};
            return std::nullopt;
        }
        sent += static_cast<std::size_t>(n);
    }
    for (;;) {
        const auto newline = buffer_.find('\n');
        if (newline != std::string::npos) {
            const std::string answer = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            auto parsed = nlohmann::json::parse(answer, nullptr, false);
            if (parsed.is_discarded() || !parsed.is_object()) {
                error = {ExitCode::NoAnswer, fmt::format("{}: the answer is not a JSON object: {}",
                                                         path_.string(), answer.substr(0, 200))};
                return std::nullopt;
            }
            return parsed;
        }
        if (!waitReadable(deadline)) {
            error = {ExitCode::NoAnswer, fmt::format("{}: no answer in time", path_.string())};
            return std::nullopt;
        }
        char chunk[16384];
        const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error = {ExitCode::NoAnswer,
                     fmt::format("{}: the daemon closed the connection without answering{}", path_.string(),
                                 n < 0 ? " (" + systemError("read(2)") + ")" : "")};
            return std::nullopt;
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
    }
}

bool Connection::waitForClose(std::chrono::steady_clock::time_point deadline)
{
    for (;;) {
        if (!waitReadable(deadline)) {
            return false;
        }
        char chunk[4096];
        const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            return true;
        }
    }
}

}  // namespace pyfpm::ctl
