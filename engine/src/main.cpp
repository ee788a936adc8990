#include "cli/cli.hpp"

int main(int argc, char** argv) { return tezgah::engine::cli::run(argc, argv); }
