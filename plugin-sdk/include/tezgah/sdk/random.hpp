#pragma once
/// @file random.hpp
/// Random ids — session, request, message and tool-call ids — for the engine and every plugin,
/// all drawn from one generator: the kernel's (getrandom(2), what /dev/urandom serves).
///
/// Why not a `thread_local std::mt19937_64` per caller: ids reach clients (session and request
/// ids), and a Mersenne Twister's next outputs follow from the ones seen; seeded from one 32-bit
/// `std::random_device` value, two threads or processes can also draw the same sequence. The
/// kernel's generator has neither problem, needs no seeding, and stays distinct across fork().
/// An id costs one system call.
///
/// Both functions are thread-safe. They throw std::system_error only if the kernel refuses
/// getrandom(2), which Linux 3.17 and later do not.

#include <cstddef>
#include <string>
#include <string_view>

namespace tezgah::sdk {

/// `bytes` random bytes as 2 × `bytes` lowercase hex digits: random_hex(8) → "9f1c04e2b7a35d60".
std::string random_hex(std::size_t bytes);

/// `length` characters, each drawn uniformly from `alphabet` (bytes, not UTF-8 code points): for ids
/// in a vendor's format, such as 24 letters and digits after OpenAI's "call_". `alphabet` must hold
/// 1 to 256 characters; outside that the answer is empty.
std::string random_chars(std::size_t length, std::string_view alphabet);

}  // namespace tezgah::sdk
