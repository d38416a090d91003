// Opening files below a static root: nothing outside the root, ever
// (src/pyfpm/http/static_files.hpp). Real files and symlinks in a temp dir.
#include "src/pyfpm/http/static_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

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

TEST(HttpDate, imf_fixdate_in_gmt) {
    EXPECT_EQ(formatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(formatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(formatHttpDate(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

}  // namespace
}  // namespace pyfpm::http
