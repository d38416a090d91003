#include "src/pyfpm/config/log_format.hpp"

#include <fmt/format.h>

#include <utility>

namespace pyfpm::config {

namespace {

bool isNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

const std::vector<std::string_view>& logVariableNames() {
    static const std::vector<std::string_view> names{
        "remote_addr",     "remote_user",     "time_local",    "time_iso8601",
        "msec",            "request",         "request_method", "request_uri",
        "server_protocol", "host",            "status",        "body_bytes_sent",
        "http_referer",    "http_user_agent", "request_time",  "upstream_response_time",
        "pool",            "worker_pid",
    };
    return names;
}

std::optional<std::vector<LogFormatPart>> parseLogFormat(std::string_view format, std::string& error) {
    std::vector<LogFormatPart> parts;
    std::string literal;
    std::size_t i = 0;
    while (i < format.size()) {
        if (format[i] != '$') {
            literal += format[i++];
            continue;
        }
        std::string_view name;
        std::size_t next = i + 1;
        if (next < format.size() && format[next] == '{') {
            const std::size_t close = format.find('}', next);
            if (close == std::string_view::npos) {
                error = fmt::format("unclosed ${{ at offset {}", i);
                return std::nullopt;
            }
            name = format.substr(next + 1, close - next - 1);
            next = close + 1;
        } else {
            while (next < format.size() && isNameChar(format[next])) ++next;
            name = format.substr(i + 1, next - i - 1);
        }
        if (name.empty()) {  // a lone '$' is text
            literal += format[i++];
            continue;
        }
        const auto& names = logVariableNames();
        std::size_t index = 0;
        while (index < names.size() && names[index] != name) ++index;
        if (index == names.size()) {
            error = fmt::format("unknown variable ${}; known: ${}", name, fmt::join(names, ", $"));
            return std::nullopt;
        }
        if (!literal.empty()) parts.push_back({std::exchange(literal, {}), std::nullopt});
        parts.push_back({{}, static_cast<LogVariable>(index)});
        i = next;
    }
    if (!literal.empty()) parts.push_back({std::move(literal), std::nullopt});
    return parts;
}

}  // namespace pyfpm::config
