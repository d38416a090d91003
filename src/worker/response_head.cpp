#include "src/worker/response_head.hpp"

#include <charconv>
#include <utility>

#include <fmt/core.h>

namespace pyfpm::worker {

namespace {

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// RFC 9110 §5.6.2 tchar.
bool isTokenChar(char c)
{
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || isDigit(c)) {
        return true;
    }
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

bool isForbiddenControl(char c)
{
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t') || byte == 0x7f;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') {
            x = static_cast<char>(x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = static_cast<char>(y - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string checkStatus(std::string_view status)
{
    if (status.size() < 4 || !isDigit(status[0]) || !isDigit(status[1]) || !isDigit(status[2]) ||
        status[3] != ' ') {
        return fmt::format("status {:?} is not \"NNN Reason-Phrase\"", status);
    }
    if (status[0] == '0') {
        return fmt::format("status {:?} has a code below 100", status);
    }
    for (char c : status.substr(4)) {
        if (isForbiddenControl(c)) {
            return fmt::format("status {:?} contains a control character", status);
        }
    }
    return {};
}

std::string checkHeaderName(std::string_view name)
{
    if (name.empty()) {
        return "header name is empty";
    }
    for (char c : name) {
        if (!isTokenChar(c)) {
            return fmt::format("header name {:?} is not an HTTP token", name);
        }
    }
    if (equalsIgnoreCase(name, "Status")) {
        return "header name \"Status\" is reserved: pass the status to start_response";
    }
    return {};
}

std::string checkHeaderValue(std::string_view value)
{
    for (char c : value) {
        if (isForbiddenControl(c)) {
            return fmt::format("header value {:?} contains a control character", value);
        }
    }
    return {};
}

ResponseHeadBuilder::ResponseHeadBuilder(std::string_view status)
{
    head_.block.reserve(256);
    head_.block.append("Status: ").append(status).append("\r\n");
}

void ResponseHeadBuilder::add(std::string_view name, std::string_view value)
{
    head_.block.append(name).append(": ").append(value).append("\r\n");
    if (equalsIgnoreCase(name, "Content-Length")) {
        std::uint64_t length = 0;
        const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
        if (error == std::errc() && end == value.data() + value.size() && !value.empty()) {
            head_.contentLength = length;
        }
    }
}

ResponseHead ResponseHeadBuilder::finish() &&
{
    head_.block.append("\r\n");
    return std::move(head_);
}

}  // namespace pyfpm::worker
