#pragma once
// HMAC-SHA256 as a receiver computes it (from OpenSSL's primitive, not the engine's code): the
// tests' side of signed webhooks, WhatsApp's X-Hub-Signature-256 and Tezgah's notices.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <string>

namespace tezgah::testing {

/// Lower-case hex of HMAC-SHA256(key, text).
inline std::string hmac_sha256_hex(const std::string& key, const std::string& text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest, &length);
    std::string hex;
    char byte[3];
    for (unsigned int i = 0; i < length; ++i) {
        std::snprintf(byte, sizeof byte, "%02x", digest[i]);
        hex += byte;
    }
    return hex;
}

}  // namespace tezgah::testing
