#pragma once
/// @file result.hpp
/// The result type that crosses the plugin boundary instead of exceptions.

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tezgah::sdk {

/// A failure: a stable snake_case code and a message for people.
struct Error {
    std::string code;     ///< e.g. "invalid_argument", "not_found", "timeout"
    std::string message;  ///< names the thing that failed
};

/// Either a value or an Error. Never throws on construction; value() on an error is a bug.
template <class T>
class Result {
public:
    Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }

    const Error& error() const { return std::get<1>(state_); }

private:
    std::variant<T, Error> state_;
};

/// Result of an operation that yields nothing.
class Status {
public:
    Status() = default;
    Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    static Status success() { return {}; }

    [[nodiscard]] bool ok() const noexcept { return !error_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    const Error& error() const { return *error_; }

private:
    std::optional<Error> error_;
};

inline Error make_error(std::string code, std::string message) {
    return Error{std::move(code), std::move(message)};
}

}  // namespace tezgah::sdk
