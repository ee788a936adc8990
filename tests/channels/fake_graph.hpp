#pragma once
// A fake of Meta's Graph API for WhatsApp sends, on loopback: POST /{version}/{phone_number_id}/messages
// with a Bearer token, checked as the real one checks it (the token, the JSON fields, every size
// limit of the wire-format reference), answered with Meta's own JSON — a wamid, or an error body
// exactly as Meta writes one (a broken limit is 400 code 131009, so a test fails if the channel
// ever sends one). It can be told to answer 429, 500, 400 or 131047 (the customer's window), or to
// drop the connection.

#include "support/fake_http_server.hpp"

#include <boost/json.hpp>

#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace tezgah::testing {

class FakeGraph {
public:
    enum class Answer { ok, too_many, server_error, bad_request, drop };

    FakeGraph(std::string phone_number_id, std::string token);

    std::string url() const { return server_.url(); }
    FakeHttpServer& server() { return server_; }

    void always(Answer answer);
    void then(Answer answer);
    /// Free-form messages to `wa_id` are refused with 131047 (only templates pass), as Meta does
    /// 24 hours after the customer's last message.
    void close_window(const std::string& wa_id);

    /// The bodies of the messages accepted, in order.
    std::vector<boost::json::object> accepted() const;
    /// Messages the fake refused for a broken rule (a limit, a field): each with Meta's details.
    std::vector<std::string> violations() const;

    /// Meta's error body for `code`, as the Graph API writes it.
    static std::string error_body(long long code, const std::string& message, const std::string& details);

private:
    void answer(const RecordedRequest& request, FakeReply& reply);
    /// The first rule `body` breaks, in Meta's words ("" when none).
    std::string check(const boost::json::object& body) const;

    std::string path_;
    std::string token_;
    mutable std::mutex mutex_;
    std::deque<Answer> script_;
    Answer default_ = Answer::ok;
    std::set<std::string> closed_;
    std::vector<boost::json::object> accepted_;
    std::vector<std::string> violations_;
    int next_id_ = 1;
    FakeHttpServer server_;  // last: stops before what its handler uses goes
};

}  // namespace tezgah::testing
