#pragma once
// Bytes as lower-case hex, and the SHA-256 and HMAC-SHA256 digests the engine stores or signs
// with (API keys and session tokens stored as hashes, webhook signatures, visitor tokens, ETags).

#include <cstddef>
#include <string>
#include <string_view>

namespace tezgah::engine {

/// `bytes` as lower-case hex, two digits a byte.
std::string hex(std::string_view bytes);
std::string hex(const unsigned char* bytes, std::size_t size);

/// The SHA-256 of `text`, in hex (64 digits).
std::string sha256_hex(std::string_view text);

/// The HMAC-SHA256 of `text` under `key`, in hex (64 digits).
std::string hmac_sha256_hex(std::string_view key, std::string_view text);

}  // namespace tezgah::engine
