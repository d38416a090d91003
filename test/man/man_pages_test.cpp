// The man pages as a complete reference: every key the loader accepts is
// documented in pyfpm.yaml(5), and every page in man/ lints clean with
// mandoc (no warning or error).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "src/pyfpm/config/key_list.hpp"
#include "src/pyfpm/config/loader.hpp"
#include "test/support/process.hpp"

namespace pyfpm::test {
namespace {

namespace fs = std::filesystem;

fs::path manDir() { return sourceRoot() / "man"; }

// Sections 1-8, as man(1) names pages: pyfpm.8, pyfpm.yaml.5.
std::vector<fs::path> manPages() {
    static const std::regex page(R"(.+\.[1-8])");
    std::vector<fs::path> pages;
    for (const auto& entry : fs::directory_iterator(manDir())) {
        if (entry.is_regular_file() && std::regex_match(entry.path().filename().string(), page))
            pages.push_back(entry.path());
    }
    std::sort(pages.begin(), pages.end());
    return pages;
}

// The last step of a key path: "pools.*.max_children" -> "max_children",
// "http.routes[].prefix" -> "prefix", "http.routes" -> "routes".
std::string leafOf(const std::string& path) {
    const auto dot = path.rfind('.');
    std::string leaf = dot == std::string::npos ? path : path.substr(dot + 1);
    if (leaf.ends_with("[]")) leaf.resize(leaf.size() - 2);
    return leaf;
}

// Keys documented as list items: ".It Ic max_children : Em integer".
std::set<std::string> documentedKeys(const std::string& page) {
    static const std::regex item(R"(^\.It Ic ([A-Za-z0-9_]+))", std::regex::multiline);
    std::set<std::string> keys;
    for (auto it = std::sregex_iterator(page.begin(), page.end(), item); it != std::sregex_iterator(); ++it)
        keys.insert((*it)[1].str());
    return keys;
}

TEST(KeyList, lists_every_table_of_the_loader_with_its_nesting) {
    const auto paths = config::allKeyPaths();
    auto has = [&](const std::string& path) {
        return std::find(paths.begin(), paths.end(), path) != paths.end();
    };
    // One key of each shape: the root table, a mapping (http), a mapping of
    // names (pools), a list of mappings (routes), a free-form mapping (env).
    EXPECT_TRUE(has("stop_timeout"));
    EXPECT_TRUE(has("http"));
    EXPECT_TRUE(has("http.listen"));
    EXPECT_TRUE(has("http.routes[].prefix"));
    EXPECT_TRUE(has("pools"));
    EXPECT_TRUE(has("pools.*.max_children"));
    EXPECT_TRUE(has("pools.*.env"));
    EXPECT_FALSE(std::any_of(paths.begin(), paths.end(),
                             [](const std::string& p) { return p.starts_with("pools.*.env."); }));
    // No duplicate, and no probe leaking into a path.
    EXPECT_EQ(std::set<std::string>(paths.begin(), paths.end()).size(), paths.size());
    for (const auto& path : paths) EXPECT_EQ(path.find("probe"), std::string::npos) << path;
}

TEST(ManPages, every_config_key_the_loader_accepts_is_documented_in_pyfpm_yaml_5) {
    const auto page = readFile(manDir() / "pyfpm.yaml.5");
    const auto documented = documentedKeys(page);
    const auto paths = config::allKeyPaths();
    ASSERT_GT(paths.size(), 30u) << "the loader's key tables were not found";
    for (const auto& path : paths) {
        EXPECT_TRUE(documented.count(leafOf(path)))
            << path << " is accepted by the loader but pyfpm.yaml(5) has no \".It Ic " << leafOf(path)
            << "\" item for it";
    }
}

TEST(ManPages, every_page_lints_clean_with_mandoc) {
    const char* mandoc = std::getenv("MANDOC");
    ASSERT_NE(mandoc, nullptr) << "mandoc is not installed (package mandoc)";
    const auto pages = manPages();
    ASSERT_GE(pages.size(), 2u) << "no man pages found in " << manDir();
    for (const auto& page : pages) {
        TempDir dir;
        Child::Options options;
        options.argv = {mandoc, "-Tlint", "-Wwarning", page.string()};
        options.stdoutFile = options.stderrFile = dir / "out";
        Child mandoc(options);
        const auto status = mandoc.wait(20s);
        ASSERT_TRUE(status.has_value()) << "mandoc did not finish on " << page;
        // 0: clean; 2: warnings; 3: errors (mandoc(1), EXIT STATUS).
        EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
            << page.filename() << ": mandoc " << describeStatus(*status) << "\n" << readFile(dir / "out");
        EXPECT_EQ(readFile(dir / "out"), "") << page.filename();
    }
}

TEST(ManPages, pyfpm_yaml_5_has_the_sections_of_a_complete_reference) {
    const auto page = readFile(manDir() / "pyfpm.yaml.5");
    for (const char* section : {".Ss Durations and sizes", ".Sh RELOADING", ".Ss A complete annotated example"})
        EXPECT_NE(page.find(section), std::string::npos) << "pyfpm.yaml(5) lacks " << section;
}

TEST(ManPages, annotated_example_passes_the_loader_but_for_this_machines_paths_and_accounts) {
    const auto page = readFile(manDir() / "pyfpm.yaml.5");
    const auto section = page.find(".Ss A complete annotated example");
    ASSERT_NE(section, std::string::npos);
    const auto begin = page.find(".Bd -literal", section);
    const auto end = page.find("\n.Ed\n", begin);
    ASSERT_TRUE(begin != std::string::npos && end != std::string::npos);
    const auto body = page.find('\n', begin) + 1;
    const auto yaml = page.substr(body, end + 1 - body);
    const auto result = config::loadText(yaml, "/nonexistent/pyfpm.yaml");
    // The example names /srv, /run/pyfpm and users of a real server; what
    // else the loader finds is a mistake in the page.
    static const std::regex expected(R"(.* does not exist|no (user|group) named .*)");
    for (const auto& error : result.errors)
        EXPECT_TRUE(std::regex_match(error.message, expected)) << error.toString();
    // Every key the loader knows appears in it.
    for (const auto& path : config::allKeyPaths())
        EXPECT_NE(yaml.find(leafOf(path) + ":"), std::string::npos) << path << " is missing from the example";
}

}  // namespace
}  // namespace pyfpm::test
