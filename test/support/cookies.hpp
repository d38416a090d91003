// A cookie jar for integration tests that log in and keep a session: it
// stores the cookies of `Set-Cookie` response headers (RFC 6265 §5.2) and
// sends them back in one `Cookie` request header (§5.4).
//
// A test talks to one server at a time, so the jar keeps cookies by name
// only: Domain, Path and Secure are kept as attributes for assertions but do
// not select which cookies are sent. Header-only, so it adds nothing to the
// support library's build.
#pragma once

#include <ctime>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <utility>

#include "test/support/http_client.hpp"

namespace pyfpm::test {

struct Cookie {
    std::string value;
    // Attribute names lowercased ("path", "httponly", "samesite", ...),
    // values as sent ("" for flags such as HttpOnly).
    std::map<std::string, std::string> attributes;

    bool has(const std::string& attribute) const { return attributes.count(attribute) != 0; }
};

class CookieJar {
public:
    // Stores every Set-Cookie of `response`, replacing cookies of the same
    // name. A cookie whose Max-Age is 0 or less, or (without Max-Age) whose
    // Expires date has passed, is removed instead: that is how servers
    // delete one (Django's logout sends both). A line without '=' in its
    // first part is ignored (§5.2 step 2).
    void update(const HttpResponse& response) {
        for (const std::string& line : response.headerValues("Set-Cookie")) {
            store(line);
        }
    }

    bool has(const std::string& name) const { return cookies_.count(name) != 0; }
    // The value, "" when the jar has no such cookie.
    std::string get(const std::string& name) const {
        const auto found = cookies_.find(name);
        return found == cookies_.end() ? std::string() : found->second.value;
    }
    // The whole cookie; nullptr when absent. Valid until the next update().
    const Cookie* find(const std::string& name) const {
        const auto found = cookies_.find(name);
        return found == cookies_.end() ? nullptr : &found->second;
    }
    std::size_t size() const { return cookies_.size(); }
    void clear() { cookies_.clear(); }

    // "a=1; b=2" (names in sorted order), "" when empty.
    std::string cookieHeader() const {
        std::string header;
        for (const auto& [name, cookie] : cookies_) {
            if (!header.empty()) header += "; ";
            header += name + "=" + cookie.value;
        }
        return header;
    }

    // `extra` plus a Cookie header when the jar is not empty: the headers
    // argument of httpRequest() or HttpRequest::headers.
    HttpHeaders headers(HttpHeaders extra = {}) const {
        if (!cookies_.empty()) extra.emplace_back("Cookie", cookieHeader());
        return extra;
    }

private:
    static std::string trim(const std::string& text) {
        const auto first = text.find_first_not_of(" \t");
        if (first == std::string::npos) return {};
        return text.substr(first, text.find_last_not_of(" \t") - first + 1);
    }

    static std::string lower(std::string text) {
        for (char& c : text) {
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        return text;
    }

    // An IMF-fixdate (RFC 7231 §7.1.1.1), "Thu, 01 Jan 1970 00:00:00 GMT",
    // the form servers send; true when it parses and lies in the past.
    static bool expired(const std::string& date) {
        std::tm tm{};
        std::istringstream in(date);
        in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S");
        if (in.fail()) return false;
        return ::timegm(&tm) <= std::time(nullptr);
    }

    // §5.2.2: an optional '-' and digits; anything else is ignored.
    static bool integer(const std::string& text, long& out) {
        std::size_t at = text.size() > 1 && text[0] == '-' ? 1 : 0;
        if (at == text.size() || text.size() - at > 12) return false;
        long value = 0;
        for (; at < text.size(); ++at) {
            if (text[at] < '0' || text[at] > '9') return false;
            value = value * 10 + (text[at] - '0');
        }
        out = text[0] == '-' ? -value : value;
        return true;
    }

    void store(const std::string& line) {
        std::istringstream parts(line);
        std::string pair;
        std::getline(parts, pair, ';');
        const auto eq = pair.find('=');
        if (eq == std::string::npos) return;
        const std::string name = trim(pair.substr(0, eq));
        if (name.empty()) return;
        Cookie cookie;
        cookie.value = trim(pair.substr(eq + 1));
        if (cookie.value.size() >= 2 && cookie.value.front() == '"' && cookie.value.back() == '"') {
            cookie.value = cookie.value.substr(1, cookie.value.size() - 2);
        }
        std::string attribute;
        while (std::getline(parts, attribute, ';')) {
            const auto at = attribute.find('=');
            const std::string key = lower(trim(attribute.substr(0, at)));
            if (!key.empty()) {
                cookie.attributes[key] = at == std::string::npos ? "" : trim(attribute.substr(at + 1));
            }
        }
        bool gone = false;
        const auto maxAge = cookie.attributes.find("max-age");
        const auto expires = cookie.attributes.find("expires");
        long seconds = 0;
        if (maxAge != cookie.attributes.end() && integer(maxAge->second, seconds)) {
            gone = seconds <= 0;  // §5.2.2: a valid Max-Age wins over Expires
        } else if (expires != cookie.attributes.end()) {
            gone = expired(expires->second);
        }
        if (gone) {
            cookies_.erase(name);
        } else {
            cookies_[name] = std::move(cookie);
        }
    }

    std::map<std::string, Cookie> cookies_;
};

}  // namespace pyfpm::test
