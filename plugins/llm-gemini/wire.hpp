#pragma once
// Gemini's wire format (generativelanguage v1beta): the request body built from a provider
// request, the response read back (whole, or chunk by chunk from a stream), and Google's error
// envelope.

#include <tezgah/sdk/llm.hpp>
#include <tezgah/sdk/result.hpp>
#include <tezgah/sdk/types.hpp>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace tezgah::plugins::gemini {

namespace sdk = tezgah::sdk;
namespace json = boost::json;

/// Model turns that carried function calls, by the id of their first call, exactly as Gemini sent
/// them: thinking models put a `thoughtSignature` on such turns and refuse the next request of the
/// turn unless it comes back unchanged. ToolCall has no room for it, hence this memory. Bounded
/// (the oldest turns are forgotten first) and thread-safe.
class TurnMemory {
public:
    explicit TurnMemory(std::size_t capacity = 10000) : capacity_(capacity) {}
    void remember(const std::string& first_call_id, json::object content);
    std::optional<json::object> recall(const std::string& first_call_id) const;
    std::size_t size() const;

private:
    mutable std::mutex mutex_;
    std::size_t capacity_;
    std::unordered_map<std::string, json::object> turns_;
    std::deque<std::string> order_;
};

struct GenerationSettings {
    std::optional<double> temperature;
    std::optional<std::int64_t> max_output_tokens;
};

/// The body of generateContent / streamGenerateContent for `request`. Assistant messages whose
/// first call id is in `memory` are sent as the model's own content, unchanged.
json::object build_request_body(const sdk::ProviderRequest& request, const GenerationSettings& settings,
                                const TurnMemory& memory);

/// Reads one GenerateContentResponse, or the chunks of a streamed one in order.
class ResponseReader {
public:
    /// Adds one response (chunk). Returns the visible text it added (thought parts excluded), or a
    /// "bad_response" error when the chunk is not shaped like a GenerateContentResponse.
    sdk::Result<std::string> add(const json::value& chunk);
    /// Whether a chunk carried a finishReason: a stream without one ended early.
    bool finished() const { return !finish_reason_.empty(); }
    std::size_t chunks() const { return chunks_; }
    /// The provider's answer. Function calls get ids (Gemini's own, else `new_id()`); the model
    /// turn that carried them is remembered in `memory` under the first call's id.
    sdk::Result<sdk::ProviderResponse> finish(const sdk::ProviderRequest& request,
                                              const std::function<std::string()>& new_id,
                                              TurnMemory& memory) const;

private:
    std::string text_;
    json::array parts_;                    // every part of the model turn, in order, as sent
    std::optional<json::object> content_;  // the candidate's content when it came whole
    std::string finish_reason_;
    std::string block_reason_;
    std::optional<json::object> usage_;
    bool any_candidate_ = false;
    std::size_t chunks_ = 0;
    std::size_t content_chunks_ = 0;
};

/// Google's error envelope: {"error": {"code", "message", "status", "details": [...]}}.
struct GoogleError {
    int code = 0;
    std::string status;  ///< e.g. "RESOURCE_EXHAUSTED"
    std::string message;
    std::optional<sdk::llm::Millis> retry_delay;  ///< from a google.rpc.RetryInfo detail
};

/// The error in `body`, when it is Google's envelope.
std::optional<GoogleError> parse_google_error(std::string_view body);

}  // namespace tezgah::plugins::gemini
