// The console's files (http/console.hpp).
#include "http/console.hpp"

#include "http/exchange.hpp"
#include "http/request_parts.hpp"

#include <Poco/DeflatingStream.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tezgah::engine::http {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "/console/";

ConsoleSite::Prepared prepare(std::string_view content_type, std::string text) {
    ConsoleSite::Prepared out;
    out.content_type = std::string(content_type);
    out.etag = strong_etag(text);
    // Small files are not worth a gzip member's 18 bytes of framing.
    if (text.size() >= 512) {
        std::string packed = gzip_text(text);
        if (packed.size() < text.size()) out.gzip = std::move(packed);
    }
    out.text = std::move(text);
    return out;
}

std::string_view content_type_of(const fs::path& file) {
    const std::string ext = file.extension().string();
    if (ext == ".html") return "text/html; charset=utf-8";
    if (ext == ".css") return "text/css; charset=utf-8";
    if (ext == ".js") return "text/javascript; charset=utf-8";
    if (ext == ".svg") return "image/svg+xml";
    if (ext == ".json" || ext == ".webmanifest") return "application/json";
    return {};
}

bool accepts_gzip(std::string_view accept_encoding) {
    // A coding listed with q=0 is refused; anything else naming gzip accepts it.
    const auto at = accept_encoding.find("gzip");
    if (at == std::string_view::npos) return false;
    auto rest = accept_encoding.substr(at + 4);
    rest = rest.substr(0, rest.find(','));
    return rest.find("q=0") == std::string_view::npos || rest.find("q=0.") != std::string_view::npos;
}

/// The security headers of every console response (docs/console.md, "Security").
void secure(Exchange& ex) {
    ex.set_header("Content-Security-Policy", std::string(ConsoleSite::kContentSecurityPolicy));
    ex.set_header("X-Content-Type-Options", "nosniff");
    ex.set_header("X-Frame-Options", "DENY");
    ex.set_header("Referrer-Policy", "no-referrer");
    ex.set_header("Cross-Origin-Opener-Policy", "same-origin");
}

}  // namespace

std::string gzip_text(std::string_view text) {
    std::ostringstream packed;
    Poco::DeflatingOutputStream deflate(packed, Poco::DeflatingStreamBuf::STREAM_GZIP, 9);
    deflate.write(text.data(), static_cast<std::streamsize>(text.size()));
    deflate.close();
    return std::move(packed).str();
}

ConsoleSite::ConsoleSite(std::string folder) : folder_(std::move(folder)) {
    if (!folder_.empty()) return;
    for (const auto& file : embedded_console_files())
        files_.emplace(std::string(file.path), prepare(file.content_type, std::string(file.text)));
}

void ConsoleSite::serve(Exchange& ex) const {
    secure(ex);
    if (ex.path == "/console") {
        // Relative URLs of the page resolve against /console/, not /.
        ex.set_header("Location", "/console/");
        return ex.send(301, "text/plain; charset=utf-8", "/console/\n");
    }
    if (!allow_methods(ex, {"GET", "HEAD"})) return;
    std::string path = ex.path;
    if (path == kPrefix) path += "index.html";

    std::optional<Prepared> from_folder;
    const Prepared* file = nullptr;
    if (folder_.empty()) {
        if (auto it = files_.find(path); it != files_.end()) file = &it->second;
    } else {
        // Development: the folder's file as it is now. Only names under the folder are served.
        const fs::path relative = fs::path(path.substr(kPrefix.size())).lexically_normal();
        const bool inside = !relative.empty() && relative.is_relative() && *relative.begin() != "..";
        const auto type = content_type_of(relative);
        std::ifstream in(fs::path(folder_) / relative, std::ios::binary);
        if (inside && !type.empty() && in) {
            std::ostringstream text;
            text << in.rdbuf();
            from_folder = prepare(type, std::move(text).str());
            file = &*from_folder;
        }
    }
    if (file == nullptr) return ex.send_error(404, "not_found", "the console has no file " + ex.path);

    // Revalidated on every load (no-cache): a new build's console is never mixed with an old one.
    ex.set_header("Cache-Control", "no-cache");
    ex.set_header("ETag", file->etag);
    ex.set_header("Vary", "Accept-Encoding");
    if (etag_matches(ex.request.header("if-none-match"), file->etag))
        return ex.send(304, file->content_type, "");
    if (!file->gzip.empty() && accepts_gzip(ex.request.header("accept-encoding"))) {
        ex.set_header("Content-Encoding", "gzip");
        return ex.send(200, file->content_type, file->gzip);
    }
    ex.send(200, file->content_type, file->text);
}

}  // namespace tezgah::engine::http
