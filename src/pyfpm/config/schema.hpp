// The machinery under the key tables (keys.cpp): walking yaml-cpp nodes with
// a key path and a position, reporting unknown, duplicate and missing keys,
// and collecting every error instead of stopping at the first. Internal to
// the loader; single-threaded, one Context per load.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/pyfpm/config/error.hpp"

namespace pyfpm::config {

// A 1-based position in the file; {0, 0} when unknown.
struct Location {
    int line = 0;
    int column = 0;
};

// yaml-cpp 0.7 marks are 0-based and a missing node's mark is null ({0, 0}).
Location locationOf(const YAML::Mark& mark);

// What one load collects: the errors, and the position of every key whose
// value was read without error, so that the cross-key pass (checks.hpp) can
// point at it and skip values that were already rejected.
class Context {
public:
    // `file` as the user named it; relative paths in the file resolve against
    // its folder.
    explicit Context(std::filesystem::path file);

    const std::filesystem::path& file() const { return file_; }
    const std::filesystem::path& baseDir() const { return base_dir_; }

    void error(Location at, std::string key, std::string message);
    std::size_t errorCount() const { return errors_.size(); }
    // Ordered by position (errors without one first), otherwise as reported.
    std::vector<ConfigError> takeErrors();

    void accept(const std::string& key, Location at);
    // Where `key` is, if its value was read without error.
    std::optional<Location> accepted(const std::string& key) const;

    // Every mapping key met in the file, valid or not, so that the cross-key
    // pass can tell a default (not written) from a rejected value.
    void write(const std::string& key, Location at);
    // Where `key` is, if the file has it.
    std::optional<Location> written(const std::string& key) const;

private:
    std::filesystem::path file_;
    std::filesystem::path base_dir_;
    std::vector<ConfigError> errors_;
    std::map<std::string, Location> accepted_;
    std::map<std::string, Location> written_;
};

// One value being read: its node, the key path that names it and the position
// errors about it point to. For a mapping's value that is the key's position:
// yaml-cpp gives an empty value the position of whatever follows it.
class Field {
public:
    Field(Context& context, YAML::Node node, std::string path, Location at);

    Context& context() const { return *context_; }
    const YAML::Node& node() const { return node_; }
    const std::string& path() const { return path_; }
    Location at() const { return at_; }

    void fail(std::string message) const;
    // The scalar's text; otherwise fails with "expected <what>, got ..." and
    // returns nullopt.
    std::optional<std::string> scalar(std::string_view what) const;
    // Relative to the config file's folder, lexically normalised.
    std::filesystem::path resolve(const std::filesystem::path& path) const;

    Field child(std::string_view key, YAML::Node node, Location at) const;
    Field element(std::size_t index, YAML::Node node) const;

private:
    Context* context_;
    YAML::Node node_;
    std::string path_;
    Location at_;
};

// `"text"`, `a list`, `a mapping`, `nothing`: the tail of "expected X, got Y".
std::string describe(const YAML::Node& node);
std::string expectedGot(std::string_view what, const YAML::Node& node);

// Runs `read`; if it reported no error, records the field as accepted.
void readAccepting(const Field& field, const std::function<void()>& read);

// Visits each entry of a mapping with its key's name. Reports a non-mapping
// ("expected <what>"), non-scalar keys, and duplicate keys (yaml-cpp keeps
// both silently; the second is reported and not visited). Returns false if
// the node is not a mapping.
bool forEachEntry(const Field& map, std::string_view what,
                  const std::function<void(const Field& value, const std::string& name)>& visit);

// Visits each element of a sequence as `path[i]`, recording accepted ones.
// Returns false (and reports "expected <what>") if the node is not one.
bool forEachElement(const Field& list, std::string_view what,
                    const std::function<void(const Field& element)>& visit);

// A list, or a single scalar standing for a list of one (`python_path: .`);
// anything else fails with "expected <what>".
void forEachOfListOrOne(const Field& field, std::string_view what,
                        const std::function<void(const Field& element)>& visit);

// "unknown key; did you mean max_children?", or the list of known keys.
void reportUnknownKey(const Field& value, std::string_view name,
                      std::span<const std::string_view> known);

enum class Presence { Optional, Required };

template <class Target>
using Reader = std::function<void(const Field& field, Target& target)>;

// One row of a key table: adding a key to the file format is adding a row.
template <class Target>
struct Key {
    std::string_view name;
    Presence presence;
    Reader<Target> read;
};

// Reads a mapping through its key table: each known key's reader runs on its
// value; unknown keys get a did-you-mean; required keys that are absent are
// reported at the mapping's position.
template <class Target>
void readMap(const Field& map, std::span<const Key<Target>> keys, Target& target) {
    std::vector<std::string_view> names;
    for (const auto& key : keys) names.push_back(key.name);
    std::string what = "a mapping with keys";
    for (std::size_t i = 0; i < names.size(); ++i)
        what += (i == 0 ? " " : ", ") + std::string{names[i]};

    std::vector<bool> seen(keys.size(), false);
    bool isMap = forEachEntry(map, what, [&](const Field& value, const std::string& name) {
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (keys[i].name != name) continue;
            seen[i] = true;
            readAccepting(value, [&] { keys[i].read(value, target); });
            return;
        }
        reportUnknownKey(value, name, names);
    });
    if (!isMap) return;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (seen[i] || keys[i].presence == Presence::Optional) continue;
        map.child(keys[i].name, YAML::Node{}, map.at()).fail("required key is missing");
    }
}

}  // namespace pyfpm::config
