#pragma once
// TLS for outbound HTTP: client contexts (TLS 1.2+, peer verification against the system CA bundle
// plus TEZGAH_CA_FILE), a certificate handler that rejects and remembers why, and the host name
// check. Poco's SSLManager defaults (console or accept-all handlers) are never used.

#include <Poco/Net/Context.h>
#include <Poco/Net/SecureStreamSocket.h>

#include <string>

namespace tezgah::engine::http {

/// The system CA bundle the client trusts.
inline constexpr const char* kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

/// A client context trusting the system CAs plus the PEM file `extra_ca_file` (when not empty).
/// Cached per file. Throws Failure "tls" when the extra file cannot be loaded.
Poco::Net::Context::Ptr client_tls_context(const std::string& extra_ca_file);

/// Clears / takes the reason the last certificate on this thread was rejected ("" if none).
void clear_certificate_failure();
std::string take_certificate_failure();

/// Throws Failure "tls" unless the peer's certificate is valid for `host` (DNS name or IP).
void check_certificate_host(const Poco::Net::SecureStreamSocket& socket, const std::string& host);

}  // namespace tezgah::engine::http
