// The scalar parsers of pyfpm.yaml(5) and the did-you-mean behind unknown keys.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "src/pyfpm/config/suggest.hpp"
#include "src/pyfpm/config/values.hpp"

namespace pyfpm::config {
namespace {

using namespace std::chrono_literals;
using manager::ListenAddress;

struct DurationCase {
    std::string_view text;
    std::optional<std::chrono::milliseconds> expected;
};

class DurationTest : public testing::TestWithParam<DurationCase> {};

TEST_P(DurationTest, parses_as_documented) {
    EXPECT_EQ(parseDuration(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Durations, DurationTest, testing::Values(
    DurationCase{"250ms", 250ms}, DurationCase{"30s", 30s}, DurationCase{"5m", 5min},
    DurationCase{"1h", 1h}, DurationCase{"0s", 0ms}, DurationCase{"0", 0ms},
    DurationCase{"0ms", 0ms}, DurationCase{"90s", 90s},
    DurationCase{"", std::nullopt}, DurationCase{"10", std::nullopt},
    DurationCase{"s", std::nullopt}, DurationCase{"1.5s", std::nullopt},
    DurationCase{"-1s", std::nullopt}, DurationCase{"10 s", std::nullopt},
    DurationCase{" 10s", std::nullopt}, DurationCase{"10sec", std::nullopt},
    DurationCase{"10S", std::nullopt}, DurationCase{"1d", std::nullopt},
    DurationCase{"10us", std::nullopt},
    DurationCase{"99999999999999999999s", std::nullopt},
    DurationCase{"9223372036854775807h", std::nullopt}));

TEST(FormatDuration, picks_the_largest_exact_unit_and_round_trips) {
    EXPECT_EQ(formatDuration(0ms), "0s");
    EXPECT_EQ(formatDuration(1ms), "1ms");
    EXPECT_EQ(formatDuration(1500ms), "1500ms");
    EXPECT_EQ(formatDuration(90s), "90s");
    EXPECT_EQ(formatDuration(5min), "5m");
    EXPECT_EQ(formatDuration(2h), "2h");
    using std::chrono::milliseconds;
    for (milliseconds duration : {0ms, 1ms, 999ms, milliseconds{61s}, milliseconds{59min},
                                  milliseconds{25h}})
        EXPECT_EQ(parseDuration(formatDuration(duration)), duration);
}

struct SizeCase {
    std::string_view text;
    std::optional<std::uint64_t> expected;
};

class SizeTest : public testing::TestWithParam<SizeCase> {};

TEST_P(SizeTest, parses_as_documented) {
    EXPECT_EQ(parseSize(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Sizes, SizeTest, testing::Values(
    SizeCase{"0", 0}, SizeCase{"4096", 4096}, SizeCase{"4096B", 4096},
    SizeCase{"64KiB", 64 * 1024}, SizeCase{"10MiB", 10 * 1024 * 1024},
    SizeCase{"1GiB", 1024ULL * 1024 * 1024},
    SizeCase{"18446744073709551615", 18446744073709551615ULL},
    SizeCase{"", std::nullopt}, SizeCase{"KiB", std::nullopt}, SizeCase{"10MB", std::nullopt},
    SizeCase{"10kb", std::nullopt}, SizeCase{"1.5MiB", std::nullopt},
    SizeCase{"-1", std::nullopt}, SizeCase{"10 MiB", std::nullopt},
    SizeCase{"18446744073709551616", std::nullopt},
    SizeCase{"17179869184GiB", std::nullopt}));

TEST(ParseBool, takes_yaml_1_2_booleans_only) {
    for (std::string_view yes : {"true", "True", "TRUE"}) EXPECT_EQ(parseBool(yes), true);
    for (std::string_view no : {"false", "False", "FALSE"}) EXPECT_EQ(parseBool(no), false);
    for (std::string_view bad : {"", "yes", "no", "on", "off", "1", "0", "tRUE"})
        EXPECT_EQ(parseBool(bad), std::nullopt) << bad;
}

TEST(ParseInteger, accepts_decimal_with_sign_only) {
    EXPECT_EQ(parseInteger("511"), 511);
    EXPECT_EQ(parseInteger("-1"), -1);
    EXPECT_EQ(parseInteger("+7"), 7);
    EXPECT_EQ(parseInteger("0"), 0);
    for (std::string_view bad : {"", "-", "+", "1.0", "1e3", "0x10", " 1", "1 ", "two", "--1",
                                 "99999999999999999999"})
        EXPECT_EQ(parseInteger(bad), std::nullopt) << bad;
}

TEST(ParseFileMode, reads_octal_digits_as_written) {
    EXPECT_EQ(parseFileMode("0660"), mode_t{0660});
    EXPECT_EQ(parseFileMode("660"), mode_t{0660});
    EXPECT_EQ(parseFileMode("0o600"), mode_t{0600});
    EXPECT_EQ(parseFileMode("0"), mode_t{0});
    EXPECT_EQ(parseFileMode("7777"), mode_t{07777});
    EXPECT_EQ(parseFileMode("04755"), mode_t{04755});
    for (std::string_view bad : {"", "0o", "0680", "rw-rw----", "10000", "0x1a4", "-660", "u+rw"})
        EXPECT_EQ(parseFileMode(bad), std::nullopt) << bad;
}

TEST(ParseHostPort, takes_ipv4_names_and_bracketed_ipv6) {
    auto v4 = parseHostPort("127.0.0.1:8080");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->host, "127.0.0.1");
    EXPECT_EQ(v4->port, 8080);

    auto name = parseHostPort("localhost:1");
    ASSERT_TRUE(name);
    EXPECT_EQ(name->host, "localhost");
    EXPECT_EQ(name->port, 1);

    auto v6 = parseHostPort("[::1]:65535");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 65535);

    for (std::string_view bad : {"", "8080", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
                                 "127.0.0.1:65536", "127.0.0.1:http", "::1:8080", "[::1]",
                                 "[::1:8080", "[nothex]:80", "host name:80", "a/b:80"})
        EXPECT_EQ(parseHostPort(bad), std::nullopt) << bad;
}

TEST(ParseListenAddress, tells_unix_paths_from_host_port) {
    auto absolute = parseListenAddress("/run/pyfpm/web.sock");
    ASSERT_TRUE(absolute);
    EXPECT_EQ(absolute->kind, ListenAddress::Kind::Unix);
    EXPECT_EQ(absolute->path, "/run/pyfpm/web.sock");

    auto prefixed = parseListenAddress("unix:/tmp/a:b.sock");
    ASSERT_TRUE(prefixed);
    EXPECT_EQ(prefixed->kind, ListenAddress::Kind::Unix);
    EXPECT_EQ(prefixed->path, "/tmp/a:b.sock");

    auto relative = parseListenAddress("web.sock");
    ASSERT_TRUE(relative);
    EXPECT_EQ(relative->kind, ListenAddress::Kind::Unix);
    EXPECT_EQ(relative->path, "web.sock");

    auto tcp = parseListenAddress("127.0.0.1:9000");
    ASSERT_TRUE(tcp);
    EXPECT_EQ(tcp->kind, ListenAddress::Kind::Tcp);
    EXPECT_EQ(tcp->host, "127.0.0.1");
    EXPECT_EQ(tcp->port, 9000);

    auto v6 = parseListenAddress("[::1]:9000");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->kind, ListenAddress::Kind::Tcp);
    EXPECT_EQ(v6->host, "::1");

    for (std::string_view bad : {"", "unix:", "9000", "localhost:php", "127.0.0.1:0", "::1:9000"})
        EXPECT_EQ(parseListenAddress(bad), std::nullopt) << bad;
}

TEST(Names, app_spec_is_dotted_module_colon_identifier) {
    for (std::string_view good : {"app:app", "pkg.wsgi:application", "_a.b_2.c:_make", "a:B9"})
        EXPECT_TRUE(isAppSpec(good)) << good;
    for (std::string_view bad : {"", "app", ":app", "app:", "app:app()", "pkg..wsgi:app",
                                 ".pkg:app", "pkg.:app", "2pkg:app", "pkg:app.attr", "a-b:app",
                                 "a:b:c", "pkg/wsgi:app"})
        EXPECT_FALSE(isAppSpec(bad)) << bad;
}

TEST(Names, pool_and_env_names) {
    for (std::string_view good : {"web", "api-v2", "a.b_c", "0"}) EXPECT_TRUE(isPoolName(good));
    for (std::string_view bad : {"", "a b", "a/b", "wéb", "a:b"}) EXPECT_FALSE(isPoolName(bad));
    for (std::string_view good : {"PATH", "_x", "DJANGO_SETTINGS_MODULE", "a1"})
        EXPECT_TRUE(isEnvName(good));
    for (std::string_view bad : {"", "1A", "A-B", "A=B", "A B"}) EXPECT_FALSE(isEnvName(bad));
}

TEST(Suggest, edit_distance_counts_typos) {
    EXPECT_EQ(editDistance("", ""), 0u);
    EXPECT_EQ(editDistance("abc", ""), 3u);
    EXPECT_EQ(editDistance("", "abc"), 3u);
    EXPECT_EQ(editDistance("max_children", "max_children"), 0u);
    EXPECT_EQ(editDistance("max_chidren", "max_children"), 1u);   // deletion
    EXPECT_EQ(editDistance("max_chilldren", "max_children"), 1u); // insertion
    EXPECT_EQ(editDistance("max_chilsren", "max_children"), 1u);  // substitution
    EXPECT_EQ(editDistance("max_chlidren", "max_children"), 1u);  // transposition
    EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
}

TEST(Suggest, closest_match_only_for_plausible_typos) {
    constexpr std::array<std::string_view, 4> keys{"app", "listen", "listen_backlog",
                                                   "max_children"};
    EXPECT_EQ(closestMatch("max_chidren", keys), "max_children");
    EXPECT_EQ(closestMatch("pm.max_children", keys), "max_children");
    EXPECT_EQ(closestMatch("lsiten", keys), "listen");
    EXPECT_EQ(closestMatch("ap", keys), "app");
    EXPECT_EQ(closestMatch("user", keys), std::nullopt);
    EXPECT_EQ(closestMatch("backlog", keys), std::nullopt);
    EXPECT_EQ(closestMatch("x", std::span<const std::string_view>{}), std::nullopt);
}

}  // namespace
}  // namespace pyfpm::config
