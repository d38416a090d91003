// The CGI response head (RFC 3875 §6) at the start of FCGI_STDOUT.
#include <gtest/gtest.h>

#include <string>

#include "fcgi/cgi_response.hpp"

namespace pyfpm::fcgi {
namespace {

using Status = CgiResponseParser::Status;

struct Parsed {
    Status status;
    ResponseHead head;
    std::string body;
    std::string error;
};

Parsed parseSplit(const std::string& stdoutBytes, std::size_t split) {
    CgiResponseParser parser;
    Parsed parsed{Status::NeedMore, {}, {}, {}};
    std::string_view body;
    parsed.status = parser.feed(std::string_view(stdoutBytes).substr(0, split), body);
    if (parsed.status == Status::Done) {
        parsed.body = std::string(body) + stdoutBytes.substr(split);
    } else if (parsed.status == Status::NeedMore) {
        parsed.status = parser.feed(std::string_view(stdoutBytes).substr(split), body);
        parsed.body = std::string(body);
        if (parsed.status == Status::NeedMore) parsed.status = parser.finish();
    }
    parsed.head = parser.head();
    parsed.error = parser.error();
    return parsed;
}

Parsed parse(const std::string& stdoutBytes) { return parseSplit(stdoutBytes, stdoutBytes.size()); }

TEST(CgiResponse, DefaultsTo200AndKeepsHeadersInOrder) {
    const auto p = parse("Content-Type: text/html\r\nX-A:  spaced  \r\n\r\n<p>hi</p>");
    ASSERT_EQ(p.status, Status::Done) << p.error;
    EXPECT_EQ(p.head.status, 200);
    ASSERT_EQ(p.head.headers.size(), 2u);
    EXPECT_EQ(p.head.headers[0], (std::pair<std::string, std::string>{"Content-Type", "text/html"}));
    EXPECT_EQ(p.head.headers[1].second, "spaced");
    EXPECT_EQ(p.body, "<p>hi</p>");
}

TEST(CgiResponse, StatusSetsCodeAndReasonAndIsNotCopied) {
    const auto p = parse("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\n");
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_EQ(p.head.status, 404);
    EXPECT_EQ(p.head.reason, "Not Found");
    EXPECT_EQ(p.head.find("Status"), nullptr);
}

TEST(CgiResponse, LocationWithoutStatusIs302) {
    const auto p = parse("Location: /elsewhere\r\n\r\n");
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_EQ(p.head.status, 302);
    ASSERT_NE(p.head.find("location"), nullptr);
    EXPECT_EQ(*p.head.find("location"), "/elsewhere");
}

TEST(CgiResponse, LocationWithStatusKeepsStatus) {
    const auto p = parse("Status: 301 Moved Permanently\nLocation: /x\n\n");
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_EQ(p.head.status, 301);
}

TEST(CgiResponse, RepeatedHeadersStayApart) {
    const auto p = parse("Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n");
    ASSERT_EQ(p.status, Status::Done);
    ASSERT_EQ(p.head.headers.size(), 2u);
    EXPECT_EQ(p.head.headers[0].second, "a=1");
    EXPECT_EQ(p.head.headers[1].second, "b=2");
}

TEST(CgiResponse, EverySplitPointGivesTheSameHeadAndBody) {
    const std::string s =
        "Status: 201 Created\r\nContent-Type: application/json\r\nSet-Cookie: a=1\r\n"
        "Set-Cookie: b=2\r\nLocation: /new\r\n\r\n{\"id\": 1}";
    const auto whole = parse(s);
    ASSERT_EQ(whole.status, Status::Done);
    for (std::size_t split = 0; split <= s.size(); ++split) {
        const auto p = parseSplit(s, split);
        ASSERT_EQ(p.status, Status::Done) << split << ": " << p.error;
        EXPECT_EQ(p.head.status, 201) << split;
        EXPECT_EQ(p.head.headers, whole.head.headers) << split;
        EXPECT_EQ(p.body, "{\"id\": 1}") << split;
    }
}

TEST(CgiResponse, BareLfLinesAreAccepted) {
    const auto p = parse("Content-Type: text/plain\n\nbody\r\nmore");
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_EQ(p.body, "body\r\nmore");
}

TEST(CgiResponse, EmptyBlockIsA200WithNoHeaders) {
    const auto p = parse("\r\nbody");
    ASSERT_EQ(p.status, Status::Done);
    EXPECT_TRUE(p.head.headers.empty());
    EXPECT_EQ(p.body, "body");
}

struct BadHead {
    const char* name;
    const char* bytes;
    const char* error;
};

class CgiResponseRejects : public ::testing::TestWithParam<BadHead> {};

TEST_P(CgiResponseRejects, WithAReason) {
    const auto p = parse(GetParam().bytes);
    ASSERT_EQ(p.status, Status::Error);
    EXPECT_NE(p.error.find(GetParam().error), std::string::npos) << p.error;
}

INSTANTIATE_TEST_SUITE_P(
    Heads, CgiResponseRejects,
    ::testing::Values(
        BadHead{"missing_blank_line", "Content-Type: text/plain\r\n", "ended before the blank line"},
        BadHead{"no_colon", "Content-Type text/plain\r\n\r\n", "without a colon"},
        BadHead{"space_in_name", "Content Type: x\r\n\r\n", "invalid header name"},
        BadHead{"empty_name", ": x\r\n\r\n", "invalid header name"},
        BadHead{"folded", "X-A: 1\r\n continued\r\n\r\n", "folded"},
        BadHead{"status_letters", "Status: abc\r\n\r\n", "invalid Status"},
        BadHead{"status_4_digits", "Status: 2000 OK\r\n\r\n", "invalid Status"},
        BadHead{"status_twice", "Status: 200\r\nStatus: 500\r\n\r\n", "second Status"},
        BadHead{"cr_in_value", "X-A: a\rInjected: 1\r\n\r\n", "control character"},
        // Header injection (the bridge answers 502 instead of passing these on).
        BadHead{"bare_cr_named", "X-A: a\rInjected: 1\r\n\r\n", "bare CR (0x0d)"},
        BadHead{"cr_before_crlf", "X-A: a\r\r\n\r\n", "bare CR"},
        BadHead{"cr_at_value_start", "X-A:\rInjected: 1\n\n", "bare CR"},
        BadHead{"cr_in_name", "X-\rA: 1\r\n\r\n", "bare CR"},
        BadHead{"cr_alone_on_a_line", "X-A: 1\r\n\r\r\n\r\n", "bare CR"},
        BadHead{"escape_in_value", "X-A: \x1b[31mred\r\n\r\n", "control character 0x1b"},
        BadHead{"del_in_value", "X-A: a\x7f\r\n\r\n", "DEL (0x7f)"},
        BadHead{"vertical_tab_in_value", "X-A: a\vb\r\n\r\n", "control character 0x0b"},
        BadHead{"form_feed_in_status", "Status: 200\fOK\r\n\r\n", "control character 0x0c"},
        BadHead{"slash_in_name", "X/A: 1\r\n\r\n", "not an RFC 9110"},
        BadHead{"space_before_colon", "X-A : 1\r\n\r\n", "invalid header name"},
        BadHead{"tab_in_name", "X\tA: 1\r\n\r\n", "invalid header name"},
        BadHead{"non_ascii_name", "X-\xc3\xa9: 1\r\n\r\n", "invalid header name"},
        BadHead{"folded_with_tab", "X-A: 1\r\n\tcontinued\r\n\r\n", "obsolete line folding"},
        BadHead{"folded_first_line", " X-A: 1\r\n\r\n", "folded"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CgiResponse, NulInValueIsRejected) {
    // A string literal stops at NUL, so this one is built explicitly.
    const auto p = parse(std::string("X-A: a\0b\r\nX-B: 1\r\n\r\n", 19));
    ASSERT_EQ(p.status, Status::Error);
    EXPECT_NE(p.error.find("NUL (0x00)"), std::string::npos) << p.error;
}

TEST(CgiResponse, TabsAndObsTextInValuesAreKept) {
    const auto p = parse("X-A: a\tb\r\nX-B:\t\xc3\xa9t\xc3\xa9 \r\n\r\n");
    ASSERT_EQ(p.status, Status::Done) << p.error;
    ASSERT_EQ(p.head.headers.size(), 2u);
    EXPECT_EQ(p.head.headers[0].second, "a\tb");
    EXPECT_EQ(p.head.headers[1].second, "\xc3\xa9t\xc3\xa9");
}

TEST(CgiResponse, EveryTokenCharacterIsAValidName) {
    const auto p = parse("!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n");
    ASSERT_EQ(p.status, Status::Done) << p.error;
    EXPECT_EQ(p.head.headers[0].first, "!#$%&'*+-.^_`|~09azAZ");
}

TEST(CgiResponse, InjectionIsRejectedAtEverySplitPoint) {
    const std::string s = "Content-Type: text/html\r\nX-A: a\rSet-Cookie: evil=1\r\n\r\nbody";
    for (std::size_t split = 0; split <= s.size(); ++split) {
        const auto p = parseSplit(s, split);
        EXPECT_EQ(p.status, Status::Error) << split;
        EXPECT_NE(p.error.find("bare CR"), std::string::npos) << split << ": " << p.error;
    }
}

TEST(CgiResponse, ControlBytesInTheBodyAreNotChecked) {
    const std::string body("a\rb\0c\x1b", 6);
    const auto p = parse("Content-Type: application/octet-stream\r\n\r\n" + body);
    ASSERT_EQ(p.status, Status::Done) << p.error;
    EXPECT_EQ(p.body, body);
}

TEST(CgiResponse, OversizedHeadIsAnError) {
    CgiResponseParser parser(100);
    std::string_view body;
    EXPECT_EQ(parser.feed("X-Big: " + std::string(200, 'a'), body), Status::Error);
    EXPECT_NE(parser.error().find("longer than 100"), std::string::npos);
}

TEST(CgiResponse, ErrorQuotesControlBytesSafely) {
    const auto p = parse(std::string("bad\x01line\r\n\r\n"));
    ASSERT_EQ(p.status, Status::Error);
    EXPECT_NE(p.error.find("\\x01"), std::string::npos) << p.error;
}

}  // namespace
}  // namespace pyfpm::fcgi
