// Opening files below a static root: nothing outside the root, ever
// (src/pyfpm/http/static_files.hpp). Real files and symlinks in a temp dir.
#include "src/pyfpm/http/static_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test/support/process.hpp"

namespace pyfpm::http {
namespace {

namespace fs = std::filesystem;

class StaticFiles : public ::testing::Test {
protected:
    void SetUp() override {
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
        ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
    }

    StaticFile open(std::string_view relative) { return openStaticFile(root_, relative); }

    test::TempDir dir_;
    fs::path root_;
};

TEST_F(StaticFiles, regular_file_opens_with_its_size) {
    const StaticFile file = open("/index.html");
    ASSERT_EQ(file.status, StaticFile::Status::Ok) << file.detail;
    EXPECT_TRUE(file.fd);
    EXPECT_EQ(file.info.st_size, 15);
    EXPECT_EQ(open("/sub/deeper/a.txt").status, StaticFile::Status::Ok);
}

TEST_F(StaticFiles, missing_file_is_not_found) {
    EXPECT_EQ(open("/nope.html").status, StaticFile::Status::NotFound);
    EXPECT_EQ(open("/index.html/x").status, StaticFile::Status::NotFound);
    EXPECT_EQ(open("/missing-dir/x").status, StaticFile::Status::NotFound);
}

TEST_F(StaticFiles, directory_is_forbidden) {
    EXPECT_EQ(open("").status, StaticFile::Status::Forbidden);
    EXPECT_EQ(open("/").status, StaticFile::Status::Forbidden);
    EXPECT_EQ(open("/sub").status, StaticFile::Status::Forbidden);
    EXPECT_EQ(open("/sub/").status, StaticFile::Status::Forbidden);
}

TEST_F(StaticFiles, fifo_is_forbidden_and_does_not_block) {
    EXPECT_EQ(open("/fifo").status, StaticFile::Status::Forbidden);
}

TEST_F(StaticFiles, symlink_out_of_the_root_is_forbidden) {
    for (const char* path : {"/escape", "/escape-absolute", "/escape-dir/secret.txt"}) {
        const StaticFile file = open(path);
        EXPECT_EQ(file.status, StaticFile::Status::Forbidden) << path << ": " << file.detail;
        EXPECT_FALSE(file.fd) << path;
    }
}

TEST_F(StaticFiles, symlink_inside_the_root_is_followed) {
    EXPECT_EQ(open("/alias.html").status, StaticFile::Status::Ok);
    EXPECT_EQ(open("/alias-absolute.html").status, StaticFile::Status::Ok);
    EXPECT_EQ(open("/shortcut/a.txt").status, StaticFile::Status::Ok);
}

TEST_F(StaticFiles, root_reached_through_a_symlink_still_serves) {
    const fs::path link = dir_ / "root-link";
    fs::create_symlink(root_, link);
    EXPECT_EQ(openStaticFile(link, "/index.html").status, StaticFile::Status::Ok);
    EXPECT_EQ(openStaticFile(link, "/escape").status, StaticFile::Status::Forbidden);
}

TEST_F(StaticFiles, missing_root_is_not_found) {
    EXPECT_EQ(openStaticFile(dir_ / "no-such-root", "/index.html").status,
              StaticFile::Status::NotFound);
}

TEST_F(StaticFiles, unreadable_file_is_forbidden) {
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

    std::string contentOf(const StaticLookup& found) {
        std::string content(static_cast<std::size_t>(found.info.st_size), '\0');
        EXPECT_EQ(::pread(found.fd.get(), content.data(), content.size(), 0),
                  static_cast<ssize_t>(content.size()));
        return content;
    }

    std::vector<std::string> index_;
};

TEST_F(StaticLookups, regular_file_opens_with_its_path) {
    const StaticLookup found = lookup("/sub/deeper/a.txt");
    ASSERT_EQ(found.status, StaticLookup::Status::Ok) << found.detail;
    EXPECT_EQ(found.path, "/sub/deeper/a.txt");
    EXPECT_EQ(contentOf(found), "deep\n");
}

TEST_F(StaticLookups, directory_with_slash_serves_its_index) {
    const StaticLookup found = lookup("/docs/");
    ASSERT_EQ(found.status, StaticLookup::Status::Ok) << found.detail;
    EXPECT_EQ(found.path, "/docs/index.html");
    EXPECT_EQ(contentOf(found), "docs\n");
}

TEST_F(StaticLookups, root_with_slash_serves_its_index) {
    const StaticLookup found = lookup("/");
    ASSERT_EQ(found.status, StaticLookup::Status::Ok) << found.detail;
    EXPECT_EQ(found.path, "/index.html");
    EXPECT_EQ(contentOf(found), "<h1>hello</h1>\n");
}

TEST_F(StaticLookups, index_names_are_tried_in_order) {
    EXPECT_EQ(lookup("/both/", {"index.htm", "index.html"}).path, "/both/index.htm");
    EXPECT_EQ(lookup("/both/", {"index.html", "index.htm"}).path, "/both/index.html");
    EXPECT_EQ(lookup("/both/", {"missing.html", "index.html"}).path, "/both/index.html");
}

TEST_F(StaticLookups, directory_without_slash_redirects) {
    for (const char* path : {"/docs", "/empty", "/sub", ""}) {
        const StaticLookup found = lookup(path);
        EXPECT_EQ(found.status, StaticLookup::Status::AddSlash) << path << ": " << found.detail;
        EXPECT_FALSE(found.fd) << path;
    }
    // Through a symlink inside the root too.
    EXPECT_EQ(lookup("/shortcut").status, StaticLookup::Status::AddSlash);
}

TEST_F(StaticLookups, directory_without_index_is_forbidden) {
    EXPECT_EQ(lookup("/empty/").status, StaticLookup::Status::Forbidden);
    EXPECT_EQ(lookup("/docs/", {}).status, StaticLookup::Status::Forbidden);
    EXPECT_EQ(lookup("/docs/", {"other.html"}).status, StaticLookup::Status::Forbidden);
}

TEST_F(StaticLookups, index_that_is_a_directory_or_fifo_is_skipped) {
    const StaticLookup found = lookup("/dir-index/", {"index.html", "default.htm"});
    ASSERT_EQ(found.status, StaticLookup::Status::Ok) << found.detail;
    EXPECT_EQ(found.path, "/dir-index/default.htm");
    EXPECT_EQ(lookup("/dir-index/").status, StaticLookup::Status::Forbidden);
    EXPECT_EQ(lookup("/fifo-index/").status, StaticLookup::Status::Forbidden);
}

TEST_F(StaticLookups, index_symlink_out_of_the_root_is_forbidden_even_with_fallback) {
    for (bool fallback : {false, true}) {
        const StaticLookup found = lookup("/escaping/", {"index.html"}, fallback);
        EXPECT_EQ(found.status, StaticLookup::Status::Forbidden) << found.detail;
        EXPECT_FALSE(found.fd);
        EXPECT_NE(found.detail.find("outside the root"), std::string::npos) << found.detail;
    }
}

TEST_F(StaticLookups, symlink_out_of_the_root_is_forbidden) {
    for (const char* path : {"/escape", "/escape-absolute", "/escape-dir/secret.txt", "/escape-dir",
                             "/escape-dir/"}) {
        const StaticLookup found = lookup(path, {"secret.txt"}, true);
        EXPECT_EQ(found.status, StaticLookup::Status::Forbidden) << path << ": " << found.detail;
        EXPECT_FALSE(found.fd) << path;
    }
}

TEST_F(StaticLookups, missing_is_not_found) {
    for (const char* path : {"/nope.html", "/index.html/", "/index.html/x", "/missing-dir/",
                             "/missing-dir/x"}) {
        EXPECT_EQ(lookup(path).status, StaticLookup::Status::NotFound) << path;
    }
    EXPECT_EQ(lookupStaticFile(dir_ / "no-such-root", "/index.html", {}).status,
              StaticLookup::Status::NotFound);
}

TEST_F(StaticLookups, fifo_is_forbidden) {
    EXPECT_EQ(lookup("/fifo").status, StaticLookup::Status::Forbidden);
}

TEST_F(StaticLookups, fallback_sends_directories_without_index_to_the_pool) {
    EXPECT_EQ(lookup("/empty/", {"index.html"}, true).status, StaticLookup::Status::NotFound);
    // Without the slash too: no redirect to a directory that has nothing to show.
    EXPECT_EQ(lookup("/empty", {"index.html"}, true).status, StaticLookup::Status::NotFound);
    EXPECT_EQ(lookup("/docs/", {}, true).status, StaticLookup::Status::NotFound);
    EXPECT_EQ(lookup("/nope", {"index.html"}, true).status, StaticLookup::Status::NotFound);
}

TEST_F(StaticLookups, fallback_still_serves_files_and_redirects_to_indexes) {
    EXPECT_EQ(lookup("/index.html", {"index.html"}, true).status, StaticLookup::Status::Ok);
    const StaticLookup found = lookup("/docs/", {"index.html"}, true);
    ASSERT_EQ(found.status, StaticLookup::Status::Ok);
    EXPECT_EQ(found.path, "/docs/index.html");
    const StaticLookup redirect = lookup("/docs", {"index.html"}, true);
    EXPECT_EQ(redirect.status, StaticLookup::Status::AddSlash);
    EXPECT_FALSE(redirect.fd);
}

TEST_F(StaticLookups, unreadable_index_is_forbidden) {
    if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
    fs::permissions(root_ / "docs" / "index.html", fs::perms::none);
    EXPECT_EQ(lookup("/docs/", {"index.html"}, true).status, StaticLookup::Status::Forbidden);
}

// openGzipSibling

TEST_F(StaticLookups, gzip_sibling_present_opens) {
    test::writeFile(root_ / "docs" / "index.html.gz", "GZ");
    const StaticFile gz = openGzipSibling(root_, "/docs/index.html");
    ASSERT_EQ(gz.status, StaticFile::Status::Ok) << gz.detail;
    EXPECT_EQ(gz.info.st_size, 2);
}

TEST_F(StaticLookups, gzip_sibling_absent_is_not_found) {
    EXPECT_EQ(openGzipSibling(root_, "/index.html").status, StaticFile::Status::NotFound);
    EXPECT_EQ(openGzipSibling(root_, "/docs/").status, StaticFile::Status::NotFound);
    EXPECT_EQ(openGzipSibling(root_, "").status, StaticFile::Status::NotFound);
}

TEST_F(StaticLookups, gzip_sibling_outside_the_root_is_refused) {
    test::writeFile(dir_ / "secret.txt.gz", "SECRET-GZ");
    fs::create_symlink("../secret.txt.gz", root_ / "index.html.gz");
    const StaticFile gz = openGzipSibling(root_, "/index.html");
    EXPECT_EQ(gz.status, StaticFile::Status::Forbidden) << gz.detail;
    EXPECT_FALSE(gz.fd);
}

TEST_F(StaticLookups, gzip_sibling_must_be_a_regular_file) {
    fs::create_directories(root_ / "index.html.gz");
    EXPECT_EQ(openGzipSibling(root_, "/index.html").status, StaticFile::Status::Forbidden);
    ASSERT_EQ(::mkfifo((root_ / "sub" / "deeper" / "a.txt.gz").c_str(), 0600), 0);
    EXPECT_EQ(openGzipSibling(root_, "/sub/deeper/a.txt").status, StaticFile::Status::Forbidden);
}

TEST_F(StaticLookups, gzip_sibling_symlink_inside_the_root_is_followed) {
    test::writeFile(root_ / "sub" / "a.gz", "GZ!");
    fs::create_symlink("../sub/a.gz", root_ / "docs" / "index.html.gz");
    const StaticFile gz = openGzipSibling(root_, "/docs/index.html");
    ASSERT_EQ(gz.status, StaticFile::Status::Ok) << gz.detail;
    EXPECT_EQ(gz.info.st_size, 3);
}

TEST(HttpDate, imf_fixdate_in_gmt) {
    EXPECT_EQ(formatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(formatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(formatHttpDate(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

}  // namespace
}  // namespace pyfpm::http
