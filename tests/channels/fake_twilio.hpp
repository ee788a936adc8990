#pragma once
// A fake Twilio REST API on loopback: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, checked
// as Twilio checks it (HTTP Basic with the account SID and auth token, a form body, To and From, a
// Body or a ContentSid, Body at most 1,600 characters), answered with Twilio's message resource
// (201) or its error body {"code", "message", "more_info", "status"}. It can be told to answer 429
// with Retry-After, 500, 400, or to drop the connection. The form is read with Poco's HTMLForm,
// not the plugin's code.
#include "support/fake_http_server.hpp"

#include <Poco/Base64Encoder.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/NameValueCollection.h>

#include <boost/json.hpp>

#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace tezgah::testing {

class FakeTwilio {
public:
    enum class Answer { ok, too_many, server_error, bad_request, drop };

    /// One message Twilio accepted: its form fields and the sid it was given.
    struct Accepted {
        std::string sid;
        std::map<std::string, std::string> fields;
    };

    FakeTwilio(std::string account_sid, std::string auth_token)
        : account_sid_(std::move(account_sid)),
          auth_token_(std::move(auth_token)),
          server_([this](const RecordedRequest& request, FakeReply& reply) { answer(request, reply); }) {}

    std::string url() const { return server_.url(); }
    FakeHttpServer& server() { return server_; }

    void then(Answer answer) {
        std::lock_guard lock(mutex_);
        script_.push_back(answer);
    }
    std::vector<Accepted> accepted() const {
        std::lock_guard lock(mutex_);
        return accepted_;
    }
    /// Requests refused for what Twilio would refuse them for (auth, fields): a test expects none.
    std::vector<std::string> rejections() const {
        std::lock_guard lock(mutex_);
        return rejections_;
    }

private:
    static std::string base64(const std::string& text) {
        std::ostringstream out;
        Poco::Base64Encoder encoder(out);
        encoder.rdbuf()->setLineLength(0);
        encoder << text;
        encoder.close();
        return out.str();
    }

    static void error(FakeReply& reply, int status, int code, const std::string& message) {
        reply.status(status);
        reply.content_type("application/json");
        reply.body(boost::json::serialize(
            boost::json::object{{"code", code},
                                {"message", message},
                                {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
                                {"status", status}}));
    }

    void reject(FakeReply& reply, int status, int code, const std::string& message) {
        {
            std::lock_guard lock(mutex_);
            rejections_.push_back(message);
        }
        error(reply, status, code, message);
    }

    void answer(const RecordedRequest& request, FakeReply& reply) {
        if (request.method != "POST" ||
            request.path != "/2010-04-01/Accounts/" + account_sid_ + "/Messages.json")
            return reject(reply, 404, 20404, "The requested resource " + request.path + " was not found");
        if (request.header("authorization") != "Basic " + base64(account_sid_ + ":" + auth_token_))
            return reject(reply, 401, 20003, "Authenticate");
        if (request.header("content-type").rfind("application/x-www-form-urlencoded", 0) != 0)
            return reject(reply, 400, 20001, "Content-Type must be application/x-www-form-urlencoded");
        Poco::Net::HTMLForm form;
        std::istringstream body(request.body);
        form.read(body);
        std::map<std::string, std::string> fields;
        for (const auto& [name, value] : form) fields[name] = value;
        if (fields["To"].empty()) return reject(reply, 400, 21604, "A 'To' phone number is required.");
        if (fields["From"].empty()) return reject(reply, 400, 21603, "A 'From' phone number is required.");
        if (fields["Body"].empty() && fields["ContentSid"].empty() && fields["MediaUrl"].empty())
            return reject(reply, 400, 21619, "A text message body or media urls must be specified.");
        if (!fields["Body"].empty() && fields["Body"].size() > 1600 * 4)
            return reject(reply, 400, 21617,
                          "The concatenated message body exceeds the 1600 character limit.");

        Answer answer = Answer::ok;
        {
            std::lock_guard lock(mutex_);
            if (!script_.empty()) {
                answer = script_.front();
                script_.pop_front();
            }
        }
        switch (answer) {
            case Answer::too_many:
                reply.header("Retry-After", "1");
                return error(reply, 429, 20429, "Too Many Requests");
            case Answer::server_error:
                return error(reply, 500, 20500, "An internal server error has occurred");
            case Answer::bad_request:
                return error(reply, 400, 21211,
                             "The 'To' number " + fields["To"] + " is not a valid phone number.");
            case Answer::drop:
                return reply.drop();
            case Answer::ok:
                break;
        }
        static constexpr char kHex[] = "0123456789abcdef";
        std::string sid = "SM";
        {
            std::lock_guard lock(mutex_);
            for (int i = 0; i < 32; ++i) sid += kHex[random_() % 16];
            accepted_.push_back({sid, fields});
        }
        reply.status(201);
        reply.content_type("application/json");
        reply.body(boost::json::serialize(boost::json::object{{"sid", sid},
                                                              {"account_sid", account_sid_},
                                                              {"to", fields["To"]},
                                                              {"from", fields["From"]},
                                                              {"body", fields["Body"]},
                                                              {"status", "queued"},
                                                              {"num_media", "0"},
                                                              {"error_code", nullptr},
                                                              {"error_message", nullptr}}));
    }

    const std::string account_sid_;
    const std::string auth_token_;
    mutable std::mutex mutex_;
    std::deque<Answer> script_;
    std::vector<Accepted> accepted_;
    std::vector<std::string> rejections_;
    std::mt19937 random_{std::random_device{}()};
    FakeHttpServer server_;  // last: stops before what its handler uses goes
};

}  // namespace tezgah::testing
