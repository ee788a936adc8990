#pragma once
// The `tezgah` command line: serve, check, chat, plugins.

namespace tezgah::engine::cli {

/// Runs the command line; returns the process exit code.
int run(int argc, char** argv);

}  // namespace tezgah::engine::cli
