// Content-Type by extension from a mime.types(5) table
// (src/pyfpm/http/mime_types.hpp).
#include "src/pyfpm/http/mime_types.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace pyfpm::http {
namespace {

MimeTypes sample() {
    std::istringstream in(
        "# comment line\n"
        "text/html\t\t\thtml htm\n"
        "application/json\t\tjson   # trailing comment\n"
        "image/png PNG\n"
        "application/x-only-type\n"
        "text/x-first dup\n"
        "text/x-second dup\n"
        "\n");
    return MimeTypes::parse(in);
}

TEST(MimeTypes, extension_lookup_is_case_insensitive) {
    const MimeTypes types = sample();
    EXPECT_EQ(types.lookup("/index.html"), "text/html");
    EXPECT_EQ(types.lookup("/INDEX.HTM"), "text/html");
    EXPECT_EQ(types.lookup("/logo.png"), "image/png");
    EXPECT_EQ(types.lookup("data.json"), "application/json");
}

TEST(MimeTypes, unknown_or_missing_extension_is_octet_stream) {
    const MimeTypes types = sample();
    EXPECT_EQ(types.lookup("/archive.xyz"), MimeTypes::kDefault);
    EXPECT_EQ(types.lookup("/README"), MimeTypes::kDefault);
    EXPECT_EQ(types.lookup("/dir.html/README"), MimeTypes::kDefault);
    EXPECT_EQ(types.lookup("/trailing."), MimeTypes::kDefault);
    EXPECT_EQ(types.lookup(""), MimeTypes::kDefault);
    EXPECT_EQ(MimeTypes::kDefault, "application/octet-stream");
}

TEST(MimeTypes, first_line_wins_for_a_repeated_extension) {
    EXPECT_EQ(sample().lookup("/a.dup"), "text/x-first");
}

TEST(MimeTypes, comments_and_types_without_extensions_add_nothing) {
    EXPECT_EQ(sample().size(), 5u);  // html htm json png dup
}

TEST(MimeTypes, missing_table_serves_everything_as_octet_stream) {
    const MimeTypes types = MimeTypes::load("/nonexistent/mime.types");
    EXPECT_EQ(types.size(), 0u);
    EXPECT_EQ(types.lookup("/index.html"), MimeTypes::kDefault);
}

TEST(MimeTypes, system_table_from_media_types) {
    const MimeTypes types = MimeTypes::load();
    ASSERT_GT(types.size(), 500u) << "/etc/mime.types (Debian media-types) is missing";
    EXPECT_EQ(types.lookup("/site.css"), "text/css");
    EXPECT_EQ(types.lookup("/index.html"), "text/html");
    EXPECT_EQ(types.lookup("/logo.png"), "image/png");
    EXPECT_EQ(types.lookup("/data.json"), "application/json");
    EXPECT_EQ(types.lookup("/icon.svg"), "image/svg+xml");
}

}  // namespace
}  // namespace pyfpm::http
