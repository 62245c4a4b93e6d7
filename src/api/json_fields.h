#pragma once

// Strict readers for request JSON: each failure names the field path the way AWS and OpenAI
// validation messages do ("messages.0.content.1.text"), and says what was expected.

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "common/status.h"

namespace perimeter::api {

namespace json = boost::json;

// Parses a request body that must be one JSON object. Bounded by the listener's body limit.
Result<json::object> ParseJsonObject(std::string_view body);

Result<const json::array*> RequiredArray(const json::object& o, std::string_view key,
                                         const std::string& path);
Result<std::string> RequiredString(const json::object& o, std::string_view key,
                                   const std::string& path);
// Absent (or null) -> nullopt; present but wrong type or out of range -> error.
Result<std::optional<uint32_t>> OptionalUInt(const json::object& o, std::string_view key,
                                             const std::string& path, uint32_t min, uint32_t max);
Result<std::optional<double>> OptionalNumber(const json::object& o, std::string_view key,
                                             const std::string& path, double min, double max);
Result<std::optional<bool>> OptionalBool(const json::object& o, std::string_view key,
                                         const std::string& path);
std::string Join(const std::string& path, std::string_view key);
std::string Join(const std::string& path, size_t index);

}  // namespace perimeter::api
