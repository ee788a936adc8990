#pragma once
// Operators' edits of a tenant's folder (docs/operators.md, "Editing the catalog, info and
// knowledge"): one offering patched, one business.info text set, one knowledge entry put or deleted.
// Each edit reads the file as it is on disk (tenant.json raw: a `"${NAME}"` stays a reference,
// never its value), checks the result as the loader checks the file, writes it atomically (a
// temporary file beside it, fsync, rename, fsync of the folder) and then calls `apply` (the tenant
// loads anew, so the next turn sees it). When `apply` fails, the file is put back as it was and
// applied again. Edits of one file are serialized within the process, and across processes on one
// host by a flock(2) on its folder: concurrent edits all land.

#include "tenants/manifest.hpp"

#include <boost/json.hpp>

#include <functional>
#include <string>

namespace tezgah::engine {

/// JSON text as the tenant folders hold it: 2-space indentation, one member or element a line
/// (`[]` and `{}` when empty), keys in their order, `": "` after keys, numbers as sdk::json_text
/// writes them (299.99, not 2.9999E2), UTF-8 unescaped.
std::string pretty_json(const json::value& value);

/// An edit that could not be written: the file is unchanged (a read-only folder, a full disk).
inline constexpr const char* kWriteFailed = "write_failed";
/// The file on disk is not what the manifest says (absent from the manifest, unreadable, not JSON
/// records): the edit is refused and nothing is written.
inline constexpr const char* kFileConflict = "conflict";

/// Makes the edited tenant live: loads it anew from its folder. Its error is the load's.
using ApplyEdit = std::function<sdk::Status()>;

/// What an edit stored.
struct EditResult {
    json::value stored;    ///< the entry as written (an offering, a knowledge entry, `{key, text}`)
    bool created = false;  ///< a new entry (PUT of an unknown knowledge id, a new info key)
};

/// Merges `patch` (RFC 7396: null removes a field, objects merge) into offering `id` of the
/// tenant's offerings file. Errors: not_found (no such offering); invalid_field (400: a field of
/// the wrong JSON type, an unknown field); invalid_value (422: what the loader refuses, such as a
/// negative price, named by field; an id other than `id`); conflict; write_failed; the apply's error.
sdk::Result<EditResult> patch_offering(const Manifest& manifest, const std::string& id,
                                       const json::object& patch, const ApplyEdit& apply);

/// Sets business.info[key] = text in tenant.json. Errors: invalid_value (an empty or overlong key
/// or text); conflict; write_failed; the apply's error.
sdk::Result<EditResult> put_info(const Manifest& manifest, const std::string& key, const std::string& text,
                                 const ApplyEdit& apply);

/// Replaces knowledge entry `id` with `entry` (question, answer, category?, keywords?,
/// translations?; an `id` in it must be `id`), or adds it at the end. Errors as patch_offering
/// (conflict also when the manifest names no knowledge file).
sdk::Result<EditResult> put_knowledge(const Manifest& manifest, const std::string& id,
                                      const json::object& entry, const ApplyEdit& apply);

/// Removes knowledge entry `id`; `stored` is the entry removed. Errors: not_found; conflict;
/// write_failed; the apply's error.
sdk::Result<EditResult> delete_knowledge(const Manifest& manifest, const std::string& id,
                                         const ApplyEdit& apply);

}  // namespace tezgah::engine
