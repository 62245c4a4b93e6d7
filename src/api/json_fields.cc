#include "api/json_fields.h"

namespace perimeter::api {

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string Join(const std::string& path, size_t index) {
  return path + "." + std::to_string(index);
}

Result<json::object> ParseJsonObject(std::string_view body) {
  if (body.empty()) return InvalidArgument("the request body is empty; send a JSON object");
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = 64;
  json::value v = json::parse(body, ec, {}, opt);
  if (ec) return InvalidArgument("the request body is not valid JSON: " + ec.message());
  if (!v.is_object()) return InvalidArgument("the request body must be a JSON object");
  return std::move(v.as_object());
}

Result<const json::array*> RequiredArray(const json::object& o, std::string_view key,
                                         const std::string& path) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null())
    return InvalidArgument("required field '" + Join(path, key) + "' is missing");
  if (!v->is_array()) return InvalidArgument("field '" + Join(path, key) + "' must be an array");
  return &v->as_array();
}

Result<std::string> RequiredString(const json::object& o, std::string_view key,
                                   const std::string& path) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null())
    return InvalidArgument("required field '" + Join(path, key) + "' is missing");
  if (!v->is_string()) return InvalidArgument("field '" + Join(path, key) + "' must be a string");
  return std::string(v->as_string());
}

Result<std::optional<uint32_t>> OptionalUInt(const json::object& o, std::string_view key,
                                             const std::string& path, uint32_t min, uint32_t max) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<uint32_t>();
  int64_t x;
  if (v->is_int64())
    x = v->as_int64();
  else if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX))
    x = static_cast<int64_t>(v->as_uint64());
  else
    return InvalidArgument("field '" + Join(path, key) + "' must be a whole number");
  if (x < min || x > max) {
    return InvalidArgument("field '" + Join(path, key) + "' must be between " +
                           std::to_string(min) + " and " + std::to_string(max) + ", got " +
                           std::to_string(x));
  }
  return std::optional<uint32_t>(static_cast<uint32_t>(x));
}

Result<std::optional<double>> OptionalNumber(const json::object& o, std::string_view key,
                                             const std::string& path, double min, double max) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<double>();
  if (!v->is_number()) return InvalidArgument("field '" + Join(path, key) + "' must be a number");
  double x = v->to_number<double>();
  if (!(x >= min && x <= max)) {
    return InvalidArgument("field '" + Join(path, key) + "' must be between " +
                           json::serialize(json::value(min)) + " and " +
                           json::serialize(json::value(max)));
  }
  return std::optional<double>(x);
}

Result<std::optional<bool>> OptionalBool(const json::object& o, std::string_view key,
                                         const std::string& path) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<bool>();
  if (!v->is_bool())
    return InvalidArgument("field '" + Join(path, key) + "' must be true or false");
  return std::optional<bool>(v->as_bool());
}

}  // namespace perimeter::api
