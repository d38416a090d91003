// What a static file is answered with (src/pyfpm/http/static_policy.hpp):
// conditional requests, ranges, gzip and caching headers, RFC 9110.
#include "src/pyfpm/http/static_policy.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "src/pyfpm/http/static_files.hpp"

namespace pyfpm::http {
namespace {

// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date.
constexpr std::int64_t kMtime = 784111777;
constexpr std::uint64_t kSize = 10000;
const std::string kEtag = "\"2ebc98a1-2710\"";
const std::string kLastModified = "Sun, 06 Nov 1994 08:49:37 GMT";

StaticRepresentation file(std::uint64_t size = kSize) {
    StaticRepresentation f;
    f.size = size;
    f.mtime = kMtime;
    return f;
}

StaticRequest get() {
    StaticRequest r;
    r.method = "GET";
    return r;
}

StaticRequest head() {
    StaticRequest r;
    r.method = "HEAD";
    return r;
}

StaticRequest ranged(std::string_view range) {
    StaticRequest r = get();
    r.range = range;
    return r;
}

std::string headerOr(const StaticAnswer& answer, std::string_view name,
                     std::string fallback = "(none)") {
    const std::string* value = answer.header(name);
    return value != nullptr ? *value : fallback;
}

// validators

TEST(StaticPolicy, etag_is_nginx_style_mtime_and_size_in_hex) {
    EXPECT_EQ(makeEtag(kMtime, kSize), kEtag);
    EXPECT_EQ(makeEtag(0, 0), "\"0-0\"");
    EXPECT_EQ(makeEtag(0x5f1c2e00, 0x1a2b), "\"5f1c2e00-1a2b\"");
}

TEST(StaticPolicy, plain_get_is_200_with_validators_and_the_whole_file) {
    const StaticAnswer a = decideStaticAnswer(get(), file());
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(headerOr(a, "ETag"), kEtag);
    EXPECT_EQ(headerOr(a, "Last-Modified"), kLastModified);
    EXPECT_EQ(headerOr(a, "Accept-Ranges"), "bytes");
    EXPECT_EQ(headerOr(a, "Content-Length"), "10000");
    EXPECT_EQ(a.header("Content-Encoding"), nullptr);
    EXPECT_EQ(a.header("Vary"), nullptr);
    EXPECT_EQ(a.header("Cache-Control"), nullptr);
    EXPECT_EQ(a.header("Content-Range"), nullptr);
    ASSERT_TRUE(a.body);
    EXPECT_EQ(*a.body, (ByteSpan{0, kSize}));
}

TEST(StaticPolicy, head_is_200_with_the_same_headers_and_no_body) {
    const StaticAnswer g = decideStaticAnswer(get(), file());
    const StaticAnswer h = decideStaticAnswer(head(), file());
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.headers, g.headers);
    EXPECT_FALSE(h.body);
}

TEST(StaticPolicy, empty_file_is_200_with_an_empty_body) {
    const StaticAnswer a = decideStaticAnswer(get(), file(0));
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(headerOr(a, "Content-Length"), "0");
    ASSERT_TRUE(a.body);
    EXPECT_EQ(a.body->length, 0u);
}

TEST(StaticPolicy, other_methods_are_405_with_allow) {
    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "get", ""}) {
        StaticRequest r;
        r.method = method;
        const StaticAnswer a = decideStaticAnswer(r, file());
        EXPECT_EQ(a.status, 405) << method;
        EXPECT_EQ(headerOr(a, "Allow"), "GET, HEAD") << method;
        EXPECT_EQ(a.header("ETag"), nullptr) << method;
        EXPECT_FALSE(a.body) << method;
    }
}

// If-None-Match / If-Modified-Since

TEST(StaticPolicy, if_none_match_with_the_etag_is_304) {
    for (std::string value : {kEtag, "W/" + kEtag, "\"other\", " + kEtag,
                              "\"a\",W/" + kEtag + " ,\"b\"", std::string("*"),
                              std::string(" * ")}) {
        StaticRequest r = get();
        r.ifNoneMatch = value;
        const StaticAnswer a = decideStaticAnswer(r, file());
        EXPECT_EQ(a.status, 304) << value;
        EXPECT_FALSE(a.body) << value;
        EXPECT_EQ(headerOr(a, "ETag"), kEtag) << value;
        EXPECT_EQ(headerOr(a, "Last-Modified"), kLastModified) << value;
        EXPECT_EQ(a.header("Content-Length"), nullptr) << value;
        EXPECT_EQ(a.header("Accept-Ranges"), nullptr) << value;
    }
}

TEST(StaticPolicy, head_with_matching_if_none_match_is_304) {
    StaticRequest r = head();
    r.ifNoneMatch = kEtag;
    EXPECT_EQ(decideStaticAnswer(r, file()).status, 304);
}

TEST(StaticPolicy, if_none_match_with_other_tags_is_200) {
    for (std::string value : {std::string("\"other\""), std::string("\"2ebc98a1-2711\""),
                              std::string("2ebc98a1-2710"), std::string("\"a\", garbage, ") + kEtag,
                              std::string("")}) {
        StaticRequest r = get();
        r.ifNoneMatch = value;
        EXPECT_EQ(decideStaticAnswer(r, file()).status, 200) << value;
    }
}

TEST(StaticPolicy, if_none_match_present_means_if_modified_since_is_ignored) {
    StaticRequest r = get();
    r.ifNoneMatch = "\"other\"";
    r.ifModifiedSince = kLastModified;  // would be a 304 on its own
    EXPECT_EQ(decideStaticAnswer(r, file()).status, 200);
}

TEST(StaticPolicy, if_modified_since_at_or_after_mtime_is_304) {
    for (const char* date : {"Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:38 GMT",
                             "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                             "Mon, 01 Jan 2024 00:00:00 GMT"}) {
        StaticRequest r = get();
        r.ifModifiedSince = date;
        EXPECT_EQ(decideStaticAnswer(r, file()).status, 304) << date;
    }
}

TEST(StaticPolicy, if_modified_since_before_mtime_is_200) {
    StaticRequest r = get();
    r.ifModifiedSince = "Sun, 06 Nov 1994 08:49:36 GMT";
    EXPECT_EQ(decideStaticAnswer(r, file()).status, 200);
}

TEST(StaticPolicy, unparsable_if_modified_since_is_ignored) {
    for (const char* date : {"yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "784111777",
                             "Sun, 06 Nov 1994 08:49:37 GMT; length=12", ""}) {
        StaticRequest r = get();
        r.ifModifiedSince = date;
        EXPECT_EQ(decideStaticAnswer(r, file()).status, 200) << date;
    }
}

TEST(StaticPolicy, not_modified_carries_cache_control_and_vary) {
    StaticRequest r = get();
    r.ifNoneMatch = kEtag;
    StaticRepresentation f = file();
    f.cacheControl = "public, max-age=3600";
    f.gzip = true;
    const StaticAnswer a = decideStaticAnswer(r, f);
    EXPECT_EQ(a.status, 304);
    EXPECT_EQ(headerOr(a, "Cache-Control"), "public, max-age=3600");
    EXPECT_EQ(headerOr(a, "Vary"), "Accept-Encoding");
    EXPECT_EQ(a.header("Content-Encoding"), nullptr);
}

// If-Match / If-Unmodified-Since

TEST(StaticPolicy, if_match_needs_a_strong_match) {
    const auto statusFor = [](std::string value) {
        StaticRequest r = get();
        r.ifMatch = value;
        return decideStaticAnswer(r, file()).status;
    };
    EXPECT_EQ(statusFor(kEtag), 200);
    EXPECT_EQ(statusFor("*"), 200);
    EXPECT_EQ(statusFor("\"x\", " + kEtag), 200);
    EXPECT_EQ(statusFor("W/" + kEtag), 412);
    EXPECT_EQ(statusFor("\"x\""), 412);
}

TEST(StaticPolicy, if_unmodified_since_before_mtime_is_412) {
    StaticRequest r = get();
    r.ifUnmodifiedSince = "Sun, 06 Nov 1994 08:49:36 GMT";
    const StaticAnswer a = decideStaticAnswer(r, file());
    EXPECT_EQ(a.status, 412);
    EXPECT_FALSE(a.body);
    r.ifUnmodifiedSince = kLastModified;
    EXPECT_EQ(decideStaticAnswer(r, file()).status, 200);
    r.ifUnmodifiedSince = "garbage";
    EXPECT_EQ(decideStaticAnswer(r, file()).status, 200);
    r.ifMatch = kEtag;  // If-Match present: If-Unmodified-Since is not evaluated
    r.ifUnmodifiedSince = "Sun, 06 Nov 1994 08:49:36 GMT";
    EXPECT_EQ(decideStaticAnswer(r, file()).status, 200);
}

// Range

struct RangeCase {
    const char* name;
    const char* range;
    std::uint64_t offset;
    std::uint64_t length;
    const char* contentRange;
};

void PrintTo(const RangeCase& c, std::ostream* out) { *out << c.range; }

class StaticRange : public ::testing::TestWithParam<RangeCase> {};

TEST_P(StaticRange, is_206_with_content_range) {
    const RangeCase& c = GetParam();
    const StaticAnswer a = decideStaticAnswer(ranged(c.range), file());
    ASSERT_EQ(a.status, 206) << c.range;
    ASSERT_TRUE(a.body);
    EXPECT_EQ(*a.body, (ByteSpan{c.offset, c.length}));
    EXPECT_EQ(headerOr(a, "Content-Range"), c.contentRange);
    EXPECT_EQ(headerOr(a, "Content-Length"), std::to_string(c.length));
    EXPECT_EQ(headerOr(a, "ETag"), kEtag);
}

INSTANTIATE_TEST_SUITE_P(
    Ranges, StaticRange,
    ::testing::Values(
        RangeCase{"first_bytes", "bytes=0-499", 0, 500, "bytes 0-499/10000"},
        RangeCase{"middle", "bytes=500-999", 500, 500, "bytes 500-999/10000"},
        RangeCase{"one_byte", "bytes=0-0", 0, 1, "bytes 0-0/10000"},
        RangeCase{"open_ended", "bytes=9500-", 9500, 500, "bytes 9500-9999/10000"},
        RangeCase{"suffix", "bytes=-500", 9500, 500, "bytes 9500-9999/10000"},
        RangeCase{"suffix_longer_than_file", "bytes=-20000", 0, 10000, "bytes 0-9999/10000"},
        RangeCase{"last_past_the_end", "bytes=9000-20000", 9000, 1000, "bytes 9000-9999/10000"},
        RangeCase{"last_byte", "bytes=9999-9999", 9999, 1, "bytes 9999-9999/10000"},
        RangeCase{"unit_case_insensitive", "Bytes=0-1", 0, 2, "bytes 0-1/10000"},
        RangeCase{"huge_last", "bytes=1-99999999999999999999999", 1, 9999, "bytes 1-9999/10000"},
        RangeCase{"overlapping_merge", "bytes=0-499, 400-999", 0, 1000, "bytes 0-999/10000"},
        RangeCase{"adjacent_merge", "bytes=500-999,0-499", 0, 1000, "bytes 0-999/10000"},
        RangeCase{"contained_merge", "bytes=0-999,10-20", 0, 1000, "bytes 0-999/10000"},
        RangeCase{"unsatisfiable_dropped", "bytes=0-9, 20000-30000", 0, 10, "bytes 0-9/10000"},
        RangeCase{"empty_elements", "bytes=, 0-9 ,", 0, 10, "bytes 0-9/10000"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(StaticPolicy, unsatisfiable_range_is_416_with_the_size) {
    for (const char* range : {"bytes=10000-", "bytes=10000-10001", "bytes=-0", "bytes=20000-, -0",
                              "bytes=99999999999999999999999-"}) {
        const StaticAnswer a = decideStaticAnswer(ranged(range), file());
        EXPECT_EQ(a.status, 416) << range;
        EXPECT_EQ(headerOr(a, "Content-Range"), "bytes */10000") << range;
        EXPECT_FALSE(a.body) << range;
        EXPECT_EQ(a.header("ETag"), nullptr) << range;
    }
}

TEST(StaticPolicy, invalid_or_foreign_range_is_ignored) {
    for (const char* range : {"bytes=", "bytes=abc", "bytes=5-1", "bytes=1-2-3", "bytes 0-1",
                              "items=0-1", "bytes=0x1-2", "bytes= 0 - 1", "bytes=-", "bytes=+1-2",
                              "", "=0-1"}) {
        const StaticAnswer a = decideStaticAnswer(ranged(range), file());
        EXPECT_EQ(a.status, 200) << range;
        ASSERT_TRUE(a.body) << range;
        EXPECT_EQ(*a.body, (ByteSpan{0, kSize})) << range;
        EXPECT_EQ(a.header("Content-Range"), nullptr) << range;
    }
}

TEST(StaticPolicy, disjoint_ranges_get_the_whole_file) {
    const StaticAnswer a = decideStaticAnswer(ranged("bytes=0-9,20-29"), file());
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(*a.body, (ByteSpan{0, kSize}));
    EXPECT_EQ(decideStaticAnswer(ranged("bytes=0-0,-1"), file()).status, 200);
}

TEST(StaticPolicy, very_many_ranges_are_ignored) {
    std::string range = "bytes=0-0";
    for (int i = 0; i < 1000; ++i) range += ",0-0";
    EXPECT_EQ(decideStaticAnswer(ranged(range), file()).status, 200);
}

TEST(StaticPolicy, range_of_an_empty_file_is_200) {
    for (const char* range : {"bytes=0-", "bytes=-1", "bytes=0-0"}) {
        const StaticAnswer a = decideStaticAnswer(ranged(range), file(0));
        EXPECT_EQ(a.status, 200) << range;
    }
}

TEST(StaticPolicy, head_ignores_range) {
    StaticRequest r = head();
    r.range = "bytes=0-9";
    const StaticAnswer a = decideStaticAnswer(r, file());
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(headerOr(a, "Content-Length"), "10000");
    EXPECT_FALSE(a.body);
    r.range = "bytes=20000-";
    EXPECT_EQ(decideStaticAnswer(r, file()).status, 200);
}

TEST(StaticPolicy, if_range_that_matches_keeps_the_range) {
    for (std::string value : {kEtag, kLastModified, " " + kEtag + " "}) {
        StaticRequest r = ranged("bytes=0-9");
        r.ifRange = value;
        EXPECT_EQ(decideStaticAnswer(r, file()).status, 206) << value;
    }
}

TEST(StaticPolicy, if_range_that_does_not_match_gives_the_whole_file) {
    for (std::string value :
         {std::string("\"other\""), "W/" + kEtag, std::string("Sun, 06 Nov 1994 08:49:38 GMT"),
          std::string("Sun, 06 Nov 1994 08:49:36 GMT"), std::string("garbage"),
          kEtag + ", \"x\""}) {
        StaticRequest r = ranged("bytes=0-9");
        r.ifRange = value;
        const StaticAnswer a = decideStaticAnswer(r, file());
        EXPECT_EQ(a.status, 200) << value;
        EXPECT_EQ(*a.body, (ByteSpan{0, kSize})) << value;
    }
    // Not even a 416 then: the Range is not looked at.
    StaticRequest r = ranged("bytes=20000-");
    r.ifRange = "\"other\"";
    EXPECT_EQ(decideStaticAnswer(r, file()).status, 200);
}

TEST(StaticPolicy, not_modified_wins_over_range) {
    StaticRequest r = ranged("bytes=0-9");
    r.ifNoneMatch = kEtag;
    EXPECT_EQ(decideStaticAnswer(r, file()).status, 304);
}

// gzip and caching headers

TEST(StaticPolicy, gzip_sibling_adds_encoding_and_vary) {
    StaticRepresentation f = file(321);
    f.gzip = true;
    const StaticAnswer a = decideStaticAnswer(get(), f);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(headerOr(a, "Content-Encoding"), "gzip");
    EXPECT_EQ(headerOr(a, "Vary"), "Accept-Encoding");
    EXPECT_EQ(headerOr(a, "Content-Length"), "321");
    EXPECT_EQ(headerOr(a, "ETag"), makeEtag(kMtime, 321));
    const StaticAnswer partial = decideStaticAnswer(ranged("bytes=0-9"), f);
    EXPECT_EQ(partial.status, 206);
    EXPECT_EQ(headerOr(partial, "Content-Range"), "bytes 0-9/321");
    EXPECT_EQ(headerOr(partial, "Content-Encoding"), "gzip");
}

TEST(StaticPolicy, vary_without_gzip_when_asked) {
    StaticRepresentation f = file();
    f.varyAcceptEncoding = true;
    const StaticAnswer a = decideStaticAnswer(get(), f);
    EXPECT_EQ(headerOr(a, "Vary"), "Accept-Encoding");
    EXPECT_EQ(a.header("Content-Encoding"), nullptr);
}

TEST(StaticPolicy, cache_control_on_200_206_304_only) {
    StaticRepresentation f = file();
    f.cacheControl = "max-age=60";
    EXPECT_EQ(headerOr(decideStaticAnswer(get(), f), "Cache-Control"), "max-age=60");
    EXPECT_EQ(headerOr(decideStaticAnswer(ranged("bytes=0-1"), f), "Cache-Control"), "max-age=60");
    EXPECT_EQ(decideStaticAnswer(ranged("bytes=20000-"), f).header("Cache-Control"), nullptr);
    StaticRequest post;
    post.method = "POST";
    EXPECT_EQ(decideStaticAnswer(post, f).header("Cache-Control"), nullptr);
    StaticRequest failing = get();
    failing.ifMatch = "\"x\"";
    EXPECT_EQ(decideStaticAnswer(failing, f).header("Cache-Control"), nullptr);
}

// HTTP-date

TEST(HttpDateParse, three_forms_of_the_same_instant) {
    EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), kMtime);
    EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), kMtime);
    EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 1994"), kMtime);
    EXPECT_EQ(parseHttpDate("Sun Nov 06 08:49:37 1994"), kMtime);
}

TEST(HttpDateParse, round_trips_format_http_date) {
    for (std::int64_t t :
         {std::int64_t{0}, std::int64_t{951782400}, std::int64_t{951868799},
          std::int64_t{1709164800}, std::int64_t{4102444800}, std::int64_t{253402300799}}) {
        EXPECT_EQ(parseHttpDate(formatHttpDate(static_cast<std::time_t>(t))), t) << t;
    }
}

TEST(HttpDateParse, edges_of_the_calendar) {
    EXPECT_EQ(parseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    EXPECT_EQ(parseHttpDate("Wed, 31 Dec 1969 23:59:59 GMT"), -1);
    EXPECT_EQ(parseHttpDate("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
    EXPECT_EQ(parseHttpDate("Sat, 31 Dec 2016 23:59:60 GMT"), 1483228800);  // leap second
    EXPECT_EQ(parseHttpDate("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
    EXPECT_EQ(parseHttpDate("Saturday, 01-Jan-00 00:00:00 GMT"), 946684800);
    EXPECT_EQ(parseHttpDate("Tuesday, 31-Dec-69 00:00:00 GMT"), 3155673600);  // 2069
    EXPECT_EQ(parseHttpDate("Thu Jan  1 00:00:00 1970"), 0);
}

TEST(HttpDateParse, rejects_what_is_not_an_http_date) {
    for (const char* text : {
             "", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 GMT ",
             " Sun, 06 Nov 1994 08:49:37 GMT", "sun, 06 Nov 1994 08:49:37 GMT",
             "Sun, 06 nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 gmt",
             "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
             "Sun 06 Nov 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
             "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
             "Sun, 29 Feb 1900 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
             "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
             "Sun, 06 Nov 1994 08:49:61 GMT", "Sun, 06 Nov 1994 08:49:37 +0000",
             "Sunday, 06-Nov-1994 08:49:37 GMT", "Sunday, 06 Nov 94 08:49:37 GMT",
             "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94", "Sun Nov  6 08:49:37 1994 GMT",
             "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", "784111777",
             "2024-01-01T00:00:00Z"}) {
        EXPECT_FALSE(parseHttpDate(text)) << text;
    }
}

// Accept-Encoding

struct EncodingCase {
    const char* acceptEncoding;
    bool gzip;
};

void PrintTo(const EncodingCase& c, std::ostream* out) { *out << '"' << c.acceptEncoding << '"'; }

class AcceptsGzip : public ::testing::TestWithParam<EncodingCase> {};

TEST_P(AcceptsGzip, decides) {
    EXPECT_EQ(acceptsGzip(GetParam().acceptEncoding), GetParam().gzip) << GetParam().acceptEncoding;
}

INSTANTIATE_TEST_SUITE_P(
    Values, AcceptsGzip,
    ::testing::Values(EncodingCase{"", false},
                      EncodingCase{"gzip", true},
                      EncodingCase{"GZIP", true},
                      EncodingCase{"x-gzip", true},
                      EncodingCase{"gzip, deflate, br", true},
                      EncodingCase{"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
                      EncodingCase{"deflate, br", false},
                      EncodingCase{"identity", false},
                      EncodingCase{"gzip;q=0", false},
                      EncodingCase{"gzip;q=0.000", false},
                      EncodingCase{"gzip; q=0 , *", false},
                      EncodingCase{"*", true},
                      EncodingCase{"*;q=0", false},
                      EncodingCase{"*;q=0, gzip", true},
                      EncodingCase{"gzip;q=0.001", true},
                      EncodingCase{"gzip;Q=0.5", true},
                      EncodingCase{"gzip ; q=1.000", true},
                      EncodingCase{"gzip;q=1.5", false},
                      EncodingCase{"gzip;q=2", false},
                      EncodingCase{"gzip;q=0.0001", false},
                      EncodingCase{"gzip;q=abc", false},
                      EncodingCase{"gzipx", false},
                      EncodingCase{"gzip;q=0.5, identity", false},
                      EncodingCase{"gzip;q=0.5, identity;q=0.5", true},
                      EncodingCase{"gzip;q=0.5, identity;q=0.1", true},
                      EncodingCase{"gzip;q=0.5", true},
                      EncodingCase{"gzip;q=0.5, *", false},
                      EncodingCase{"identity;q=0", false},
                      EncodingCase{"identity;q=0, *", true},
                      EncodingCase{"gzip, gzip;q=0", true},
                      EncodingCase{",, gzip ,", true}),
    [](const auto& info) { return "case_" + std::to_string(info.index); });

// directory redirect

TEST(DirectoryRedirect, appends_the_slash_and_keeps_the_query) {
    EXPECT_EQ(directoryRedirectLocation("/docs", ""), "/docs/");
    EXPECT_EQ(directoryRedirectLocation("/docs", "a=1&b=2"), "/docs/?a=1&b=2");
    EXPECT_EQ(directoryRedirectLocation("/static", "v=%20"), "/static/?v=%20");
    EXPECT_EQ(directoryRedirectLocation("", ""), "/");
}

TEST(DirectoryRedirect, encodes_what_a_path_cannot_hold) {
    EXPECT_EQ(directoryRedirectLocation("/my docs", ""), "/my%20docs/");
    EXPECT_EQ(directoryRedirectLocation("/a?b#c%d", ""), "/a%3Fb%23c%25d/");
    EXPECT_EQ(directoryRedirectLocation("/caf\xc3\xa9", ""), "/caf%C3%A9/");
    EXPECT_EQ(directoryRedirectLocation("/a\r\nSet-Cookie: x", ""), "/a%0D%0ASet-Cookie:%20x/");
    EXPECT_EQ(directoryRedirectLocation("/-._~!$&'()*+,;=:@", ""), "/-._~!$&'()*+,;=:@/");
}

TEST(DirectoryRedirect, never_names_another_host) {
    EXPECT_EQ(directoryRedirectLocation("//evil.example", ""), "/evil.example/");
    EXPECT_EQ(directoryRedirectLocation("/\\evil.example", ""), "/%5Cevil.example/");
}

}  // namespace
}  // namespace pyfpm::http
