// Content-Type by file extension, from the system table (/etc/mime.types,
// Debian's media-types package) rather than a list of our own.
//
// Loaded once at start; lookups are pure and thread-safe afterwards.
#pragma once

#include <filesystem>
#include <istream>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pyfpm::http {

class MimeTypes {
public:
    static constexpr std::string_view kSystemTable = "/etc/mime.types";
    // For unknown extensions and files without one (RFC 2046 §4.5.1).
    static constexpr std::string_view kDefault = "application/octet-stream";

    MimeTypes() = default;

    // Reads a mime.types(5) file: "type ext ext ..." per line, '#' comments.
    // A missing or unreadable file gives an empty table (every file is then
    // kDefault) and a warning in the log, not a failure: serving files with
    // a generic type beats not starting.
    static MimeTypes load(const std::filesystem::path& file = kSystemTable);
    static MimeTypes parse(std::istream& in);

    // The type for the extension of `path` (after its last '.', in the last
    // path segment), compared case-insensitively, or kDefault. When the
    // table lists an extension twice, the first line wins.
    std::string_view lookup(std::string_view path) const;

    std::size_t size() const { return by_extension_.size(); }

private:
    std::unordered_map<std::string, std::string> by_extension_;  // lowercase keys
};

}  // namespace pyfpm::http
