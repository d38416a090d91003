// `meson install` puts the programs, the man pages, the example
// configuration, the nginx server block and the systemd unit where a
// packaged daemon expects them, with the unit naming this build's paths.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "test/support/process.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;

// Runs `meson ARGS...` and returns its stdout; fails the test on a non-zero
// exit, with what it printed.
std::string meson(const std::vector<std::string>& args, const TempDir& scratch) {
    std::vector<std::string> argv{requiredEnv("MESON")};
    argv.insert(argv.end(), args.begin(), args.end());
    // A fresh pair of files per run: Child appends to existing ones.
    static int runs = 0;
    const auto out = scratch / ("meson" + std::to_string(++runs) + ".out");
    const auto err = scratch / ("meson" + std::to_string(runs) + ".err");
    Child::Options options;
    options.argv = argv;
    options.stdoutFile = out;
    options.stderrFile = err;
    Child child(options);
    const auto status = child.wait(90s);
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "meson " << args.front() << ": " << (status ? describeStatus(*status) : "timed out") << "\n"
        << readFile(err);
    return readFile(out);
}

class Install : public ::testing::Test {
protected:
    void SetUp() override {
        build_ = requiredEnv("PYFPM_BUILD_ROOT");
        for (const auto& option : nlohmann::json::parse(meson({"introspect", "--buildoptions", build_}, scratch_)))
            options_[option["name"].get<std::string>()] = option["value"].dump();
        meson({"install", "-C", build_, "--no-rebuild", "--quiet", "--destdir", destdir_.path().string()},
              scratch_);
    }

    std::string option(const std::string& name) {
        return nlohmann::json::parse(options_.at(name)).get<std::string>();
    }
    // Where the build installs into folder option `dir` (relative to the
    // prefix, or absolute as sysconfdir is under prefix /usr).
    fs::path installed(const std::string& dir, const fs::path& name) {
        fs::path folder = fs::path(option("prefix")) / option(dir);
        return destdir_.path() / folder.relative_path() / name;
    }

    std::string build_;
    TempDir scratch_;
    TempDir destdir_;
    std::map<std::string, std::string> options_;
};

bool executableFile(const fs::path& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IXUSR);
}

TEST_F(Install, every_file_meson_declares_lands_in_destdir) {
    // meson's own list of what it installs, source or build file -> path.
    const auto list = nlohmann::json::parse(meson({"introspect", "--installed", build_}, scratch_));
    ASSERT_FALSE(list.empty());
    for (const auto& [from, to] : list.items()) {
        const fs::path target = destdir_.path() / fs::path(to.get<std::string>()).relative_path();
        EXPECT_TRUE(fs::exists(target)) << from << " -> " << target;
    }
}

TEST_F(Install, programs_go_to_sbin_and_libexec) {
    EXPECT_TRUE(executableFile(installed("sbindir", "pyfpm")));
    EXPECT_TRUE(executableFile(installed("libexecdir", fs::path("pyfpm") / "pyfpm-worker")));
}

TEST_F(Install, every_man_page_of_the_source_tree_is_installed_in_its_section) {
    int pages = 0;
    for (const auto& entry : fs::directory_iterator(sourceRoot() / "man")) {
        const auto name = entry.path().filename().string();
        const auto section = name.substr(name.rfind('.') + 1);
        if (section.size() != 1 || section[0] < '1' || section[0] > '8') continue;
        ++pages;
        const auto page = installed("mandir", fs::path("man" + section) / name);
        ASSERT_TRUE(fs::exists(page)) << page;
        EXPECT_EQ(readFile(page), readFile(entry.path())) << name;
    }
    EXPECT_GE(pages, 2);
}

TEST_F(Install, example_configuration_and_nginx_block_are_installed) {
    const auto config = installed("sysconfdir", fs::path("pyfpm") / "pyfpm.yaml");
    ASSERT_TRUE(fs::exists(config)) << config;
    EXPECT_EQ(readFile(config), readFile(sourceRoot() / "etc" / "pyfpm.yaml"));
    const auto nginx = installed("datadir", fs::path("doc") / "pyfpm" / "examples" / "nginx" / "pyfpm.conf");
    EXPECT_TRUE(fs::exists(nginx)) << nginx;
}

TEST_F(Install, systemd_unit_names_the_installed_daemon_and_config) {
    fs::path unit;
    for (const auto& entry : fs::recursive_directory_iterator(destdir_.path())) {
        if (entry.path().filename() == "pyfpm.service") unit = entry.path();
    }
    ASSERT_FALSE(unit.empty()) << "no pyfpm.service installed";
    EXPECT_TRUE(unit.parent_path().string().ends_with("/systemd/system")) << unit;
    const auto text = readFile(unit);
    const auto daemon = fs::path(option("prefix")) / option("sbindir") / "pyfpm";
    const auto config = fs::path(option("prefix")) / option("sysconfdir") / "pyfpm" / "pyfpm.yaml";
    EXPECT_NE(text.find("\nExecStart=" + daemon.string() + " -c " + config.string() + "\n"), std::string::npos)
        << text;
    EXPECT_FALSE(std::regex_search(text, std::regex("@[A-Z_]+@"))) << "a placeholder was left unfilled:\n"
                                                                     << text;
}

}  // namespace
}  // namespace pyfpm::test
