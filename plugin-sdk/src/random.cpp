// Random ids from the kernel's generator (see random.hpp for why not a seeded engine per caller).
#include <tezgah/sdk/random.hpp>

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace tezgah::sdk {
namespace {

/// Fills `out` with `size` random bytes. getrandom() may return fewer bytes than asked (more than
/// 256 at once) or be interrupted by a signal: both are asked again.
void fill_random(unsigned char* out, std::size_t size) {
    while (size > 0) {
        const ssize_t got = ::getrandom(out, size, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "getrandom");
        }
        out += got;
        size -= static_cast<std::size_t>(got);
    }
}

}  // namespace

std::string random_hex(std::size_t bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(bytes * 2, '0');
    unsigned char buffer[64];
    for (std::size_t done = 0; done < bytes;) {
        const std::size_t n = std::min(sizeof buffer, bytes - done);
        fill_random(buffer, n);
        for (std::size_t i = 0; i < n; ++i, ++done) {
            out[done * 2] = kDigits[buffer[i] >> 4];
            out[done * 2 + 1] = kDigits[buffer[i] & 0xf];
        }
    }
    return out;
}

std::string random_chars(std::size_t length, std::string_view alphabet) {
    std::string out;
    if (alphabet.empty() || alphabet.size() > 256) return out;
    out.reserve(length);
    // Bytes from `limit` up are dropped: the rest split evenly over the alphabet, so no character
    // is likelier than another (a plain `byte % size` would favour the first 256 % size).
    const std::size_t limit = 256 - 256 % alphabet.size();
    unsigned char buffer[64];
    while (out.size() < length) {
        const std::size_t missing = length - out.size();
        // A few more than missing, so one draw is nearly always enough despite the dropped bytes.
        const std::size_t n = std::min(sizeof buffer, missing + missing / 8 + 4);
        fill_random(buffer, n);
        for (std::size_t i = 0; i < n && out.size() < length; ++i) {
            if (buffer[i] < limit) out += alphabet[buffer[i] % alphabet.size()];
        }
    }
    return out;
}

}  // namespace tezgah::sdk
