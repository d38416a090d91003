#include "src/pyfpm/config/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "src/pyfpm/config/suggest.hpp"

namespace pyfpm::config {

Location locationOf(const YAML::Mark& mark) {
    if (mark.is_null()) return {};
    return {mark.line + 1, mark.column + 1};
}

Context::Context(std::filesystem::path file)
    : file_(std::move(file)),
      base_dir_(std::filesystem::absolute(file_).lexically_normal().parent_path()) {}

void Context::error(Location at, std::string key, std::string message) {
    errors_.push_back({file_, at.line, at.column, std::move(key), std::move(message)});
}

std::vector<ConfigError> Context::takeErrors() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
        return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    return std::exchange(errors_, {});
}

void Context::accept(const std::string& key, Location at) { accepted_[key] = at; }

std::optional<Location> Context::accepted(const std::string& key) const {
    auto found = accepted_.find(key);
    if (found == accepted_.end()) return std::nullopt;
    return found->second;
}

void Context::write(const std::string& key, Location at) { written_.emplace(key, at); }

std::optional<Location> Context::written(const std::string& key) const {
    auto found = written_.find(key);
    if (found == written_.end()) return std::nullopt;
    return found->second;
}

Field::Field(Context& context, YAML::Node node, std::string path, Location at)
    : context_(&context), node_(std::move(node)), path_(std::move(path)), at_(at) {}

void Field::fail(std::string message) const { context_->error(at_, path_, std::move(message)); }

std::optional<std::string> Field::scalar(std::string_view what) const {
    if (node_.IsScalar()) return node_.Scalar();
    fail(expectedGot(what, node_));
    return std::nullopt;
}

std::filesystem::path Field::resolve(const std::filesystem::path& path) const {
    return (context_->baseDir() / path).lexically_normal();
}

Field Field::child(std::string_view key, YAML::Node node, Location at) const {
    auto path = path_.empty() ? std::string{key} : fmt::format("{}.{}", path_, key);
    return Field{*context_, std::move(node), std::move(path), at};
}

Field Field::element(std::size_t index, YAML::Node node) const {
    auto at = locationOf(node.Mark());
    if (at.line == 0) at = at_;
    return Field{*context_, std::move(node), fmt::format("{}[{}]", path_, index), at};
}

std::string describe(const YAML::Node& node) {
    switch (node.Type()) {
    case YAML::NodeType::Scalar: return fmt::format("\"{}\"", node.Scalar());
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return "nothing";
    }
    return "nothing";
}

std::string expectedGot(std::string_view what, const YAML::Node& node) {
    return fmt::format("expected {}, got {}", what, describe(node));
}

void readAccepting(const Field& field, const std::function<void()>& read) {
    auto before = field.context().errorCount();
    read();
    if (field.context().errorCount() == before) field.context().accept(field.path(), field.at());
}

bool forEachEntry(const Field& map, std::string_view what,
                  const std::function<void(const Field& value, const std::string& name)>& visit) {
    if (!map.node().IsMap()) {
        map.fail(expectedGot(what, map.node()));
        return false;
    }
    std::map<std::string, Location> first;
    for (auto entry = map.node().begin(); entry != map.node().end(); ++entry) {
        auto at = locationOf(entry->first.Mark());
        if (!entry->first.IsScalar()) {
            map.context().error(at, map.path(), fmt::format("expected a plain name as key, got {}",
                                                            describe(entry->first)));
            continue;
        }
        const auto& name = entry->first.Scalar();
        auto value = map.child(name, entry->second, at);
        auto [previous, inserted] = first.emplace(name, at);
        if (!inserted) {
            value.fail(fmt::format("duplicate key; the first is at line {}, column {}",
                                   previous->second.line, previous->second.column));
            continue;
        }
        map.context().write(value.path(), at);
        visit(value, name);
    }
    return true;
}

bool forEachElement(const Field& list, std::string_view what,
                    const std::function<void(const Field& element)>& visit) {
    if (!list.node().IsSequence()) {
        list.fail(expectedGot(what, list.node()));
        return false;
    }
    std::size_t index = 0;
    for (const auto& node : list.node()) {
        auto element = list.element(index++, node);
        readAccepting(element, [&] { visit(element); });
    }
    return true;
}

void forEachOfListOrOne(const Field& field, std::string_view what,
                        const std::function<void(const Field& element)>& visit) {
    if (field.node().IsSequence()) forEachElement(field, what, visit);
    else if (field.node().IsScalar()) visit(field);
    else field.fail(expectedGot(what, field.node()));
}

void reportUnknownKey(const Field& value, std::string_view name,
                      std::span<const std::string_view> known) {
    if (auto suggestion = closestMatch(name, known)) {
        value.fail(fmt::format("unknown key; did you mean {}?", *suggestion));
        return;
    }
    value.fail(fmt::format("unknown key; expected one of {}", fmt::join(known, ", ")));
}

}  // namespace pyfpm::config
