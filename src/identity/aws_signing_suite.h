#pragma once

// Test support shared by sigv4_conformance_test.cc and sigv4_verifier_test.cc: reading the
// official AWS Signature Version 4 test suite (awslabs/aws-c-auth tests/aws-signing-test-suite/v4)
// from <shared data>/aws-signing-test-suite/v4. The directory comes from the
// PERIMETER_SHARED_DATA environment variable if set, else the PERIMETER_SHARED_DATA_DIR compile
// definition. Test-only: not part of any library.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "identity/sigv4.h"

#ifndef PERIMETER_SHARED_DATA_DIR
#error "Define PERIMETER_SHARED_DATA_DIR (the shared data directory); CMake does this for you."
#endif

namespace perimeter::identity::suite {

namespace fs = std::filesystem;

inline fs::path SuiteDir() {
  const char* env = std::getenv("PERIMETER_SHARED_DATA");
  const fs::path base =
      (env != nullptr && *env != '\0') ? fs::path(env) : fs::path(PERIMETER_SHARED_DATA_DIR);
  return base / "aws-signing-test-suite" / "v4";
}

inline std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(SuiteDir(), ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory()) {
      names.push_back(it->path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

inline std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct ParsedRequest {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Parses the suite's raw HTTP/1.1 request files: "METHOD TARGET HTTP/1.1", "Name:value" lines
// (a line starting with space or tab continues the previous value, joined with one space as
// RFC 9112 section 5.2 allows for obs-fold), an empty line, then the body. The target may contain
// raw spaces ("/example space/"), so the version is split off at the last space.
inline std::optional<ParsedRequest> ParseRequest(std::string_view text) {
  ParsedRequest out;
  size_t pos = 0;
  const auto next_line = [&](std::string_view* line) {
    if (pos >= text.size()) {
      return false;
    }
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    *line = text.substr(pos, end - pos);
    if (!line->empty() && line->back() == '\r') {
      line->remove_suffix(1);
    }
    pos = std::min(text.size(), end + 1);
    return true;
  };

  std::string_view line;
  if (!next_line(&line)) {
    return std::nullopt;
  }
  const size_t first_space = line.find(' ');
  const size_t last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || last_space <= first_space) {
    return std::nullopt;
  }
  out.method = std::string(line.substr(0, first_space));
  const std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
  const size_t question = target.find('?');
  out.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) {
    out.query = std::string(target.substr(question + 1));
  }

  while (next_line(&line) && !line.empty()) {
    if (line.front() == ' ' || line.front() == '\t') {
      if (out.headers.empty()) {
        return std::nullopt;
      }
      out.headers.back().second.append(" ").append(TrimWhitespace(line));
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    out.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(line.substr(colon + 1)));
  }
  out.body = std::string(text.substr(pos));
  return out;
}

struct SuiteContext {
  std::string access_key_id;
  std::string secret_access_key;
  std::string token;
  std::string region;
  std::string service;
  std::chrono::system_clock::time_point time;
  bool normalize = true;
  bool sign_body = false;
  bool omit_session_token = false;
};

inline std::optional<SuiteContext> ParseContext(const std::string& json_text, std::string* error) {
  boost::system::error_code ec;
  const boost::json::value root = boost::json::parse(json_text, ec);
  if (ec || !root.is_object()) {
    *error = "context.json is not a JSON object";
    return std::nullopt;
  }
  const boost::json::object& obj = root.as_object();
  const auto get_string = [](const boost::json::object& o, const char* key) -> std::string {
    const boost::json::value* v = o.if_contains(key);
    return (v != nullptr && v->is_string()) ? std::string(v->as_string()) : std::string();
  };
  const auto get_bool = [&](const char* key, bool fallback) {
    const boost::json::value* v = obj.if_contains(key);
    return (v != nullptr && v->is_bool()) ? v->as_bool() : fallback;
  };
  const boost::json::value* creds = obj.if_contains("credentials");
  if (creds == nullptr || !creds->is_object()) {
    *error = "context.json has no credentials object";
    return std::nullopt;
  }
  SuiteContext ctx;
  ctx.access_key_id = get_string(creds->as_object(), "access_key_id");
  ctx.secret_access_key = get_string(creds->as_object(), "secret_access_key");
  ctx.token = get_string(creds->as_object(), "token");
  ctx.region = get_string(obj, "region");
  ctx.service = get_string(obj, "service");
  ctx.normalize = get_bool("normalize", true);
  ctx.sign_body = get_bool("sign_body", false);
  ctx.omit_session_token = get_bool("omit_session_token", false);
  // "2015-08-30T12:36:00Z" -> "20150830T123600Z"
  std::string amz = get_string(obj, "timestamp");
  amz.erase(std::remove_if(amz.begin(), amz.end(), [](char c) { return c == '-' || c == ':'; }),
            amz.end());
  Result<std::chrono::system_clock::time_point> time = ParseAmzDate(amz);
  if (!time.ok()) {
    *error = "context.json timestamp: " + time.status().ToString();
    return std::nullopt;
  }
  ctx.time = *time;
  return ctx;
}

inline std::string CaseTestName(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      c = '_';
    }
  }
  return name;
}

}  // namespace perimeter::identity::suite
