// Channels that send (ABI 1.4): the states' names and the usual reading of a provider's answer.
#include <tezgah/sdk/channel.hpp>
#include <tezgah/sdk/llm.hpp>

namespace tezgah::sdk {

ChannelSender::~ChannelSender() = default;
ChannelBatch::~ChannelBatch() = default;

const char* to_string(DeliveryState state) noexcept {
    switch (state) {
        case DeliveryState::queued:
            return "queued";
        case DeliveryState::sent:
            return "sent";
        case DeliveryState::delivered:
            return "delivered";
        case DeliveryState::read:
            return "read";
        case DeliveryState::failed:
            return "failed";
        case DeliveryState::window_closed:
            return "window_closed";
    }
    return "queued";
}

std::optional<DeliveryState> parse_delivery_state(std::string_view name) noexcept {
    for (auto state : {DeliveryState::queued, DeliveryState::sent, DeliveryState::delivered,
                       DeliveryState::read, DeliveryState::failed, DeliveryState::window_closed}) {
        if (name == to_string(state)) return state;
    }
    return std::nullopt;
}

SendResult send_result(const Result<HttpResponse>& response, std::string provider_id) {
    SendResult out;
    if (!response) {
        out.outcome = SendResult::Outcome::retry_later;
        out.error = response.error().message;
        return out;
    }
    const int status = response->status;
    if (status >= 200 && status < 300) {
        out.outcome = SendResult::Outcome::accepted;
        out.provider_id = std::move(provider_id);
        return out;
    }
    constexpr std::size_t kMaxErrorBytes = 500;
    std::string body = response->body.substr(0, kMaxErrorBytes);
    // Not in the middle of a UTF-8 sequence: the error is stored as text.
    while (!body.empty() && body.size() < response->body.size() &&
           (static_cast<unsigned char>(response->body[body.size()]) & 0xC0) == 0x80)
        body.pop_back();
    out.error = "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body);
    if (status == 408 || status == 429 || status >= 500) {
        out.outcome = SendResult::Outcome::retry_later;
        out.retry_after = llm::retry_after(*response);
    } else {
        out.outcome = SendResult::Outcome::failed;
    }
    return out;
}

}  // namespace tezgah::sdk
