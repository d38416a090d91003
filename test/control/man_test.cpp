// pyfpmctl(8) documents every command of the code's command table.
#include <gtest/gtest.h>

#include <regex>

#include "src/pyfpm/control/commands.hpp"
#include "test/support/process.hpp"

namespace pyfpm::test {
namespace {

TEST(PyfpmctlManPage, documents_every_command_of_the_table)
{
    const std::string page = readFile(sourceRoot() / "man/pyfpmctl.8");
    ASSERT_FALSE(page.empty());
    ASSERT_GE(control::commands().size(), 7u);
    for (const auto& info : control::commands()) {
        // Each command is a tagged list item: ".It Cm status Op Ar pool".
        const std::regex item("\\n\\.It Cm " + std::regex_replace(std::string(info.name), std::regex("-"), "\\-") +
                              "\\b");
        EXPECT_TRUE(std::regex_search(page, item)) << "pyfpmctl.8 has no \".It Cm " << info.name << "\"";
    }
}

}  // namespace
}  // namespace pyfpm::test
