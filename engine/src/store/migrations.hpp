#pragma once
// Versioned schema migrations. Migration N is applied once, in order, recorded in
// schema_migrations. Never edit a released migration: add the next one.

#include <soci/soci.h>

#include <optional>

#include "store/database.hpp"

namespace tezgah::engine::store {

/// The newest schema version this build knows.
int latest_schema_version();

/// Applies every pending migration in one transaction and returns the schema version. On
/// PostgreSQL an advisory lock makes concurrent starts of several processes safe (the second
/// waits, then finds nothing to do); on SQLite BEGIN IMMEDIATE does the same. Throws on failure.
/// `up_to` stops after that version: a database as an earlier build left it, to test upgrades.
int migrate(soci::session& sql, Backend backend, std::optional<int> up_to = std::nullopt);

}  // namespace tezgah::engine::store
