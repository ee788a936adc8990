#pragma once
// The console (docs/console.md): the web app a business runs its assistant from, served at
// /console/ from files embedded in the binary (engine/console/, embedded by
// engine/cmake/console_files.cmake), or from a folder given to `tezgah serve --console-dir`.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tezgah::engine::http {

class Exchange;

/// One embedded file: its path under /console/, its Content-Type, its text.
struct ConsoleFile {
    std::string_view path;
    std::string_view content_type;
    std::string_view text;
};

/// The files of engine/console/ as the build found them (generated source).
const std::vector<ConsoleFile>& embedded_console_files();

/// The console's files ready to serve: each with its ETag and, when it is smaller so, its gzip.
class ConsoleSite {
public:
    /// `folder` empty: the embedded files, prepared once. Otherwise the folder's files, read
    /// (and compressed) on every request, so an edit shows at the next reload.
    explicit ConsoleSite(std::string folder = {});

    /// Answers GET/HEAD /console and /console/... (index.html for /console/).
    void serve(Exchange& ex) const;

    /// The Content-Security-Policy of every console response.
    static constexpr std::string_view kContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; media-src 'self' data:; font-src 'self'; manifest-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    struct Prepared {
        std::string content_type;
        std::string text;
        std::string gzip;  ///< empty: not worth compressing
        std::string etag;
    };

private:
    std::string folder_;
    std::map<std::string, Prepared, std::less<>> files_;
};

/// `text` compressed as a gzip member (RFC 1952).
std::string gzip_text(std::string_view text);

}  // namespace tezgah::engine::http
