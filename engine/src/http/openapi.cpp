// GET /openapi.json: the OpenAPI 3 document of every route (docs/openapi.json, embedded at build
// time). It holds no tenant's data, so it needs no key.
#include "http/exchange.hpp"

namespace tezgah::engine::http {

extern const std::string_view kOpenApiDocument;

void Routes::openapi(Exchange& ex) {
    ex.set_header("Cache-Control", "public, max-age=300");
    ex.send(200, "application/json", kOpenApiDocument);
}

}  // namespace tezgah::engine::http
