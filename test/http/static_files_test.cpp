// Opening files below a static root: nothing outside the root, ever
// (src/pyfpm/http/static_files.hpp). Real files and symlinks in a temp dir.
// Every case runs both ways the root check is made (openat2(2)
// RESOLVE_BENEATH and the portable /proc/self/fd check), which must agree.
#include "src/pyfpm/http/static_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "test/support/process.hpp"

namespace pyfpm::http {

// Names the parameter in gtest's output (found by argument-dependent lookup).
void PrintTo(RootCheck check, std::ostream* out) {
    *out << (check == RootCheck::Beneath ? "Beneath" : "Portable");
}

namespace {

namespace fs = std::filesystem;

class StaticFiles : public ::testing::TestWithParam<RootCheck> {
protected:
    void SetUp() override {
        setRootCheck(GetParam());
        root_ = dir_ / "root";
        fs::create_directories(root_ / "sub" / "deeper");
        fs::create_directories(dir_ / "outside");
        test::writeFile(root_ / "index.html", "<h1>hello</h1>\n");
        test::writeFile(root_ / "sub" / "deeper" / "a.txt", "deep\n");
        test::writeFile(dir_ / "secret.txt", "TOP-SECRET\n");
        test::writeFile(dir_ / "outside" / "secret.txt", "TOP-SECRET\n");
        fs::create_symlink("../secret.txt", root_ / "escape");
        fs::create_symlink(dir_ / "secret.txt", root_ / "escape-absolute");
        fs::create_symlink("../outside", root_ / "escape-dir");
        fs::create_symlink("index.html", root_ / "alias.html");
        fs::create_symlink(root_ / "index.html", root_ / "alias-absolute.html");
        fs::create_symlink("sub/deeper", root_ / "shortcut");
        // Leaves the root's directory by "..", and comes back into it.
        fs::create_symlink("../root/index.html", root_ / "there-and-back.html");
        fs::create_symlink("../../index.html", root_ / "sub" / "deeper" / "up.html");
        ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
    }

    void TearDown() override { setRootCheck(RootCheck::Beneath); }

    StaticFile open(std::string_view relative) { return openStaticFile(root_, relative); }

    test::TempDir dir_;
    fs::path root_;
};

TEST_P(StaticFiles, regular_file_opens_with_its_size) {
    const StaticFile file = open("/index.html");
    ASSERT_EQ(file.status, StaticFile::Status::Ok) << file.detail;
    EXPECT_TRUE(file.fd);
    EXPECT_EQ(file.info.st_size, 15);
    EXPECT_EQ(open("/sub/deeper/a.txt").status, StaticFile::Status::Ok);
}

TEST_P(StaticFiles, missing_file_is_not_found) {
    EXPECT_EQ(open("/nope.html").status, StaticFile::Status::NotFound);
    EXPECT_EQ(open("/index.html/x").status, StaticFile::Status::NotFound);
    EXPECT_EQ(open("/missing-dir/x").status, StaticFile::Status::NotFound);
}

TEST_P(StaticFiles, directory_is_forbidden) {
    EXPECT_EQ(open("").status, StaticFile::Status::Forbidden);
    EXPECT_EQ(open("/").status, StaticFile::Status::Forbidden);
    EXPECT_EQ(open("/sub").status, StaticFile::Status::Forbidden);
    EXPECT_EQ(open("/sub/").status, StaticFile::Status::Forbidden);
}

TEST_P(StaticFiles, fifo_is_forbidden_and_does_not_block) {
    EXPECT_EQ(open("/fifo").status, StaticFile::Status::Forbidden);
}

TEST_P(StaticFiles, symlink_out_of_the_root_is_forbidden) {
    for (const char* path : {"/escape", "/escape-absolute", "/escape-dir/secret.txt"}) {
        const StaticFile file = open(path);
        EXPECT_EQ(file.status, StaticFile::Status::Forbidden) << path << ": " << file.detail;
        EXPECT_FALSE(file.fd) << path;
    }
}

TEST_P(StaticFiles, symlink_inside_the_root_is_followed) {
    EXPECT_EQ(open("/alias.html").status, StaticFile::Status::Ok);
    EXPECT_EQ(open("/alias-absolute.html").status, StaticFile::Status::Ok);
    EXPECT_EQ(open("/shortcut/a.txt").status, StaticFile::Status::Ok);
    EXPECT_EQ(open("/there-and-back.html").status, StaticFile::Status::Ok);
    EXPECT_EQ(open("/sub/deeper/up.html").status, StaticFile::Status::Ok);
    EXPECT_EQ(open("/shortcut/up.html").status, StaticFile::Status::Ok);
}

TEST_P(StaticFiles, symlink_through_proc_into_the_root_is_followed) {
    // A magic link on the way; the file it reaches is inside the root.
    fs::create_symlink("/proc/self/root" + (root_ / "index.html").string(), root_ / "via-proc");
    const StaticFile file = open("/via-proc");
    EXPECT_EQ(file.status, StaticFile::Status::Ok) << file.detail;
    fs::create_symlink("/proc/self/root" + (dir_ / "secret.txt").string(), root_ / "proc-escape");
    EXPECT_EQ(open("/proc-escape").status, StaticFile::Status::Forbidden);
}

TEST_P(StaticFiles, symlink_loop_is_forbidden) {
    fs::create_symlink("loop-b", root_ / "loop-a");
    fs::create_symlink("loop-a", root_ / "loop-b");
    EXPECT_EQ(open("/loop-a").status, StaticFile::Status::Forbidden);
}

TEST_P(StaticFiles, root_reached_through_a_symlink_still_serves) {
    const fs::path link = dir_ / "root-link";
    fs::create_symlink(root_, link);
    EXPECT_EQ(openStaticFile(link, "/index.html").status, StaticFile::Status::Ok);
    EXPECT_EQ(openStaticFile(link, "/escape").status, StaticFile::Status::Forbidden);
}

TEST_P(StaticFiles, missing_root_is_not_found) {
    EXPECT_EQ(openStaticFile(dir_ / "no-such-root", "/index.html").status,
              StaticFile::Status::NotFound);
    EXPECT_EQ(openStaticFile(root_ / "index.html", "/x").status, StaticFile::Status::NotFound);
}

// Deploys: the root is held open between requests, yet a replaced root is
// served from the next request on, without a restart.

std::string contentOf(const StaticFile& file) {
    std::string content(static_cast<std::size_t>(file.info.st_size), '\0');
    EXPECT_EQ(::pread(file.fd.get(), content.data(), content.size(), 0),
              static_cast<ssize_t>(content.size()));
    return content;
}

TEST_P(StaticFiles, root_symlink_switched_by_a_deploy_is_served_at_once) {
    for (const char* release : {"v1", "v2"}) {
        fs::create_directories(dir_ / release);
        test::writeFile(dir_ / release / "app.js", std::string("release ") + release + "\n");
    }
    test::writeFile(dir_ / "v1" / "only-in-v1.js", "old\n");
    const fs::path current = dir_ / "current";
    fs::create_symlink("v1", current);
    ASSERT_EQ(contentOf(openStaticFile(current, "/app.js")), "release v1\n");
    EXPECT_EQ(openStaticFile(current, "/only-in-v1.js").status, StaticFile::Status::Ok);

    // As deploy tools switch: a new symlink renamed over the old one.
    fs::create_symlink("v2", dir_ / "current.new");
    fs::rename(dir_ / "current.new", current);
    EXPECT_EQ(contentOf(openStaticFile(current, "/app.js")), "release v2\n");
    EXPECT_EQ(openStaticFile(current, "/only-in-v1.js").status, StaticFile::Status::NotFound);

    // And back (a rollback), while v2 is removed.
    fs::create_symlink("v1", dir_ / "current.new");
    fs::rename(dir_ / "current.new", current);
    fs::remove_all(dir_ / "v2");
    EXPECT_EQ(contentOf(openStaticFile(current, "/app.js")), "release v1\n");
}

TEST_P(StaticFiles, root_directory_replaced_or_removed_is_seen_at_once) {
    ASSERT_EQ(open("/index.html").status, StaticFile::Status::Ok);
    fs::rename(root_, dir_ / "old-root");
    EXPECT_EQ(open("/index.html").status, StaticFile::Status::NotFound);
    fs::create_directories(root_);
    test::writeFile(root_ / "index.html", "new\n");
    EXPECT_EQ(contentOf(open("/index.html")), "new\n");
    fs::remove_all(root_);
    fs::rename(dir_ / "old-root", root_);
    EXPECT_EQ(contentOf(open("/index.html")), "<h1>hello</h1>\n");
}

std::size_t openDescriptors() {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++count;
    return count;
}

TEST_P(StaticFiles, roots_held_open_are_bounded) {
    const std::size_t before = openDescriptors();
    for (int i = 0; i < 100; ++i) {
        const fs::path root = dir_ / ("many-" + std::to_string(i));
        fs::create_directories(root);
        test::writeFile(root / "a.txt", "a");
        EXPECT_EQ(openStaticFile(root, "/a.txt").status, StaticFile::Status::Ok);
    }
    EXPECT_LT(openDescriptors(), before + 50);
}

TEST_P(StaticFiles, unreadable_file_is_forbidden) {
    if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
    test::writeFile(root_ / "private.txt", "x");
    fs::permissions(root_ / "private.txt", fs::perms::none);
    EXPECT_EQ(open("/private.txt").status, StaticFile::Status::Forbidden);
}

// lookupStaticFile: index files, directories, fallback

class StaticLookups : public StaticFiles {
protected:
    void SetUp() override {
        StaticFiles::SetUp();
        fs::create_directories(root_ / "docs");
        fs::create_directories(root_ / "both");
        fs::create_directories(root_ / "empty");
        fs::create_directories(root_ / "dir-index" / "index.html");
        test::writeFile(root_ / "docs" / "index.html", "docs\n");
        test::writeFile(root_ / "both" / "index.htm", "htm\n");
        test::writeFile(root_ / "both" / "index.html", "html\n");
        test::writeFile(root_ / "dir-index" / "default.htm", "default\n");
        fs::create_directories(root_ / "escaping");
        fs::create_symlink("../../secret.txt", root_ / "escaping" / "index.html");
        fs::create_directories(root_ / "fifo-index");
        ASSERT_EQ(::mkfifo((root_ / "fifo-index" / "index.html").c_str(), 0600), 0);
    }

    StaticLookup lookup(std::string_view relative, std::vector<std::string> index = {"index.html"},
                        bool fallback = false) {
        index_ = std::move(index);
        return lookupStaticFile(root_, relative, StaticLookupOptions{index_, fallback});
    }

    std::string lookupContent(const StaticLookup& found) {
        std::string content(static_cast<std::size_t>(found.info.st_size), '\0');
        EXPECT_EQ(::pread(found.fd.get(), content.data(), content.size(), 0),
                  static_cast<ssize_t>(content.size()));
        return content;
    }

    std::vector<std::string> index_;
};

TEST_P(StaticLookups, regular_file_opens_with_its_path) {
    const StaticLookup found = lookup("/sub/deeper/a.txt");
    ASSERT_EQ(found.status, StaticLookup::Status::Ok) << found.detail;
    EXPECT_EQ(found.path, "/sub/deeper/a.txt");
    EXPECT_EQ(lookupContent(found), "deep\n");
}

TEST_P(StaticLookups, directory_with_slash_serves_its_index) {
    const StaticLookup found = lookup("/docs/");
    ASSERT_EQ(found.status, StaticLookup::Status::Ok) << found.detail;
    EXPECT_EQ(found.path, "/docs/index.html");
    EXPECT_EQ(lookupContent(found), "docs\n");
}

TEST_P(StaticLookups, root_with_slash_serves_its_index) {
    const StaticLookup found = lookup("/");
    ASSERT_EQ(found.status, StaticLookup::Status::Ok) << found.detail;
    EXPECT_EQ(found.path, "/index.html");
    EXPECT_EQ(lookupContent(found), "<h1>hello</h1>\n");
}

TEST_P(StaticLookups, index_names_are_tried_in_order) {
    EXPECT_EQ(lookup("/both/", {"index.htm", "index.html"}).path, "/both/index.htm");
    EXPECT_EQ(lookup("/both/", {"index.html", "index.htm"}).path, "/both/index.html");
    EXPECT_EQ(lookup("/both/", {"missing.html", "index.html"}).path, "/both/index.html");
}

TEST_P(StaticLookups, directory_without_slash_redirects) {
    for (const char* path : {"/docs", "/empty", "/sub", ""}) {
        const StaticLookup found = lookup(path);
        EXPECT_EQ(found.status, StaticLookup::Status::AddSlash) << path << ": " << found.detail;
        EXPECT_FALSE(found.fd) << path;
    }
    // Through a symlink inside the root too.
    EXPECT_EQ(lookup("/shortcut").status, StaticLookup::Status::AddSlash);
}

TEST_P(StaticLookups, directory_without_index_is_forbidden) {
    EXPECT_EQ(lookup("/empty/").status, StaticLookup::Status::Forbidden);
    EXPECT_EQ(lookup("/docs/", {}).status, StaticLookup::Status::Forbidden);
    EXPECT_EQ(lookup("/docs/", {"other.html"}).status, StaticLookup::Status::Forbidden);
}

TEST_P(StaticLookups, index_that_is_a_directory_or_fifo_is_skipped) {
    const StaticLookup found = lookup("/dir-index/", {"index.html", "default.htm"});
    ASSERT_EQ(found.status, StaticLookup::Status::Ok) << found.detail;
    EXPECT_EQ(found.path, "/dir-index/default.htm");
    EXPECT_EQ(lookup("/dir-index/").status, StaticLookup::Status::Forbidden);
    EXPECT_EQ(lookup("/fifo-index/").status, StaticLookup::Status::Forbidden);
}

TEST_P(StaticLookups, index_symlink_elsewhere_in_the_root_is_followed) {
    fs::create_directories(root_ / "linked");
    fs::create_symlink("../docs/index.html", root_ / "linked" / "index.html");
    const StaticLookup found = lookup("/linked/");
    ASSERT_EQ(found.status, StaticLookup::Status::Ok) << found.detail;
    EXPECT_EQ(found.path, "/linked/index.html");
    EXPECT_EQ(lookupContent(found), "docs\n");
    // A directory reached through an absolute symlink inside the root.
    fs::create_symlink(root_ / "docs", root_ / "docs-absolute");
    EXPECT_EQ(lookupContent(lookup("/docs-absolute/")), "docs\n");
}

TEST_P(StaticLookups, index_symlink_out_of_the_root_is_forbidden_even_with_fallback) {
    for (bool fallback : {false, true}) {
        const StaticLookup found = lookup("/escaping/", {"index.html"}, fallback);
        EXPECT_EQ(found.status, StaticLookup::Status::Forbidden) << found.detail;
        EXPECT_FALSE(found.fd);
        EXPECT_NE(found.detail.find("outside the root"), std::string::npos) << found.detail;
    }
}

TEST_P(StaticLookups, symlink_out_of_the_root_is_forbidden) {
    for (const char* path : {"/escape", "/escape-absolute", "/escape-dir/secret.txt", "/escape-dir",
                             "/escape-dir/"}) {
        const StaticLookup found = lookup(path, {"secret.txt"}, true);
        EXPECT_EQ(found.status, StaticLookup::Status::Forbidden) << path << ": " << found.detail;
        EXPECT_FALSE(found.fd) << path;
    }
}

TEST_P(StaticLookups, missing_is_not_found) {
    for (const char* path : {"/nope.html", "/index.html/", "/index.html/x", "/missing-dir/",
                             "/missing-dir/x"}) {
        EXPECT_EQ(lookup(path).status, StaticLookup::Status::NotFound) << path;
    }
    EXPECT_EQ(lookupStaticFile(dir_ / "no-such-root", "/index.html", {}).status,
              StaticLookup::Status::NotFound);
}

TEST_P(StaticLookups, fifo_is_forbidden) {
    EXPECT_EQ(lookup("/fifo").status, StaticLookup::Status::Forbidden);
}

TEST_P(StaticLookups, fallback_sends_directories_without_index_to_the_pool) {
    EXPECT_EQ(lookup("/empty/", {"index.html"}, true).status, StaticLookup::Status::NotFound);
    // Without the slash too: no redirect to a directory that has nothing to show.
    EXPECT_EQ(lookup("/empty", {"index.html"}, true).status, StaticLookup::Status::NotFound);
    EXPECT_EQ(lookup("/docs/", {}, true).status, StaticLookup::Status::NotFound);
    EXPECT_EQ(lookup("/nope", {"index.html"}, true).status, StaticLookup::Status::NotFound);
}

TEST_P(StaticLookups, fallback_still_serves_files_and_redirects_to_indexes) {
    EXPECT_EQ(lookup("/index.html", {"index.html"}, true).status, StaticLookup::Status::Ok);
    const StaticLookup found = lookup("/docs/", {"index.html"}, true);
    ASSERT_EQ(found.status, StaticLookup::Status::Ok);
    EXPECT_EQ(found.path, "/docs/index.html");
    const StaticLookup redirect = lookup("/docs", {"index.html"}, true);
    EXPECT_EQ(redirect.status, StaticLookup::Status::AddSlash);
    EXPECT_FALSE(redirect.fd);
}

TEST_P(StaticLookups, unreadable_index_is_forbidden) {
    if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
    fs::permissions(root_ / "docs" / "index.html", fs::perms::none);
    EXPECT_EQ(lookup("/docs/", {"index.html"}, true).status, StaticLookup::Status::Forbidden);
}

// openGzipSibling

TEST_P(StaticLookups, gzip_sibling_present_opens) {
    test::writeFile(root_ / "docs" / "index.html.gz", "GZ");
    const StaticFile gz = openGzipSibling(root_, "/docs/index.html");
    ASSERT_EQ(gz.status, StaticFile::Status::Ok) << gz.detail;
    EXPECT_EQ(gz.info.st_size, 2);
}

TEST_P(StaticLookups, gzip_sibling_absent_is_not_found) {
    EXPECT_EQ(openGzipSibling(root_, "/index.html").status, StaticFile::Status::NotFound);
    EXPECT_EQ(openGzipSibling(root_, "/docs/").status, StaticFile::Status::NotFound);
    EXPECT_EQ(openGzipSibling(root_, "").status, StaticFile::Status::NotFound);
}

TEST_P(StaticLookups, gzip_sibling_outside_the_root_is_refused) {
    test::writeFile(dir_ / "secret.txt.gz", "SECRET-GZ");
    fs::create_symlink("../secret.txt.gz", root_ / "index.html.gz");
    const StaticFile gz = openGzipSibling(root_, "/index.html");
    EXPECT_EQ(gz.status, StaticFile::Status::Forbidden) << gz.detail;
    EXPECT_FALSE(gz.fd);
}

TEST_P(StaticLookups, gzip_sibling_must_be_a_regular_file) {
    fs::create_directories(root_ / "index.html.gz");
    EXPECT_EQ(openGzipSibling(root_, "/index.html").status, StaticFile::Status::Forbidden);
    ASSERT_EQ(::mkfifo((root_ / "sub" / "deeper" / "a.txt.gz").c_str(), 0600), 0);
    EXPECT_EQ(openGzipSibling(root_, "/sub/deeper/a.txt").status, StaticFile::Status::Forbidden);
}

TEST_P(StaticLookups, gzip_sibling_symlink_inside_the_root_is_followed) {
    test::writeFile(root_ / "sub" / "a.gz", "GZ!");
    fs::create_symlink("../sub/a.gz", root_ / "docs" / "index.html.gz");
    const StaticFile gz = openGzipSibling(root_, "/docs/index.html");
    ASSERT_EQ(gz.status, StaticFile::Status::Ok) << gz.detail;
    EXPECT_EQ(gz.info.st_size, 3);
}

std::string checkName(const ::testing::TestParamInfo<RootCheck>& info) {
    switch (info.param) {
    case RootCheck::Beneath: return "beneath";
    case RootCheck::Portable: return "portable";
    }
    return "unknown";
}

INSTANTIATE_TEST_SUITE_P(RootChecks, StaticFiles,
                         ::testing::Values(RootCheck::Beneath, RootCheck::Portable), checkName);
INSTANTIATE_TEST_SUITE_P(RootChecks, StaticLookups,
                         ::testing::Values(RootCheck::Beneath, RootCheck::Portable), checkName);

TEST(HttpDate, imf_fixdate_in_gmt) {
    EXPECT_EQ(formatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(formatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(formatHttpDate(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

}  // namespace
}  // namespace pyfpm::http
