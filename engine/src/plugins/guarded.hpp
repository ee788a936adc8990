#pragma once
// Every call into a plugin goes through guarded(): the SDK's rule is that nothing throws across
// the boundary, and this is the host's backstop when something does anyway. Whatever is thrown —
// a std::exception or anything else — comes back as Error{"plugin_failed", "<what> threw: ..."},
// and the caller disables that plugin for the tenant.

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/result.hpp>

#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tezgah::engine {

namespace detail {
template <class T>
struct GuardedResult {
    using type = sdk::Result<T>;
};
template <class T>
struct GuardedResult<sdk::Result<T>> {
    using type = sdk::Result<T>;
};
template <>
struct GuardedResult<sdk::Status> {
    using type = sdk::Status;
};
}  // namespace detail

/// What guarded(f) returns: f's own Result or Status, or a Result of f's plain return type.
template <class F>
using GuardedResult = typename detail::GuardedResult<std::decay_t<std::invoke_result_t<F>>>::type;

/// Runs `call` (a call into a plugin, named `what` for the message: "tool get_product_info").
template <class F>
GuardedResult<F> guarded(std::string_view what, F&& call) {
    try {
        return std::forward<F>(call)();
    } catch (const std::exception& e) {
        return sdk::Error{sdk::errc::plugin_failed, std::string(what) + " threw: " + e.what()};
    } catch (...) {
        return sdk::Error{sdk::errc::plugin_failed, std::string(what) + " threw an unknown exception"};
    }
}

}  // namespace tezgah::engine
