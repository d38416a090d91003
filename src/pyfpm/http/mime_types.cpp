#include "src/pyfpm/http/mime_types.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "src/pyfpm/http/ascii.hpp"

namespace pyfpm::http {

namespace {

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = asciiLower(c);
    return out;
}

}  // namespace

MimeTypes MimeTypes::load(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) {
        spdlog::warn("[http] cannot read {}: {}; static files are served as {}",
                     file.string(), std::strerror(errno), kDefault);
        return {};
    }
    return parse(in);
}

MimeTypes MimeTypes::parse(std::istream& in) {
    MimeTypes table;
    std::string line;
    while (std::getline(in, line)) {
        const std::size_t hash = line.find('#');
        if (hash != std::string::npos) line.resize(hash);
        std::istringstream words(line);
        std::string type;
        if (!(words >> type)) continue;
        std::string extension;
        while (words >> extension) {
            table.by_extension_.try_emplace(lowercase(extension), type);
        }
    }
    return table;
}

std::string_view MimeTypes::lookup(std::string_view path) const {
    const std::size_t slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == name.size()) return kDefault;
    const auto found = by_extension_.find(lowercase(name.substr(dot + 1)));
    return found == by_extension_.end() ? kDefault : std::string_view(found->second);
}

}  // namespace pyfpm::http
