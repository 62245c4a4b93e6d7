#include "common/json_strict.h"

#include <boost/json/basic_parser_impl.hpp>
#include <set>
#include <string>
#include <vector>

namespace perimeter {
namespace {

namespace json = boost::json;
using json::error_code;

// A basic_parser handler that builds nothing: it only tracks the keys of each open object.
struct DuplicateKeyHandler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string path;  // e.g. Statement[1]
    size_t index = 0;  // next array index
  };
  std::vector<Frame> stack;
  std::string key;          // key being read
  std::string pending_key;  // the key whose value comes next
  std::string duplicate;    // set when found: "<path>: key"

  std::string ChildPath() {
    if (stack.empty()) return "";
    Frame& f = stack.back();
    if (f.object) return f.path.empty() ? pending_key : f.path + "." + pending_key;
    return f.path + "[" + std::to_string(f.index++) + "]";
  }
  void Value() {
    if (!stack.empty() && !stack.back().object) ++stack.back().index;
  }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) {
    std::string p = ChildPath();
    stack.push_back({true, {}, std::move(p)});
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    stack.pop_back();
    return true;
  }
  bool on_array_begin(error_code&) {
    std::string p = ChildPath();
    stack.push_back({false, {}, std::move(p)});
    return true;
  }
  bool on_array_end(std::size_t, error_code&) {
    stack.pop_back();
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code& ec) {
    key.append(s.data(), s.size());
    Frame& f = stack.back();
    if (!f.keys.insert(key).second) {
      duplicate = (f.path.empty() ? "" : f.path + ": ") + "key '" + key.substr(0, 128) + "'";
      ec = make_error_code(std::errc::invalid_argument);
      return false;
    }
    pending_key = std::move(key);
    key.clear();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, error_code&) {
    Value();
    return true;
  }
  bool on_number_part(json::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, error_code&) {
    Value();
    return true;
  }
  bool on_uint64(std::uint64_t, json::string_view, error_code&) {
    Value();
    return true;
  }
  bool on_double(double, json::string_view, error_code&) {
    Value();
    return true;
  }
  bool on_bool(bool, error_code&) {
    Value();
    return true;
  }
  bool on_null(error_code&) {
    Value();
    return true;
  }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }
};

}  // namespace

Status CheckNoDuplicateJsonKeys(std::string_view text) {
  json::parse_options opt;
  opt.max_depth = 64;
  json::basic_parser<DuplicateKeyHandler> p(opt);
  error_code ec;
  p.write_some(false, text.data(), text.size(), ec);
  if (!p.handler().duplicate.empty()) {
    return InvalidArgument("duplicate " + p.handler().duplicate +
                           "; each key may appear once per object (a repeated key would "
                           "silently override the first)");
  }
  if (ec) return InvalidArgument("not valid JSON: " + ec.message());
  return Status::Ok();
}

}  // namespace perimeter
