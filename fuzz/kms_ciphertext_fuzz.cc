// Fuzz target for kms::ParseCiphertext and Kms::Decrypt: the bytes of a ciphertext come from
// whoever stored or sent them, so neither may crash on them, and Decrypt must never accept a blob
// that Kms::Encrypt did not produce.
//
// The target runs a real Kms (MemoryKeyStore, LocalKeyBackend, MemoryKeyAuditSink) twice, with the
// data-key cache on and off, with one key (alias "alias/fuzz") and one ciphertext `valid` of a
// known plaintext that Encrypt produced under it. A ciphertext from another process names a key
// this one does not have, so besides decrypting the input as it is, the target builds blobs from
// it that reach the cryptography under the real key: its wrapped data key and payload under the
// real key's header, the real header and wrapped data key with its payload, and `valid` with the
// input XORed over it.
//
// Invariants checked:
//  1. ParseCiphertext never reads outside the input: every view lies within it, the key id and
//     wrapped data key lengths are within bounds, the header is EncodeCiphertextHeader of the key
//     id and version, and AssembleCiphertext of the parts gives back the input exactly.
//  2. Decrypt succeeds only on `valid` (byte for byte) with the context it was encrypted with, and
//     then returns the plaintext, key id and version; on every other blob or context it fails,
//     with InvalidArgument when the blob does not parse, and never with Internal or Unavailable.
//  3. Every Decrypt call, allowed or not, is recorded exactly once on the audit sink, successes
//     as "Success" and failures with a message, and no event carries the plaintext.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/secret.h"
#include "fuzz_support.h"
#include "kms/audit.h"
#include "kms/backend.h"
#include "kms/ciphertext.h"
#include "kms/kms.h"
#include "kms/store.h"

namespace {

using perimeter::StatusCode;
namespace kms = perimeter::kms;

constexpr std::string_view kPlaintext = "perimeter kms fuzz plaintext";
constexpr std::string_view kAlias = "alias/fuzz";

const kms::EncryptionContext& FuzzContext() {
  static const kms::EncryptionContext context = {{"tenant", "fuzz"}, {"purpose", "ciphertext"}};
  return context;
}

// The clock never moves, so cache expiry cannot make a run depend on wall time.
const perimeter::ManualClock& FixedClock() {
  static const perimeter::ManualClock clock{std::chrono::system_clock::time_point{} +
                                            std::chrono::hours(24 * 365 * 56)};
  return clock;
}

// The Kms records on this sink, which forwards to a fresh MemoryKeyAuditSink per input: each
// input's events are checked and then freed, so the process keeps no memory from one input to
// the next (with a sink that grows, every input allocates more than it frees, and libFuzzer then
// runs a full leak check after each one: tens of executions per second instead of thousands).
class PerInputAuditSink final : public kms::KeyAuditSink {
 public:
  perimeter::Status Record(const kms::KeyUseEvent& event) override {
    return current_->Record(event);
  }
  void Reset() { current_ = std::make_unique<kms::MemoryKeyAuditSink>(); }
  const kms::MemoryKeyAuditSink& current() const { return *current_; }

 private:
  std::unique_ptr<kms::MemoryKeyAuditSink> current_ = std::make_unique<kms::MemoryKeyAuditSink>();
};

// Built once per process.
struct Fixture {
  Fixture() {
    // A fixed root key: the key's material is random all the same (GenerateMaterial).
    auto backend =
        kms::LocalKeyBackend::Create(perimeter::crypto::SecretBytes(std::string(32, 'R')));
    PERIMETER_FUZZ_CHECK(backend.ok());
    std::shared_ptr<kms::KeyBackend> local = std::move(*backend);
    auto store = std::make_shared<kms::MemoryKeyStore>();
    audit = std::make_shared<PerInputAuditSink>();
    for (const bool cache : {true, false}) {
      kms::KmsOptions options;
      options.data_key_cache.enabled = cache;
      services.push_back(
          std::make_unique<kms::Kms>(store, std::vector<std::shared_ptr<kms::KeyBackend>>{local},
                                     "local", audit, FixedClock(), options));
    }
    kms::Kms& first = *services.front();
    caller = first.Administrator();
    kms::CreateKeyRequest request;
    request.alias = std::string(kAlias);
    auto key = first.CreateKey(caller, request);
    PERIMETER_FUZZ_CHECK(key.ok());
    key_id = key->key_id;
    auto sealed = first.Encrypt(caller, key_id, kPlaintext, FuzzContext());
    PERIMETER_FUZZ_CHECK(sealed.ok());
    valid = std::move(*sealed);
    auto parsed = kms::ParseCiphertext(valid);
    PERIMETER_FUZZ_CHECK(parsed.ok());
    PERIMETER_FUZZ_CHECK(parsed->key_version == 1);
    valid_header = std::string(parsed->header);
    valid_wrapped = std::string(parsed->wrapped_data_key);
    audit->Reset();  // forget CreateKey and Encrypt
  }

  // After each input: invariant 3, then the input's events are freed.
  void FinishInput() {
    CheckAudit();
    audit->Reset();
    decrypts = 0;
    successes = 0;
  }

  // Invariant 3 over the events of the current input.
  void CheckAudit() const {
    size_t decrypt_events = 0;
    size_t success_events = 0;
    for (const auto& event : audit->current().events()) {
      PERIMETER_FUZZ_CHECK(event.message.find(kPlaintext) == std::string::npos);
      PERIMETER_FUZZ_CHECK(event.operation == "Decrypt");
      ++decrypt_events;
      success_events += event.outcome == "Success" ? 1 : 0;
      PERIMETER_FUZZ_CHECK((event.outcome == "Success") == event.message.empty());
    }
    PERIMETER_FUZZ_CHECK(decrypt_events == decrypts);
    PERIMETER_FUZZ_CHECK(success_events == successes);
  }

  std::shared_ptr<PerInputAuditSink> audit;
  std::vector<std::unique_ptr<kms::Kms>> services;  // data-key cache on, then off
  kms::KeyCaller caller;
  std::string key_id;
  std::string valid;  // the only blob Encrypt produced
  std::string valid_header;
  std::string valid_wrapped;
  size_t decrypts = 0;   // in the current input
  size_t successes = 0;  // in the current input
};

Fixture& GetFixture() {
  static Fixture* const fixture = new Fixture();  // never destroyed: no exit-order questions
  return *fixture;
}

// Invariant 1.
void CheckParse(std::string_view blob) {
  auto parsed = kms::ParseCiphertext(blob);
  if (!parsed.ok()) {
    PERIMETER_FUZZ_CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    PERIMETER_FUZZ_CHECK(!parsed.status().message().empty());
    return;
  }
  const auto within = [&](std::string_view part) {
    return part.data() >= blob.data() && part.size() <= blob.size() &&
           static_cast<size_t>(part.data() - blob.data()) <= blob.size() - part.size();
  };
  PERIMETER_FUZZ_CHECK(within(parsed->key_id) && within(parsed->header) &&
                       within(parsed->wrapped_data_key) && within(parsed->payload));
  PERIMETER_FUZZ_CHECK(blob.substr(0, kms::kCiphertextMagic.size()) == kms::kCiphertextMagic);
  PERIMETER_FUZZ_CHECK(!parsed->key_id.empty() &&
                       parsed->key_id.size() <= kms::kMaxCiphertextKeyIdBytes);
  PERIMETER_FUZZ_CHECK(parsed->key_version != 0);
  PERIMETER_FUZZ_CHECK(parsed->header.data() == blob.data());
  PERIMETER_FUZZ_CHECK(parsed->header ==
                       kms::EncodeCiphertextHeader(parsed->key_id, parsed->key_version));
  PERIMETER_FUZZ_CHECK(parsed->wrapped_data_key.size() >= kms::kMinWrappedDataKeyBytes &&
                       parsed->wrapped_data_key.size() <= kms::kMaxWrappedDataKeyBytes);
  PERIMETER_FUZZ_CHECK(parsed->payload.size() >= kms::kMinPayloadBytes);
  PERIMETER_FUZZ_CHECK(
      kms::AssembleCiphertext(parsed->header, parsed->wrapped_data_key, parsed->payload) == blob);
}

// Invariant 2 for one blob and context, on every Kms of the fixture.
void CheckDecrypt(Fixture& f, std::string_view blob, const kms::EncryptionContext& context) {
  const bool expect_success = blob == f.valid && context == FuzzContext();
  const bool parses = kms::ParseCiphertext(blob).ok();
  for (const auto& service : f.services) {
    auto decrypted = service->Decrypt(f.caller, blob, context);
    ++f.decrypts;
    if (decrypted.ok()) {
      PERIMETER_FUZZ_CHECK(expect_success);
      PERIMETER_FUZZ_CHECK(decrypted->plaintext.RevealSecretForUse() == kPlaintext);
      PERIMETER_FUZZ_CHECK(decrypted->key_id == f.key_id && decrypted->key_version == 1);
      ++f.successes;
      continue;
    }
    PERIMETER_FUZZ_CHECK(!expect_success);
    const StatusCode code = decrypted.status().code();
    PERIMETER_FUZZ_CHECK(code != StatusCode::kInternal && code != StatusCode::kUnavailable);
    PERIMETER_FUZZ_CHECK(parses || code == StatusCode::kInvalidArgument);
    PERIMETER_FUZZ_CHECK(decrypted.status().message().find(kPlaintext) == std::string::npos);
  }
}

// An encryption context from the input's lines "key=value" (at most 4), so the fuzzer can
// also try contexts other than the one `valid` was encrypted with.
kms::EncryptionContext ContextFromInput(std::string_view input) {
  kms::EncryptionContext context;
  for (int i = 0; i < 4 && !input.empty(); ++i) {
    const size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    context[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Fixture& f = GetFixture();

  CheckParse(input);
  CheckDecrypt(f, input, FuzzContext());

  // The input's parts under the real key's header (key id and version 1).
  if (auto parsed = kms::ParseCiphertext(input); parsed.ok()) {
    const std::string moved =
        kms::AssembleCiphertext(f.valid_header, parsed->wrapped_data_key, parsed->payload);
    CheckParse(moved);
    CheckDecrypt(f, moved, FuzzContext());
  }

  // The real header and wrapped data key with the input as the payload: reaches the payload's
  // authentication with the real data key (from the cache, on the first Kms).
  const std::string payload_swapped =
      kms::AssembleCiphertext(f.valid_header, f.valid_wrapped, input);
  CheckDecrypt(f, payload_swapped, FuzzContext());

  // `valid` with the input XORed over its start and any excess appended: an input of zeros no
  // longer than `valid` leaves it intact (and must decrypt), anything else alters it.
  std::string patched = f.valid;
  for (size_t i = 0; i < input.size(); ++i) {
    if (i < patched.size()) {
      patched[i] = static_cast<char>(patched[i] ^ input[i]);
    } else {
      patched.push_back(input[i]);
    }
  }
  CheckParse(patched);
  CheckDecrypt(f, patched, FuzzContext());

  // `valid` under a context from the input: only the original context opens it.
  CheckDecrypt(f, f.valid, ContextFromInput(input));

  f.FinishInput();
  return 0;
}
