// tezgah-test-key DB_URL TENANT SCOPE[,SCOPE...]: makes an API key in the database (migrating it
// first) and prints it, for tests that drive `tezgah serve` from outside C++ (tests/node).
#include "store/api_keys.hpp"

#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: tezgah-test-key DB_URL TENANT SCOPE[,SCOPE...]\n";
        return 2;
    }
    auto db = tezgah::engine::Database::open(argv[1]);
    if (!db) {
        std::cerr << db.error().message << "\n";
        return 1;
    }
    std::vector<std::string> scopes;
    std::stringstream list(argv[3]);
    for (std::string scope; std::getline(list, scope, ',');) scopes.push_back(scope);
    auto made =
        tezgah::engine::create_api_key(**db, "test", argv[2], scopes, std::chrono::system_clock::now());
    if (!made) {
        std::cerr << made.error().message << "\n";
        return 1;
    }
    std::cout << made->secret << "\n";
    return 0;
}
