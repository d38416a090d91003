#include "src/pyfpm/config/readers.hpp"

#include <system_error>

namespace pyfpm::config {

bool checkPath(const Field& field, const std::filesystem::path& resolved, PathCheck check) {
    if (check == PathCheck::None) return true;
    if (check == PathCheck::FileInDirectory) {
        std::error_code error;
        if (std::filesystem::is_directory(resolved, error)) {
            field.fail(fmt::format("{} is a directory; expected a file name", resolved.string()));
            return false;
        }
        return checkPath(field, resolved.parent_path(), PathCheck::Directory);
    }
    std::error_code error;
    auto status = std::filesystem::status(resolved, error);
    if (status.type() == std::filesystem::file_type::not_found) {
        field.fail(fmt::format("{} does not exist", resolved.string()));
        return false;
    }
    if (error) {
        field.fail(fmt::format("{}: {}", resolved.string(), error.message()));
        return false;
    }
    if (check == PathCheck::Directory && status.type() != std::filesystem::file_type::directory) {
        field.fail(fmt::format("{} is not a directory", resolved.string()));
        return false;
    }
    return true;
}

}  // namespace pyfpm::config
