#include "src/pyfpm/config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "src/pyfpm/config/checks.hpp"
#include "src/pyfpm/config/keys.hpp"
#include "src/pyfpm/config/schema.hpp"

namespace pyfpm::config {

namespace {

LoadResult failed(std::vector<ConfigError> errors) { return {std::nullopt, std::move(errors)}; }

ConfigError fileError(const std::filesystem::path& file, std::string message) {
    return {file, 0, 0, "", std::move(message)};
}

}  // namespace

LoadResult loadText(const std::string& yaml, const std::filesystem::path& file) {
    Context context{file};
    std::vector<YAML::Node> documents;
    try {
        documents = YAML::LoadAll(yaml);
    } catch (const YAML::ParserException& error) {
        context.error(locationOf(error.mark), "", "YAML syntax error: " + error.msg);
        return failed(context.takeErrors());
    } catch (const YAML::Exception& error) {
        context.error(locationOf(error.mark), "", "YAML error: " + error.msg);
        return failed(context.takeErrors());
    }
    if (documents.empty()) {
        context.error({1, 1}, "", "the file holds no YAML document; expected a mapping with pools");
        return failed(context.takeErrors());
    }
    if (documents.size() > 1) {
        context.error(locationOf(documents[1].Mark()), "",
                      fmt::format("expected one YAML document, found {}", documents.size()));
        return failed(context.takeErrors());
    }

    Config config = readConfig(documents.front(), context);
    config.file = std::filesystem::absolute(file).lexically_normal();
    checkAcrossKeys(config, context);
    if (context.errorCount() != 0) return failed(context.takeErrors());
    return {std::move(config), {}};
}

LoadResult load(const std::filesystem::path& file) {
    std::error_code error;
    if (std::filesystem::is_directory(file, error))
        return failed({fileError(file, "cannot read: Is a directory")});
    std::ifstream in{file, std::ios::binary};
    if (!in) return failed({fileError(file, fmt::format("cannot read: {}", std::strerror(errno)))});
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return failed({fileError(file, fmt::format("cannot read: {}", std::strerror(errno)))});
    return loadText(text.str(), file);
}

Config loadConfig(const std::filesystem::path& file) {
    auto result = load(file);
    if (!result.config) throw InvalidConfig{std::move(result.errors)};
    return std::move(*result.config);
}

int checkConfig(const std::filesystem::path& file, std::ostream& out) {
    auto result = load(file);
    if (result.config) {
        out << file.string() << ": ok\n";
        return 0;
    }
    for (const auto& error : result.errors) out << error.toString() << '\n';
    return 1;
}

}  // namespace pyfpm::config
