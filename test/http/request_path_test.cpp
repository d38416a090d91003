// Percent-decoding and normalisation of request paths
// (src/pyfpm/http/request_path.hpp).
#include "src/pyfpm/http/request_path.hpp"

#include <gtest/gtest.h>

namespace pyfpm::http {
namespace {

struct PathCase {
    const char* raw;
    const char* decoded;  // when error is None
    PathError error;
};

class DecodePath : public ::testing::TestWithParam<PathCase> {};

TEST_P(DecodePath, decodes_then_normalises) {
    const PathCase& c = GetParam();
    const DecodedPath result = decodeRequestPath(c.raw);
    EXPECT_EQ(result.error, c.error) << c.raw << ": " << toString(result.error);
    if (c.error == PathError::None) {
        EXPECT_EQ(result.path, c.decoded) << c.raw;
    } else {
        EXPECT_TRUE(result.path.empty()) << c.raw;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Plain, DecodePath,
    ::testing::Values(PathCase{"/", "/", PathError::None},
                      PathCase{"/a/b", "/a/b", PathError::None},
                      PathCase{"/a/b/", "/a/b/", PathError::None},
                      PathCase{"/a+b", "/a+b", PathError::None},
                      PathCase{"/a%20b", "/a b", PathError::None},
                      PathCase{"/caf%C3%A9", "/caf\xc3\xa9", PathError::None},
                      PathCase{"/%7Euser", "/~user", PathError::None}));

INSTANTIATE_TEST_SUITE_P(
    DotSegments, DecodePath,
    ::testing::Values(PathCase{"/a/./b", "/a/b", PathError::None},
                      PathCase{"/a/../b", "/b", PathError::None},
                      PathCase{"/a//b", "/a/b", PathError::None},
                      PathCase{"//etc/passwd", "/etc/passwd", PathError::None},
                      PathCase{"/a/b/..", "/a/", PathError::None},
                      PathCase{"/a/b/.", "/a/b/", PathError::None},
                      PathCase{"/.", "/", PathError::None},
                      PathCase{"/a/..", "/", PathError::None},
                      PathCase{"/...", "/...", PathError::None},
                      PathCase{"/..a", "/..a", PathError::None},
                      PathCase{"/..", "", PathError::AboveRoot},
                      PathCase{"/a/../..", "", PathError::AboveRoot},
                      PathCase{"/static/../../etc/passwd", "", PathError::AboveRoot}));

// Encoded dots and slashes are decoded before normalisation, so they cannot
// hide a ".." from it.
INSTANTIATE_TEST_SUITE_P(
    EncodedTraversal, DecodePath,
    ::testing::Values(PathCase{"/%2e%2e/x", "", PathError::AboveRoot},
                      PathCase{"/%2E%2E/x", "", PathError::AboveRoot},
                      PathCase{"/a/%2e%2e/b", "/b", PathError::None},
                      PathCase{"/a/.%2e/b", "/b", PathError::None},
                      PathCase{"/a%2fb", "/a/b", PathError::None},
                      PathCase{"/a%2F..%2F..%2Fetc", "", PathError::AboveRoot},
                      PathCase{"/static/..%2f..%2fetc/passwd", "", PathError::AboveRoot},
                      PathCase{"/static/%2e%2e%2fsecret", "/secret", PathError::None},
                      PathCase{"/%2e", "/", PathError::None}));

INSTANTIATE_TEST_SUITE_P(
    Rejected, DecodePath,
    ::testing::Values(PathCase{"/%00", "", PathError::NulByte},
                      PathCase{"/a%00.txt", "", PathError::NulByte},
                      PathCase{"/%zz", "", PathError::BadEscape},
                      PathCase{"/%4", "", PathError::BadEscape},
                      PathCase{"/%", "", PathError::BadEscape},
                      PathCase{"/%%41", "", PathError::BadEscape},
                      PathCase{"*", "", PathError::NotAbsolute},
                      PathCase{"", "", PathError::NotAbsolute},
                      PathCase{"a/b", "", PathError::NotAbsolute}));

TEST(DecodePathErrors, every_error_has_a_message) {
    for (const PathError error : {PathError::None, PathError::NotAbsolute, PathError::BadEscape,
                                  PathError::NulByte, PathError::AboveRoot}) {
        EXPECT_FALSE(toString(error).empty());
    }
}

}  // namespace
}  // namespace pyfpm::http
