#include "src/pyfpmctl/socket_path.hpp"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include "src/pyfpm/config/config.hpp"

namespace pyfpm::ctl {

std::variant<std::filesystem::path, std::string> controlSocketOf(const std::filesystem::path& config)
{
    const std::filesystem::path file = std::filesystem::absolute(config);
    const std::filesystem::path folder = file.parent_path();
    YAML::Node root;
    try {
        root = YAML::LoadFile(file.string());
    } catch (const YAML::BadFile&) {
        return fmt::format("cannot read {}; name the socket with -s, or the configuration with -c", file.string());
    } catch (const YAML::Exception& e) {
        return fmt::format("{}:{}:{}: {}; name the socket with -s", file.string(), e.mark.line + 1,
                           e.mark.column + 1, e.msg);
    }
    std::filesystem::path socket = config::kDefaultControlSocket;
    if (root.IsMap() && root["control"].IsMap() && root["control"]["socket"].IsScalar()) {
        socket = root["control"]["socket"].Scalar();
    }
    return folder / socket;
}

}  // namespace pyfpm::ctl
