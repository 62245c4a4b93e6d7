#pragma once

// The KMS front door: the AWS KMS JSON 1.1 API (POST / with X-Amz-Target:
// TrentService.<Operation>, SigV4 service "kms"), so the AWS SDKs' KMS clients work against
// Perimeter by changing the endpoint URL. Served: Encrypt, Decrypt, GenerateDataKey,
// GenerateDataKeyWithoutPlaintext, ReEncrypt, DescribeKey. The caller is the authenticated
// identity itself (a user, or a role session from STS AssumeRole); key policies decide, so a
// session of tenant A's role is refused tenant B's key.
//
// Every operation is recorded by the KMS (kms/audit.h). Errors carry AWS KMS's exception names.

#include <memory>
#include <string>
#include <utility>

#include "iam/directory.h"
#include "pipeline/filter.h"

namespace perimeter::api {

class KmsFilter final : public pipeline::Filter {
 public:
  explicit KmsFilter(std::shared_ptr<iam::Directory> directory)
      : directory_(std::move(directory)) {}
  std::string_view name() const override { return "kms"; }
  boost::asio::awaitable<pipeline::FilterStatus> OnRequest(
      pipeline::RequestContext& ctx) const override;

  // The status and JSON body to answer with (exposed for tests).
  std::pair<int, std::string> Handle(pipeline::RequestContext& ctx) const;

 private:
  std::shared_ptr<iam::Directory> directory_;
};

// The KMS caller for an authenticated IAM caller: its ARN, policies and tags.
kms::KeyCaller KeyCallerFor(const iam::Caller& caller);

}  // namespace perimeter::api
