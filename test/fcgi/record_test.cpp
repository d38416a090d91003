// Golden bytes for FastCGI 1.0 records (§3.3, §3.4, §5.1, §5.5, §4.2).
#include <gtest/gtest.h>

#include <string>

#include "fcgi/name_value.hpp"
#include "fcgi/record.hpp"

namespace pyfpm::fcgi {
namespace {

std::string bytes(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

TEST(Record, HeaderRoundTripsEveryField) {
    RecordHeader header{1, RecordType::Stderr, 0xBEEF, 0x1234, 7, 0};
    unsigned char raw[kHeaderLength];
    encodeHeader(header, raw);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(raw), 8),
              bytes({1, 7, 0xBE, 0xEF, 0x12, 0x34, 7, 0}));
    EXPECT_EQ(decodeHeader(raw), header);
}

TEST(Record, EveryTypeHasItsSpecNumberAndName) {
    const std::pair<RecordType, int> types[] = {
        {RecordType::BeginRequest, 1}, {RecordType::AbortRequest, 2}, {RecordType::EndRequest, 3},
        {RecordType::Params, 4},       {RecordType::Stdin, 5},        {RecordType::Stdout, 6},
        {RecordType::Stderr, 7},       {RecordType::Data, 8},         {RecordType::GetValues, 9},
        {RecordType::GetValuesResult, 10}, {RecordType::UnknownType, 11}};
    for (const auto& [type, number] : types) {
        std::string out;
        appendRecord(out, type, 1, "x");
        EXPECT_EQ(static_cast<unsigned char>(out[1]), number);
        EXPECT_EQ(toString(type).rfind("FCGI_", 0), 0u);
    }
    EXPECT_EQ(toString(static_cast<RecordType>(42)), "type 42");
}

TEST(Record, ContentOf64BytesNeedsNoPadding) {
    std::string out;
    appendRecord(out, RecordType::Stdout, 1, std::string(64, 'a'));
    ASSERT_EQ(out.size(), 8u + 64u);
    EXPECT_EQ(out.substr(0, 8), bytes({1, 6, 0, 1, 0, 64, 0, 0}));
    EXPECT_EQ(out.substr(8), std::string(64, 'a'));
}

TEST(Record, ContentOf65535BytesIsPaddedToEight) {
    std::string out;
    appendRecord(out, RecordType::Stdin, 1, std::string(65535, 'b'));
    ASSERT_EQ(out.size(), 8u + 65535u + 1u);
    EXPECT_EQ(out.substr(0, 8), bytes({1, 5, 0, 1, 0xFF, 0xFF, 1, 0}));
    EXPECT_EQ(out.back(), '\0');
}

TEST(Record, PaddingAlignsEveryLength) {
    for (std::size_t n = 0; n < 24; ++n) {
        std::string out;
        appendRecord(out, RecordType::Stdout, 3, std::string(n, 'c'));
        EXPECT_EQ(out.size() % 8, 0u) << n;
        EXPECT_EQ(static_cast<std::size_t>(out[6]), (8 - n % 8) % 8) << n;
    }
}

TEST(Record, LongStreamIsSplitIntoMaximalRecords) {
    const std::string data(65535 * 2 + 10, 'd');
    std::string out;
    appendStream(out, RecordType::Stdin, 9, data);
    // Two full records (65535 + 1 padding each) and one of 10 (+6 padding).
    ASSERT_EQ(out.size(), 2 * (8 + 65535 + 1) + (8 + 10 + 6));
    EXPECT_EQ(out.substr(0, 8), bytes({1, 5, 0, 9, 0xFF, 0xFF, 1, 0}));
    const std::size_t third = 2 * (8 + 65535 + 1);
    EXPECT_EQ(out.substr(third, 8), bytes({1, 5, 0, 9, 0, 10, 6, 0}));
}

TEST(Record, EmptyStreamAppendsNothingAndEndIsAnEmptyRecord) {
    std::string out;
    appendStream(out, RecordType::Stdout, 1, "");
    EXPECT_TRUE(out.empty());
    appendStreamEnd(out, RecordType::Stdout, 1);
    EXPECT_EQ(out, bytes({1, 6, 0, 1, 0, 0, 0, 0}));
}

TEST(Record, BeginRequestGolden) {
    std::string out;
    appendBeginRequest(out, 1, Role::Responder, kKeepConn);
    EXPECT_EQ(out, bytes({1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0}));
    BeginRequestBody body;
    ASSERT_TRUE(decodeBeginRequestBody(std::string_view(out).substr(8), body));
    EXPECT_EQ(body.role, Role::Responder);
    EXPECT_EQ(body.flags, kKeepConn);
}

TEST(Record, EndRequestGolden) {
    std::string out;
    appendEndRequest(out, 0x0102, 0xA1B2C3D4, ProtocolStatus::Overloaded);
    EXPECT_EQ(out, bytes({1, 3, 1, 2, 0, 8, 0, 0, 0xA1, 0xB2, 0xC3, 0xD4, 2, 0, 0, 0}));
    EndRequestBody body;
    ASSERT_TRUE(decodeEndRequestBody(std::string_view(out).substr(8), body));
    EXPECT_EQ(body.appStatus, 0xA1B2C3D4u);
    EXPECT_EQ(body.protocolStatus, ProtocolStatus::Overloaded);
    EXPECT_FALSE(decodeEndRequestBody("short", body));
}

TEST(Record, AbortAndUnknownTypeGolden) {
    std::string out;
    appendAbortRequest(out, 5);
    EXPECT_EQ(out, bytes({1, 2, 0, 5, 0, 0, 0, 0}));
    out.clear();
    appendUnknownType(out, 99);
    EXPECT_EQ(out, bytes({1, 11, 0, 0, 0, 8, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0}));
    std::uint8_t type = 0;
    ASSERT_TRUE(decodeUnknownTypeBody(std::string_view(out).substr(8), type));
    EXPECT_EQ(type, 99);
}

TEST(NameValue, ShortLengthsTakeOneByte) {
    std::string out;
    appendNameValue(out, "NAME", "value");
    EXPECT_EQ(out, bytes({4, 5}) + "NAMEvalue");
    EXPECT_EQ(encodedNameValueSize("NAME", "value"), out.size());
}

TEST(NameValue, LengthsFrom128TakeFourBytesWithHighBit) {
    const std::string name(127, 'n');
    const std::string value(128, 'v');
    std::string out;
    appendNameValue(out, name, value);
    EXPECT_EQ(out.substr(0, 5), bytes({127, 0x80, 0, 0, 128}));
    EXPECT_EQ(out.size(), 1 + 4 + 127 + 128u);

    const std::string big(70000, 'x');
    out.clear();
    appendNameValue(out, "K", big);
    EXPECT_EQ(out.substr(0, 6), bytes({1, 0x80, 0x01, 0x11, 0x70}) + "K");  // 70000 = 0x011170
}

TEST(NameValue, DecodeRoundTripsAndRejectsTruncation) {
    std::string stream;
    appendNameValue(stream, "A", "");
    appendNameValue(stream, "LONG", std::string(300, 'z'));
    appendNameValue(stream, "", "empty name");
    NameValuePairs pairs;
    ASSERT_TRUE(decodeNameValues(stream, pairs));
    ASSERT_EQ(pairs.size(), 3u);
    EXPECT_EQ(pairs[0], (std::pair<std::string, std::string>{"A", ""}));
    EXPECT_EQ(pairs[1].second.size(), 300u);
    EXPECT_EQ(pairs[2].second, "empty name");

    for (std::size_t cut = 1; cut < stream.size(); ++cut) {
        NameValuePairs partial;
        const bool complete = decodeNameValues(std::string_view(stream).substr(0, cut), partial);
        // Only the cut exactly between two pairs decodes cleanly.
        EXPECT_EQ(complete, cut == 2 + 1 || cut == 2 + 1 + 5 + 4 + 300) << cut;
    }
}

TEST(NameValue, HugeDeclaredLengthIsAnErrorNotAnAllocation) {
    NameValuePairs pairs;
    EXPECT_FALSE(decodeNameValues(bytes({0xFF, 0xFF, 0xFF, 0xFF, 1, 'a', 'b'}), pairs));
    EXPECT_TRUE(pairs.empty());
}

}  // namespace
}  // namespace pyfpm::fcgi
