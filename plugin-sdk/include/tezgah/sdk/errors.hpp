#pragma once
/// @file errors.hpp
/// The error codes the host acts on (Error::code). Plugins may return other codes too: the host
/// logs them and treats them as a failure of that call.

namespace tezgah::sdk::errc {

// --- a request the host refuses; error_status() maps them to HTTP statuses ---
inline constexpr const char* invalid_json = "invalid_json";                      ///< 400
inline constexpr const char* bad_request = "bad_request";                        ///< 400
inline constexpr const char* missing_field = "missing_field";                    ///< 400
inline constexpr const char* invalid_field = "invalid_field";                    ///< 400: wrong type
inline constexpr const char* unauthorized = "unauthorized";                      ///< 401
inline constexpr const char* forbidden = "forbidden";                            ///< 403
inline constexpr const char* not_found = "not_found";                            ///< 404
inline constexpr const char* unknown_tenant = "unknown_tenant";                  ///< 404
inline constexpr const char* method_not_allowed = "method_not_allowed";          ///< 405
inline constexpr const char* duplicate = "duplicate";                            ///< 409: the id was used
inline constexpr const char* duplicate_in_flight = "duplicate_in_flight";        ///< 409: being answered
inline constexpr const char* payload_too_large = "payload_too_large";            ///< 413
inline constexpr const char* unsupported_media_type = "unsupported_media_type";  ///< 415
inline constexpr const char* invalid_value = "invalid_value";                    ///< 422
inline constexpr const char* rate_limited = "rate_limited";                      ///< 429
inline constexpr const char* overloaded = "overloaded";                          ///< 503
inline constexpr const char* internal = "internal";                              ///< 500

// --- what the engine does something about ---
/// A plugin threw: the host disables that plugin for the tenant.
inline constexpr const char* plugin_failed = "plugin_failed";
/// A tenant's folder failed validation or loading; the tenant is not served.
inline constexpr const char* invalid_tenant = "invalid_tenant";
/// A plugin's config does not fit the keys it declares.
inline constexpr const char* invalid_config = "invalid_config";

// --- what a provider's or a channel's outbound call ended with ---
inline constexpr const char* timeout = "timeout";
inline constexpr const char* cancelled = "cancelled";                  ///< the customer left
inline constexpr const char* deadline_exceeded = "deadline_exceeded";  ///< no time left for the call
inline constexpr const char* unavailable = "unavailable";
inline constexpr const char* circuit_open = "circuit_open";

}  // namespace tezgah::sdk::errc
