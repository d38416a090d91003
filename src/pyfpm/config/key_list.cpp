#include "src/pyfpm/config/key_list.hpp"

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string_view>

#include "src/pyfpm/config/loader.hpp"

namespace pyfpm::config {

namespace {

// The key tables live with their readers, and which reader opens which
// nested table is code, not data. So the tables are read through the
// loader's own answer to an unknown key: every key table is read by readMap,
// which reports a key it does not know with "unknown key; expected one of
// a, b, c" (schema.cpp, reportUnknownKey). A probe key that is far from
// every real key (no did-you-mean) gets the full list.
constexpr std::string_view kProbe = "x_key_list_probe_x";
constexpr std::string_view kUnknownKey = "unknown key; expected one of ";
// Deeper than any table nests; bounds the search if a reader ever accepted
// anything below itself.
constexpr std::size_t kMaxDepth = 8;

// One step of a key path: a key of a table, a name the user chooses (the
// key of a mapping of pools), or an element of a list.
struct Step {
    enum class Kind { Key, Name, Element };
    Kind kind;
    std::string key;
};

using Path = std::vector<Step>;

// The path as the loader names it in errors ("pools.NAME.app",
// "http.routes[0].prefix"), with the probe standing for names.
std::string errorPath(const Path& path) {
    std::string out;
    for (const auto& step : path) {
        switch (step.kind) {
        case Step::Kind::Key:
            out += (out.empty() ? "" : ".") + step.key;
            break;
        case Step::Kind::Name:
            out += (out.empty() ? "" : ".") + std::string{kProbe};
            break;
        case Step::Kind::Element:
            out += "[0]";
            break;
        }
    }
    return out;
}

std::string displayPath(const Path& path) {
    std::string out;
    for (const auto& step : path) {
        switch (step.kind) {
        case Step::Kind::Key:
            out += (out.empty() ? "" : ".") + step.key;
            break;
        case Step::Kind::Name:
            out += (out.empty() ? "*" : ".*");
            break;
        case Step::Kind::Element:
            out += "[]";
            break;
        }
    }
    return out;
}

// A document that puts {probe: 1} at `path`.
YAML::Node probeDocument(const Path& path) {
    YAML::Node node(YAML::NodeType::Map);
    node[std::string{kProbe}] = 1;
    for (auto step = path.rbegin(); step != path.rend(); ++step) {
        YAML::Node outer;
        switch (step->kind) {
        case Step::Kind::Key:
            outer[step->key] = node;
            break;
        case Step::Kind::Name:
            outer[std::string{kProbe}] = node;
            break;
        case Step::Kind::Element:
            outer.push_back(node);
            break;
        }
        node.reset(outer);  // rebinds; operator= would write through to the child
    }
    return node;
}

std::vector<std::string> splitList(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto comma = text.find(", ");
        out.emplace_back(text.substr(0, comma));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 2);
    }
    return out;
}

// The keys of the table the loader reads at `path`, if it reads one there.
std::optional<std::vector<std::string>> tableAt(const Path& path) {
    YAML::Emitter out;
    out << probeDocument(path);
    const auto result = loadText(out.c_str(), "key-list-probe.yaml");
    std::string probeKey = errorPath(path);
    probeKey += (probeKey.empty() ? "" : ".") + std::string{kProbe};
    for (const auto& error : result.errors) {
        if (error.key == probeKey && error.message.starts_with(kUnknownKey))
            return splitList(std::string_view{error.message}.substr(kUnknownKey.size()));
    }
    return std::nullopt;
}

void collect(const Path& table, const std::vector<std::string>& keys, std::vector<std::string>& out) {
    if (table.size() >= kMaxDepth) return;
    for (const auto& key : keys) {
        Path path = table;
        path.push_back({Step::Kind::Key, key});
        out.push_back(displayPath(path));
        // The shapes a key's value can open a table in: a mapping (http), a
        // mapping of names to mappings (pools), a list of mappings (routes).
        for (const auto kind : {std::optional<Step::Kind>{}, std::optional{Step::Kind::Name},
                                std::optional{Step::Kind::Element}}) {
            Path below = path;
            if (kind) below.push_back({*kind, {}});
            if (auto nested = tableAt(below)) {
                collect(below, *nested, out);
                break;
            }
        }
    }
}

}  // namespace

std::vector<std::string> allKeyPaths() {
    std::vector<std::string> out;
    if (auto root = tableAt({})) collect({}, *root, out);
    return out;
}

}  // namespace pyfpm::config
