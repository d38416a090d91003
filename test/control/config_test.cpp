// control.socket in pyfpm.yaml(5): its default, relative paths, and its
// clash with a pool's listen address.
#include <gtest/gtest.h>

#include "src/pyfpm/config/loader.hpp"
#include "src/pyfpmctl/socket_path.hpp"
#include "test/support/process.hpp"

namespace pyfpm::test {
namespace {

std::string pool(const std::string& listen)
{
    return "pools:\n  web:\n    app: app:app\n    listen: " + listen + "\n";
}

TEST(ControlSocketKey, defaults_to_pyfpm_sock_next_to_the_file_as_pyfpmctl_finds_it)
{
    TempDir dir;
    writeFile(dir / "pyfpm.yaml", pool("web.sock"));
    const auto loaded = config::load(dir / "pyfpm.yaml");
    ASSERT_TRUE(loaded.config.has_value());
    EXPECT_EQ(loaded.config->control_socket, dir / "pyfpm.sock");
    EXPECT_EQ(std::get<std::filesystem::path>(ctl::controlSocketOf(dir / "pyfpm.yaml")), dir / "pyfpm.sock");
}

TEST(ControlSocketKey, a_relative_socket_resolves_against_the_files_folder)
{
    TempDir dir;
    writeFile(dir / "pyfpm.yaml", "control:\n  socket: ctl.sock\n" + pool("web.sock"));
    const auto loaded = config::load(dir / "pyfpm.yaml");
    ASSERT_TRUE(loaded.config.has_value());
    EXPECT_EQ(loaded.config->control_socket, dir / "ctl.sock");
    EXPECT_EQ(std::get<std::filesystem::path>(ctl::controlSocketOf(dir / "pyfpm.yaml")), dir / "ctl.sock");
}

TEST(ControlSocketKey, a_pool_on_the_control_socket_is_an_error_with_its_line)
{
    TempDir dir;
    writeFile(dir / "pyfpm.yaml", "control:\n  socket: web.sock\n" + pool("web.sock"));
    auto loaded = config::load(dir / "pyfpm.yaml");
    ASSERT_EQ(loaded.errors.size(), 1u);
    EXPECT_EQ(loaded.errors[0].toString(),
              (dir / "pyfpm.yaml").string() + ":2:3: control.socket: unix:" + (dir / "web.sock").string() +
                  " is already the listen address of pool web at line 6");

    writeFile(dir / "pyfpm.yaml", pool("pyfpm.sock"));
    loaded = config::load(dir / "pyfpm.yaml");
    ASSERT_EQ(loaded.errors.size(), 1u);
    EXPECT_NE(loaded.errors[0].toString().find(":4:5: pools.web.listen: unix:" + (dir / "pyfpm.sock").string() +
                                               " is the default control.socket"),
              std::string::npos)
        << loaded.errors[0].toString();
}

TEST(ControlSocketKey, unknown_keys_under_control_are_errors)
{
    TempDir dir;
    writeFile(dir / "pyfpm.yaml", "control:\n  sokcet: x.sock\n" + pool("web.sock"));
    const auto loaded = config::load(dir / "pyfpm.yaml");
    ASSERT_FALSE(loaded.errors.empty());
    EXPECT_NE(loaded.errors[0].toString().find("control.sokcet"), std::string::npos) << loaded.errors[0].toString();
}

}  // namespace
}  // namespace pyfpm::test
