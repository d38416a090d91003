// The control socket's wire format (pyfpmctl(8), PROTOCOL): one JSON object
// per line each way, one answer per request, in order.
//
//   request   {"command": "scale", "pool": "web", "workers": 4}
//             {"command": "stop", "timeout_ms": 5000}
//   success   {"ok": true, ...command's fields...}
//   failure   {"ok": false, "error": "unknown_pool", "message": "...",
//              "errors": ["pyfpm.yaml:3:5: pools.web.pm: ...", ...]}
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/pyfpm/control/commands.hpp"

namespace pyfpm::control {

// Why a command failed; pyfpmctl maps each to its own exit status.
enum class ErrorCode { BadRequest, UnknownPool, Failed };

// "bad_request", "unknown_pool", "failed".
std::string_view toString(ErrorCode code);
std::optional<ErrorCode> errorCodeFromString(std::string_view text);

// A request line longer than this is refused and the connection closed.
inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;

struct Request {
    Command command = Command::Status;
    std::string pool;                                  // status (optional), scale, restart
    int workers = 0;                                   // scale: >= 1
    std::optional<std::chrono::milliseconds> timeout;  // stop: overrides stop_timeout
    std::filesystem::path file;                        // check-config

    nlohmann::json toJson() const;
};

// One request line (without its newline). A request, or a message for a
// bad_request answer ("unknown command \"frob\"", "scale: workers must be
// an integer from 1 to 10000").
std::variant<Request, std::string> parseRequest(std::string_view line);

nlohmann::json success(nlohmann::json fields = nlohmann::json::object());
nlohmann::json failure(ErrorCode code, const std::string& message, const std::vector<std::string>& errors = {});

}  // namespace pyfpm::control
