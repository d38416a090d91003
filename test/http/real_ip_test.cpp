// REMOTE_ADDR and HTTPS behind trusted proxies (src/pyfpm/http/real_ip.hpp):
// nginx's real_ip_recursive on, X-Forwarded-For and X-Forwarded-Proto.
#include "src/pyfpm/http/real_ip.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace pyfpm::http {
namespace {

std::vector<config::Cidr> ranges(std::initializer_list<const char*> texts) {
    std::vector<config::Cidr> out;
    for (const char* text : texts) {
        auto cidr = config::parseCidr(text);
        EXPECT_TRUE(cidr) << text;
        if (cidr) out.push_back(*cidr);
    }
    return out;
}

// A load balancer at 10.0.0.1, a CDN range 192.0.2.0/24, IPv6 proxies
// in fd00::/8 and the local host.
const std::vector<config::Cidr>& trusted() {
    static const std::vector<config::Cidr> list =
        ranges({"10.0.0.0/8", "192.0.2.0/24", "fd00::/8", "127.0.0.1", "::1"});
    return list;
}

std::string addressFor(std::string_view peer, std::string_view xff) {
    return resolveRealClient(peer, xff, "", trusted(), false).address;
}

TEST(RealIp, untrusted_peer_keeps_its_address_and_scheme) {
    const RealClient c =
        resolveRealClient("203.0.113.9", "198.51.100.7", "https", trusted(), false);
    EXPECT_EQ(c.address, "203.0.113.9");
    EXPECT_FALSE(c.https);
    EXPECT_FALSE(c.fromProxy);
    EXPECT_TRUE(resolveRealClient("203.0.113.9", "", "http", trusted(), true).https);
}

TEST(RealIp, nobody_is_trusted_by_default) {
    const RealClient c = resolveRealClient("127.0.0.1", "198.51.100.7", "https", {}, false);
    EXPECT_EQ(c.address, "127.0.0.1");
    EXPECT_FALSE(c.https);
}

TEST(RealIp, trusted_peer_without_headers_is_the_client) {
    const RealClient c = resolveRealClient("10.0.0.1", "", "", trusted(), false);
    EXPECT_EQ(c.address, "10.0.0.1");
    EXPECT_TRUE(c.fromProxy);
    EXPECT_FALSE(c.https);
}

TEST(RealIp, single_forwarded_address_is_the_client) {
    EXPECT_EQ(addressFor("10.0.0.1", "198.51.100.7"), "198.51.100.7");
    EXPECT_EQ(addressFor("10.0.0.1", " 198.51.100.7 "), "198.51.100.7");
}

TEST(RealIp, walk_skips_trusted_hops_from_the_right) {
    // client, CDN edge, load balancer
    EXPECT_EQ(addressFor("10.0.0.1", "198.51.100.7, 192.0.2.10, 10.0.0.2"), "198.51.100.7");
    // A spoofed left part is never reached: the first untrusted from the right wins.
    EXPECT_EQ(addressFor("10.0.0.1", "1.2.3.4, 198.51.100.7, 192.0.2.10"), "198.51.100.7");
}

TEST(RealIp, all_trusted_gives_the_leftmost) {
    EXPECT_EQ(addressFor("10.0.0.1", "10.1.1.1, 192.0.2.10, 10.0.0.2"), "10.1.1.1");
    EXPECT_EQ(addressFor("127.0.0.1", "127.0.0.1"), "127.0.0.1");
}

TEST(RealIp, invalid_entry_stops_the_walk_at_the_peer) {
    EXPECT_EQ(addressFor("10.0.0.1", "198.51.100.7, unknown"), "10.0.0.1");
    EXPECT_EQ(addressFor("10.0.0.1", "198.51.100.7, 10.0.0.2, garbage"), "10.0.0.1");
    EXPECT_EQ(addressFor("10.0.0.1", "host.example"), "10.0.0.1");
    EXPECT_EQ(addressFor("10.0.0.1", "1.2.3.4.5"), "10.0.0.1");
    EXPECT_EQ(addressFor("10.0.0.1", "1.2.3.4:99999"), "10.0.0.1");
    EXPECT_EQ(addressFor("10.0.0.1", "[1.2.3.4]"), "10.0.0.1");
    EXPECT_EQ(addressFor("10.0.0.1", "[::1"), "10.0.0.1");
    // Left of an untrusted address, garbage is not looked at.
    EXPECT_EQ(addressFor("10.0.0.1", "garbage, 198.51.100.7"), "198.51.100.7");
}

TEST(RealIp, empty_list_elements_are_skipped) {
    EXPECT_EQ(addressFor("10.0.0.1", "198.51.100.7,, 10.0.0.2 ,"), "198.51.100.7");
    EXPECT_EQ(addressFor("10.0.0.1", ", ,"), "10.0.0.1");
}

TEST(RealIp, ports_and_brackets_are_dropped) {
    EXPECT_EQ(addressFor("10.0.0.1", "198.51.100.7:51234"), "198.51.100.7");
    EXPECT_EQ(addressFor("10.0.0.1", "[2001:db8::7]:443"), "2001:db8::7");
    EXPECT_EQ(addressFor("10.0.0.1", "[2001:db8::7]"), "2001:db8::7");
}

TEST(RealIp, ipv6_peers_and_hops) {
    EXPECT_EQ(addressFor("::1", "2001:db8::7"), "2001:db8::7");
    EXPECT_EQ(addressFor("fd12::1", "2001:DB8:0:0::7, fd00::2"), "2001:db8::7");
    EXPECT_EQ(addressFor("[fd12::1]", "2001:db8::7"), "2001:db8::7");
    EXPECT_EQ(addressFor("2001:db8::99", "198.51.100.7"), "2001:db8::99");
    EXPECT_EQ(addressFor("fd12::1", "fd00::5, ::1"), "fd00::5");
    // Mixed families in one chain.
    EXPECT_EQ(addressFor("10.0.0.1", "2001:db8::7, fd00::2, 10.0.0.3"), "2001:db8::7");
}

TEST(RealIp, ipv4_mapped_peer_matches_ipv4_ranges) {
    EXPECT_EQ(addressFor("::ffff:10.0.0.1", "198.51.100.7"), "198.51.100.7");
    EXPECT_EQ(addressFor("::ffff:203.0.113.9", "198.51.100.7"), "::ffff:203.0.113.9");
    // A mapped hop in XFF is trusted like its IPv4 form.
    EXPECT_EQ(addressFor("10.0.0.1", "198.51.100.7, ::ffff:10.0.0.2"), "198.51.100.7");
}

TEST(RealIp, unparsable_peer_is_not_trusted) {
    EXPECT_EQ(addressFor("", "198.51.100.7"), "");
    EXPECT_EQ(addressFor("localhost", "198.51.100.7"), "localhost");
}

TEST(RealIp, forwarded_proto_from_a_trusted_peer) {
    const auto https = [](std::string_view proto, bool own) {
        return resolveRealClient("10.0.0.1", "", proto, trusted(), own).https;
    };
    EXPECT_TRUE(https("https", false));
    EXPECT_TRUE(https("HTTPS", false));
    EXPECT_TRUE(https(" Https ", false));
    EXPECT_FALSE(https("http", true));
    EXPECT_FALSE(https("HTTP", true));
    // The last element decides.
    EXPECT_TRUE(https("http, https", false));
    EXPECT_FALSE(https("https, http", true));
    EXPECT_TRUE(https("http, https, ", false));
    // Anything else leaves the connection's own scheme.
    EXPECT_FALSE(https("", false));
    EXPECT_TRUE(https("", true));
    EXPECT_FALSE(https("wss", false));
    EXPECT_TRUE(https("ftp", true));
    EXPECT_FALSE(https("httpsx", false));
}

TEST(RealIp, forwarded_proto_and_for_together) {
    const RealClient c = resolveRealClient("192.0.2.10", "198.51.100.7", "https", trusted(), false);
    EXPECT_EQ(c.address, "198.51.100.7");
    EXPECT_TRUE(c.https);
    EXPECT_TRUE(c.fromProxy);
}

TEST(RealIp, prefix_boundaries_are_exact) {
    const auto list = ranges({"192.0.2.128/25"});
    EXPECT_EQ(resolveRealClient("192.0.2.128", "198.51.100.7", "", list, false).address,
              "198.51.100.7");
    EXPECT_EQ(resolveRealClient("192.0.2.255", "198.51.100.7", "", list, false).address,
              "198.51.100.7");
    EXPECT_EQ(resolveRealClient("192.0.2.127", "198.51.100.7", "", list, false).address,
              "192.0.2.127");
}

}  // namespace
}  // namespace pyfpm::http
