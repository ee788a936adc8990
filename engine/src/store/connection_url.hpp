#pragma once
// Database URLs: `sqlite:PATH` and `postgresql://user[:pass]@host[:port]/db[?key=value&...]`
// (also `postgres://`), turned into what SOCI's backends want.

#include <string>

#include "store/database.hpp"

namespace tezgah::engine::store {

struct ConnectionTarget {
    Backend backend = Backend::sqlite;
    std::string sqlite_path;  ///< sqlite: the file (":memory:" allowed)
    std::string pg_conninfo;  ///< postgresql: a libpq keyword/value connection string
};

/// Parses a database URL. Errors ("invalid_argument") name the URL without its password.
sdk::Result<ConnectionTarget> parse_database_url(const std::string& url);

}  // namespace tezgah::engine::store
