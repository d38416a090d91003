// Helpers shared by the loader tests: a config folder in a temp dir, and the
// table row of an error case. Errors are rendered with the file's bare name
// so expectations read like the terminal ("pyfpm.yaml:3:5: ...").
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "src/pyfpm/config/loader.hpp"
#include "test/support/process.hpp"

namespace pyfpm::config::testing_support {

class ConfigFolder {
public:
    std::filesystem::path file() const { return dir_ / "pyfpm.yaml"; }
    std::filesystem::path dir() const { return dir_.path(); }

    void mkdir(const std::string& name) const { std::filesystem::create_directories(dir_ / name); }

    LoadResult load(const std::string& yaml) const {
        test::writeFile(file(), yaml);
        return config::load(file());
    }

    std::vector<std::string> errors(const std::string& yaml) const {
        std::vector<std::string> lines;
        for (auto error : load(yaml).errors) {
            error.file = error.file.filename();
            lines.push_back(error.toString());
        }
        return lines;
    }

    // Replaces "DIR" in each line with this folder's path.
    std::vector<std::string> expand(std::vector<std::string> lines) const {
        for (auto& line : lines) {
            for (auto at = line.find("DIR"); at != std::string::npos; at = line.find("DIR"))
                line.replace(at, 3, dir().string());
        }
        return lines;
    }

private:
    test::TempDir dir_;
};

struct ErrorCase {
    const char* name;
    std::string yaml;
    // "DIR" stands for the config file's folder.
    std::vector<std::string> expected;
};

inline void PrintTo(const ErrorCase& c, std::ostream* out) { *out << c.name; }

}  // namespace pyfpm::config::testing_support
