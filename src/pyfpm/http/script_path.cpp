#include "src/pyfpm/http/script_path.hpp"

namespace pyfpm::http {

ScriptPath splitScriptPath(std::string_view path, const std::vector<std::string>& extensions) {
    std::size_t start = 0;
    while (start < path.size()) {
        std::size_t end = path.find('/', start + 1);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view segment = path.substr(start, end - start);
        for (const std::string& extension : extensions) {
            if (segment.size() > extension.size() + 1 && segment.ends_with(extension)) {
                return ScriptPath{path.substr(0, end), path.substr(end)};
            }
        }
        start = end;
    }
    return ScriptPath{path, {}};
}

}  // namespace pyfpm::http
