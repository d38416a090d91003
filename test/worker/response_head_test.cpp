// The checks start_response applies to status lines and headers, and the
// CGI head they become (src/worker/response_head.hpp).
#include <gtest/gtest.h>

#include "src/worker/options.hpp"
#include "src/worker/response_head.hpp"

namespace pyfpm::worker {
namespace {

TEST(ResponseHead, status_lines_that_pep_3333_allows_pass)
{
    for (const char* status : {"200 OK", "404 Not Found", "599 Custom  Reason", "200 ", "301 Moved\tPermanently",
                               "200 caf\xe9"}) {
        EXPECT_EQ(checkStatus(status), "") << status;
    }
}

TEST(ResponseHead, malformed_status_lines_are_rejected)
{
    for (const char* status : {"", "200", "200OK", "20 OK", "2000 OK", "abc OK", "099 Low", " 200 OK",
                               "200 OK\r\nX: y", "200 O\nK", "200 \x7f"}) {
        EXPECT_NE(checkStatus(status), "") << status;
    }
}

TEST(ResponseHead, header_names_must_be_tokens_and_not_status)
{
    for (const char* name : {"Content-Type", "X-A_b.c~!#$%&'*+^`|", "set-cookie"}) {
        EXPECT_EQ(checkHeaderName(name), "") << name;
    }
    for (const char* name : {"", "Bad Name", "Colon:", "Line\nBreak", "Status", "status", "STATUS", "sTaTuS",
                             "Ünï"}) {
        EXPECT_NE(checkHeaderName(name), "") << name;
    }
    for (const char* name : {"Statu", "Statuses", "X-Status", "Status-Line"}) {
        EXPECT_EQ(checkHeaderName(name), "") << name;
    }
}

TEST(ResponseHead, header_values_cannot_split_the_head)
{
    for (const char* value : {"", "text/html; charset=utf-8", "a\tb", "caf\xe9"}) {
        EXPECT_EQ(checkHeaderValue(value), "") << value;
    }
    for (const char* value : {"a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "nul\x01", "del\x7f"}) {
        EXPECT_NE(checkHeaderValue(value), "") << value;
    }
    EXPECT_NE(checkHeaderValue(std::string_view("nul\0byte", 8)), "");
}

TEST(ResponseHead, builder_writes_a_cgi_head_keeping_repeated_headers)
{
    ResponseHeadBuilder builder("201 Created");
    builder.add("Set-Cookie", "a=1");
    builder.add("Set-Cookie", "b=2");
    builder.add("content-length", "42");
    const ResponseHead head = std::move(builder).finish();
    EXPECT_EQ(head.block,
              "Status: 201 Created\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\ncontent-length: 42\r\n\r\n");
    EXPECT_EQ(head.contentLength, 42u);
}

TEST(ResponseHead, content_length_is_found_whatever_its_case)
{
    for (const char* name : {"Content-Length", "CONTENT-LENGTH", "content-Length"}) {
        ResponseHeadBuilder builder("200 OK");
        builder.add(name, "7");
        EXPECT_EQ(std::move(builder).finish().contentLength, 7u) << name;
    }
    for (const char* name : {"Content-Lengths", "Content_Length", "Content-Lengtj", "X-Content-Length"}) {
        ResponseHeadBuilder builder("200 OK");
        builder.add(name, "7");
        EXPECT_FALSE(std::move(builder).finish().contentLength.has_value()) << name;
    }
}

// Heads are built in a fixed buffer while they fit; longer ones move to
// the heap part-way without losing or reordering anything.
TEST(ResponseHead, builder_keeps_every_byte_of_heads_of_any_length)
{
    for (const std::size_t size : {0u, 1u, 100u, 480u, 490u, 500u, 511u, 512u, 600u, 5000u}) {
        ResponseHeadBuilder builder("200 OK");
        std::string expected = "Status: 200 OK\r\n";
        for (int i = 0; i < 3; ++i) {
            const std::string name = "X-H" + std::to_string(i);
            const std::string value(size, static_cast<char>('a' + i));
            builder.add(name, value);
            expected += name + ": " + value + "\r\n";
        }
        expected += "\r\n";
        EXPECT_EQ(std::move(builder).finish().block, expected) << size;
    }
}

TEST(ResponseHead, invalid_content_length_is_not_enforced)
{
    ResponseHeadBuilder builder("200 OK");
    builder.add("Content-Length", "12abc");
    EXPECT_FALSE(std::move(builder).finish().contentLength.has_value());
}

TEST(AppSpec, module_and_dotted_callable_are_split_at_the_colon)
{
    const auto spec = parseAppSpec("pkg.mod:factory.app");
    ASSERT_TRUE(spec);
    EXPECT_EQ(spec->module, "pkg.mod");
    EXPECT_EQ(spec->callable, "factory.app");
    for (const char* bad : {"app", ":app", "app:", "a:b:c", "a..b:c", "1mod:app", "mod:app()", "mod :app"}) {
        EXPECT_FALSE(parseAppSpec(bad)) << bad;
    }
}

}  // namespace
}  // namespace pyfpm::worker
