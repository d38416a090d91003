#include "src/pyfpm/http/static_policy.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "src/pyfpm/http/ascii.hpp"
#include "src/pyfpm/http/static_files.hpp"

namespace pyfpm::http {

namespace {

constexpr std::string_view kWhitespace = " \t";

std::string_view trimOws(std::string_view s) {
    const std::size_t first = s.find_first_not_of(kWhitespace);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(kWhitespace) - first + 1);
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// entity tags (RFC 9110 §8.8.3)

struct EntityTag {
    bool weak = false;
    std::string_view opaque;  // with its quotes
};

// Reads the next entity tag of a list ("W/\"a\", \"b\""), skipping OWS and
// empty elements. False at the end of the list or on a malformed element:
// the rest of the list is then not trusted.
bool nextEntityTag(std::string_view& list, EntityTag& tag) {
    while (!list.empty() && (list.front() == ',' || list.front() == ' ' || list.front() == '\t')) {
        list.remove_prefix(1);
    }
    if (list.empty()) return false;
    tag.weak = list.substr(0, 2) == "W/";
    if (tag.weak) list.remove_prefix(2);
    if (list.empty() || list.front() != '"') return false;
    const std::size_t close = list.find('"', 1);
    if (close == std::string_view::npos) return false;
    // etagc = %x21 / %x23-7E / obs-text
    for (const char c : list.substr(1, close - 1)) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x21 || byte == 0x7f) return false;
    }
    tag.opaque = list.substr(0, close + 1);
    list.remove_prefix(close + 1);
    const std::string_view rest = trimOws(list);
    if (!rest.empty() && rest.front() != ',') return false;
    return true;
}

enum class Comparison { Strong, Weak };

// Whether the field value ("*" or a list of entity tags) names `etag`
// (RFC 9110 §8.8.3.2: strong comparison needs both tags strong).
bool etagListMatches(std::string_view value, std::string_view etag, Comparison comparison) {
    if (trimOws(value) == "*") return true;
    EntityTag tag;
    while (nextEntityTag(value, tag)) {
        if (comparison == Comparison::Strong && tag.weak) continue;
        if (tag.opaque == etag) return true;
    }
    return false;
}

// HTTP-date (RFC 9110 §5.6.7)

constexpr std::array<std::string_view, 7> kShortDays = {"Mon", "Tue", "Wed", "Thu",
                                                        "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A small cursor over the date text; every reader consumes exactly what
// the grammar says or fails.
class DateReader {
public:
    explicit DateReader(std::string_view text) : rest_(text) {}

    bool literal(std::string_view expected) {
        if (rest_.substr(0, expected.size()) != expected) return false;
        rest_.remove_prefix(expected.size());
        return true;
    }
    // Exactly `count` digits.
    bool digits(std::size_t count, int& value) {
        if (rest_.size() < count) return false;
        value = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (!isDigit(rest_[i])) return false;
            value = value * 10 + (rest_[i] - '0');
        }
        rest_.remove_prefix(count);
        return true;
    }
    template <std::size_t N>
    bool oneOf(const std::array<std::string_view, N>& names, int* index = nullptr) {
        for (std::size_t i = 0; i < N; ++i) {
            if (literal(names[i])) {
                if (index != nullptr) *index = static_cast<int>(i);
                return true;
            }
        }
        return false;
    }
    // time-of-day = hour ":" minute ":" second
    bool timeOfDay(int& hour, int& minute, int& second) {
        return digits(2, hour) && literal(":") && digits(2, minute) && literal(":") &&
               digits(2, second);
    }
    bool atEnd() const { return rest_.empty(); }

private:
    std::string_view rest_;
};

bool isLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int daysInMonth(int year, int month) {  // month 0..11
    static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 1 && isLeapYear(year) ? 29 : kDays[static_cast<std::size_t>(month)];
}

// Days from 1970-01-01 to year-month-day (proleptic Gregorian; month
// 1..12), H. Hinnant's days_from_civil: no time zone, no libc.
std::int64_t daysFromCivil(std::int64_t year, unsigned month, unsigned day) {
    year -= month <= 2 ? 1 : 0;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const auto yoe = static_cast<unsigned>(year - era * 400);
    const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<std::int64_t> toEpoch(int year, int month, int day, int hour, int minute,
                                    int second) {
    // second 60: a leap second, which the grammar allows (§5.6.7).
    if (day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    return daysFromCivil(year, static_cast<unsigned>(month + 1), static_cast<unsigned>(day)) *
               86400 +
           hour * 3600 + minute * 60 + second;
}

// Range (RFC 9110 §14.1)

struct RangeSpec {
    bool suffix = false;  // "-n"
    std::uint64_t first = 0;
    std::optional<std::uint64_t> last;  // absent: to the end
    std::uint64_t suffixLength = 0;
};

bool parsePosition(std::string_view text, std::uint64_t& value) {
    if (text.empty() || !std::all_of(text.begin(), text.end(), isDigit)) return false;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    // An overflowing position is as good as "very large": clamp it rather
    // than call the whole header invalid.
    if (error == std::errc::result_out_of_range) {
        value = std::numeric_limits<std::uint64_t>::max();
        return true;
    }
    return error == std::errc() && end == text.data() + text.size();
}

// ranges-specifier = range-unit "=" range-set. nullopt when it is not a
// valid bytes range set (then the header is ignored).
std::optional<std::vector<RangeSpec>> parseRange(std::string_view value) {
    value = trimOws(value);
    const std::size_t equals = value.find('=');
    if (equals == std::string_view::npos || !iequals(value.substr(0, equals), "bytes")) {
        return std::nullopt;
    }
    std::string_view set = value.substr(equals + 1);
    std::vector<RangeSpec> specs;
    // A bound against a header of a million "0-0," elements.
    constexpr std::size_t kMaxRanges = 100;
    while (!set.empty()) {
        const std::size_t comma = set.find(',');
        const std::string_view element = trimOws(set.substr(0, comma));
        set = comma == std::string_view::npos ? std::string_view() : set.substr(comma + 1);
        if (element.empty()) continue;  // §5.6.1: empty list elements
        const std::size_t dash = element.find('-');
        if (dash == std::string_view::npos) return std::nullopt;
        RangeSpec spec;
        if (dash == 0) {
            spec.suffix = true;
            if (!parsePosition(element.substr(1), spec.suffixLength)) return std::nullopt;
        } else {
            if (!parsePosition(element.substr(0, dash), spec.first)) return std::nullopt;
            const std::string_view last = element.substr(dash + 1);
            if (!last.empty()) {
                std::uint64_t lastPos = 0;
                if (!parsePosition(last, lastPos) || lastPos < spec.first) return std::nullopt;
                spec.last = lastPos;
            }
        }
        if (specs.size() == kMaxRanges) return std::nullopt;
        specs.push_back(spec);
    }
    if (specs.empty()) return std::nullopt;  // range-set = 1#range-spec
    return specs;
}

// The satisfiable part of a spec against `size` bytes (size > 0).
std::optional<ByteSpan> resolve(const RangeSpec& spec, std::uint64_t size) {
    if (spec.suffix) {
        if (spec.suffixLength == 0) return std::nullopt;
        const std::uint64_t length = std::min(spec.suffixLength, size);
        return ByteSpan{size - length, length};
    }
    if (spec.first >= size) return std::nullopt;
    const std::uint64_t last = std::min(spec.last.value_or(size - 1), size - 1);
    return ByteSpan{spec.first, last - spec.first + 1};
}

enum class RangeOutcome { Ignore, Partial, Unsatisfiable };

// RFC 9110 §14.2 for a non-empty file. Several satisfiable ranges that
// together form one span are served as that span; ranges with a gap give
// Ignore (200, the whole file).
RangeOutcome decideRange(std::string_view value, std::uint64_t size, ByteSpan& span) {
    const auto specs = parseRange(value);
    if (!specs) return RangeOutcome::Ignore;
    std::vector<ByteSpan> spans;
    for (const RangeSpec& spec : *specs) {
        if (auto resolved = resolve(spec, size)) spans.push_back(*resolved);
    }
    if (spans.empty()) return RangeOutcome::Unsatisfiable;
    std::sort(spans.begin(), spans.end(),
              [](const ByteSpan& a, const ByteSpan& b) { return a.offset < b.offset; });
    ByteSpan merged = spans.front();
    for (const ByteSpan& next : spans) {
        const std::uint64_t end = merged.offset + merged.length;  // one past
        if (next.offset > end) return RangeOutcome::Ignore;       // a gap
        merged.length = std::max(end, next.offset + next.length) - merged.offset;
    }
    span = merged;
    return RangeOutcome::Partial;
}

// §13.1.5: an entity tag must match strongly, a date exactly.
bool ifRangeHolds(std::string_view value, std::string_view etag, std::int64_t mtime) {
    value = trimOws(value);
    if (!value.empty() && (value.front() == '"' || value.substr(0, 2) == "W/")) {
        EntityTag tag;
        std::string_view list = value;
        if (!nextEntityTag(list, tag) || !trimOws(list).empty()) return false;
        return !tag.weak && tag.opaque == etag;
    }
    const auto date = parseHttpDate(value);
    return date && *date == mtime;
}

// Accept-Encoding (RFC 9110 §12.5.3)

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
// thousandths; nullopt when malformed.
std::optional<int> parseQvalue(std::string_view text) {
    if (text.empty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
    int value = (text[0] - '0') * 1000;
    if (text.size() == 1) return value;
    if (text[1] != '.' || text.size() > 5) return std::nullopt;
    int scale = 100;
    for (const char c : text.substr(2)) {
        if (!isDigit(c)) return std::nullopt;
        value += (c - '0') * scale;
        scale /= 10;
    }
    if (value > 1000) return std::nullopt;
    return value;
}

}  // namespace

const std::string* StaticAnswer::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return &value;
    }
    return nullptr;
}

std::string makeEtag(std::int64_t mtime, std::uint64_t size) {
    return fmt::format("\"{:x}-{:x}\"", static_cast<std::uint64_t>(mtime), size);
}

std::optional<std::int64_t> parseHttpDate(std::string_view text) {
    int day = 0, month = 0, year = 0, hour = 0, minute = 0, second = 0;

    // IMF-fixdate: day-name "," SP DD SP Mon SP YYYY SP time SP "GMT"
    DateReader imf(text);
    if (imf.oneOf(kShortDays) && imf.literal(", ") && imf.digits(2, day) && imf.literal(" ") &&
        imf.oneOf(kMonths, &month) && imf.literal(" ") && imf.digits(4, year) && imf.literal(" ") &&
        imf.timeOfDay(hour, minute, second) && imf.literal(" GMT") && imf.atEnd()) {
        return toEpoch(year, month, day, hour, minute, second);
    }

    // rfc850-date: day-name-l "," SP DD "-" Mon "-" YY SP time SP "GMT"
    DateReader rfc850(text);
    if (rfc850.oneOf(kLongDays) && rfc850.literal(", ") && rfc850.digits(2, day) &&
        rfc850.literal("-") && rfc850.oneOf(kMonths, &month) && rfc850.literal("-") &&
        rfc850.digits(2, year) && rfc850.literal(" ") && rfc850.timeOfDay(hour, minute, second) &&
        rfc850.literal(" GMT") && rfc850.atEnd()) {
        return toEpoch(year + (year < 70 ? 2000 : 1900), month, day, hour, minute, second);
    }

    // asctime-date: day-name SP Mon SP ( 2DIGIT / ( SP DIGIT ) ) SP time SP YYYY
    DateReader asctime(text);
    if (asctime.oneOf(kShortDays) && asctime.literal(" ") && asctime.oneOf(kMonths, &month) &&
        asctime.literal(" ") &&
        (asctime.literal(" ") ? asctime.digits(1, day) : asctime.digits(2, day)) &&
        asctime.literal(" ") && asctime.timeOfDay(hour, minute, second) && asctime.literal(" ") &&
        asctime.digits(4, year) && asctime.atEnd()) {
        return toEpoch(year, month, day, hour, minute, second);
    }
    return std::nullopt;
}

bool acceptsGzip(std::string_view acceptEncoding) {
    std::optional<int> gzip, identity, any;  // q in thousandths, when listed
    std::string_view rest = acceptEncoding;
    while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        std::string_view element = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        const std::size_t semicolon = element.find(';');
        const std::string_view coding = trimOws(element.substr(0, semicolon));
        if (coding.empty()) continue;
        int q = 1000;
        std::string_view params = semicolon == std::string_view::npos
                                      ? std::string_view()
                                      : element.substr(semicolon + 1);
        while (!params.empty()) {
            const std::size_t next = params.find(';');
            const std::string_view param = trimOws(params.substr(0, next));
            params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
            const std::size_t eq = param.find('=');
            if (eq == std::string_view::npos || !iequals(trimOws(param.substr(0, eq)), "q")) {
                continue;
            }
            q = parseQvalue(trimOws(param.substr(eq + 1))).value_or(0);
        }
        // A coding listed twice: the first entry counts.
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
            if (!gzip) gzip = q;
        } else if (iequals(coding, "identity")) {
            if (!identity) identity = q;
        } else if (coding == "*") {
            if (!any) any = q;
        }
    }
    const int gzipQ = gzip.value_or(any.value_or(0));
    if (gzipQ <= 0) return false;
    const std::optional<int> identityQ = identity ? identity : any;
    return !identityQ || gzipQ >= *identityQ;
}

std::string directoryRedirectLocation(std::string_view decodedPath, std::string_view query) {
    // RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
    constexpr std::string_view kAllowed =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/";
    std::string location;
    location.reserve(decodedPath.size() + query.size() + 2);
    for (const char c : decodedPath) {
        if (kAllowed.find(c) != std::string_view::npos) {
            location += c;
        } else {
            location += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        }
    }
    // Normalised paths have no "//", but a Location starting with it would
    // name another host, so make sure.
    while (location.size() > 1 && location[0] == '/' && location[1] == '/') location.erase(0, 1);
    if (location.empty() || location.back() != '/') location += '/';
    if (!query.empty()) {
        location += '?';
        location += query;
    }
    return location;
}

StaticAnswer decideStaticAnswer(const StaticRequest& request, const StaticRepresentation& file) {
    StaticAnswer answer;
    const bool get = request.method == "GET";
    if (!get && request.method != "HEAD") {
        answer.status = 405;
        answer.headers.emplace_back("Allow", "GET, HEAD");
        return answer;
    }

    const std::string etag = makeEtag(file.mtime, file.size);
    const auto addValidators = [&] {
        answer.headers.emplace_back("ETag", etag);
        answer.headers.emplace_back("Last-Modified",
                                    formatHttpDate(static_cast<std::time_t>(file.mtime)));
    };
    const auto addCaching = [&] {
        if (file.gzip || file.varyAcceptEncoding) {
            answer.headers.emplace_back("Vary", "Accept-Encoding");
        }
        if (!file.cacheControl.empty()) {
            answer.headers.emplace_back("Cache-Control", std::string(file.cacheControl));
        }
    };

    // RFC 9110 §13.2.2, steps 1-4.
    bool preconditionFailed = false;
    if (request.ifMatch) {
        preconditionFailed = !etagListMatches(*request.ifMatch, etag, Comparison::Strong);
    } else if (request.ifUnmodifiedSince) {
        const auto date = parseHttpDate(trimOws(*request.ifUnmodifiedSince));
        preconditionFailed = date && file.mtime > *date;
    }
    if (preconditionFailed) {
        answer.status = 412;
        return answer;
    }
    bool notModified = false;
    if (request.ifNoneMatch) {
        notModified = etagListMatches(*request.ifNoneMatch, etag, Comparison::Weak);
    } else if (request.ifModifiedSince) {
        const auto date = parseHttpDate(trimOws(*request.ifModifiedSince));
        notModified = date && file.mtime <= *date;
    }
    if (notModified) {
        answer.status = 304;
        addValidators();
        addCaching();
        return answer;
    }

    // Step 5: Range, GET only, and only when If-Range (if any) holds.
    ByteSpan span{0, file.size};
    if (get && request.range && file.size > 0 &&
        (!request.ifRange || ifRangeHolds(*request.ifRange, etag, file.mtime))) {
        switch (decideRange(*request.range, file.size, span)) {
        case RangeOutcome::Ignore: span = ByteSpan{0, file.size}; break;
        case RangeOutcome::Partial: answer.status = 206; break;
        case RangeOutcome::Unsatisfiable:
            answer.status = 416;
            answer.headers.emplace_back("Content-Range", fmt::format("bytes */{}", file.size));
            return answer;
        }
    }

    addValidators();
    answer.headers.emplace_back("Accept-Ranges", "bytes");
    if (answer.status == 206) {
        answer.headers.emplace_back(
            "Content-Range",
            fmt::format("bytes {}-{}/{}", span.offset, span.offset + span.length - 1, file.size));
    }
    answer.headers.emplace_back("Content-Length", std::to_string(span.length));
    if (file.gzip) answer.headers.emplace_back("Content-Encoding", "gzip");
    addCaching();
    if (get) answer.body = span;
    return answer;
}

}  // namespace pyfpm::http
