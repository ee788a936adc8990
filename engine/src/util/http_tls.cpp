#include "util/http_tls.hpp"

#include <Poco/Net/IPAddress.h>
#include <Poco/Net/InvalidCertificateHandler.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/VerificationErrorArgs.h>
#include <Poco/Net/X509Certificate.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "util/http_connection.hpp"

namespace tezgah::engine::http {
namespace {

thread_local std::string t_certificate_failure;

/// Rejects every certificate OpenSSL could not verify and remembers the first reason, for the
/// error message. Set on each context, so Poco's SSLManager never creates its own handlers.
class RejectAndRecord : public Poco::Net::InvalidCertificateHandler {
public:
    RejectAndRecord() : Poco::Net::InvalidCertificateHandler(false) {}
    void onInvalidCertificate(const void*, Poco::Net::VerificationErrorArgs& args) override {
        args.setIgnoreError(false);
        if (!t_certificate_failure.empty()) return;
        t_certificate_failure = args.errorMessage();
        try {
            t_certificate_failure += " (certificate " + args.certificate().subjectName() + ", chain depth " +
                                     std::to_string(args.errorDepth()) + ")";
        } catch (...) {
        }
    }
};

void initialize_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        Poco::Net::initializeSSL();
        // A write to a connection the server closed must be an error, not the end of the process
        // (OpenSSL writes without MSG_NOSIGNAL). Only when nobody chose a disposition yet.
        struct sigaction current {};
        if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
            std::signal(SIGPIPE, SIG_IGN);
    });
}

}  // namespace

Poco::Net::Context::Ptr client_tls_context(const std::string& extra_ca_file) {
    initialize_once();
    // Never destroyed: contexts and the handler must outlive every connection and Poco's
    // SSLManager singleton, whose destruction order at exit is not ours to choose.
    static std::mutex mutex;
    static auto* contexts = new std::map<std::string, Poco::Net::Context::Ptr>;
    static auto* handler = new Poco::Net::Context::InvalidCertificateHandlerPtr(new RejectAndRecord);

    std::lock_guard lock(mutex);
    if (auto it = contexts->find(extra_ca_file); it != contexts->end()) return it->second;

    Poco::Net::Context::Params params;
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.verificationDepth = 9;
    std::error_code ec;
    if (std::filesystem::exists(kSystemCaBundle, ec))
        params.caLocation = kSystemCaBundle;
    else
        params.loadDefaultCAs = true;
    params.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES";
    Poco::Net::Context::Ptr context;
    try {
        context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    } catch (const Poco::Exception& e) {
        fail("tls", "cannot set up TLS: " + e.displayText());
    }
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    // Poco skips its own host check for loopback addresses; check_certificate_host() does it always.
    context->enableExtendedCertificateVerification(false);
    context->setInvalidCertificateHandler(*handler);
    if (!extra_ca_file.empty()) {
        if (SSL_CTX_load_verify_locations(context->sslContext(), extra_ca_file.c_str(), nullptr) != 1) {
            ERR_clear_error();
            fail("tls", "TEZGAH_CA_FILE " + extra_ca_file +
                            ": cannot load CA certificates (a PEM file is expected)");
        }
    }
    contexts->emplace(extra_ca_file, context);
    return context;
}

void clear_certificate_failure() { t_certificate_failure.clear(); }

std::string take_certificate_failure() {
    std::string reason = std::move(t_certificate_failure);
    t_certificate_failure.clear();
    return reason;
}

void check_certificate_host(const Poco::Net::SecureStreamSocket& socket, const std::string& host) {
    Poco::Net::X509Certificate certificate = [&] {
        try {
            return socket.peerCertificate();
        } catch (const Poco::Exception&) {
            fail("tls", "certificate: the server presented none");
        }
    }();
    auto* x509 = const_cast<X509*>(certificate.certificate());
    Poco::Net::IPAddress ip;
    const bool matches = Poco::Net::IPAddress::tryParse(host, ip)
                             ? X509_check_ip_asc(x509, host.c_str(), 0) == 1
                             : X509_check_host(x509, host.data(), host.size(), 0, nullptr) == 1;
    if (matches) return;
    std::string common_name;
    std::set<std::string> names;
    certificate.extractNames(common_name, names);
    std::string listed;
    for (const auto& name : names) listed += (listed.empty() ? "" : ", ") + name;
    if (listed.empty()) listed = common_name.empty() ? "no names" : common_name;
    fail("tls", "certificate is not valid for " + host + " (it is for " + listed + ")");
}

}  // namespace tezgah::engine::http
