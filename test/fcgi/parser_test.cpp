// The incremental record parser: any split of a valid stream gives the same
// records; bad bytes give a sticky error.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fcgi/parser.hpp"

namespace pyfpm::fcgi {
namespace {

struct Seen {
    RecordType type;
    std::uint16_t requestId;
    std::string content;
    bool operator==(const Seen&) const = default;
};

std::string recordedStream() {
    std::string s;
    appendStream(s, RecordType::Stdout, 1, "Content-Type: text/plain\r\n\r\nhello");
    appendStream(s, RecordType::Stderr, 1, "a warning\n");
    appendStream(s, RecordType::Stdout, 1, std::string(70000, 'x'));
    appendStreamEnd(s, RecordType::Stdout, 1);
    appendEndRequest(s, 1, 0, ProtocolStatus::RequestComplete);
    return s;
}

void drain(RecordParser& parser, std::vector<Seen>& seen) {
    for (;;) {
        const auto r = parser.next();
        ASSERT_NE(r.status, RecordParser::Status::Error) << toString(r.error);
        if (r.status == RecordParser::Status::NeedMore) return;
        seen.push_back({r.record.header.type, r.record.header.requestId,
                        std::string(r.record.content)});
    }
}

std::vector<Seen> parseWhole(const std::string& stream) {
    RecordParser parser;
    parser.feed(stream);
    std::vector<Seen> seen;
    drain(parser, seen);
    return seen;
}

TEST(RecordParser, WholeStreamGivesEveryRecord) {
    const auto seen = parseWhole(recordedStream());
    ASSERT_EQ(seen.size(), 6u);  // 70000 bytes take two records
    EXPECT_EQ(seen[0].content, "Content-Type: text/plain\r\n\r\nhello");
    EXPECT_EQ(seen[1].type, RecordType::Stderr);
    EXPECT_EQ(seen[2].content.size(), 65535u);
    EXPECT_EQ(seen[3].content.size(), 70000u - 65535u);
    EXPECT_EQ(seen[4].content, "");
    EXPECT_EQ(seen[5].type, RecordType::EndRequest);
}

TEST(RecordParser, EverySplitPointGivesTheSameRecords) {
    const std::string stream = recordedStream();
    const auto expected = parseWhole(stream);
    // Split points inside the big records add nothing new but cost time;
    // cover the first 200 bytes, every header boundary region and the tail.
    for (std::size_t split = 0; split <= stream.size(); ++split) {
        if (split > 200 && split < stream.size() - 200 && split % 997 != 0) continue;
        RecordParser parser;
        std::vector<Seen> seen;
        parser.feed(std::string_view(stream).substr(0, split));
        drain(parser, seen);
        parser.feed(std::string_view(stream).substr(split));
        drain(parser, seen);
        ASSERT_EQ(seen, expected) << "split at " << split;
        EXPECT_TRUE(parser.atRecordBoundary());
    }
}

TEST(RecordParser, OneByteAtATime) {
    std::string stream;
    appendStream(stream, RecordType::Stdout, 7, "Status: 204\r\n\r\n");
    appendStreamEnd(stream, RecordType::Stdout, 7);
    appendEndRequest(stream, 7, 3, ProtocolStatus::RequestComplete);
    RecordParser parser;
    std::vector<Seen> seen;
    for (char c : stream) {
        parser.feed(std::string_view(&c, 1));
        drain(parser, seen);
    }
    EXPECT_EQ(seen, parseWhole(stream));
}

TEST(RecordParser, PartialRecordIsBuffered) {
    std::string stream;
    appendStream(stream, RecordType::Stdout, 1, "abc");
    RecordParser parser;
    parser.feed(std::string_view(stream).substr(0, 10));
    EXPECT_EQ(parser.next().status, RecordParser::Status::NeedMore);
    EXPECT_FALSE(parser.atRecordBoundary());
    EXPECT_EQ(parser.buffered(), 10u);
}

struct BadInput {
    const char* name;
    std::string bytes;
    ParseError error;
};

class RecordParserRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(RecordParserRejects, WithAStickyError) {
    RecordParser parser;
    parser.feed(GetParam().bytes);
    auto r = parser.next();
    ASSERT_EQ(r.status, RecordParser::Status::Error);
    EXPECT_EQ(r.error, GetParam().error);
    std::string good;
    appendStreamEnd(good, RecordType::Stdout, 1);
    parser.feed(good);
    EXPECT_EQ(parser.next().status, RecordParser::Status::Error);
}

INSTANTIATE_TEST_SUITE_P(
    Garbage, RecordParserRejects,
    ::testing::Values(
        BadInput{"http_response", "HTTP/1.1 200 OK\r\n\r\n", ParseError::BadVersion},
        BadInput{"version_2", std::string("\x02\x06\x00\x01\x00\x00\x00\x00", 8), ParseError::BadVersion},
        BadInput{"type_0", std::string("\x01\x00\x00\x01\x00\x00\x00\x00", 8), ParseError::BadType},
        BadInput{"end_request_4_bytes", std::string("\x01\x03\x00\x01\x00\x04\x00\x00", 8),
                 ParseError::BadBodyLength},
        BadInput{"begin_request_empty", std::string("\x01\x01\x00\x01\x00\x00\x00\x00", 8),
                 ParseError::BadBodyLength},
        BadInput{"unknown_type_long", std::string("\x01\x0b\x00\x00\xff\xff\x00\x00", 8),
                 ParseError::BadBodyLength}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RecordParser, TypesBeyondTheSpecAreRecordsNotErrors) {
    std::string stream;
    appendRecord(stream, static_cast<RecordType>(42), 0, "mgmt");
    const auto seen = parseWhole(stream);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(static_cast<int>(seen[0].type), 42);
}

TEST(RecordParser, HeaderErrorIsReportedBeforeTheBodyArrives) {
    RecordParser parser;
    parser.feed(std::string("\x07\x06\xff\xff\xff\xff\xff\x00", 8));
    EXPECT_EQ(parser.next().status, RecordParser::Status::Error);
}

}  // namespace
}  // namespace pyfpm::fcgi
