// The slowlog (php-fpm's `slowlog`): the manager writes one header line per
// slow request, then sends the worker kSlowlogSignal and the worker appends
// the Python stack of the running request (worker_contract.hpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

namespace pyfpm::manager {

// "[2026-11-20 10:00:00] [pool web] pid 4121: GET /report running 5.2s;
// stack:\n", the time in the daemon's local time zone, to the second.
std::string slowlogHeader(std::chrono::system_clock::time_point at, std::string_view pool, pid_t pid,
                          std::string_view method, std::string_view uri, std::chrono::milliseconds elapsed);

// Appends `text` with one write(2) on an O_APPEND descriptor (created 0640
// if missing), so it cannot interleave with the worker's own appends.
// Returns "" or a log-ready error: "open(2) /var/log/pyfpm/slow.log:
// Permission denied".
std::string appendToSlowlog(const std::filesystem::path& file, std::string_view text);

}  // namespace pyfpm::manager
