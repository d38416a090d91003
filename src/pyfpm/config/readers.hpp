// Readers for the value types of pyfpm.yaml(5), to put in key tables: each
// parses one value, reports what was expected (with what it got) on failure,
// and stores the value into a member of the target struct. Internal to the
// loader.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "src/pyfpm/config/schema.hpp"
#include "src/pyfpm/config/values.hpp"

namespace pyfpm::config {

inline constexpr std::string_view kDurationSyntax = "a duration such as 250ms, 30s, 5m or 1h";
inline constexpr std::string_view kSizeSyntax = "a size such as 0, 4096, 64KiB or 512MiB";

// What a path value must be on disk when the file is loaded. FileInDirectory:
// a file the daemon creates or appends to (a log): its folder must exist and
// the path must not be a directory.
enum class PathCheck { None, Exists, Directory, FileInDirectory };

// Reports a path that fails `check` (by its resolved, absolute name); true if
// it passes.
bool checkPath(const Field& field, const std::filesystem::path& resolved, PathCheck check);

// A scalar turned into a value by `parse` (text -> std::optional<V>).
template <class Target, class Value, class Parse>
Reader<Target> parsed(Value Target::*member, Parse parse, std::string what) {
    return [member, parse, what](const Field& field, Target& target) {
        auto text = field.scalar(what);
        if (!text) return;
        auto value = parse(*text);
        if (!value) return field.fail(expectedGot(what, field.node()));
        target.*member = static_cast<Value>(*value);
    };
}

// A scalar that must satisfy `valid` (text -> bool), kept as written.
template <class Target, class Valid>
Reader<Target> text(std::string Target::*member, Valid valid, std::string what) {
    return [member, valid, what](const Field& field, Target& target) {
        auto text = field.scalar(what);
        if (!text) return;
        if (!valid(*text)) return field.fail(expectedGot(what, field.node()));
        target.*member = *text;
    };
}

template <class Target, class Int>
Reader<Target> integerIn(Int Target::*member, long long min, long long max) {
    auto what = fmt::format("an integer from {} to {}", min, max);
    return [member, min, max, what](const Field& field, Target& target) {
        auto text = field.scalar(what);
        if (!text) return;
        auto value = parseInteger(*text);
        if (!value || *value < min || *value > max)
            return field.fail(expectedGot(what, field.node()));
        target.*member = static_cast<Int>(*value);
    };
}

// Bytes in the size syntax (parseSize), within what `Int` holds.
template <class Target, class Int>
Reader<Target> size(Int Target::*member) {
    return [member](const Field& field, Target& target) {
        auto text = field.scalar(kSizeSyntax);
        if (!text) return;
        auto value = parseSize(*text);
        if (!value || *value > static_cast<std::uint64_t>(std::numeric_limits<Int>::max()))
            return field.fail(expectedGot(kSizeSyntax, field.node()));
        target.*member = static_cast<Int>(*value);
    };
}

template <class Target>
Reader<Target> durationAtLeast(std::chrono::milliseconds Target::*member,
                               std::chrono::milliseconds min) {
    return [member, min](const Field& field, Target& target) {
        auto text = field.scalar(kDurationSyntax);
        if (!text) return;
        auto value = parseDuration(*text);
        if (!value) return field.fail(expectedGot(kDurationSyntax, field.node()));
        if (*value < min)
            return field.fail(expectedGot(
                fmt::format("a duration of at least {}", formatDuration(min)), field.node()));
        target.*member = *value;
    };
}

template <class Target>
Reader<Target> boolean(bool Target::*member) {
    return parsed(member, parseBool, "true or false");
}

template <class Target>
Reader<Target> fileMode(mode_t Target::*member) {
    return parsed(member, parseFileMode, "an octal file mode such as \"0660\"");
}

// One of a fixed set of names, mapped to an enum value.
template <class Target, class Enum>
Reader<Target> oneOf(Enum Target::*member,
                     std::vector<std::pair<std::string_view, Enum>> choices) {
    std::string what = "one of";
    for (std::size_t i = 0; i < choices.size(); ++i)
        what += (i == 0 ? " " : ", ") + std::string{choices[i].first};
    return [member, choices, what](const Field& field, Target& target) {
        auto text = field.scalar(what);
        if (!text) return;
        for (const auto& [name, value] : choices) {
            if (name != *text) continue;
            target.*member = value;
            return;
        }
        field.fail(expectedGot(what, field.node()));
    };
}

// A path, made absolute against the config file's folder.
template <class Target>
Reader<Target> path(std::filesystem::path Target::*member, PathCheck check) {
    return [member, check](const Field& field, Target& target) {
        auto text = field.scalar("a path");
        if (!text) return;
        if (text->empty()) return field.fail(expectedGot("a path", field.node()));
        auto resolved = field.resolve(*text);
        if (checkPath(field, resolved, check)) target.*member = resolved;
    };
}

// `[a, b]` or a single `a`, each made absolute like path().
template <class Target>
Reader<Target> pathList(std::vector<std::filesystem::path> Target::*member, PathCheck check) {
    return [member, check](const Field& field, Target& target) {
        (target.*member).clear();
        forEachOfListOrOne(field, "a path or a list of paths", [&](const Field& element) {
            auto text = element.scalar("a path");
            if (!text) return;
            if (text->empty()) return element.fail(expectedGot("a path", element.node()));
            auto resolved = element.resolve(*text);
            if (checkPath(element, resolved, check)) (target.*member).push_back(resolved);
        });
    };
}

}  // namespace pyfpm::config
