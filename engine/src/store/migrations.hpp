#pragma once
// Versioned schema migrations. Migration N is applied once, in order, recorded in
// schema_migrations. Never edit a released migration: add the next one.

#include <soci/soci.h>

#include "store/database.hpp"

namespace tezgah::engine::store {

/// The newest schema version this build knows.
int latest_schema_version();

/// Applies every pending migration in one transaction and returns the schema version. On
/// PostgreSQL an advisory lock makes concurrent starts of several processes safe (the second
/// waits, then finds nothing to do); on SQLite BEGIN IMMEDIATE does the same. Throws on failure.
int migrate(soci::session& sql, Backend backend);

}  // namespace tezgah::engine::store
