#include "src/pyfpm/status/fields.hpp"

#include <ctime>

#include "src/pyfpm/status/format.hpp"

namespace pyfpm::status {

Now Now::current() {
    return Now{std::chrono::system_clock::now(), std::chrono::steady_clock::now()};
}

Query parseQuery(std::string_view query) {
    Query parsed;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const std::size_t eq = part.find('=');
        const std::string_view name = part.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
        if (name == "json") {
            parsed.format = Format::Json;
        } else if (name == "full") {
            parsed.full = true;
        } else if (name == "format") {
            if (value == "json") parsed.format = Format::Json;
            if (value == "prometheus" || value == "openmetrics") parsed.format = Format::Prometheus;
            if (value == "text") parsed.format = Format::Text;
        } else if (name == "pool" && !value.empty()) {
            parsed.pool = std::string(value);
        }
    }
    return parsed;
}

std::string_view contentType(Format format) {
    switch (format) {
    case Format::Text: return "text/plain; charset=utf-8";
    case Format::Json: return "application/json";
    case Format::Prometheus: return "text/plain; version=0.0.4; charset=utf-8";
    }
    return "text/plain";
}

std::string format(const std::vector<manager::PoolStatus>& pools, Format format, bool full, const Now& now) {
    switch (format) {
    case Format::Text: return formatText(pools, full, now);
    case Format::Json: return formatJson(pools, full, now);
    case Format::Prometheus: return formatPrometheus(pools, now);
    }
    return {};
}

namespace fields {

std::string_view workerState(manager::SlotState state) {
    // php-fpm's fpm_request_get_stage_name(): a busy worker is "Running".
    switch (state) {
    case manager::SlotState::Free: return "Finishing";
    case manager::SlotState::Starting: return "Starting";
    case manager::SlotState::Idle: return "Idle";
    case manager::SlotState::Busy: return "Running";
    case manager::SlotState::Draining: return "Draining";
    }
    return "Unknown";
}

std::string clfTime(std::chrono::system_clock::time_point time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm local = {};
    ::localtime_r(&seconds, &local);
    char buffer[64];
    const std::size_t length = std::strftime(buffer, sizeof(buffer), "%d/%b/%Y:%H:%M:%S %z", &local);
    return std::string(buffer, length);
}

}  // namespace fields

}  // namespace pyfpm::status
