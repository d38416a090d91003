#include "src/worker/response_head.hpp"

#include <array>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <utility>

#include <fmt/core.h>

namespace pyfpm::worker {

namespace {

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// RFC 9110 §5.6.2 tchar, as a table: header names are checked per
// character on every start_response.
constexpr std::array<bool, 256> kTokenChars = [] {
    std::array<bool, 256> table{};
    for (int c = 'a'; c <= 'z'; ++c) {
        table[static_cast<std::size_t>(c)] = true;
        table[static_cast<std::size_t>(c - 'a' + 'A')] = true;
    }
    for (int c = '0'; c <= '9'; ++c) {
        table[static_cast<std::size_t>(c)] = true;
    }
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) {
        table[static_cast<unsigned char>(c)] = true;
    }
    return table;
}();

bool isTokenChar(char c)
{
    return kTokenChars[static_cast<unsigned char>(c)];
}

bool isForbiddenControl(char c)
{
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t') || byte == 0x7f;
}

// `token` (an RFC 9110 token, already checked) equals `lower`, a
// lower-case name of letters and '-', ignoring case. Setting bit 0x20 folds
// an upper-case letter onto its lower case; of the other bytes only CR
// would fold onto '-', and a token holds none.
bool tokenEquals(std::string_view token, std::string_view lower)
{
    if (token.size() != lower.size()) {
        return false;
    }
    for (std::size_t i = 0; i < token.size(); ++i) {
        if ((static_cast<unsigned char>(token[i]) | 0x20) != static_cast<unsigned char>(lower[i])) {
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
    if (tokenEquals(name, "status")) {
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
    append({"Status: ", status, "\r\n"});
}

void ResponseHeadBuilder::append(std::initializer_list<std::string_view> pieces)
{
    std::size_t size = 0;
    for (std::string_view piece : pieces) {
        size += piece.size();
    }
    if (overflow_.empty() && size <= buffer_.size() - used_) {
        for (std::string_view piece : pieces) {
            std::memcpy(buffer_.data() + used_, piece.data(), piece.size());
            used_ += piece.size();
        }
        return;
    }
    if (overflow_.empty()) {
        overflow_.reserve(2 * (used_ + size));
        overflow_.assign(buffer_.data(), used_);
    }
    for (std::string_view piece : pieces) {
        overflow_.append(piece);
    }
}

void ResponseHeadBuilder::add(std::string_view name, std::string_view value)
{
    append({name, ": ", value, "\r\n"});
    if (tokenEquals(name, "content-length")) {
        std::uint64_t length = 0;
        const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
        if (error == std::errc() && end == value.data() + value.size() && !value.empty()) {
            contentLength_ = length;
        }
    }
}

ResponseHead ResponseHeadBuilder::finish() &&
{
    append({"\r\n"});
    ResponseHead head;
    head.block = overflow_.empty() ? std::string(buffer_.data(), used_) : std::move(overflow_);
    head.contentLength = contentLength_;
    return head;
}

}  // namespace pyfpm::worker
