#include "src/pyfpm/control/protocol.hpp"

#include <fmt/format.h>

namespace pyfpm::control {

namespace {

using nlohmann::json;

// The loader's bound for max_children (pyfpm.yaml(5)).
constexpr long long kMaxWorkers = 10000;

std::optional<std::string> optionalString(const json& object, const char* key, std::string& error)
{
    const auto found = object.find(key);
    if (found == object.end()) {
        return std::nullopt;
    }
    if (!found->is_string() || found->get_ref<const std::string&>().empty()) {
        error = fmt::format("\"{}\" must be a non-empty string", key);
        return std::nullopt;
    }
    return found->get<std::string>();
}

}  // namespace

std::string_view toString(ErrorCode code)
{
    switch (code) {
    case ErrorCode::BadRequest:
        return "bad_request";
    case ErrorCode::UnknownPool:
        return "unknown_pool";
    case ErrorCode::Failed:
        return "failed";
    }
    return "failed";
}

std::optional<ErrorCode> errorCodeFromString(std::string_view text)
{
    for (const ErrorCode code : {ErrorCode::BadRequest, ErrorCode::UnknownPool, ErrorCode::Failed}) {
        if (toString(code) == text) {
            return code;
        }
    }
    return std::nullopt;
}

json Request::toJson() const
{
    json request{{"command", infoOf(command).name}};
    if (!pool.empty()) {
        request["pool"] = pool;
    }
    if (command == Command::Scale) {
        request["workers"] = workers;
    }
    if (timeout) {
        request["timeout_ms"] = timeout->count();
    }
    if (!file.empty()) {
        request["file"] = file.string();
    }
    return request;
}

std::variant<Request, std::string> parseRequest(std::string_view line)
{
    const json object = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded() || !object.is_object()) {
        return std::string("expected one JSON object per line");
    }
    const auto name = object.find("command");
    if (name == object.end() || !name->is_string()) {
        return std::string("expected \"command\": a string");
    }
    const CommandInfo* info = findCommand(name->get_ref<const std::string&>());
    if (info == nullptr) {
        return fmt::format("unknown command \"{}\"", name->get_ref<const std::string&>());
    }
    Request request;
    request.command = info->command;
    std::string error;
    if (auto pool = optionalString(object, "pool", error)) {
        request.pool = std::move(*pool);
    }
    if (auto file = optionalString(object, "file", error)) {
        request.file = std::move(*file);
    }
    if (!error.empty()) {
        return fmt::format("{}: {}", info->name, error);
    }
    const bool needsPool = info->command == Command::Scale || info->command == Command::Restart;
    if (needsPool && request.pool.empty()) {
        return fmt::format("{}: \"pool\" is required", info->name);
    }
    if (info->command == Command::Scale) {
        const auto workers = object.find("workers");
        if (workers == object.end() || !workers->is_number_integer() || workers->get<long long>() < 1 ||
            workers->get<long long>() > kMaxWorkers) {
            return fmt::format("scale: \"workers\" must be an integer from 1 to {}", kMaxWorkers);
        }
        request.workers = workers->get<int>();
    }
    if (const auto timeout = object.find("timeout_ms"); timeout != object.end()) {
        if (!timeout->is_number_integer() || timeout->get<long long>() < 0) {
            return fmt::format("{}: \"timeout_ms\" must be a whole number of milliseconds", info->name);
        }
        request.timeout = std::chrono::milliseconds(timeout->get<long long>());
    }
    if (info->command == Command::CheckConfig && request.file.empty()) {
        return std::string("check-config: \"file\" is required");
    }
    return request;
}

json success(json fields)
{
    fields["ok"] = true;
    return fields;
}

json failure(ErrorCode code, const std::string& message, const std::vector<std::string>& errors)
{
    json answer{{"ok", false}, {"error", toString(code)}, {"message", message}};
    if (!errors.empty()) {
        answer["errors"] = errors;
    }
    return answer;
}

}  // namespace pyfpm::control
