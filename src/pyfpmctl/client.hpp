// pyfpmctl's side of the control socket: connect, send one request line,
// read one answer line. Blocking, with a deadline.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "src/pyfpmctl/exit_code.hpp"

namespace pyfpm::ctl {

// A connection that did not give an answer: which exit status that is, and
// a message for people ("no daemon listens on /run/pyfpm/pyfpm.sock
// (connect(2): Connection refused)").
struct ClientError {
    ExitCode exit = ExitCode::NoAnswer;
    std::string message;
};

class Connection {
public:
    // Connects to the unix socket `path`. ENOENT and ECONNREFUSED are
    // NotRunning, EACCES and EPERM NoAccess.
    static std::variant<Connection, ClientError> open(const std::filesystem::path& path);

    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&&) = delete;
    ~Connection();

    // Sends `request` and waits until `deadline` for the answer line.
    std::optional<nlohmann::json> ask(const nlohmann::json& request, std::chrono::steady_clock::time_point deadline,
                                      ClientError& error);
    // Waits until the daemon closes the connection (it exits), or until
    // `deadline`. True when it closed.
    bool waitForClose(std::chrono::steady_clock::time_point deadline);

private:
    Connection(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}

    // Waits for input until `deadline`; false on timeout.
    bool waitReadable(std::chrono::steady_clock::time_point deadline) const;

    int fd_ = -1;
    std::filesystem::path path_;
    std::string buffer_;  // read beyond the answer line
};

}  // namespace pyfpm::ctl
