#include "cli/cli.hpp"

#include "appointments/reminders.hpp"
#include "appointments/store.hpp"
#include "cli/usage_report.hpp"
#include "http/server.hpp"
#include "notify/notifier.hpp"
#include "ops/costs.hpp"
#include "ops/plans.hpp"
#include "pipeline/engine.hpp"
#include "shared/redis_state.hpp"
#include "store/agents.hpp"
#include "store/api_keys.hpp"
#include "store/audit_log.hpp"
#include "store/connection_url.hpp"
#include "tenants/manifest.hpp"
#include "util/common.hpp"
#include "util/host.hpp"
#include "util/http_client.hpp"
#include "util/log.hpp"

#include <tezgah/sdk/errors.hpp>
#include <tezgah/sdk/json_text.hpp>
#include <tezgah/sdk/random.hpp>
#include <tezgah/sdk/types.hpp>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tezgah::engine::cli {
namespace fs = std::filesystem;

namespace {

constexpr const char* kUsage = R"(tezgah — a multi-tenant conversational engine for small businesses

Usage:
  tezgah serve   [--tenants DIR] [--db URL] [--listen HOST:PORT] [--plugins DIR]
                 [--threads N] [--queue N] [--turn-threads N] [--max-body BYTES] [--prices FILE]
                 [--trusted-proxy ADDR,...] [--max-connections N] [--console-dir DIR]
                 [--max-connections-per-address N] [--header-timeout MS]
                 [--body-timeout MS] [--keep-alive MS] [--shared-env NAME,...]
                 [--in-flight-margin-ms MS] [--lua-max-ms N] [--lua-concurrency N]
                 [--clock TIME] [--outbox-workers N] [--outbox-retry-ms MS]
                 [--outbox-max-retry-ms MS] [--outbox-lease-ms MS]
                 [--default-daily-usd USD] [--redis URL]
                 [--block-private-targets] [--notify-workers N] [--notify-retry-ms MS]
                 [--notify-max-attempts N] [--plans FILE]
  tezgah check   [DIR] [--strict] [--plugins DIR] [--shared-env NAME,...] [--lua-max-ms N]
                 [--plans FILE]
  tezgah chat    --tenant ID [--user ID] [--json] [--tenants DIR] [--db URL] [--plugins DIR]
                 [--prices FILE] [--shared-env NAME,...] [--lua-max-ms N] [--lua-concurrency N]
                 [--clock TIME] [--default-daily-usd USD]
  tezgah usage   --tenant ID --since YYYY-MM-DD [--until YYYY-MM-DD] [--json]
                 [--tenants DIR] [--db URL] [--shared-env NAME,...]
  tezgah plugins [NAME] [--markdown] [--plugins DIR]
  tezgah keys    create|list|revoke|audit ... [--db URL]   (`tezgah keys --help`)
  tezgah agents  create|list|disable|remove ... [--db URL] (`tezgah agents --help`)
  tezgah --help | --version

Commands:
  serve     Serve the tenants over HTTP (docs/http-api.md). Prints one line,
            `tezgah listening on http://HOST:PORT`, once ready. SIGHUP reloads the tenants;
            SIGTERM or SIGINT drains: /health/ready answers 503, no new connection is
            accepted, requests and turns in flight finish, then it exits 0 (docs/operations.md).
  check     Validate every manifest, data file, Lua script and referenced plugin under DIR
            (default: tenants/). Prints each problem as `path: field: message`; exits 1 if any.
            A channel whose environment variable is unset is disabled: a `warning: ...` line,
            exit 0 (--strict: a problem).
  chat      Talk to one tenant in the terminal. When standard input is not a terminal, each line
            is one customer message and each reply is printed as it comes; with --json, each reply
            is one line holding the same object as the HTTP chat reply.
  usage     A tenant's language-model calls, tokens and cost by day and model, then totals
            (`tezgah usage --help`; docs/operations.md).
  keys      Operators' API keys: create (prints the key once), list, revoke; and the audit log
            of keyed requests (`tezgah keys --help`; docs/operators.md).
  agents    The console's staff accounts: create (the first owner of a tenant, too), list,
            disable, remove (`tezgah agents --help`; docs/console.md).
  plugins   List every plugin found: name, kind, version, ABI, capabilities, config keys (type,
            range or allowed values, default); and refused files. NAME: that plugin only.
            --markdown: the config keys as the Markdown table of the plugin's README.

Options:
  --tenants DIR      tenant folders (env TEZGAH_TENANTS; default tenants/)
  --db URL           sqlite:PATH or postgresql://user@host:port/db
                     (env TEZGAH_DB; default sqlite:var/tezgah.db)
  --listen HOST:PORT (env TEZGAH_LISTEN; default 127.0.0.1:8080; port 0: any free port)
  --threads N        serve: requests answered at once (default 128): by worker threads, and
                     separately turns (chat and channel routes, widget messages), which run as
                     coroutines on --turn-threads and hold no thread while a model answers
  --queue N          serve: complete requests waiting for a worker; beyond it 503 (default 256)
  --turn-threads N   serve: threads running the turns (env TEZGAH_TURN_THREADS; default eight
                     per core, at least 16)
  --max-body BYTES   serve: request body limit, 413 above it (default 1048576)
  --trusted-proxy ADDR,...
                     serve: reverse proxies (addresses or CIDR blocks, 10.0.0.0/8) whose
                     X-Forwarded-For names the client (env TEZGAH_TRUSTED_PROXY; default none)
  --console-dir DIR  serve: serve the console (/console/) from this folder, read on every request,
                     instead of the files built into the binary (for working on engine/console/)
  --max-connections N
                     serve: open connections at most; beyond it the oldest idle one is closed,
                     else 503 (default 10000, less if the file limit is lower)
  --max-connections-per-address N
                     serve: open connections from one client address; beyond it 429 (default 256)
  --header-timeout MS
                     serve: a request's headers must arrive within MS of its first byte, else
                     408 (default 5000)
  --body-timeout MS  serve: its body within MS of its headers, else 408 (default 10000)
  --keep-alive MS    serve: an idle connection is closed after MS (default 10000)
  --in-flight-margin-ms MS
                     serve: a message_id whose turn has not answered (its process died) is
                     409 duplicate_in_flight for the tenant's llm.deadline_ms plus this, then
                     a retry is answered (env TEZGAH_IN_FLIGHT_MARGIN_MS; default 10000)
  --outbox-workers N serve: outbound messages sent at once (env TEZGAH_OUTBOX_WORKERS; default 4)
  --outbox-retry-ms MS
                     serve: the wait before a send is tried again, doubled after each
                     failure (env TEZGAH_OUTBOX_RETRY_MS; default 2000; docs/channels.md)
  --outbox-max-retry-ms MS
                     serve: the longest wait between two tries (default 600000)
  --outbox-lease-ms MS
                     serve: a send cut off by a crash is tried again after MS (default 60000)
  --block-private-targets
                     serve: refuse notification targets (webhook, Slack, SMTP) whose host is on
                     a loopback or private address; the notice fails saying so (env
                     TEZGAH_BLOCK_PRIVATE_TARGETS=1; default: allowed; docs/operators.md)
  --notify-workers N serve: notices sent at once (default 4)
  --notify-retry-ms MS
                     serve: the wait before a notice is tried again, doubled after each failure
                     (default 5000)
  --notify-max-attempts N
                     serve: a notice still failing after N attempts fails for good (default 10)
  --plugins DIR      plugin folders, colon-separated (env TEZGAH_PLUGIN_PATH;
                     default: lib/tezgah/plugins beside the binary)
  --log-level LEVEL  trace, debug, info, warn, error, off (env TEZGAH_LOG_LEVEL;
                     default info, warn for chat)
  --prices FILE      serve, chat: model prices, merged over the built-in ones (env TEZGAH_PRICES;
                     docs/operations.md)
  --shared-env NAME,...
                     environment variables every tenant's manifest may read as "${NAME}" (env
                     TEZGAH_SHARED_ENV). Without it a manifest reads only its tenant's own,
                     TEZGAH_<ID>__<REST> (<ID>: the id in capitals, - as _); TEZGAH_ names are
                     never shared. Values read so are never printed (docs/manifest.md)
  --lua-max-ms N     serve, check, chat: the most wall-clock time one Lua call (or the loading of a
                     script) may take, whatever a tenant's lua.max_ms asks (default 1000; a tenant
                     that sets none gets 100)
  --lua-concurrency N
                     serve, chat: Lua calls one tenant may run at once; more wait briefly, then the
                     rule is skipped (default: --threads / 4, at least 1)
  --clock TIME       serve, chat: answer as if it were TIME (2026-12-05T10:30:00+03:00, or
                     ...Z) and let time run on from there: opening hours, "yarın", class days
                     and cake pickup dates at a chosen moment, for demos and tests (default: now)
  --default-daily-usd USD
                     serve, chat: the daily budget of a tenant whose manifest sets no llm.budget
                     (env TEZGAH_DEFAULT_DAILY_USD; default 10; never unlimited)
  --redis URL        serve: redis://HOST:PORT[/DB]; share the response cache, budgets, limits,
                     per-customer locks, bursts, events and reload notices with the other
                     instances on that Redis (env TEZGAH_REDIS; default: none, this process
                     only; docs/operations.md, "Redis: sharing state between instances")
  --plans FILE       serve, check: what each plan (free, basic, premium, enterprise) allows a
                     tenant whose manifest names it: messages a minute, a customer's messages a
                     minute, model tokens a day, turns at once (env TEZGAH_PLANS; default none:
                     no plan limits; docs/operations.md, "Plans and limits"). serve refuses to
                     start on a broken file; check also checks each manifest's plan against it
  --drain-seconds N  serve: on SIGTERM, how long requests and turns in flight may take to finish;
                     then what is left is logged by count and the process exits (default 30)
  --tenant-idle-minutes N
                     serve: a loaded tenant without a message for N minutes is unloaded (its
                     memory freed) and loaded again on its next message (env
                     TEZGAH_TENANT_IDLE_MINUTES; default 0: never)
  --user ID          chat: the customer's id (default: terminal)
  --json             chat: one JSON reply per line; usage: the report as JSON
)";

constexpr const char* kUsageHelp = R"(tezgah usage — what a tenant's language-model calls cost

Usage:
  tezgah usage --tenant ID --since YYYY-MM-DD [--until YYYY-MM-DD] [--json]
               [--tenants DIR] [--db URL]

Prints, for each day from --since to --until (both included; default until today), the provider
calls, input tokens, output tokens and cost in US dollars per provider and model, then the totals.
Costs are as stored with each call, by the price table in force then (docs/operations.md).

Days are in the tenant's time zone (locale.timezone) when its folder is found under --tenants,
else in UTC; the first line says which. A tenant with no usage in the range prints "no usage".

Options:
  --tenant ID        the tenant (required)
  --since DATE       first day, YYYY-MM-DD (required)
  --until DATE       last day, YYYY-MM-DD (default: today)
  --json             one JSON object: {tenant, timezone, since, until, days: [...], totals: {...}}
  --tenants DIR      tenant folders, for the time zone (env TEZGAH_TENANTS; default tenants/)
  --shared-env NAME,...
                     variables every manifest may read (env TEZGAH_SHARED_ENV), as for serve
  --db URL           sqlite:PATH or postgresql://user@host:port/db
                     (env TEZGAH_DB; default sqlite:var/tezgah.db)

Exit status: 0 printed; 1 the database could not be read; 2 a bad or missing option.
)";

constexpr const char* kKeysHelp = R"(tezgah keys — operators' API keys and the audit log

Usage:
  tezgah keys create (--tenant ID | --all-tenants) --scopes SCOPE,... [--name NAME] [--db URL]
  tezgah keys list [--json] [--db URL]
  tezgah keys revoke ID [--db URL]
  tezgah keys audit [--tenant ID] [--key ID] [--limit N] [--json] [--db URL]

create   Makes a key and prints it alone on standard output, once: it is stored only as a hash
         and cannot be shown again. Requests send it as `Authorization: Bearer KEY`.
         --tenant ID: a key for that tenant only; --all-tenants: for every tenant (one of the two).
         --scopes: comma-separated, from: chat:write, calendar:read, conversations:read,
         conversations:write, catalog:write, knowledge:write, appointments:read,
         appointments:write, analytics:read, tenant:admin, ops:read.
         --name: a label for people (default: none), at most 200 bytes.
list     Every key, newest first: id, name, tenant ("*": every tenant), scopes, created, last used
         (written at most once a minute), revoked. Never the secret. --json: one JSON array.
revoke   Revokes key ID (as `list` shows it). A server caches a verified key for 10 seconds, so
         one that did not revoke it may still accept it for up to 10 seconds.
audit    Keyed requests, newest first: time, key id, method, route, tenant, status, client
         address, request id. --tenant/--key filter; --limit N (default 50, at most 1000).

Options:
  --db URL    sqlite:PATH or postgresql://user@host:port/db (env TEZGAH_DB; default
              sqlite:var/tezgah.db), as for serve

Exit status: 0 done; 1 the database failed, or revoke found no such key (or it was revoked
already); 2 a bad or missing option.
)";

constexpr const char* kAgentsHelp = R"(tezgah agents — the console's staff accounts

Usage:
  tezgah agents create --tenant ID --email EMAIL --name NAME [--role owner|agent]
                       [--password-stdin] [--db URL]
  tezgah agents list --tenant ID [--json] [--db URL]
  tezgah agents disable AGENT_ID [--db URL]
  tezgah agents remove AGENT_ID [--db URL]

create   Makes an agent account of tenant ID, who signs in to the console (/console/) with its
         e-mail and password. --role: owner (every scope of the tenant, tenant:admin included: it
         manages the other accounts) or agent (conversations, appointments, the calendar; the
         default). This is how a tenant's first owner is made. Prints the agent's id; without
         --password-stdin a random password is made and printed on the next line, once (it is
         stored only as an Argon2id hash). --password-stdin: the first line of standard input is
         the password (10 to 200 bytes). E-mails are unique per tenant, in any letter case.
list     The tenant's agents by name: id, name, e-mail, role, disabled, created, last sign-in.
         --json: one JSON array.
disable  Disables agent AGENT_ID: it can no longer sign in and its sessions end at once.
remove   Removes agent AGENT_ID with its sessions and its own canned replies; conversations
         assigned to it are unassigned. A tenant's last enabled owner is neither disabled nor
         removed.

Options:
  --db URL    sqlite:PATH or postgresql://user@host:port/db (env TEZGAH_DB; default
              sqlite:var/tezgah.db), as for serve

Exit status: 0 done; 1 the database failed, no such agent, the e-mail is taken, or the last
owner would go; 2 a bad or missing option.
)";

struct Args {
    std::string command;
    std::vector<std::string> positional;
    std::map<std::string, std::string> options;
    std::vector<std::string> flags;
    std::string error;

    bool flag(const std::string& name) const {
        return std::find(flags.begin(), flags.end(), name) != flags.end();
    }
    std::string option(const std::string& name, const char* env, const std::string& fallback) const {
        if (auto it = options.find(name); it != options.end()) return it->second;
        if (env) {
            if (const char* v = std::getenv(env); v && *v) return v;
        }
        return fallback;
    }
};

Args parse(int argc, char** argv) {
    static const std::vector<std::string> kValued = {"--tenants",
                                                     "--db",
                                                     "--listen",
                                                     "--plugins",
                                                     "--tenant",
                                                     "--user",
                                                     "--log-level",
                                                     "--threads",
                                                     "--queue",
                                                     "--max-body",
                                                     "--prices",
                                                     "--since",
                                                     "--until",
                                                     "--shared-env",
                                                     "--trusted-proxy",
                                                     "--console-dir",
                                                     "--max-connections",
                                                     "--max-connections-per-address",
                                                     "--header-timeout",
                                                     "--body-timeout",
                                                     "--keep-alive",
                                                     "--in-flight-margin-ms",
                                                     "--turn-threads",
                                                     "--outbox-workers",
                                                     "--outbox-retry-ms",
                                                     "--outbox-max-retry-ms",
                                                     "--outbox-lease-ms",
                                                     "--notify-workers",
                                                     "--notify-retry-ms",
                                                     "--notify-max-attempts",
                                                     "--lua-max-ms",
                                                     "--lua-concurrency",
                                                     "--clock",
                                                     "--redis",
                                                     "--scopes",
                                                     "--name",
                                                     "--key",
                                                     "--limit",
                                                     "--email",
                                                     "--role",
                                                     "--default-daily-usd",
                                                     "--plans",
                                                     "--drain-seconds",
                                                     "--tenant-idle-minutes"};
    static const std::vector<std::string> kFlags = {
        "--json",        "--help",           "-h",
        "--version",     "--markdown",       "--strict",
        "--all-tenants", "--password-stdin", "--block-private-targets"};
    Args args;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--", 0) == 0 || a == "-h") {
            auto eq = a.find('=');
            std::string name = eq == std::string::npos ? a : a.substr(0, eq);
            if (std::find(kValued.begin(), kValued.end(), name) != kValued.end()) {
                if (eq != std::string::npos) {
                    args.options[name] = a.substr(eq + 1);
                } else if (i + 1 < argc) {
                    args.options[name] = argv[++i];
                } else {
                    args.error = name + " needs a value";
                }
            } else if (std::find(kFlags.begin(), kFlags.end(), name) != kFlags.end()) {
                args.flags.push_back(name);
            } else {
                args.error = "unknown option " + name;
            }
        } else if (args.command.empty()) {
            args.command = a;
        } else {
            args.positional.push_back(a);
        }
    }
    return args;
}

std::vector<fs::path> plugin_path(const Args& args) {
    auto list = args.option("--plugins", nullptr, "");
    if (!list.empty()) return split_path_list(list);
    return default_plugin_path();
}

/// `--shared-env NAME,...`, else TEZGAH_SHARED_ENV; nothing (reported) on a bad list.
std::optional<SharedEnv> shared_env(const Args& args, const char* command) {
    const bool given = args.options.count("--shared-env") > 0;
    auto parsed = parse_shared_env(args.option("--shared-env", "TEZGAH_SHARED_ENV", ""));
    if (!parsed) {
        std::cerr << "tezgah " << command << ": " << (given ? "--shared-env" : "TEZGAH_SHARED_ENV") << ": "
                  << parsed.error().message << "\n";
        return std::nullopt;
    }
    return std::move(parsed).value();
}

/// Reads a whole-number option (or, when it is absent, the environment variable `env`) into
/// `value`, left alone when neither is set; false (reported) when malformed or out of bounds.
bool number_option(const Args& args, const char* command, const std::string& name, long long minimum,
                   long long& value, const char* env = nullptr,
                   long long maximum = std::numeric_limits<long long>::max()) {
    std::string text;
    std::string source = name;
    if (auto it = args.options.find(name); it != args.options.end()) {
        text = it->second;
    } else if (const char* v = env ? std::getenv(env) : nullptr; v && *v) {
        text = v;
        source = env;
    } else {
        return true;
    }
    char* end = nullptr;
    errno = 0;
    const long long parsed = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || parsed < minimum || parsed > maximum) {
        std::cerr << "tezgah " << command << ": " << source << " " << text
                  << ": expected a whole number >= " << minimum;
        if (maximum != std::numeric_limits<long long>::max() && maximum != std::numeric_limits<int>::max())
            std::cerr << " and <= " << maximum;
        std::cerr << "\n";
        return false;
    }
    value = parsed;
    return true;
}

/// --lua-max-ms and --lua-concurrency into `lua`; false (reported) when malformed. `threads`: the
/// server's, whose quarter is the default cap of one tenant's Lua calls at once.
bool lua_options(const Args& args, const char* command, int threads, lua::ServerLimits& lua) {
    long long max_ms = lua.max_ms;
    long long calls = std::max(1, threads / 4);
    if (!number_option(args, command, "--lua-max-ms", 1, max_ms, nullptr, std::numeric_limits<int>::max()) ||
        !number_option(args, command, "--lua-concurrency", 1, calls, nullptr,
                       std::numeric_limits<int>::max()))
        return false;
    lua.max_ms = static_cast<int>(max_ms);
    lua.calls_per_tenant = static_cast<int>(calls);
    return true;
}

/// `--clock TIME` as the engine's clock (null when absent); false (reported) when malformed.
bool clock_option(const Args& args, const char* command, std::unique_ptr<ShiftedClock>& clock) {
    auto it = args.options.find("--clock");
    if (it == args.options.end()) return true;
    auto start = parse_moment(it->second);
    if (!start) {
        std::cerr << "tezgah " << command << ": --clock " << it->second
                  << ": expected a date and time with its UTC offset, e.g. 2026-12-05T10:30:00+03:00\n";
        return false;
    }
    clock = std::make_unique<ShiftedClock>(*start);
    return true;
}

/// --default-daily-usd (else TEZGAH_DEFAULT_DAILY_USD) into `options`; false (reported) when it is
/// not a number >= 0.
bool default_budget_option(const Args& args, const char* command, EngineOptions& options) {
    const bool given = args.options.count("--default-daily-usd") > 0;
    const std::string text = args.option("--default-daily-usd", "TEZGAH_DEFAULT_DAILY_USD", "");
    if (text.empty() && !given) return true;
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || errno == ERANGE || !(value >= 0) || value > 1e9) {
        std::cerr << "tezgah " << command << ": "
                  << (given ? "--default-daily-usd" : "TEZGAH_DEFAULT_DAILY_USD") << " " << text
                  << ": expected US dollars, a number >= 0 (0: no paid model calls)\n";
        return false;
    }
    options.default_daily_usd = value;
    return true;
}

/// --plans FILE (else TEZGAH_PLANS) into `plans`; false (reported, a line a problem) on a broken file.
bool plans_option(const Args& args, const char* command, Plans& plans) {
    const std::string file = args.option("--plans", "TEZGAH_PLANS", "");
    if (file.empty()) return true;
    auto loaded = load_plans(file);
    if (!loaded) {
        std::cerr << "tezgah " << command << ": " << loaded.error().message << "\n";
        return false;
    }
    plans = std::move(loaded).value();
    return true;
}

EngineOptions engine_options(const Args& args, SharedEnv shared) {
    EngineOptions o;
    o.tenants_dir = args.option("--tenants", "TEZGAH_TENANTS", "tenants");
    o.db_url = args.option("--db", "TEZGAH_DB", "sqlite:var/tezgah.db");
    o.plugin_path = plugin_path(args);
    o.shared_env = std::move(shared);
    return o;
}

/// The capabilities an llm plugin declares, for the listing.
std::string capabilities_text(const PluginInfo& p) {
    std::string out;
    if (p.has(sdk::kProviderOffline)) out += "offline";
    if (p.has(sdk::kProviderStreams)) out += out.empty() ? "streams" : ", streams";
    return out.empty() ? "none declared" : out;
}

int cmd_plugins(const Args& args) {
    PluginRegistry registry;
    registry.load_directories(plugin_path(args));
    const bool markdown = args.flag("--markdown");
    const std::string only = args.positional.empty() ? "" : args.positional[0];
    if (!only.empty() && !registry.find(only)) {
        std::cerr << "tezgah plugins: no plugin named \"" << only << "\" on the plugin path\n";
        return 1;
    }
    for (const auto& p : registry.plugins()) {
        if (!only.empty() && p.name != only) continue;
        if (markdown) {
            // The table each plugin's README shows under "Configuration" (checked by a test).
            if (only.empty()) std::cout << "### " << p.name << "\n\n";
            std::cout << sdk::config_table(p.config) << (only.empty() ? "\n" : "");
            continue;
        }
        std::cout << p.name << "  kind=" << sdk::to_string(p.kind) << "  version=" << p.version
                  << "  abi=" << p.abi_major << "." << p.abi_minor << "  file=" << p.path << "\n";
        if (!p.description.empty()) std::cout << "    " << p.description << "\n";
        if (p.kind == sdk::PluginKind::llm) std::cout << "    capabilities: " << capabilities_text(p) << "\n";
        if (p.has(sdk::kChannelSends)) {
            std::cout << "    capabilities: sends (through the outbox)"
                      << (p.has(sdk::kChannelCustomerWindow) ? ", keeps the 24-hour window" : "")
                      << (p.has(sdk::kChannelBatches) ? ", several messages per request" : "") << "\n";
        }
        if (p.config.empty()) std::cout << "    config: none\n";
        for (const auto& k : p.config) {
            std::cout << "    config " << k.name << " (" << sdk::type_summary(k)
                      << (k.required ? ", required" : "")
                      << (k.default_json ? std::string(", default ") + k.default_json : "") << ")";
            if (k.description && *k.description) std::cout << ": " << k.description;
            std::cout << "\n";
        }
    }
    if (markdown) return 0;
    for (const auto& r : registry.refused()) std::cout << "refused " << r.path << ": " << r.reason << "\n";
    if (registry.plugins().empty()) std::cout << "no plugins found\n";
    return 0;
}

/// The report (problems, a line per tenant folder, the totals) is the command's output, so it goes
/// to standard output whole: `tezgah check > report.txt` keeps it. Standard error is for the
/// command's own failures, when there is nothing to check.
int cmd_check(const Args& args) {
    const auto shared = shared_env(args, "check");
    if (!shared) return 2;
    fs::path root = args.positional.empty() ? fs::path(args.option("--tenants", "TEZGAH_TENANTS", "tenants"))
                                            : fs::path(args.positional[0]);
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        std::cerr << "tezgah check: " << root.string() << ": not a folder\n";
        return 1;
    }
    lua::ServerLimits lua;
    if (!lua_options(args, "check", http::ServerOptions{}.threads, lua)) return 2;
    Plans plans;
    if (!plans_option(args, "check", plans)) return 2;
    PluginRegistry registry;
    registry.load_directories(plugin_path(args));
    auto folders = discover_tenants(root);
    if (folders.empty()) {
        std::cerr << "tezgah check: " << root.string()
                  << ": no tenant folders (a folder with a tenant.json) found\n";
        return 1;
    }
    // --strict: a channel disabled for an unset variable is a problem, not a warning.
    const bool strict = args.flag("--strict");
    std::size_t problem_count = 0;
    for (const auto& folder : folders) {
        auto loaded = load_manifest(folder, &registry, *shared);
        auto problems = loaded.problems;
        for (const auto& w : loaded.warnings) {
            if (strict)
                problems.push_back(w);
            else
                std::cout << "warning: " << w.str() << "\n";
        }
        if (loaded.manifest) {
            load_data(*loaded.manifest, problems);
            check_scripts(*loaded.manifest, problems, lua);
            // A plan the plans file does not describe would run without limits: the operator
            // meant one.
            const auto& plan = loaded.manifest->plan;
            if (plans.configured() && !plan.empty() && plans.find(plan) == nullptr)
                problems.push_back({loaded.manifest->manifest_path, "plan",
                                    "\"" + plan + "\" is not a plan of " + plans.source});
        }
        for (const auto& p : problems) std::cout << p.str() << "\n";
        problem_count += problems.size();
        std::cout << folder.string() << ": "
                  << (problems.empty() ? "ok" : std::to_string(problems.size()) + " problem(s)") << "\n";
    }
    std::cout << folders.size() << " tenant(s) checked, " << problem_count << " problem(s)\n";
    return problem_count ? 1 : 0;
}

/// Loads --prices FILE (else TEZGAH_PRICES) into the process's price table; false (reported) on a bad file.
bool load_prices(const Args& args, const char* command) {
    if (auto loaded = configure_prices(args.option("--prices", nullptr, "")); !loaded) {
        std::cerr << "tezgah " << command << ": " << loaded.error().message << "\n";
        return false;
    }
    return true;
}

/// Prints reply text as it arrives.
class PrintSink : public TurnStream {
public:
    void on_text(std::string_view delta) override {
        std::cout << delta << std::flush;
        printed_ = true;
    }
    /// The model broke off part-way and another provider answers: say so, then its answer follows.
    void on_reset() override {
        if (printed_) std::cout << " […]\n" << std::flush;
        printed_ = false;
    }
    bool printed_ = false;
};

int cmd_chat(const Args& args) {
    auto tenant_id = args.option("--tenant", nullptr, "");
    if (tenant_id.empty()) {
        std::cerr << "tezgah chat: --tenant ID is required\n";
        return 2;
    }
    if (!load_prices(args, "chat")) return 2;
    auto shared = shared_env(args, "chat");
    if (!shared) return 2;
    EngineOptions options = engine_options(args, std::move(*shared));
    if (!lua_options(args, "chat", http::ServerOptions{}.threads, options.lua)) return 2;
    if (!default_budget_option(args, "chat", options)) return 2;
    std::unique_ptr<ShiftedClock> clock;
    if (!clock_option(args, "chat", clock)) return 2;
    Engine engine(options);
    engine.set_clock(clock.get());
    if (auto s = engine.start(); !s) {
        std::cerr << "tezgah chat: " << s.error().message << "\n";
        return 1;
    }
    auto tenant = engine.tenant(tenant_id);
    if (!tenant) {
        std::cerr << "tezgah chat: " << tenant.error().message << "\n";
        return 1;
    }
    const bool json_out = args.flag("--json");
    const bool interactive = ::isatty(STDIN_FILENO) && !json_out;
    const std::string user = args.option("--user", nullptr, "terminal");
    std::string session_id;
    if (interactive) {
        std::cout << (*tenant)->profile().name << " — type a message, or Ctrl-D to quit.\n";
    }
    std::string line;
    while (true) {
        if (interactive) std::cout << "> " << std::flush;
        if (!std::getline(std::cin, line)) break;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        sdk::InboundMessage message;
        message.tenant_id = tenant_id;
        message.user_id = user;
        message.text = line;
        message.channel = "terminal";
        message.session_id = session_id;
        PrintSink sink;
        auto reply = engine.handle(message, json_out ? nullptr : &sink);
        if (!reply) {
            if (json_out) {
                std::cout << sdk::json_text(
                                 json::object{{"error", json::object{{"code", reply.error().code},
                                                                     {"message", reply.error().message}}}})
                          << std::endl;
            } else {
                std::cerr << "error: " << reply.error().message << "\n";
            }
            continue;
        }
        session_id = reply->session_id;
        if (json_out) {
            std::cout << sdk::json_text(sdk::to_json(*reply)) << std::endl;
        } else {
            if (!sink.printed_) std::cout << reply->reply;
            std::cout << (reply->handoff ? "\n  [handoff: a person will take over]" : "") << std::endl;
        }
    }
    return 0;
}

int cmd_serve(const Args& args) {
    http::ServerOptions server_options;
    std::string error;
    if (!http::parse_listen(args.option("--listen", "TEZGAH_LISTEN", "127.0.0.1:8080"), server_options,
                            error)) {
        std::cerr << "tezgah serve: " << error << "\n";
        return 2;
    }
    long long threads = server_options.threads;
    long long queue = server_options.queue;
    long long max_body = static_cast<long long>(server_options.max_body_bytes);
    long long max_connections = static_cast<long long>(server_options.max_connections);
    long long per_address = static_cast<long long>(server_options.max_connections_per_address);
    long long header_ms = server_options.header_deadline.count();
    long long body_ms = server_options.body_deadline.count();
    long long keep_alive_ms = server_options.keep_alive_timeout.count();
    if (!number_option(args, "serve", "--threads", 1, threads) ||
        !number_option(args, "serve", "--queue", 0, queue) ||
        !number_option(args, "serve", "--max-body", 1, max_body) ||
        !number_option(args, "serve", "--max-connections", 1, max_connections) ||
        !number_option(args, "serve", "--max-connections-per-address", 1, per_address) ||
        !number_option(args, "serve", "--header-timeout", 1, header_ms) ||
        !number_option(args, "serve", "--body-timeout", 1, body_ms) ||
        !number_option(args, "serve", "--keep-alive", 1, keep_alive_ms))
        return 2;
    long long turn_threads = server_options.turn_threads;
    if (!number_option(args, "serve", "--turn-threads", 0, turn_threads, "TEZGAH_TURN_THREADS", 1024))
        return 2;
    server_options.turn_threads = static_cast<int>(turn_threads);
    // A day at most: a margin longer than that leaves a customer's message unanswered for good.
    long long in_flight_margin_ms = kDefaultInFlightMargin.count();
    if (!number_option(args, "serve", "--in-flight-margin-ms", 0, in_flight_margin_ms,
                       "TEZGAH_IN_FLIGHT_MARGIN_MS", 86400000))
        return 2;
    OutboxOptions outbox_options;
    long long outbox_workers = outbox_options.workers;
    long long retry_ms = outbox_options.first_retry.count();
    long long max_retry_ms = outbox_options.max_retry.count();
    long long lease_ms = outbox_options.lease.count();
    if (!number_option(args, "serve", "--outbox-workers", 1, outbox_workers, "TEZGAH_OUTBOX_WORKERS", 256) ||
        !number_option(args, "serve", "--outbox-retry-ms", 1, retry_ms, "TEZGAH_OUTBOX_RETRY_MS", 86400000) ||
        !number_option(args, "serve", "--outbox-max-retry-ms", 1, max_retry_ms, nullptr, 86400000) ||
        !number_option(args, "serve", "--outbox-lease-ms", 1000, lease_ms, nullptr, 86400000))
        return 2;
    outbox_options.workers = static_cast<int>(outbox_workers);
    outbox_options.first_retry = std::chrono::milliseconds(retry_ms);
    outbox_options.max_retry = std::chrono::milliseconds(std::max(retry_ms, max_retry_ms));
    outbox_options.lease = std::chrono::milliseconds(lease_ms);
    notify::NotifierOptions notify_options;
    long long notify_workers = notify_options.workers;
    long long notify_retry_ms = notify_options.first_retry.count();
    long long notify_attempts = notify_options.max_attempts;
    if (!number_option(args, "serve", "--notify-workers", 1, notify_workers, nullptr, 256) ||
        !number_option(args, "serve", "--notify-retry-ms", 1, notify_retry_ms, nullptr, 86400000) ||
        !number_option(args, "serve", "--notify-max-attempts", 1, notify_attempts, nullptr, 1000))
        return 2;
    notify_options.workers = static_cast<int>(notify_workers);
    notify_options.first_retry = std::chrono::milliseconds(notify_retry_ms);
    notify_options.max_retry = std::max(notify_options.max_retry, notify_options.first_retry);
    notify_options.max_attempts = static_cast<int>(notify_attempts);
    long long drain_seconds = 30;
    long long tenant_idle_minutes = 0;
    if (!number_option(args, "serve", "--drain-seconds", 0, drain_seconds, nullptr, 86400) ||
        !number_option(args, "serve", "--tenant-idle-minutes", 0, tenant_idle_minutes,
                       "TEZGAH_TENANT_IDLE_MINUTES", 525600))
        return 2;
    const char* block_env = std::getenv("TEZGAH_BLOCK_PRIVATE_TARGETS");
    notify_options.send.block_private_targets =
        args.flag("--block-private-targets") || (block_env && std::string(block_env) == "1");
    if (const char* ca = std::getenv("TEZGAH_CA_FILE")) notify_options.send.ca_file = ca;
    server_options.threads = static_cast<int>(threads);
    server_options.queue = static_cast<int>(queue);
    server_options.max_body_bytes = static_cast<std::size_t>(max_body);
    server_options.max_connections = static_cast<std::size_t>(max_connections);
    server_options.max_connections_per_address = static_cast<std::size_t>(per_address);
    server_options.header_deadline = std::chrono::milliseconds(header_ms);
    server_options.body_deadline = std::chrono::milliseconds(body_ms);
    server_options.keep_alive_timeout = std::chrono::milliseconds(keep_alive_ms);
    const std::string proxies = args.option("--trusted-proxy", "TEZGAH_TRUSTED_PROXY", "");
    for (std::string_view rest = proxies; !rest.empty();) {
        const auto comma = rest.find(',');
        auto entry = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
        while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
        if (!entry.empty()) server_options.trusted_proxies.emplace_back(entry);
    }
    server_options.console_dir = args.option("--console-dir", "TEZGAH_CONSOLE_DIR", "");
    if (!server_options.console_dir.empty() && !std::filesystem::is_directory(server_options.console_dir)) {
        std::cerr << "tezgah serve: --console-dir " << server_options.console_dir << ": not a folder\n";
        return 2;
    }
    if (!load_prices(args, "serve")) return 2;
    auto shared = shared_env(args, "serve");
    if (!shared) return 2;
    EngineOptions options = engine_options(args, std::move(*shared));
    if (!lua_options(args, "serve", server_options.threads, options.lua)) return 2;
    if (!default_budget_option(args, "serve", options)) return 2;
    options.redis_url = args.option("--redis", "TEZGAH_REDIS", "");
    if (!options.redis_url.empty()) {
        const char* source = args.options.count("--redis") ? "--redis" : "TEZGAH_REDIS";
        if (auto address = parse_redis_url(options.redis_url, source); !address) {
            std::cerr << "tezgah serve: " << address.error().message << "\n";
            return 2;
        }
    }
    if (!plans_option(args, "serve", options.plans)) return 2;

    // Signals are taken by this thread with sigwait(); every thread started below inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    options.in_flight_margin = std::chrono::milliseconds(in_flight_margin_ms);
    options.outbox = outbox_options;
    options.tenant_idle = std::chrono::minutes(tenant_idle_minutes);
    std::unique_ptr<ShiftedClock> clock;
    if (!clock_option(args, "serve", clock)) return 2;
    Engine engine(options);
    engine.set_clock(clock.get());
    if (auto s = engine.start(); !s) {
        std::cerr << "tezgah serve: " << s.error().message << "\n";
        return 1;
    }
    engine.start_watching();
    http::HttpServer server(engine, server_options);
    if (auto s = server.start(); !s) {
        std::cerr << "tezgah serve: " << s.error().message << "\n";
        return 1;
    }
    engine.outbox().start();
    engine.handoffs().start();  // conversations whose operators fell silent go back to the bot
    // Reminders before appointments: at once, then every minute (appointments/reminders.hpp).
    appointments::Reminders reminders(
        engine.database(), engine.outbox(), [&engine](const std::string& id) { return engine.tenant(id); },
        // Only tenants with an appointment ahead: visiting every tenant would load them all (and
        // keep idle ones from being unloaded).
        [&engine] {
            auto ids = appointments::tenants_with_upcoming_appointments(engine.database(), engine.now());
            if (!ids)
                log_event(spdlog::level::err, "appointments",
                          "reminders: upcoming appointments could not be read",
                          {{"error", ids.error().message}});
            return ids ? std::move(ids).value() : std::vector<std::string>{};
        },
        [&engine] { return engine.now(); });
    reminders.start();
    PocoHttpClient notify_http;
    notify::Notifier notifier(engine.database(), engine.events(), notify_http,
                              notify::Notifier::engine_targets(engine), notify_options);
    notifier.start();
    server.set_ready();
    std::cout << "tezgah listening on http://" << server_options.host << ":" << server.port() << std::endl;

    while (true) {
        int signal_number = 0;
        if (sigwait(&signals, &signal_number) != 0) continue;
        if (signal_number == SIGHUP) {
            auto summary = engine.reload_all();
            log_event(spdlog::level::info, "cli", "reloaded on SIGHUP",
                      {{"reloaded", std::to_string(summary.reloaded.size())},
                       {"added", std::to_string(summary.added.size())},
                       {"removed", std::to_string(summary.removed.size())},
                       {"failed", std::to_string(summary.failed.size())}});
            continue;
        }
        log_event(spdlog::level::info, "cli", "draining: finishing requests and turns in flight",
                  {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"},
                   {"drain_seconds", std::to_string(drain_seconds)}});
        break;
    }
    // Readiness 503 and no new connections at once; what is in flight finishes (server.hpp).
    const auto unfinished = server.drain(std::chrono::seconds(drain_seconds));
    engine.handoffs().stop();
    reminders.stop();
    // The sends in flight end; claims not yet tried are given back (another instance, or the next
    // start, sends them); what is queued waits in the database.
    engine.outbox().stop();
    notifier.stop();  // likewise the notices
    engine.stop_watching();
    if (unfinished.any()) {
        // Their threads still run; waiting for them would overrun the drain. Every message they
        // answer was stored when it came, so a retry (or the customer's channel) answers it.
        log_event(spdlog::level::warn, "cli", "exiting with work unfinished",
                  {{"requests", std::to_string(unfinished.requests)},
                   {"channel_turns", std::to_string(unfinished.channel_turns)}});
        spdlog::shutdown();
        std::_Exit(0);
    }
    server.stop(std::chrono::seconds(1));
    log_event(spdlog::level::info, "cli", "drained", {});
    return 0;
}

int cmd_usage(const Args& args) {
    const auto tenant_id = args.option("--tenant", nullptr, "");
    if (tenant_id.empty()) {
        std::cerr << "tezgah usage: --tenant ID is required\n";
        return 2;
    }
    const auto since_text = args.option("--since", nullptr, "");
    if (since_text.empty()) {
        std::cerr << "tezgah usage: --since YYYY-MM-DD is required\n";
        return 2;
    }
    auto since = parse_day(since_text);
    if (!since) {
        std::cerr << "tezgah usage: --since " << since_text << ": expected a date YYYY-MM-DD\n";
        return 2;
    }
    std::optional<Day> until;
    if (auto it = args.options.find("--until"); it != args.options.end()) {
        until = parse_day(it->second);
        if (!until) {
            std::cerr << "tezgah usage: --until " << it->second << ": expected a date YYYY-MM-DD\n";
            return 2;
        }
    }

    const auto shared = shared_env(args, "usage");
    if (!shared) return 2;

    UsageReport report;
    report.tenant = tenant_id;
    report.timezone = "UTC";
    const fs::path folder = fs::path(args.option("--tenants", "TEZGAH_TENANTS", "tenants")) / tenant_id;
    std::error_code ec;
    if (fs::is_regular_file(folder / "tenant.json", ec)) {
        auto loaded = load_manifest(folder, nullptr, *shared);
        if (loaded.manifest && valid_timezone(loaded.manifest->profile.timezone)) {
            report.timezone = loaded.manifest->profile.timezone;
            report.timezone_source = "from " + (folder / "tenant.json").string();
        } else {
            report.timezone_source = (folder / "tenant.json").string() + " has no usable locale.timezone";
        }
    } else {
        report.timezone_source = "no tenant folder at " + folder.string();
    }
    report.since = *since;
    report.until = until ? *until : day_at(std::chrono::system_clock::now(), report.timezone);
    if (report.until.str() < report.since.str()) {
        std::cerr << "tezgah usage: --until " << report.until.str() << " is before --since "
                  << report.since.str() << "\n";
        return 2;
    }

    const auto url = args.option("--db", "TEZGAH_DB", "sqlite:var/tezgah.db");
    if (auto target = store::parse_database_url(url); !target) {
        std::cerr << "tezgah usage: " << target.error().message << "\n";
        return 2;
    } else if (target->backend == Backend::sqlite && target->sqlite_path != ":memory:" &&
               !fs::exists(target->sqlite_path, ec)) {
        // Opening would create an empty database: say what is missing instead.
        std::cerr << "tezgah usage: database " << redact_url(url) << ": no such file\n";
        return 1;
    }
    auto db = Database::open(url);
    if (!db) {
        std::cerr << "tezgah usage: " << db.error().message << "\n";
        return 1;
    }
    auto slices = (*db)->usage_slices(tenant_id, day_start(report.since, report.timezone),
                                      day_start(next_day(report.until), report.timezone));
    if (!slices) {
        std::cerr << "tezgah usage: " << slices.error().message << "\n";
        return 1;
    }
    add_slices(report, *slices);
    if (args.flag("--json"))
        std::cout << sdk::json_text(usage_json(report)) << "\n";
    else
        std::cout << usage_text(report);
    return 0;
}

/// A key's time as "2026-12-02 13:40:05Z"; "-" for the epoch (never).
std::string key_time(std::chrono::system_clock::time_point at, bool iso = false) {
    if (at.time_since_epoch().count() == 0) return iso ? "" : "-";
    const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[96];
    std::snprintf(buffer, sizeof buffer,
                  iso ? "%04d-%02d-%02dT%02d:%02d:%02dZ" : "%04d-%02d-%02d %02d:%02d:%02dZ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buffer;
}

/// Left-aligned columns, two spaces apart.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (widths.size() <= i) widths.push_back(0);
            widths[i] = std::max(widths[i], row[i].size());
        }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
        }
        std::cout << line << "\n";
    }
}

bool tenant_id_shape(const std::string& id) {
    return id.size() >= 2 && id.size() <= 63 && std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
           });
}

int cmd_keys(const Args& args) {
    const std::string sub = args.positional.empty() ? "" : args.positional[0];
    if (sub != "create" && sub != "list" && sub != "revoke" && sub != "audit") {
        std::cerr << "tezgah keys: "
                  << (sub.empty() ? "a subcommand is required" : "unknown subcommand \"" + sub + "\"")
                  << " (create, list, revoke, audit)\n\n"
                  << kKeysHelp;
        return 2;
    }
    // Options that belong to another subcommand are mistakes, not silently ignored.
    auto only = [&](const std::vector<std::string>& allowed) {
        for (const auto& [name, value] : args.options)
            if (name != "--db" && name != "--log-level" &&
                std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
                std::cerr << "tezgah keys " << sub << ": " << name << " does not apply here\n";
                return false;
            }
        for (const auto& flag : args.flags)
            if (std::find(allowed.begin(), allowed.end(), flag) == allowed.end()) {
                std::cerr << "tezgah keys " << sub << ": " << flag << " does not apply here\n";
                return false;
            }
        return true;
    };
    const std::size_t positional_wanted = sub == "revoke" ? 2 : 1;
    if (args.positional.size() != positional_wanted) {
        std::cerr << "tezgah keys " << sub << ": "
                  << (sub == "revoke" ? "expected one key ID (tezgah keys list shows them)"
                                      : "unexpected argument \"" + args.positional.back() + "\"")
                  << "\n";
        return 2;
    }
    std::string tenant;
    std::vector<std::string> scopes;
    int limit = 50;
    if (sub == "create") {
        if (!only({"--tenant", "--all-tenants", "--scopes", "--name"})) return 2;
        const bool has_tenant = args.options.count("--tenant") > 0;
        const bool all = args.flag("--all-tenants");
        if (has_tenant == all) {
            std::cerr << "tezgah keys create: give either --tenant ID or --all-tenants"
                      << (all ? ", not both" : "") << "\n";
            return 2;
        }
        if (has_tenant) {
            tenant = args.options.at("--tenant");
            if (!tenant_id_shape(tenant)) {
                std::cerr << "tezgah keys create: --tenant " << tenant
                          << ": not a tenant id (lower-case letters, digits and -, 2 to 63 characters)\n";
                return 2;
            }
        }
        const std::string list = args.option("--scopes", nullptr, "");
        for (std::string_view rest = list; !rest.empty();) {
            const auto comma = rest.find(',');
            auto entry = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
            while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
            if (!entry.empty()) scopes.emplace_back(entry);
        }
        if (scopes.empty()) {
            std::string known;
            for (const auto& k : api_key_scopes()) known += (known.empty() ? "" : ", ") + k;
            std::cerr << "tezgah keys create: --scopes S,... is required (known: " << known << ")\n";
            return 2;
        }
        for (const auto& scope : scopes) {
            const auto& known = api_key_scopes();
            if (std::find(known.begin(), known.end(), scope) == known.end()) {
                std::string list_text;
                for (const auto& k : known) list_text += (list_text.empty() ? "" : ", ") + k;
                std::cerr << "tezgah keys create: --scopes: unknown scope \"" << scope
                          << "\" (known: " << list_text << ")\n";
                return 2;
            }
        }
        if (args.option("--name", nullptr, "").size() > 200) {
            std::cerr << "tezgah keys create: --name: longer than 200 bytes\n";
            return 2;
        }
    } else if (sub == "list") {
        if (!only({"--json"})) return 2;
    } else if (sub == "revoke") {
        if (!only({})) return 2;
    } else {
        if (!only({"--tenant", "--key", "--limit", "--json"})) return 2;
        tenant = args.option("--tenant", nullptr, "");
        if (!tenant.empty() && !tenant_id_shape(tenant)) {
            std::cerr << "tezgah keys audit: --tenant " << tenant << ": not a tenant id\n";
            return 2;
        }
        long long n = limit;
        if (!number_option(args, "keys audit", "--limit", 1, n, nullptr, 1000)) return 2;
        limit = static_cast<int>(n);
    }

    const auto url = args.option("--db", "TEZGAH_DB", "sqlite:var/tezgah.db");
    std::error_code ec;
    if (auto target = store::parse_database_url(url); !target) {
        std::cerr << "tezgah keys: " << target.error().message << "\n";
        return 2;
    } else if (sub != "create" && target->backend == Backend::sqlite && target->sqlite_path != ":memory:" &&
               !fs::exists(target->sqlite_path, ec)) {
        std::cerr << "tezgah keys " << sub << ": database " << redact_url(url) << ": no such file\n";
        return 1;
    }
    auto db = Database::open(url);
    if (!db) {
        std::cerr << "tezgah keys: " << db.error().message << "\n";
        return 1;
    }
    const auto now = std::chrono::system_clock::now();

    if (sub == "create") {
        auto made = create_api_key(**db, args.option("--name", nullptr, ""), tenant, scopes, now);
        if (!made) {
            std::cerr << "tezgah keys create: " << made.error().message << "\n";
            return made.error().code == sdk::errc::invalid_value ? 2 : 1;
        }
        std::cout << made->secret << std::endl;
        std::cerr << "key " << made->key.id << " for "
                  << (tenant.empty() ? "every tenant" : "tenant " + tenant)
                  << " made; it is shown only this once\n";
        return 0;
    }
    if (sub == "revoke") {
        const std::string& id = args.positional[1];
        auto revoked = revoke_api_key(**db, id, now);
        if (!revoked) {
            std::cerr << "tezgah keys revoke: " << revoked.error().message << "\n";
            return 1;
        }
        if (!*revoked) {
            std::cerr << "tezgah keys revoke: no key " << id
                      << ", or it was revoked already (tezgah keys list)\n";
            return 1;
        }
        std::cout << "revoked " << id << "\n";
        return 0;
    }
    if (sub == "list") {
        auto keys = list_api_keys(**db);
        if (!keys) {
            std::cerr << "tezgah keys list: " << keys.error().message << "\n";
            return 1;
        }
        auto joined = [](const std::vector<std::string>& list) {
            std::string out;
            for (const auto& s : list) out += (out.empty() ? "" : ",") + s;
            return out;
        };
        if (args.flag("--json")) {
            json::array out;
            for (const auto& k : *keys) {
                json::array key_scopes;
                for (const auto& scope : k.scopes) key_scopes.emplace_back(scope);
                auto when = [](std::chrono::system_clock::time_point t) {
                    return t.time_since_epoch().count() == 0 ? json::value(nullptr)
                                                             : json::value(key_time(t, true));
                };
                out.push_back(json::object{{"id", k.id},
                                           {"name", k.name},
                                           {"tenant", k.all_tenants() ? "*" : k.tenant_id},
                                           {"scopes", std::move(key_scopes)},
                                           {"created_at", key_time(k.created_at, true)},
                                           {"last_used_at", when(k.last_used_at)},
                                           {"revoked_at", when(k.revoked_at)}});
            }
            std::cout << sdk::json_text(out) << "\n";
            return 0;
        }
        if (keys->empty()) {
            std::cout << "no keys (tezgah keys create)\n";
            return 0;
        }
        std::vector<std::vector<std::string>> rows = {
            {"ID", "NAME", "TENANT", "SCOPES", "CREATED", "LAST USED", "REVOKED"}};
        for (const auto& k : *keys)
            rows.push_back({k.id, k.name.empty() ? "-" : k.name, k.all_tenants() ? "*" : k.tenant_id,
                            joined(k.scopes), key_time(k.created_at), key_time(k.last_used_at),
                            key_time(k.revoked_at)});
        print_table(rows);
        return 0;
    }
    // audit
    AuditQuery query;
    query.tenant_id = tenant;
    query.key_id = args.option("--key", nullptr, "");
    query.limit = limit;
    auto page = read_audit(**db, query);
    if (!page) {
        std::cerr << "tezgah keys audit: " << page.error().message << "\n";
        return 1;
    }
    if (args.flag("--json")) {
        json::array out;
        for (const auto& e : page->entries)
            out.push_back(json::object{{"id", e.id},
                                       {"at", key_time(e.at, true)},
                                       {"key_id", e.key_id},
                                       {"method", e.method},
                                       {"route", e.route},
                                       {"tenant", e.tenant_id},
                                       {"status", e.status},
                                       {"client", e.client},
                                       {"request_id", e.request_id}});
        std::cout << sdk::json_text(out) << "\n";
        return 0;
    }
    if (page->entries.empty()) {
        std::cout << "no audit entries\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {
        {"TIME", "KEY", "METHOD", "ROUTE", "TENANT", "STATUS", "CLIENT", "REQUEST"}};
    for (const auto& e : page->entries)
        rows.push_back({key_time(e.at), e.key_id, e.method, e.route, e.tenant_id.empty() ? "-" : e.tenant_id,
                        std::to_string(e.status), e.client, e.request_id});
    print_table(rows);
    return 0;
}

int cmd_agents(const Args& args) {
    const std::string sub = args.positional.empty() ? "" : args.positional[0];
    if (sub != "create" && sub != "list" && sub != "disable" && sub != "remove") {
        std::cerr << "tezgah agents: "
                  << (sub.empty() ? "a subcommand is required" : "unknown subcommand \"" + sub + "\"")
                  << " (create, list, disable, remove)\n\n"
                  << kAgentsHelp;
        return 2;
    }
    auto only = [&](const std::vector<std::string>& allowed) {
        for (const auto& [name, value] : args.options)
            if (name != "--db" && name != "--log-level" &&
                std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
                std::cerr << "tezgah agents " << sub << ": " << name << " does not apply here\n";
                return false;
            }
        for (const auto& flag : args.flags)
            if (std::find(allowed.begin(), allowed.end(), flag) == allowed.end()) {
                std::cerr << "tezgah agents " << sub << ": " << flag << " does not apply here\n";
                return false;
            }
        return true;
    };
    const bool by_id = sub == "disable" || sub == "remove";
    if (args.positional.size() != (by_id ? 2u : 1u)) {
        std::cerr << "tezgah agents " << sub << ": "
                  << (by_id ? "expected one AGENT_ID (tezgah agents list shows them)"
                            : "unexpected argument \"" + args.positional.back() + "\"")
                  << "\n";
        return 2;
    }
    NewAgent fields;
    bool generated = false;
    if (sub == "create" || sub == "list") {
        if (!only(sub == "create" ? std::vector<std::string>{"--tenant", "--email", "--name", "--role",
                                                             "--password-stdin"}
                                  : std::vector<std::string>{"--tenant", "--json"}))
            return 2;
        fields.tenant_id = args.option("--tenant", nullptr, "");
        if (fields.tenant_id.empty()) {
            std::cerr << "tezgah agents " << sub << ": --tenant ID is required\n";
            return 2;
        }
        if (!tenant_id_shape(fields.tenant_id)) {
            std::cerr << "tezgah agents " << sub << ": --tenant " << fields.tenant_id
                      << ": not a tenant id (lower-case letters, digits and -, 2 to 63 characters)\n";
            return 2;
        }
    } else if (!only({})) {
        return 2;
    }
    if (sub == "create") {
        fields.email = args.option("--email", nullptr, "");
        fields.name = args.option("--name", nullptr, "");
        fields.role = args.option("--role", nullptr, kRoleAgent);
        for (const char* required : {"--email", "--name"})
            if (args.options.count(required) == 0) {
                std::cerr << "tezgah agents create: " << required << " is required\n";
                return 2;
            }
        if (args.flag("--password-stdin")) {
            std::getline(std::cin, fields.password);
            if (!fields.password.empty() && fields.password.back() == '\r') fields.password.pop_back();
        } else {
            fields.password =
                sdk::random_chars(20, "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789");
            generated = true;
        }
        // The fields' own checks, before the database is opened (exit 2, naming the option).
        sdk::Status checked = check_agent_name(fields.name);
        if (checked) checked = check_agent_email(fields.email);
        if (checked) checked = check_agent_password(fields.password);
        if (checked && !valid_agent_role(fields.role))
            checked = sdk::Error{sdk::errc::invalid_value,
                                 "role: \"" + fields.role + "\" is not one of owner, agent"};
        if (!checked) {
            std::cerr << "tezgah agents create: --" << checked.error().message
                      << (checked.error().message.starts_with("password") ? " (read from standard input)"
                                                                          : "")
                      << "\n";
            return 2;
        }
    }

    const auto url = args.option("--db", "TEZGAH_DB", "sqlite:var/tezgah.db");
    std::error_code ec;
    if (auto target = store::parse_database_url(url); !target) {
        std::cerr << "tezgah agents: " << target.error().message << "\n";
        return 2;
    } else if (sub != "create" && target->backend == Backend::sqlite && target->sqlite_path != ":memory:" &&
               !fs::exists(target->sqlite_path, ec)) {
        std::cerr << "tezgah agents " << sub << ": database " << redact_url(url) << ": no such file\n";
        return 1;
    }
    auto db = Database::open(url);
    if (!db) {
        std::cerr << "tezgah agents: " << db.error().message << "\n";
        return 1;
    }
    const auto now = std::chrono::system_clock::now();

    if (sub == "create") {
        auto made = create_agent(**db, fields, now);
        if (!made) {
            std::cerr << "tezgah agents create: " << made.error().message << "\n";
            return made.error().code == sdk::errc::invalid_value ? 2 : 1;
        }
        std::cout << made->id << "\n";
        if (generated) std::cout << fields.password << "\n";
        std::cout.flush();
        std::cerr << "agent " << made->id << " (" << made->email << ", " << made->role << ") made for tenant "
                  << made->tenant_id << (generated ? "; its password is shown only this once" : "") << "\n";
        return 0;
    }
    if (by_id) {
        const std::string& id = args.positional[1];
        auto found = find_agent(**db, "", id);
        if (!found) {
            std::cerr << "tezgah agents " << sub << ": " << found.error().message << "\n";
            return 1;
        }
        if (!*found) {
            std::cerr << "tezgah agents " << sub << ": no agent " << id
                      << " (tezgah agents list --tenant ID)\n";
            return 1;
        }
        sdk::Status done;
        if (sub == "disable") {
            AgentPatch patch;
            patch.disabled = true;
            auto updated = update_agent(**db, (*found)->tenant_id, id, patch, now);
            if (!updated) done = updated.error();
        } else {
            auto removed = remove_agent(**db, (*found)->tenant_id, id);
            if (!removed) done = removed.error();
        }
        if (!done) {
            std::cerr << "tezgah agents " << sub << ": " << id << ": " << done.error().message << "\n";
            return 1;
        }
        std::cout << (sub == "disable" ? "disabled " : "removed ") << id << "\n";
        return 0;
    }
    auto agents = list_agents(**db, fields.tenant_id);
    if (!agents) {
        std::cerr << "tezgah agents list: " << agents.error().message << "\n";
        return 1;
    }
    if (args.flag("--json")) {
        json::array out;
        for (const auto& a : *agents)
            out.push_back(
                json::object{{"id", a.id},
                             {"tenant", a.tenant_id},
                             {"name", a.name},
                             {"email", a.email},
                             {"role", a.role},
                             {"disabled", a.disabled},
                             {"created_at", key_time(a.created_at, true)},
                             {"last_sign_in_at", a.last_sign_in_at.time_since_epoch().count() == 0
                                                     ? json::value(nullptr)
                                                     : json::value(key_time(a.last_sign_in_at, true))}});
        std::cout << sdk::json_text(out) << "\n";
        return 0;
    }
    if (agents->empty()) {
        std::cout << "no agents of tenant " << fields.tenant_id << " (tezgah agents create)\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {
        {"ID", "NAME", "EMAIL", "ROLE", "DISABLED", "CREATED", "LAST SIGN-IN"}};
    for (const auto& a : *agents)
        rows.push_back({a.id, a.name, a.email, a.role, a.disabled ? "yes" : "no", key_time(a.created_at),
                        key_time(a.last_sign_in_at)});
    print_table(rows);
    return 0;
}

}  // namespace

int run(int argc, char** argv) {
    auto args = parse(argc, argv);
    if (args.flag("--version")) {
        std::cout << "tezgah " << TEZGAH_VERSION << " (plugin ABI " << sdk::kAbiMajor << "." << sdk::kAbiMinor
                  << ")\n";
        return 0;
    }
    if (args.command == "usage" && (args.flag("--help") || args.flag("-h"))) {
        std::cout << kUsageHelp;
        return 0;
    }
    if (args.command == "keys" && (args.flag("--help") || args.flag("-h"))) {
        std::cout << kKeysHelp;
        return 0;
    }
    if (args.command == "agents" && (args.flag("--help") || args.flag("-h"))) {
        std::cout << kAgentsHelp;
        return 0;
    }
    if (args.flag("--help") || args.flag("-h") || args.command.empty() || args.command == "help") {
        std::cout << kUsage;
        return args.command.empty() && !args.flag("--help") && !args.flag("-h") ? 2 : 0;
    }
    if (!args.error.empty()) {
        std::cerr << "tezgah: " << args.error << "\n\n" << kUsage;
        return 2;
    }
    init_logging(args.option("--log-level", "TEZGAH_LOG_LEVEL",
                             args.command == "chat" || args.command == "check" || args.command == "usage" ||
                                     args.command == "keys" || args.command == "agents"
                                 ? "warn"
                                 : "info"));
    if (args.command == "plugins") return cmd_plugins(args);
    if (args.command == "check") return cmd_check(args);
    if (args.command == "chat") return cmd_chat(args);
    if (args.command == "serve") return cmd_serve(args);
    if (args.command == "usage") return cmd_usage(args);
    if (args.command == "keys") return cmd_keys(args);
    if (args.command == "agents") return cmd_agents(args);
    std::cerr << "tezgah: unknown command \"" << args.command << "\"\n\n" << kUsage;
    return 2;
}

}  // namespace tezgah::engine::cli
